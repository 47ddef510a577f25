/**
 * What this proves about `createNode` of `peerquorum/node` with `transport: 'webrtc'`
 * (src/node/node-options.ts → src/io/transport/node-webrtc-module.ts loaded by URL in the
 * worker): three nodes, each in its own `worker_threads` Worker (from source, under tsx), with
 * file logs in temporary directories and a cluster secret, link by WebRTC data channels (werift)
 * met through a real PeerServer on 127.0.0.1 (test/io/loopback-peer-server.ts), elect a leader,
 * commit a write, and read it linearizably on every node. Every node and the server are stopped
 * at the end.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type NodeKvNode } from '../../src/node/index.ts';
import { startPeerServer, type LoopbackPeerServer } from '../io/loopback-peer-server.ts';
import { stopAllAndRemove, untilWithin } from './node-fixtures.ts';

const cluster = 'edge-webrtc';
const ids = ['w1', 'w2', 'w3'] as const;
const secret = 'a cluster secret of at least 16 bytes';
// Slow elections, as in worker-cluster.test.ts: workers compiling under tsx starve timers.
const electionSlow = { electionTimeoutTicks: 50 };
let root = '';
let server: LoopbackPeerServer | undefined;
const live = new Map<string, NodeKvNode>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pq-node-webrtc-'));
  server = await startPeerServer();
});

afterAll(async () => {
  await stopAllAndRemove(live.values(), root);
  live.clear();
  server?.close();
});

const until = untilWithin(60_000);

describe('Node nodes in worker threads over WebRTC with file logs', () => {
  it('elect, commit a write and read it linearizably on every node', async () => {
    const signaling = { host: '127.0.0.1', port: (server as LoopbackPeerServer).port, path: '/peerjs' };
    await Promise.all(
      ids.map(async (id) => {
        const node = await createNode({ cluster, id, peers: [...ids], storage: { dir: join(root, id) }, transport: 'webrtc', signaling, secret, raft: electionSlow });
        live.set(id, node);
      }),
    );
    const nodes = [...live.values()];
    expect(nodes.map((n) => n.address)).toEqual([null, null, null]);
    const leader = await until('a leader', async () => {
      for (const n of nodes) if ((await n.status()).role === 'leader') return n;
      return undefined;
    });
    expect(await leader.propose({ op: 'write', key: 'k', value: 'over webrtc' })).toEqual({ op: 'write' });
    expect((await leader.status()).authenticated).toBe(true);
    for (const n of nodes) expect(await n.read('k')).toBe('over webrtc');
  });
});
