/**
 * Persistence (DESIGN.md §2: BFT persists the view, the pre-prepares it accepted, its prepared
 * certificates and its stable checkpoint before the messages that promise them leave). A
 * replica restarted from what its Readies persisted, with its machine restored to its stable
 * checkpoint and the exactly-once table persisted beside it, learns from its peers' status
 * answers that it is behind their stable checkpoint (their signed proofs), gets the state
 * transferred by its host, catches up and ends in the same state, executing nothing twice; a restarted replica never
 * accepts a second digest for a (view, seq) it accepted before the crash, and a restarted
 * primary never assigns again a seq it assigned.
 *
 * When ALL replicas restart before any checkpoint is stable (no peer holds the state), each
 * re-executes from its own disk the batches it committed (ready.ts `CommittedBatch`): every
 * machine ends as it was, the same on all, a client's retransmission of its last request is
 * answered with the reply it got before, and a new request commits.
 */
import { describe, expect, it } from 'vitest';
import { BftReplica } from '../../../src/core/bft/replica.ts';
import { BftNetwork } from './bft-network.ts';
import { batchDigest, makeRequest, signAs } from './test-crypto.ts';

describe('restart from persisted state', () => {
  it('a crashed backup restarts from disk, catches up and agrees, executing nothing twice', () => {
    const net = new BftNetwork({ seed: 13, config: { checkpointIntervalSeqs: 4, batchRequestsMax: 1, batchesInFlightMax: 2 } });
    const clients = ['a', 'b'];
    for (const c of clients) net.addClient(c, 30);
    for (let i = 0; i < 5; i++) for (const c of clients) net.submit(c, `${c}-${i}`);
    expect(net.runUntil(() => clients.every((c) => net.completed(c).length === 5), 3000)).toBeGreaterThanOrEqual(0);
    net.crashed.add('r2');
    for (const c of clients) net.submit(c, `${c}-while-down`);
    expect(net.runUntil(() => clients.every((c) => net.completed(c).length === 6), 3000)).toBeGreaterThanOrEqual(0);
    const boot = net.bootOf('r2');
    expect(boot.stableCheckpoint?.seq).toBe(8);
    expect(boot.stableClients?.length).toBe(2);
    net.restart('r2');
    expect(net.replica('r2').status().lastExecutedSeq).toBe(8);
    for (const c of clients) net.submit(c, `${c}-after`);
    expect(net.runUntil(() => clients.every((c) => net.completed(c).length === 7), 3000)).toBeGreaterThanOrEqual(0);
    expect(net.runUntil(() => net.replica('r2').status().lastExecutedSeq === net.replica('r1').status().lastExecutedSeq, 3000)).toBeGreaterThanOrEqual(0);
    expect(net.machines.get('r2')?.digest()).toBe(net.machines.get('r1')?.digest());
    expect(net.transfers).toBe(1);
    expect(net.replica('r2').status().view).toBe(0);
    expect(net.disagreements()).toEqual([]);
    expect(net.duplicates()).toEqual([]);
  });

  it('all four restart with no stable checkpoint: each re-executes what it committed, answers a retransmission, and a new request commits', () => {
    const net = new BftNetwork({ seed: 16, config: { batchRequestsMax: 1 } });
    for (const c of ['a', 'b']) net.addClient(c);
    for (let i = 0; i < 3; i++) for (const c of ['a', 'b']) net.submit(c, `${c}-${i}`);
    expect(net.runUntil(() => ['a', 'b'].every((c) => net.completed(c).length === 3), 3000)).toBeGreaterThanOrEqual(0);
    expect(net.runUntil(() => net.ids.every((id) => net.replica(id).status().lastExecutedSeq === 6), 3000)).toBeGreaterThanOrEqual(0);
    const before = new Map(net.ids.map((id) => [id, net.machines.get(id)?.digest()]));
    const last = net.completed('a').at(-1);
    for (const id of net.ids) net.crashed.add(id);
    for (const id of net.ids) expect(net.bootOf(id).committed?.map((c) => c.header.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const id of net.ids) net.restart(id);
    expect(net.runUntil(() => net.ids.every((id) => net.replica(id).status().lastExecutedSeq === 6), 100)).toBeGreaterThanOrEqual(0);
    for (const id of net.ids) {
      expect(net.replica(id).status().stableSeq).toBe(0);
      expect(net.replica(id).status().counters.batchesReplayed).toBe(6);
      expect(net.machines.get(id)?.digest()).toBe(before.get(id));
    }
    // The client's retransmission of its last request: each replica answers from its rebuilt reply cache.
    const mark = net.sent.length;
    for (const id of net.ids) net.deliverNow({ type: 'request', from: 'a', to: id, request: makeRequest('a', last?.timestamp ?? 0, 'a-2') });
    net.run(5);
    const replies = net.sent.slice(mark).filter((m) => m.type === 'reply' && m.to === 'a' && m.timestamp === last?.timestamp);
    expect(new Set(replies.map((m) => m.from))).toEqual(new Set(net.ids));
    for (const m of replies) if (m.type === 'reply') expect(new TextDecoder().decode(m.result)).toBe(new TextDecoder().decode(last?.result));
    net.submit('b', 'b-after');
    expect(net.runUntil(() => net.completed('b').length === 4, 3000)).toBeGreaterThanOrEqual(0);
    expect(net.disagreements()).toEqual([]);
    expect(net.duplicates()).toEqual([]);
  });

  it('a restarted backup refuses a second digest for a (view, seq) it accepted before', () => {
    const net = new BftNetwork({ seed: 14 });
    net.addClient('a');
    net.submit('a', 'x');
    expect(net.runUntil(() => net.completed('a').length === 1, 1000)).toBeGreaterThanOrEqual(0);
    const boot = net.bootOf('r1');
    expect(boot.prePrepared.map((p) => [p.view, p.seq])).toEqual([[0, 1]]);
    const r1 = new BftReplica({ id: 'r1', replicas: net.ids }, boot);
    // Its first Ready re-executes the batch it committed at seq 1 (nothing else in it).
    expect(r1.status().counters.batchesReplayed).toBe(1);
    const replay = r1.ready();
    expect(replay.executed.map((b) => b.seq)).toEqual([1]);
    expect([replay.mustPersist, replay.messagesBeforeWrite.length, replay.messagesAfterWrite.length]).toEqual([false, 0, 0]);
    r1.advance();
    const other = [makeRequest('mallory', 1, 'other')];
    const digest = batchDigest(other.map((r) => r.digest));
    r1.step({ type: 'pre-prepare', from: 'r0', to: 'r1', header: { view: 0, seq: 1, digest, signature: signAs('r0', { kind: 'pre-prepare', view: 0, seq: 1, digest }) }, requests: other });
    expect(r1.status().counters.equivocations).toBe(1);
    expect(r1.hasReady()).toBe(false);
  });

  it('a restarted primary does not assign again a seq it assigned', () => {
    const net = new BftNetwork({ seed: 15 });
    net.addClient('a');
    net.submit('a', 'x');
    net.submit('a', 'y');
    expect(net.runUntil(() => net.completed('a').length === 2, 1000)).toBeGreaterThanOrEqual(0);
    const r0 = new BftReplica({ id: 'r0', replicas: net.ids }, net.bootOf('r0'));
    r0.step({ type: 'request', from: 'b', to: 'r0', request: makeRequest('b', 1, 'z') });
    // Answer its crypto as a host would, until it sends its pre-prepare.
    let seq = 0;
    for (let i = 0; i < 10 && seq === 0; i++) {
      const rd = r0.ready();
      for (const m of [...rd.messagesBeforeWrite, ...rd.messagesAfterWrite]) if (m.type === 'pre-prepare') seq = m.header.seq;
      r0.advance();
      for (const c of rd.cryptoRequests) r0.step({ local: 'crypto-result', result: (awaitCrypto('r0', c)) });
    }
    expect(seq).toBe(3);
  });
});

import { performCrypto } from './test-crypto.ts';
function awaitCrypto(id: string, c: Parameters<typeof performCrypto>[1]): ReturnType<typeof performCrypto> {
  return performCrypto(id, c);
}
