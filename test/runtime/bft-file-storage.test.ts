/**
 * What this proves about a BFT node with storage `{ dir }` (src/runtime/file-node-storage.ts
 * opened by bft-part.ts): four `NodeHost`s running PBFT over a memory hub, each with its files
 * in a temporary directory, commit writes and write their replica's log to `<dir>/bft/bft.log`
 * and their identity to `<dir>/identity.json`; stopped and started again on the same
 * directories, each has the same identity (its peers check its signatures against the key it
 * published).
 *
 * After ALL four restart, with four writes and so no stable checkpoint (no peer holds the state),
 * every acknowledged write is read back on every node and a new write commits: each replica
 * re-executes from its own log the batches it committed (src/core/bft/ready.ts
 * `CommittedBatch`). Before that log, this run saw lastExecutedSeq 0 and k0 empty on every
 * replica, and the write after the restart timed out. (The retransmission of a client's last
 * request after such a restart is test/runtime/bft-host.test.ts's and test/core/bft/restart's.)
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

/** Wait until `done` holds, checking every 10 ms, at most 10 s (a bound on a wait, not a timing assertion). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

describe('BFT nodes with storage { dir }', () => {
  it('keep their replica log and identity in files, and their identity across a restart', async () => {
    const first = await cluster();
    await Promise.all(first.map((h, i) => write(h, `k${i}`, `v${i}`)));
    const before = new Map(first.map((h) => [h.id, { fingerprint: h.status().identity.fingerprint }]));
    const executedBefore = Math.max(...first.map((h) => h.status().bft?.lastExecutedSeq ?? 0));
    expect(executedBefore).toBeGreaterThan(0);
    await Promise.all(first.map((h) => h.stop()));
    hosts = [];

    for (const id of ids) expect((await stat(join(root, id, 'bft', 'bft.log'))).size).toBeGreaterThan(0);

    const second = await cluster();
    for (const h of second) expect(h.status().identity.fingerprint).toBe(before.get(h.id)?.fingerprint);
    // Each replica's own machine comes back (not only a quorum's answers): the same seq and state digest everywhere.
    await until(() => second.every((h) => (h.status().bft?.stateSeq ?? 0) >= executedBefore));
    expect(new Set(second.map((h) => h.status().bft?.stateDigest)).size).toBe(1);
    for (const h of second) for (let i = 0; i < ids.length; i++) expect(await h.read('linearizable', `k${i}`)).toBe(`v${i}`);
    await write(second[2] as NodeHost, 'after', 'restart');
    for (const h of second) expect(await h.read('linearizable', 'after')).toBe('restart');
  });
});
