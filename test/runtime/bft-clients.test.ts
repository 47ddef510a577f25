/**
 * A BFT node with several PBFT clients (`bftClients`, bft-part.ts; aliases in bft-client-id.ts).
 * It proves, on four NodeHosts over an in-memory hub with a secret: 64 proposals made at once on
 * one node with 8 clients all commit, each exactly once, the primary ordering requests of
 * several clients per batch (fewer batches than proposals), and every node reads every value;
 * the alias rules (client-1 to client-63 of the sender's own node only); bftClients outside 1..64
 * is CONFIG.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { bftClientIdOf, bftClientNodeOf } from '../../src/io/bft-client-id.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = 'the bft clients test secret, 32.';
let hosts: NodeHost[] = [];

function options(id: string, bftClients: number): WorkerStartOptions {
  return { cluster: 'bft-clients-test', id, voters: [], protocols: ['bft'], gossipSeeds: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, secret, bftClients };
}

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  hosts = [];
});

describe('BFT node with several clients', () => {
  it('aliases: client-1 to client-63 name their node; anything else is not an alias', () => {
    expect(bftClientIdOf('b1', 0)).toBe('b1/client');
    expect(bftClientIdOf('b1', 7)).toBe('b1/client-7');
    expect(bftClientNodeOf('b1/client-7')).toBe('b1');
    expect(bftClientNodeOf('b1/client-63')).toBe('b1');
    for (const id of ['b1/client-64', 'b1/client-0', 'b1/client-07', '/client', '/client-3', 'b1/clients', 'b1']) expect(bftClientNodeOf(id), id).toBeNull();
  });

  it('refuses bftClients outside 1..64 with CONFIG', async () => {
    for (const n of [0, 65, 1.5]) await expect(NodeHost.start(options('b0', n), { transport: new MemoryHub().connect('b0') })).rejects.toMatchObject({ code: 'CONFIG' });
  });

  it('64 proposals at once through 8 clients all commit once, in fewer batches, and read alike everywhere', async () => {
    const hub = new MemoryHub();
    hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id, 8), { transport: hub.connect(id) })));
    const b1 = hosts[1] as NodeHost;
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => b1.propose(encodeKvCommand({ op: 'write', key: `k${i}`, value: `v${i}` }))));
    for (const r of results) expect(decodeKvResult(r).ok).toBe(true);
    const seq = b1.status().bft?.lastExecutedSeq ?? 0;
    expect(seq).toBeGreaterThan(0);
    expect(seq).toBeLessThan(64);
    for (const h of hosts) for (const i of [0, 31, 63]) expect(await h.read('linearizable', `k${i}`)).toBe(`v${i}`);
  }, 40_000);
});
