/**
 * What this proves about storage `{ dir }` (worker-protocol.ts `StorageSpec`, opened by
 * src/runtime/file-node-storage.ts), with real files in a temporary directory and nodes in this
 * process over a memory hub:
 * - three NodeHosts with `{ dir }` elect, commit writes, stop; started again on the same
 *   directories they boot from their file logs (term, vote and the log they had: `status().boot`)
 *   and answer a linearizable read of every write acknowledged before the stop;
 * - each node's identity is a key file (`<dir>/identity.json`): the same fingerprint in its
 *   next life; a damaged key file is refused (STORAGE), never silently replaced;
 * - a node that runs gossip beside Raft keeps its gossip files under `<dir>/gossip`, and its
 *   incarnation survives a restart (it grows);
 * - a directory another node of this process holds open (its lock) refuses the second start
 *   with STORAGE naming the directory, and leaves the first node running.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryTransport } from '../../src/io/transport/factory.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { NodeProtocol, WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

const ids = ['a', 'b', 'c'];
let root = '';
let running: NodeHost[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pq-node-files-'));
});

afterEach(async () => {
  await Promise.all(running.map((h) => h.stop().catch(() => undefined)));
  running = [];
  await rm(root, { recursive: true, force: true });
});

function options(id: string, voters: readonly string[], protocols: readonly NodeProtocol[] = ['raft']): WorkerStartOptions {
  return { cluster: 'files', id, voters, protocols, transport: { kind: 'broadcast' }, storage: { dir: join(root, id) }, machine: { kind: 'kv' }, tickMs: 5 };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startAll(hub: MemoryHub, protocols?: readonly NodeProtocol[]): Promise<NodeHost[]> {
  const hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id, ids, protocols), { transportFactory: memoryTransport(hub) })));
  running.push(...hosts);
  return hosts;
}

async function stopAll(hosts: readonly NodeHost[]): Promise<void> {
  await Promise.all(hosts.map((h) => h.stop()));
  running = running.filter((h) => !hosts.includes(h));
}

/** The start's failure (a `NodeError`, or the storage's own `StorageError`: both carry a code). */
async function startRefused(o: WorkerStartOptions): Promise<{ readonly code: string; readonly message: string }> {
  try {
    running.push(await NodeHost.start(o, { transportFactory: memoryTransport(new MemoryHub()) }));
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return { code: String((e as { code?: unknown }).code), message: (e as Error).message };
  }
  throw new Error('the node started');
}

describe('NodeHost with storage { dir }', () => {
  it('boots again from its file log and identity file, with every acknowledged write', async () => {
    const first = await startAll(new MemoryHub());
    const leader = await until('a leader', () => first.find((h) => h.status().role === 'leader'));
    const writes = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
    for (const w of writes) {
      expect(decodeKvResult(await leader.propose(encodeKvCommand({ op: 'write', ...w })))).toEqual({ ok: true, value: { op: 'write' } });
    }
    const acknowledged = leader.status().commit;
    const before = new Map(first.map((h) => [h.id, h.status()]));
    await stopAll(first);
    for (const id of ids) {
      expect((await stat(join(root, id, 'raft'))).isDirectory()).toBe(true);
      expect(JSON.parse(await readFile(join(root, id, 'identity.json'), 'utf8'))).toMatchObject({ v: 1 });
    }

    const second = await startAll(new MemoryHub());
    // What the node found at boot is what it had made durable: every acknowledged write was
    // durable on a majority before its caller heard of it.
    const holding = second.filter((h) => h.status().boot.lastIndex >= acknowledged && h.status().boot.term >= 1);
    expect(holding.length).toBeGreaterThanOrEqual(2);
    for (const h of second) expect(h.status().identity.fingerprint).toBe(before.get(h.id)?.identity.fingerprint);
    const leader2 = await until('a leader after the restart', () => second.find((h) => h.status().role === 'leader'));
    const last = new Map(writes.map((w) => [w.key, w.value]));
    for (const [key, value] of last) expect(await leader2.read('linearizable', key)).toBe(value);
  });

  it('keeps the gossip half under <dir>/gossip; its incarnation grows across lives', async () => {
    const first = await startAll(new MemoryHub(), ['raft', 'gossip']);
    await until('gossip alive on every node', () => (first.every((h) => h.status().gossip?.state === 'alive') ? true : undefined));
    const incarnations = new Map(first.map((h) => [h.id, h.status().gossip?.incarnation ?? -1]));
    await stopAll(first);
    for (const id of ids) expect((await stat(join(root, id, 'gossip'))).isDirectory()).toBe(true);
    const second = await startAll(new MemoryHub(), ['raft', 'gossip']);
    for (const h of second) expect(h.status().gossip?.incarnation).toBeGreaterThan(incarnations.get(h.id) ?? Infinity);
  });

  it('refuses a damaged identity file with STORAGE and leaves it as it was', async () => {
    const once = await NodeHost.start(options('a', ['a']), { transportFactory: memoryTransport(new MemoryHub()) });
    running.push(once);
    await stopAll([once]);
    const path = join(root, 'a', 'identity.json');
    await writeFile(path, '{"v":1,"publicKey":"AAAA","privateKeyPkcs8":"AAAA"}\n');
    const refused = await startRefused(options('a', ['a']));
    expect(refused.code).toBe('STORAGE');
    expect(refused.message).toContain('identity');
    expect(await readFile(path, 'utf8')).toBe('{"v":1,"publicKey":"AAAA","privateKeyPkcs8":"AAAA"}\n');
  });

  it('refuses a second node on a directory a running node holds, with STORAGE naming it', async () => {
    const holder = await NodeHost.start(options('a', ['a']), { transportFactory: memoryTransport(new MemoryHub()) });
    running.push(holder);
    const refused = await startRefused(options('a', ['a']));
    expect(refused.code).toBe('STORAGE');
    expect(refused.message).toContain(join(root, 'a', 'raft'));
    await until('the holder leads its cluster of one', () => (holder.status().role === 'leader' ? true : undefined));
    expect(decodeKvResult(await holder.propose(encodeKvCommand({ op: 'write', key: 'k', value: 'v' })))).toEqual({ ok: true, value: { op: 'write' } });
  });
});
