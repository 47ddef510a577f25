/**
 * Issue 15's first "done when", end to end through the real command line: three
 * `peerquorum node` processes (spawned from bin/peerquorum.mjs) over WebSocket on 127.0.0.1, with
 * file logs and a cluster secret, form a cluster; `peerquorum propose` and `peerquorum read`
 * (processes too) work against it; after `kill -9` of the leader's process the other two keep
 * committing (writes acknowledged during and after the kill); the killed node restarted on the
 * same data directory serves every acknowledged write from its own state machine (linearizable
 * reads asked of it alone wait until it has applied the leader's commit index). Also: a wrong
 * secret exits 4, an unreachable cluster 3, a bad argument 2, each with one line on stderr.
 *
 * Every process started here is killed in afterAll (and in a finally of each test's own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cli/cluster-client.ts';
import { encodeKvCommand } from '../../src/machines/kv.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'peerquorum.mjs');
const ids = ['n1', 'n2', 'n3'] as const;
const cluster = 'cli-test';
const secret = 'a cluster secret for the cli test';

let dir = '';
const ports = new Map<string, number>();
const nodes = new Map<string, ChildProcess>();
const logs = new Map<string, string>();
const started: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const url = (id: string): string => `ws://127.0.0.1:${ports.get(id) as number}`;
const peersOf = (members: readonly string[]): string => members.map((id) => `${id}=${url(id)}`).join(',');
const peerList = (members: readonly string[]) => members.map((id) => ({ id, url: url(id) }));

function startNode(id: string): ChildProcess {
  const others = ids.filter((o) => o !== id);
  const child = spawn(process.execPath, [bin, 'node', '--cluster', cluster, '--id', id, '--data', join(dir, id), '--listen', `127.0.0.1:${ports.get(id) as number}`, '--peers', peersOf(others), '--secret-file', join(dir, 'secret')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => logs.set(id, (logs.get(id) ?? '') + chunk.toString()));
  nodes.set(id, child);
  started.push(child);
  return child;
}

/** Run the command line to its end: exit code, stdout, stderr. */
function cli(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

const clientArgs = (members: readonly string[], secretFile = join(dir, 'secret')): string[] => ['--cluster', cluster, '--peers', peersOf(members), '--secret-file', secretFile];

/** The leader's id, once the members given agree on one (asked of each over the client protocol). */
async function leaderOf(members: readonly string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leaders = new Set<string | null>();
    for (const id of members) {
      const client = await ClusterClient.connect({ cluster, peers: peerList([id]), secret, timeoutMs: 2000 }).catch(() => null);
      if (client === null) {
        leaders.add(null);
        continue;
      }
      const reply = await client.request('status', new Uint8Array(0), 2000);
      await client.close();
      leaders.add(reply.code === '' ? (JSON.parse(new TextDecoder().decode(reply.data)) as { leader: string | null }).leader : null);
    }
    const [only] = [...leaders];
    if (leaders.size === 1 && typeof only === 'string') return only;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no agreed leader among ${members.join(',')} within ${timeoutMs} ms; logs:\n${[...logs].map(([k, v]) => `${k}: ${v}`).join('\n')}`);
}

function killAll(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pq-cli-cluster-'));
  writeFileSync(join(dir, 'secret'), `${secret}\n`);
  writeFileSync(join(dir, 'wrong'), 'not the secret of this cluster\n');
  for (const id of ids) ports.set(id, await freePort());
  for (const id of ids) startNode(id);
}, 30_000);

afterAll(() => {
  killAll();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('peerquorum command line against three node processes', () => {
  it('proposes and reads; survives kill -9 of the leader; the restarted node has every acknowledged write', async () => {
    try {
      await leaderOf(ids, 60_000);
      const put = await cli(['propose', ...clientArgs(ids), '{"op":"write","key":"k0","value":"v0"}']);
      expect(put).toMatchObject({ code: 0, out: '{"ok":true,"result":{"op":"write"}}\n' });
      const got = await cli(['read', ...clientArgs(ids), 'k0']);
      expect(got).toMatchObject({ code: 0, out: '"v0"\n' });

      // Writes keep flowing from one client while the leader's process is killed.
      const acknowledged = new Map<string, string>([['k0', 'v0']]);
      const leader = await leaderOf(ids, 10_000);
      const survivors = ids.filter((id) => id !== leader);
      const writer = await ClusterClient.connect({ cluster, peers: peerList(survivors), secret, timeoutMs: 5000 });
      let writes = 0;
      let stopWriting = false;
      const writing = (async () => {
        while (!stopWriting) {
          const key = `w${writes++}`;
          const reply = await writer.request('propose', encodeKvCommand({ op: 'write', key, value: `value-${key}` }), 10_000);
          if (reply.code === '') acknowledged.set(key, `value-${key}`);
        }
      })();
      await new Promise((r) => setTimeout(r, 500));
      nodes.get(leader)?.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 3000));
      stopWriting = true;
      await writing;
      await writer.close();

      // The survivors elected a leader and commit: the command line's own writes too.
      const next = await leaderOf(survivors, 20_000);
      expect(next).not.toBe(leader);
      const after = await cli(['propose', ...clientArgs(ids, join(dir, 'secret')), '{"op":"write","key":"after","value":"kill"}']);
      expect(after).toMatchObject({ code: 0 });
      acknowledged.set('after', 'kill');
      expect(acknowledged.size).toBeGreaterThan(2);

      // The killed node comes back on its data directory and serves every acknowledged write.
      startNode(leader);
      const reader = await ClusterClient.connect({ cluster, peers: peerList([leader]), secret, timeoutMs: 20_000 });
      try {
        const keys = [...acknowledged.keys()];
        const values = await Promise.all(keys.map((k) => reader.request('read', new TextEncoder().encode(JSON.stringify(k)), 20_000)));
        const seen = values.map((r) => (r.code === '' ? (JSON.parse(new TextDecoder().decode(r.data)) as unknown) : r.code));
        expect(seen).toEqual(keys.map((k) => acknowledged.get(k)));
      } finally {
        await reader.close();
      }
      const viaCli = await cli(['read', '--cluster', cluster, '--peers', peersOf([leader]), '--secret-file', join(dir, 'secret'), 'after']);
      expect(viaCli).toMatchObject({ code: 0, out: '"kill"\n' });
    } finally {
      // Nothing of this test outlives it, even if it failed half way (afterAll again, for the rest).
      killAll();
    }
  }, 180_000);
});

describe('peerquorum command line failures', () => {
  it('exits 4 on a wrong secret, 3 when nothing listens, 2 on a bad argument, one line each', async () => {
    // Nodes of the first test are gone: this one starts its own single node (a cluster of one).
    const port = await freePort();
    const soloPeers = `solo=ws://127.0.0.1:${port}`;
    const solo = spawn(process.execPath, [bin, 'node', '--cluster', cluster, '--id', 'solo', '--data', join(dir, 'solo'), '--listen', `127.0.0.1:${port}`, '--peers', `ghost=ws://127.0.0.1:${await freePort()}`, '--secret-file', join(dir, 'secret')], { stdio: 'ignore' });
    started.push(solo);
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const wrong = await cli(['status', '--cluster', cluster, '--peers', soloPeers, '--secret-file', join(dir, 'wrong'), '--timeout-ms', '3000']);
      expect(wrong.code).toBe(4);
      expect(wrong.err.trim().split('\n')).toHaveLength(1);
      expect(wrong.err).toMatch(/wrong or missing --secret-file/);
      const none = await cli(['read', '--cluster', cluster, '--peers', `x=ws://127.0.0.1:${await freePort()}`, '--timeout-ms', '500', 'k']);
      expect(none.code).toBe(3);
      expect(none.err).toMatch(/^peerquorum: no member reachable within 500 ms/);
      const bad = await cli(['propose', '--cluster', cluster, '--peers', soloPeers, '{"op":"drop"}']);
      expect(bad.code).toBe(2);
      expect(bad.err.trim().split('\n')).toHaveLength(1);
      expect(bad.err).toMatch(/"op" must be "write", "cas" or "read"/);
    } finally {
      solo.kill('SIGKILL');
    }
  }, 60_000);
});
