/**
 * Checkpoints, watermarks and garbage collection (PBFT §4.3): every K sequence numbers each
 * replica signs its state digest; 2F + 1 matching proofs make a checkpoint stable on every
 * replica, which moves the low watermark, discards the log below it (slots, prepared
 * certificates, and the Ready says so in `discardBelowSeq`) and persists the certificate. The
 * primary never assigns a sequence number above the high watermark: with checkpoints withheld the
 * cluster stops at h + L and resumes when they arrive.
 */
import { describe, expect, it } from 'vitest';
import { BftNetwork } from './bft-network.ts';

const run = (net: BftNetwork, clients: string[], perClient: number): void => {
  for (const c of clients) net.addClient(c);
  for (let i = 0; i < perClient; i++) for (const c of clients) net.submit(c, `${c}-${i}`);
};

describe('checkpoints', () => {
  it('become stable every K seqs on every replica, move the watermarks and discard the log below', () => {
    const net = new BftNetwork({ seed: 7, config: { checkpointIntervalSeqs: 4, batchRequestsMax: 1, batchesInFlightMax: 2 } });
    run(net, ['a', 'b'], 10);
    expect(net.runUntil(() => net.completed('a').length === 10 && net.completed('b').length === 10, 3000)).toBeGreaterThanOrEqual(0);
    net.run(10);
    for (const id of net.ids) {
      const st = net.replica(id).status();
      expect(st.lastExecutedSeq).toBe(20);
      expect(st.stableSeq).toBe(20);
      expect(st.lowWatermark).toBe(20);
      expect(st.highWatermark).toBe(28);
      const stable = (net.events.get(id) ?? []).filter((e) => e.kind === 'checkpoint-stable').map((e) => (e.kind === 'checkpoint-stable' ? e.seq : 0));
      expect(stable).toEqual([4, 8, 12, 16, 20]);
      const persisted = net.persisted.get(id) ?? [];
      const certs = persisted.flatMap((p) => (p.stableCheckpoint === null ? [] : [p.stableCheckpoint]));
      expect(certs.map((c) => c.seq)).toEqual([4, 8, 12, 16, 20]);
      for (const c of certs) expect(c.proofs.length).toBe(3);
      expect(Math.max(...persisted.map((p) => p.discardBelowSeq ?? 0))).toBe(20);
      expect(st.counters.checkpointsStable).toBe(5);
    }
    expect(net.disagreements()).toEqual([]);
  });

  it('the primary stops at the high watermark while checkpoints are withheld, and resumes when they come', () => {
    const net = new BftNetwork({ seed: 9, config: { checkpointIntervalSeqs: 2, batchRequestsMax: 1, batchesInFlightMax: 8, requestTimeoutTicks: 10_000, prePrepareIntervalTicksMax: 10_000 } });
    // Checkpoint messages are held back by everyone: no checkpoint becomes stable.
    const held: Parameters<BftNetwork['deliverNow']>[0][] = [];
    for (const id of net.ids)
      net.tamper.set(id, (m) => {
        if (m.type === 'checkpoint') {
          held.push(m);
          return [];
        }
        return [m];
      });
    run(net, ['a', 'b', 'c', 'd', 'e', 'f'], 2);
    net.run(300);
    const st = net.replica('r0').status();
    expect(st.highWatermark).toBe(4);
    expect(st.lastExecutedSeq).toBe(4);
    expect(net.replica('r1').status().lastExecutedSeq).toBe(4);
    expect(held.length).toBeGreaterThan(0);
    for (const id of net.ids) net.tamper.delete(id);
    for (const m of held.splice(0)) net.deliverNow(m);
    expect(net.runUntil(() => ['a', 'b', 'c', 'd', 'e', 'f'].every((c) => net.completed(c).length === 2), 3000)).toBeGreaterThanOrEqual(0);
    expect(net.replica('r0').status().lastExecutedSeq).toBe(12);
    expect(net.disagreements()).toEqual([]);
  });
});
