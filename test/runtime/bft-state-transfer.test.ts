/**
 * State transfer over the wire between BFT nodes (bft-state-transfer.ts, bft-state-messages.ts).
 * It proves, on four NodeHosts over an in-memory hub with a secret (as bft-node.test.ts): a
 * replica isolated while the others pass two stable checkpoints fetches the state from a peer
 * after the network heals, installs it (its last executed seq reaches the checkpoint) and then
 * counts in quorums: with another backup stopped, writes still commit and a read-only read (2F + 1
 * matching replies, the caught-up replica among them) answers a key written while it was away.
 * With a fake clock and hand-made replies it proves the asker's rules: a state whose SHA-256 is
 * not the certified digest is refused and the next peer asked; chunks from a peer not asked, for
 * another seq, or repeated are refused; a silent peer times out; after every peer, null. The
 * answerer answers replicas only, at most once per interval each, and only with a state it holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { stateChunkBytes, stateReplies, type BftStateMessage } from '../../src/io/bft-state-messages.ts';
import { stateDigestOf } from '../../src/io/crypto/bft-digests.ts';
import { BftStateTransfer } from '../../src/runtime/bft-state-transfer.ts';
import type { Clock } from '../../src/runtime/clock.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';
import { until } from './gossip-test-cluster.ts';

const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = 'the bft state transfer secret 32';
let hosts: NodeHost[] = [];

function options(id: string): WorkerStartOptions {
  return { cluster: 'bft-st-test', id, voters: [], protocols: ['bft'], gossipSeeds: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, secret };
}

const write = async (h: NodeHost, key: string, value: string): Promise<void> => {
  const r = decodeKvResult(await h.propose(encodeKvCommand({ op: 'write', key, value })));
  expect(r.ok && r.value.op).toBe('write');
};

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  hosts = [];
});

describe('BFT state transfer between nodes', () => {
  it('a replica isolated past two stable checkpoints fetches the state after healing and counts in quorums again', async () => {
    const hub = new MemoryHub();
    hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id), { transport: hub.connect(id) })));
    const [b0, b1, b2, b3] = hosts as [NodeHost, NodeHost, NodeHost, NodeHost];
    await write(b1, 'first', '1');
    hub.isolate('b3');
    // One write at a time from b1's client: one batch each, so 40 writes pass seqs 16 and 32.
    for (let i = 0; i < 40; i++) await write(b1, `k${i}`, `v${i}`);
    await until('a stable checkpoint at 32 or above on b0..b2', () => [b0, b1, b2].every((h) => (h.status().bft?.stableSeq ?? 0) >= 32), 20_000);
    const behind = b3.status().bft?.lastExecutedSeq ?? 0;
    expect(behind).toBeLessThan(16);
    hub.heal();
    await until('b3 executed past the checkpoint', () => (b3.status().bft?.lastExecutedSeq ?? 0) >= 32, 20_000);
    expect(b3.bft?.stateTransferMetrics.statesFetched).toBeGreaterThanOrEqual(1);
    const answered = [b0, b1, b2].reduce((n, h) => n + (h.bft?.stateTransferMetrics.requestsAnswered ?? 0), 0);
    expect(answered).toBeGreaterThanOrEqual(1);
    // b2 stops: b0, b1 and b3 are the only quorum, so b3 must hold the right state to take part.
    b2.bft?.halt();
    await b2.router.close();
    await write(b1, 'after', 'yes');
    expect(await b1.read('linearizable', 'k5')).toBe('v5');
    expect(await b3.read('linearizable', 'after')).toBe('yes');
  }, 60_000);
});

/** A clock whose timers run when the test says. */
class FakeClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((x) => x !== timer));
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }
}

function transferOf(self: string, stateAt: (seq: number) => Uint8Array | null = () => null): { st: BftStateTransfer; sent: BftStateMessage[]; clock: FakeClock } {
  const sent: BftStateMessage[] = [];
  const clock = new FakeClock();
  const st = new BftStateTransfer({ self, replicas: ids, send: (m) => sent.push(m), stateAt, clock, replyTimeoutMs: 100, answerIntervalMs: 50 });
  return { st, sent, clock };
}

describe('BftStateTransfer', () => {
  const good = new Uint8Array(stateChunkBytes * 2 + 10).map((_, i) => i % 251);
  const digest = stateDigestOf(good);

  it('refuses a wrong state and asks the next peer; refuses stray and repeated chunks; takes the right state', () => {
    const { st, sent } = transferOf('b3');
    const results: (Uint8Array | null)[] = [];
    st.fetch(32, digest, (s) => results.push(s));
    const first = sent.shift();
    expect(first).toMatchObject({ type: 'state-request', to: 'b0', seq: 32 });
    const wrong = good.slice();
    wrong[5] = (wrong[5] as number) ^ 1;
    // A peer not asked, and another seq: refused.
    for (const r of stateReplies('b1', 'b3', 32, good)) st.receive(r);
    for (const r of stateReplies('b0', 'b3', 16, good)) st.receive(r);
    expect(st.metrics.repliesRefused).toBe(6);
    const lying = stateReplies('b0', 'b3', 32, wrong);
    st.receive(lying[0] as BftStateMessage);
    st.receive(lying[0] as BftStateMessage);
    expect(st.metrics.repliesRefused).toBe(7);
    for (const r of lying.slice(1)) st.receive(r);
    expect(st.metrics.statesWrong).toBe(1);
    expect(results).toEqual([]);
    const second = sent.shift();
    expect(second).toMatchObject({ type: 'state-request', to: 'b1', seq: 32 });
    for (const r of stateReplies('b1', 'b3', 32, good)) st.receive(r);
    expect(results).toEqual([good]);
    expect(st.metrics).toMatchObject({ statesFetched: 1, statesWrong: 1, requestsSent: 2 });
  });

  it('a silent peer times out and the next is asked; after every peer, null', () => {
    const { st, sent, clock } = transferOf('b0');
    const results: (Uint8Array | null)[] = [];
    st.fetch(16, digest, (s) => results.push(s));
    clock.advance(100);
    clock.advance(100);
    expect(results).toEqual([]);
    clock.advance(100);
    expect(results).toEqual([null]);
    expect(sent.map((m) => m.to).sort()).toEqual(['b1', 'b2', 'b3']);
    expect(st.metrics.timeouts).toBe(3);
  });

  it('answers replicas with the state it holds, at most once per interval each; refuses the rest', () => {
    const { st, sent, clock } = transferOf('b1', (seq) => (seq === 32 ? good : null));
    st.receive({ type: 'state-request', from: 'b3', to: 'b1', seq: 32 });
    expect(sent.length).toBe(3);
    expect(sent.every((m) => m.type === 'state-reply' && m.to === 'b3' && m.chunks === 3)).toBe(true);
    st.receive({ type: 'state-request', from: 'b3', to: 'b1', seq: 32 });
    st.receive({ type: 'state-request', from: 'x9', to: 'b1', seq: 32 });
    st.receive({ type: 'state-request', from: 'b1', to: 'b1', seq: 32 });
    expect(st.metrics.requestsRefused).toBe(3);
    st.receive({ type: 'state-request', from: 'b2', to: 'b1', seq: 16 });
    expect(st.metrics.requestsUnanswerable).toBe(1);
    clock.advance(50);
    st.receive({ type: 'state-request', from: 'b3', to: 'b1', seq: 32 });
    expect(st.metrics.requestsAnswered).toBe(2);
    expect(sent.length).toBe(6);
  });
});
