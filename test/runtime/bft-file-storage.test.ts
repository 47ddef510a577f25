/**
 * What this proves about a BFT node with storage `{ dir }` (src/runtime/file-node-storage.ts
 * opened by bft-part.ts): four `NodeHost`s running PBFT over a memory hub, each with its files
 * in a temporary directory, commit writes and write their replica's log to `<dir>/bft/bft.log`
 * and their identity to `<dir>/identity.json`; stopped and started again on the same
 * directories, each has the same identity (its peers check its signatures against the key it
 * published).
 *
 * Not asserted, because it does not hold today: after ALL four restart, the executed state is
 * not there (seen: lastExecutedSeq 0 and k0 null on every replica, and one write after the
 * restart timed out): the BFT log keeps views, certificates and checkpoints, and a replica's
 * machine comes back only from a stable checkpoint or a peer's state transfer; four writes make
 * no checkpoint, and no peer has the state.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = 'the bft file storage test secret';
let root = '';
let hosts: NodeHost[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pq-bft-files-'));
});

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  hosts = [];
  await rm(root, { recursive: true, force: true });
});

function options(id: string): WorkerStartOptions {
  return { cluster: 'bft-files', id, voters: [], protocols: ['bft'], gossipSeeds: ids, transport: { kind: 'broadcast' }, storage: { dir: join(root, id) }, machine: { kind: 'kv' }, tickMs: 5, secret };
}

async function cluster(): Promise<NodeHost[]> {
  const hub = new MemoryHub();
  hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id), { transport: hub.connect(id) })));
  return hosts;
}

async function write(h: NodeHost, key: string, value: string): Promise<void> {
  const r = decodeKvResult(await h.propose(encodeKvCommand({ op: 'write', key, value })));
  expect(r.ok && r.value.op).toBe('write');
}

describe('BFT nodes with storage { dir }', () => {
  it('keep their replica log and identity in files, and their identity across a restart', async () => {
    const first = await cluster();
    await Promise.all(first.map((h, i) => write(h, `k${i}`, `v${i}`)));
    const before = new Map(first.map((h) => [h.id, { fingerprint: h.status().identity.fingerprint }]));
    await Promise.all(first.map((h) => h.stop()));
    hosts = [];

    for (const id of ids) expect((await stat(join(root, id, 'bft', 'bft.log'))).size).toBeGreaterThan(0);

    const second = await cluster();
    for (const h of second) expect(h.status().identity.fingerprint).toBe(before.get(h.id)?.fingerprint);
  });
});
