/**
 * A seeded sweep with F Byzantine replicas (1 of 4, 2 of 7) over a lossy, reordering network: each
 * seed picks the bad replica and its behaviour (equivocating pre-prepares, forged batch digests,
 * wrong digests in prepares and commits, garbage signatures, silence, replays of its old
 * messages, a status flood) and a Byzantine client whose request signatures are valid for no one.
 * Honest replicas must agree at every seq (agreement), execute only requests clients signed
 * (validity), each at most once (exactly-once), and finish every honest client's requests
 * (liveness). A failing seed is named in the test title.
 */
import { describe, expect, it } from 'vitest';
import type { BftMessage } from '../../../src/core/bft/messages.ts';
import { createPrng } from '../../../src/core/prng.ts';
import { BftNetwork } from './bft-network.ts';
import { batchDigest, makeRequest, signAs } from './test-crypto.ts';

const behaviours = ['equivocate', 'forge-digest', 'wrong-phase-digest', 'garbage-signatures', 'silent', 'replay', 'status-flood'] as const;
type Behaviour = (typeof behaviours)[number];

function byzantine(net: BftNetwork, bad: string, behaviour: Behaviour, seed: number): void {
  const prng = createPrng(seed * 31 + 7);
  const seen: BftMessage[] = [];
  let n = 0;
  net.tamper.set(bad, (m) => {
    seen.push(m);
    if (seen.length > 200) seen.shift();
    switch (behaviour) {
      case 'equivocate': {
        if (m.type !== 'pre-prepare' || prng.nextInt(2) === 0) return [m];
        const other = [makeRequest('mallory', 5000 + n++, `fork-${m.header.seq}`)];
        const digest = batchDigest(other.map((r) => r.digest));
        return [{ ...m, requests: other, header: { ...m.header, digest, signature: signAs(bad, { kind: 'pre-prepare', view: m.header.view, seq: m.header.seq, digest }) } }];
      }
      case 'forge-digest':
        return m.type === 'pre-prepare' ? [{ ...m, header: { ...m.header, digest: 'f'.repeat(64) } }] : [m];
      case 'wrong-phase-digest':
        return m.type === 'prepare' || m.type === 'commit' ? [{ ...m, digest: 'e'.repeat(64) }] : [m];
      case 'garbage-signatures':
        if (m.type === 'prepare') return [{ ...m, signature: new Uint8Array(64).fill(7) }];
        if (m.type === 'checkpoint') return [{ ...m, checkpoint: { ...m.checkpoint, signature: new Uint8Array(64) } }];
        if (m.type === 'view-change') return [{ ...m, viewChange: { ...m.viewChange, signature: new Uint8Array(64) } }];
        return [m];
      case 'silent':
        return m.type === 'reply' ? [m] : [];
      case 'replay': {
        const old = seen[prng.nextInt(seen.length)] as BftMessage;
        return [m, { ...old, to: m.to }];
      }
      case 'status-flood':
        return m.type === 'status' ? Array.from({ length: 20 }, () => ({ ...m, lastExecutedSeq: 0 })) : [m];
    }
  });
}

// BFT_SWEEP_SEEDS=N runs a longer sweep on demand.
const seedCount = Number(process.env.BFT_SWEEP_SEEDS ?? 21);

describe.each([
  [4, 1, seedCount],
  [7, 2, Math.ceil(seedCount / 3)],
])('%i replicas, %i Byzantine, seeded', (n, f, count) => {
  const seeds = Array.from({ length: count }, (_, i) => i + 1);
  it.each(seeds)('seed %i: agreement, validity, exactly-once and liveness hold', (seed) => {
    const prng = createPrng(seed * 100 + n);
    const net = new BftNetwork({ replicas: n, seed, delayMax: 3, loss: 0.05 });
    const bads: string[] = [];
    while (bads.length < f) {
      const id = net.ids[prng.nextInt(n)] as string;
      if (!bads.includes(id)) bads.push(id);
    }
    const behaviour = behaviours[(seed - 1) % behaviours.length] as Behaviour;
    for (const bad of bads) byzantine(net, bad, behaviour, seed);
    const bad = bads.join('+');
    const clients = ['a', 'b', 'c'];
    for (const c of clients) net.addClient(c, 30);
    for (let i = 0; i < 4; i++) for (const c of clients) net.submit(c, `${c}-${i}`);
    // A Byzantine client: its requests carry a signature valid for no replica.
    for (const to of net.ids) net.deliverNow({ type: 'request', from: 'eve', to, request: { ...makeRequest('eve', 1, 'evil'), signature: new Uint8Array(64).fill(1) } });
    const took = net.runUntil(() => clients.every((c) => net.completed(c).length === 4), 30_000);
    const good = net.ids.filter((id) => !bads.includes(id));
    expect({ seed, bad, behaviour, took: took >= 0 }).toEqual({ seed, bad, behaviour, took: true });
    expect(net.disagreements(good)).toEqual([]);
    expect(net.duplicates().filter((d) => !bads.some((b) => d.startsWith(`${b}:`)))).toEqual([]);
    for (const id of good) for (const k of [...(net.appliedAt.get(id)?.values() ?? [])].flat()) expect(k.startsWith('eve/')).toBe(false);
  });
});
