/**
 * BFT on a node (`NodeHost.start` with `protocols: ['bft']`, as the worker runs it; issue 13
 * item 3), four nodes over an in-memory hub with a cluster secret, Web Crypto identity keys
 * (Node 20's globalThis.crypto.subtle) and memory storage. It proves: 'bft' without a secret, or
 * beside another protocol, is refused with CONFIG; `propose` on every node commits KV writes
 * (answered after F + 1 matching replies) and `read` (the read-only path, 2F + 1) answers the
 * same values on every node; status shows view, primary, sequence numbers and watermarks; a
 * one-shot vote reaches quorum with the default answer (the proposal), and a member whose
 * handler answers another value cannot change the outcome; with the primary crashed the other
 * three change view and keep committing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKvCommand, decodeKvResult } from '../../src/machines/kv.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { BftNodeEvent, WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';
import { until } from './gossip-test-cluster.ts';

const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = 'the bft node test secret, 32 by.';
let hosts: NodeHost[] = [];

function options(id: string, extra: Partial<WorkerStartOptions> = {}): WorkerStartOptions {
  return { cluster: 'bft-test', id, voters: [], protocols: ['bft'], gossipSeeds: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, secret, ...extra };
}

async function cluster(): Promise<NodeHost[]> {
  const hub = new MemoryHub();
  hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id), { transport: hub.connect(id) })));
  return hosts;
}

const write = async (h: NodeHost, key: string, value: string): Promise<void> => {
  const r = decodeKvResult(await h.propose(encodeKvCommand({ op: 'write', key, value })));
  expect(r.ok && r.value.op).toBe('write');
};
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  hosts = [];
});

describe('BFT nodes', () => {
  it("refuses 'bft' without a secret, or beside another protocol, with CONFIG", async () => {
    const start = (o: WorkerStartOptions): Promise<NodeHost> => NodeHost.start(o, { transport: new MemoryHub().connect('b0') });
    const { secret: _none, ...withoutSecret } = options('b0');
    await expect(start(withoutSecret)).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(start(options('b0', { protocols: ['bft', 'gossip'] }))).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(start(options('b0', { gossipSeeds: ['b0', 'b1', 'b2'] }))).rejects.toMatchObject({ code: 'CONFIG' });
  });

  it('every node proposes; every node reads the same values; status shows where the replica stands', async () => {
    const hs = await cluster();
    await Promise.all(hs.map((h, i) => write(h, `k${i}`, `v${i}`)));
    for (const h of hs) for (let i = 0; i < 4; i++) expect(await h.read('linearizable', `k${i}`)).toBe(`v${i}`);
    const s = hs[1]?.status().bft;
    expect(s).toMatchObject({ view: 0, primary: 'b0', viewChanging: false, replicas: ids, faultsTolerated: 1, suspected: [] });
    expect(s?.lastExecutedSeq).toBeGreaterThanOrEqual(1);
    expect(s?.highWatermark).toBeGreaterThan(s?.lowWatermark ?? 0);
  });

  it('a vote reaches quorum with the proposal; a lying member cannot change the outcome', async () => {
    const hs = await cluster();
    const plain = await hs[2]?.bft?.vote(utf8('deploy v2'), 5_000);
    expect(plain).toMatchObject({ outcome: 'quorum-reached', value: utf8('deploy v2') });
    // b3 answers every question with another value (a modified page).
    const liar = hs[3] as NodeHost;
    liar.bft?.setVoteHandler(true);
    liar.onGossip<BftNodeEvent>((e) => {
      if (e.type === 'bft-vote-question') liar.bft?.answerVote(e.voteId, e.origin, utf8('deploy evil'));
    });
    const outcome = await hs[0]?.bft?.vote(utf8('deploy v3'), 5_000);
    expect(outcome).toMatchObject({ outcome: 'quorum-reached', value: utf8('deploy v3') });
  });

  it('the primary crashed: the other three change view and keep committing', async () => {
    const hs = await cluster();
    await write(hs[1] as NodeHost, 'before', '1');
    const primary = hs[0] as NodeHost;
    primary.bft?.halt();
    await primary.router.close();
    const rest = hs.slice(1);
    await Promise.all(rest.map((h, i) => write(h, `after${i}`, 'x')));
    await until('a new view everywhere', () => rest.every((h) => (h.status().bft?.view ?? 0) >= 1), 20_000);
    for (const h of rest) expect(await h.read('linearizable', 'after0')).toBe('x');
    expect(rest[0]?.status().bft?.suspected).toContain('b0');
  }, 40_000);
});
