/**
 * The one-shot quorum vote (issue 13 item 2): `quorum-reached` with the value when 2F + 1 members
 * answered and more than F agree; `no-consensus` when no value can reach F + 1; `timeout` when
 * fewer than 2F + 1 answer in time. Answers from non-members and second answers are ignored;
 * votes running at once are bounded.
 */
import { describe, expect, it } from 'vitest';
import type { BftEvent } from '../../../src/core/bft/events.ts';
import { BftNetwork } from './bft-network.ts';

const text = new TextDecoder();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function outcome(net: BftNetwork, id: string): Extract<BftEvent, { kind: 'vote-outcome' }> | undefined {
  return (net.events.get(id) ?? []).find((e): e is Extract<BftEvent, { kind: 'vote-outcome' }> => e.kind === 'vote-outcome');
}

function vote(net: BftNetwork, origin: string, timeoutTicks = 50): string {
  const r = net.input(origin, { local: 'vote', proposal: enc('which?'), timeoutTicks });
  if (!r.ok || r.value.kind !== 'vote-started') throw new Error('vote refused');
  return r.value.voteId;
}

describe('one-shot vote', () => {
  it('reaches a quorum when more than F of 2F + 1 answers agree, despite F others', () => {
    const answers: Record<string, string> = { r0: 'A', r1: 'A', r2: 'B', r3: 'C' };
    const net = new BftNetwork({ seed: 1, answer: (r) => enc(answers[r] ?? '') });
    const id = vote(net, 'r0');
    net.run(10);
    const o = outcome(net, 'r0');
    expect(o?.voteId).toBe(id);
    expect(o?.outcome).toBe('quorum-reached');
    expect(text.decode(o?.value ?? new Uint8Array())).toBe('A');
  });

  it('7 members: 3 agreeing of 7 is more than F = 2', () => {
    const answers = ['X', 'X', 'X', 'Y', 'Y', 'Z', 'W'];
    const net = new BftNetwork({ replicas: 7, seed: 2, answer: (r) => enc(answers[Number(r.slice(1))] ?? '') });
    vote(net, 'r4');
    net.run(10);
    expect(outcome(net, 'r4')?.outcome).toBe('quorum-reached');
    expect(text.decode(outcome(net, 'r4')?.value ?? new Uint8Array())).toBe('X');
  });

  it('ends without consensus when no value can reach F + 1', () => {
    const net = new BftNetwork({ seed: 3, answer: (r) => enc(`own-${r}`) });
    vote(net, 'r1');
    net.run(10);
    expect(outcome(net, 'r1')?.outcome).toBe('no-consensus');
    expect(outcome(net, 'r1')?.value).toBeNull();
  });

  it('times out with fewer than 2F + 1 answers', () => {
    const net = new BftNetwork({ seed: 4 });
    net.crashed.add('r2');
    net.crashed.add('r3');
    vote(net, 'r0', 30);
    net.run(10);
    expect(outcome(net, 'r0')).toBeUndefined();
    net.run(30);
    expect(outcome(net, 'r0')?.outcome).toBe('timeout');
    expect(outcome(net, 'r0')?.answers).toBe(2);
  });

  it('ignores answers from non-members and second answers, and bounds the votes running', () => {
    const net = new BftNetwork({ seed: 5, config: { votesPendingMax: 2 } });
    net.crashed.add('r1');
    net.crashed.add('r2');
    net.crashed.add('r3');
    const id = vote(net, 'r0', 100);
    vote(net, 'r0', 100);
    const third = net.input('r0', { local: 'vote', proposal: enc('x'), timeoutTicks: 100 });
    expect(third.ok).toBe(false);
    net.deliverNow({ type: 'vote-answer', from: 'stranger', to: 'r0', voteId: id, value: enc('A') });
    net.deliverNow({ type: 'vote-answer', from: 'r3', to: 'r0', voteId: id, value: enc('A') });
    net.deliverNow({ type: 'vote-answer', from: 'r3', to: 'r0', voteId: id, value: enc('A') });
    expect(net.replica('r0').status().counters.voteAnswersIgnored).toBe(2);
    expect(outcome(net, 'r0')).toBeUndefined();
    net.deliverNow({ type: 'vote-answer', from: 'r2', to: 'r0', voteId: id, value: enc('A') });
    // r0's own answer (the proposal) differs: answers A, A and the proposal; two agree: > F.
    expect(outcome(net, 'r0')?.outcome).toBe('quorum-reached');
  });
});
