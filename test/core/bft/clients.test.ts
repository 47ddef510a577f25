/**
 * What clients see (PBFT §4.1, TOCS §5.1.3): a read-only request is answered without ordering
 * (no batch executed for it) once 2F + 1 replicas answer alike, and falls back to an ordered
 * request when they do not; exactly-once per client timestamp: retransmissions to all replicas,
 * replies lost and a replayed request are answered from the reply cache, never executed twice;
 * an older timestamp is ignored.
 */
import { describe, expect, it } from 'vitest';
import type { BftMessage } from '../../../src/core/bft/messages.ts';
import { BftNetwork } from './bft-network.ts';
import { makeRequest } from './test-crypto.ts';

const text = new TextDecoder();

describe('read-only requests', () => {
  it('are answered by 2F + 1 matching tentative replies without being ordered', () => {
    const net = new BftNetwork({ seed: 2 });
    net.addClient('w');
    net.addClient('r');
    net.submit('w', 'one');
    net.submit('w', 'two');
    expect(net.runUntil(() => net.completed('w').length === 2, 1000)).toBeGreaterThanOrEqual(0);
    const seqs = net.replica('r1').status().lastExecutedSeq;
    net.submit('r', 'get', true);
    expect(net.runUntil(() => net.completed('r').length === 1, 1000)).toBeGreaterThanOrEqual(0);
    const done = net.completed('r')[0];
    expect(done?.readOnly).toBe(true);
    expect(text.decode(done?.result)).toBe('count=2');
    expect(net.replica('r1').status().lastExecutedSeq).toBe(seqs);
  });

  it('fall back to an ordered request when 2F + 1 replicas do not answer alike', () => {
    const net = new BftNetwork({ seed: 3 });
    // Two replicas lie in their read-only replies: only two of four match, short of 2F + 1 = 3.
    for (const liar of ['r1', 'r2'])
      net.tamper.set(liar, (m: BftMessage) => (m.type === 'reply' && m.readOnly ? [{ ...m, result: new TextEncoder().encode(`lie-${liar}`) }] : [m]));
    net.addClient('r', 5);
    net.submit('r', 'get', true);
    expect(net.runUntil(() => net.completed('r').length === 1, 2000)).toBeGreaterThanOrEqual(0);
    expect(net.completed('r')[0]?.readOnly).toBe(false);
    expect(net.replica('r0').status().lastExecutedSeq).toBe(1);
  });

  it('fall back under their own timestamp, so the requests queued behind them still execute', () => {
    // Simulator seed 102 (4 replicas, B = 1): the fallback took a fresh timestamp above those of
    // the writes queued behind the read; once it executed, every replica refused them as stale.
    const net = new BftNetwork({ seed: 3 });
    for (const liar of ['r1', 'r2'])
      net.tamper.set(liar, (m: BftMessage) => (m.type === 'reply' && m.readOnly ? [{ ...m, result: new TextEncoder().encode(`lie-${liar}`) }] : [m]));
    net.addClient('r', 5);
    const read = net.submit('r', 'get', true);
    const writes = [net.submit('r', 'w1'), net.submit('r', 'w2')];
    expect(net.runUntil(() => net.completed('r').length === 3, 3000)).toBeGreaterThanOrEqual(0);
    expect(net.completed('r').map((e) => [e.timestamp, e.readOnly])).toEqual([
      [read, false],
      [writes[0], false],
      [writes[1], false],
    ]);
    expect(net.replica('r0').status().counters.requestsStale).toBe(0);
  });
});

describe('exactly once per client timestamp', () => {
  it('retransmissions and lost replies never execute a request twice', () => {
    const net = new BftNetwork({ seed: 4, delayMax: 4 });
    // Replies are lost for the first 60 ticks: clients time out and send to every replica, again and again.
    for (const id of net.ids) net.tamper.set(id, (m) => (m.type === 'reply' && net.now < 60 ? [] : [m]));
    const clients = ['a', 'b'];
    for (const c of clients) net.addClient(c, 3);
    for (let i = 0; i < 3; i++) for (const c of clients) net.submit(c, `${c}-${i}`);
    expect(net.runUntil(() => clients.every((c) => net.completed(c).length === 3), 3000)).toBeGreaterThanOrEqual(0);
    expect(net.duplicates()).toEqual([]);
    expect(net.disagreements()).toEqual([]);
    for (const id of net.ids) expect(net.machines.get(id)?.count).toBe(6);
    const resent = net.ids.reduce((n, id) => n + net.replica(id).status().counters.repliesResent, 0);
    expect(resent).toBeGreaterThan(0);
  });

  it('a replayed request gets the cached reply; an older timestamp is ignored', () => {
    const net = new BftNetwork({ seed: 5 });
    net.addClient('a');
    net.submit('a', 'first');
    net.submit('a', 'second');
    expect(net.runUntil(() => net.completed('a').length === 2, 1000)).toBeGreaterThanOrEqual(0);
    const before = net.replica('r2').status();
    const replies: BftMessage[] = [];
    net.tamper.set('r2', (m) => {
      if (m.type === 'reply') replies.push(m);
      return [m];
    });
    net.deliverNow({ type: 'request', from: 'a', to: 'r2', request: makeRequest('a', 2, 'second') });
    net.deliverNow({ type: 'request', from: 'a', to: 'r2', request: makeRequest('a', 1, 'first') });
    const after = net.replica('r2').status();
    expect(after.counters.repliesResent).toBe(before.counters.repliesResent + 1);
    expect(after.counters.requestsStale).toBe(before.counters.requestsStale + 1);
    expect(replies.length).toBe(1);
    expect(replies[0]?.type === 'reply' && text.decode(replies[0].result)).toBe('second#2');
    net.run(200);
    expect(net.machines.get('r2')?.count).toBe(2);
  });

  it('a request relayed under another client id by a non-replica is refused', () => {
    const net = new BftNetwork({ seed: 5 });
    net.deliverNow({ type: 'request', from: 'mallory', to: 'r0', request: makeRequest('alice', 1, 'pay mallory') });
    expect(net.replica('r0').status().counters.wrongSender).toBe(1);
    net.run(50);
    expect(net.machines.get('r0')?.count).toBe(0);
  });
});
