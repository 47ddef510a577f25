/**
 * What this proves about the health observer (src/runtime/health-observer.ts), the part of node
 * health that reads stepped Raft messages, on a made-up clock: appends and heartbeats mark when
 * the leader spoke and raise the leader's announced commit (never lowering it); snapshot chunks
 * mark an install under way until the last chunk or an append; a follower's acknowledgements
 * count only in their term (a newer term starts afresh, an older one is ignored, a rejection
 * moves no match index but is an answer); `leadingSince` keeps its time within one term; at most
 * `peersObservedMax` peers are remembered and the rest counted.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/raft/messages.ts';
import { HealthObserver, peersObservedMax } from '../../src/runtime/health-observer.ts';

function observer(): { o: HealthObserver; at: (ms: number) => void } {
  let now = 0;
  return { o: new HealthObserver(() => now), at: (ms) => void (now = ms) };
}

const env = { from: 'l', to: 'f', term: 2 };
const append = (commit: number): Message => ({ ...env, type: 'append', prevIndex: 0, prevTerm: 0, entries: [], commit });
const chunk = (done: boolean): Message => ({ ...env, type: 'snapshot', meta: { index: 10, term: 2, config: { voters: ['l', 'f'], learners: [] } }, offset: 0, data: new Uint8Array(1), done, commit: 10 }) as Message;
const ack = (from: string, term: number, index: number, reject = false): Message => ({ from, to: 'l', term, type: 'append-response', index, reject, hintIndex: 0, hintTerm: 0 });

describe('a follower watching its leader', () => {
  it('marks when the leader spoke and the highest commit it announced', () => {
    const { o, at } = observer();
    expect(o.leaderHeardAtMs).toBeNull();
    at(100);
    o.observe(append(7));
    at(250);
    o.observe({ ...env, type: 'heartbeat', commit: 3, round: 1 });
    expect(o.leaderHeardAtMs).toBe(250);
    expect(o.leaderCommit).toBe(7);
  });

  it('an install is under way from a chunk until the last one, or an append', () => {
    const { o } = observer();
    o.observe(chunk(false));
    expect(o.installingSnapshot).toBe(true);
    o.observe(chunk(true));
    expect(o.installingSnapshot).toBe(false);
    o.observe(chunk(false));
    o.observe(append(10));
    expect(o.installingSnapshot).toBe(false);
  });
});

describe('a leader watching its followers', () => {
  it('counts acknowledgements in their term only', () => {
    const { o, at } = observer();
    at(10);
    o.observe(ack('f', 2, 5));
    at(20);
    o.observe(ack('f', 2, 3, true));
    expect(o.follower('f', 2)).toEqual({ term: 2, matchIndex: 5, answeredAtMs: 20 });
    o.observe(ack('f', 1, 99));
    expect(o.follower('f', 2)?.matchIndex).toBe(5);
    at(30);
    o.observe(ack('f', 3, 1));
    expect(o.follower('f', 2)).toBeNull();
    expect(o.follower('f', 3)).toMatchObject({ matchIndex: 1, answeredAtMs: 30 });
  });

  it('keeps the time it began to lead within one term', () => {
    const { o, at } = observer();
    at(5);
    expect(o.leadingSince(4)).toBe(5);
    at(50);
    expect(o.leadingSince(4)).toBe(5);
    expect(o.leadingSince(5)).toBe(50);
  });

  it('remembers at most peersObservedMax peers', () => {
    const { o } = observer();
    for (let i = 0; i < peersObservedMax + 3; i++) o.observe(ack(`p${i}`, 1, 1));
    expect(o.peersIgnored).toBe(3);
    expect(o.follower(`p${peersObservedMax}`, 1)).toBeNull();
    expect(o.follower('p0', 1)).not.toBeNull();
  });
});
