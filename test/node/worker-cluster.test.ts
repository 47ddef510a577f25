/**
 * What this proves about `createNode` of `peerquorum/node` (src/node/create-node.ts): three
 * nodes, each in its own `worker_threads` Worker (started from source with `--import tsx`),
 * with file logs in temporary directories and authenticated WebSocket links on 127.0.0.1
 * (ports chosen by the system: the first node listens on port 0 and the others are told its
 * address as they start), form a cluster and commit writes. The leader's worker is then
 * terminated without a word (`testing.crash()`, worker.terminate(): the closest to kill -9
 * inside one process); the two others elect a leader and keep committing. The crashed node,
 * started again on its directory and port, boots from its file log (`status().boot`), catches
 * up, and answers every write acknowledged before and after its crash, locally and
 * linearizably. Last, a leader stopped with `stop({ handOver: true })` is deposed by its
 * transferee before it stops, and leaves a cluster that still commits. Every worker is stopped at the end (their sockets with them).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type NodeKvNode } from '../../src/node/index.ts';
import { stopAllAndRemove, untilWithin } from './node-fixtures.ts';

const cluster = 'edge-workers';
const ids = ['n1', 'n2', 'n3'] as const;
const secret = 'a cluster secret of at least 16 bytes';
// 50 ticks of 10 ms (0.5 to 1 s): on this shared 2-core machine a worker compiling its sources
// under tsx starved the others' timers past the default 150 ms, and leaders changed by
// themselves (a leader could lose its role between being found and being stopped).
const electionSlow = { electionTimeoutTicks: 50 };
let root = '';
const live = new Map<string, NodeKvNode>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pq-node-workers-'));
});

afterAll(async () => {
  await stopAllAndRemove(live.values(), root);
  live.clear();
});

const until = untilWithin(30_000);

async function start(id: string, listen: string, peerAddresses: Record<string, string>): Promise<NodeKvNode> {
  const node = await createNode({ cluster, id, peers: [...ids], storage: { dir: join(root, id) }, listen, peerAddresses, secret, webSocket: { backoff: { baseMs: 20, maxMs: 500 } }, raft: electionSlow });
  live.set(id, node);
  return node;
}

async function leaderOf(nodes: readonly NodeKvNode[]): Promise<NodeKvNode> {
  return until('a leader', async () => {
    for (const n of nodes) if ((await n.status()).role === 'leader') return n;
    return undefined;
  });
}

describe('Node nodes in worker threads over WebSocket with file logs', () => {
  it('survive the crash of the leader, and the restarted node has every acknowledged write', async () => {
    const addresses: Record<string, string> = {};
    for (const id of ids) {
      const node = await start(id, '127.0.0.1:0', { ...addresses });
      expect(node.address).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      addresses[id] = node.address as string;
    }
    const acknowledged = new Map<string, string>();
    const write = async (node: NodeKvNode, key: string, value: string): Promise<void> => {
      expect(await node.propose({ op: 'write', key, value })).toEqual({ op: 'write' });
      acknowledged.set(key, value);
    };

    const first = await leaderOf([...live.values()]);
    await Promise.all(Array.from({ length: 40 }, (_, i) => write(first, `k${i % 13}`, `before-${i}`)));
    expect((await first.status()).authenticated).toBe(true);

    const crashed = first.id;
    await first.testing.crash();
    live.delete(crashed);
    const second = await leaderOf([...live.values()]);
    expect(second.id).not.toBe(crashed);
    await Promise.all(Array.from({ length: 40 }, (_, i) => write(second, `k${i % 17}`, `after-${i}`)));
    const committed = (await second.status()).commit;

    const others = Object.fromEntries(Object.entries(addresses).filter(([id]) => id !== crashed));
    const restarted = await start(crashed, (addresses[crashed] as string).replace('ws://', ''), others);
    const boot = (await restarted.status()).boot;
    expect(boot.lastIndex).toBeGreaterThan(0);
    await until('the restarted node applied what was committed', async () => ((await restarted.status()).applied >= committed ? true : undefined));
    // Local reads first: `status().applied` is what the node's machine applied, not what the
    // core handed out to apply (test/runtime/applied-index.test.ts), so they see every write.
    for (const [key, value] of acknowledged) expect(await restarted.read(key, { consistency: 'local' })).toBe(value);
    for (const [key, value] of acknowledged) expect(await restarted.read(key)).toBe(value);

    const leader = await leaderOf([...live.values()]);
    // stop waited for its transferee to depose it: the TimeoutNow left before the sockets closed.
    expect(await leader.stop({ handOver: true })).toEqual({ wasLeader: true, deposed: true });
    live.delete(leader.id);
    const next = await leaderOf([...live.values()]);
    await write(next, 'last', 'written after a hand-over');
    for (const n of live.values()) expect(await n.read('last')).toBe('written after a hand-over');
  });
});
