/**
 * What this proves about starting a Node node (src/node/node-options.ts, create-node.ts), short
 * of running a cluster (test/node/worker-cluster.test.ts does that):
 * - the options become the worker's start options as documented: `listen` parsed (IPv6 in
 *   brackets too), `peers` by default this node and the ids of `peerAddresses`, the data
 *   directory made absolute, an id outside `peers` joining through them;
 * - `transport: 'webrtc'` becomes the Node WebRTC transport module (by URL, from source here)
 *   with the tab's `signaling` shape filled in (port 80 or 443, path `/`, not secure);
 * - options that cannot make a node are CONFIG errors naming the option, before any thread;
 * - in one process, a second node on a data directory a running node holds is refused with
 *   STORAGE (the file lock cannot tell workers of one process apart: they share its pid), a
 *   second node on a port a running node listens on fails with CONFIG naming the cause, and a
 *   worker script that does not load fails `createNode` (STOPPED) instead of leaving it pending;
 * - a call in flight when the worker dies (a linearizable read that waits for a quorum that is
 *   not there, then `testing.crash()`) fails with STOPPED instead of waiting forever, and so
 *   does a call made after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type NodeCreateOptions, type NodeKvNode } from '../../src/node/index.ts';
import { parseListen, workerStartOptions } from '../../src/node/node-options.ts';

let root = '';
const live: NodeKvNode[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pq-node-options-'));
});

afterAll(async () => {
  await Promise.all(live.map((n) => n.stop({ handOver: false })));
  await rm(root, { recursive: true, force: true });
});

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${String((e as { code?: unknown }).code)}: ${(e as Error).message}`;
  }
  return 'no error';
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    const node = await p;
    live.push(node as NodeKvNode);
  } catch (e) {
    return `${String((e as { code?: unknown }).code)}: ${(e as Error).message}`;
  }
  return 'no error';
}

const base: NodeCreateOptions<'kv'> = { cluster: 'c', id: 'n1', storage: { dir: 'relative/n1' }, listen: '127.0.0.1:7001', peerAddresses: { n2: 'ws://127.0.0.1:7002' } };
const webrtcBase: NodeCreateOptions<'kv'> = { cluster: 'c', id: 'n1', peers: ['n1', 'n2'], storage: 'memory', transport: 'webrtc', signaling: { host: '127.0.0.1', port: 9000 } };

describe('Node node options', () => {
  it('become the worker start options', () => {
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    const start = workerStartOptions(base);
    expect(start.voters).toEqual(['n1', 'n2']);
    expect(start.storage).toEqual({ dir: resolve('relative/n1') });
    expect(start.transport).toEqual({ kind: 'websocket', listen: { host: '127.0.0.1', port: 7001 }, peers: { n2: 'ws://127.0.0.1:7002' } });
    const joining = workerStartOptions({ ...base, id: 'n9', peers: ['n1', 'n2'] });
    expect(joining.voters).toEqual([]);
    expect(joining.joinVia).toEqual(['n1', 'n2']);
    const webrtc = workerStartOptions({ cluster: 'c', id: 'n1', peers: ['n1', 'n2', 'n3'], storage: 'memory', transport: 'webrtc', signaling: { host: 'signal.example' } });
    expect(webrtc.voters).toEqual(['n1', 'n2', 'n3']);
    expect(webrtc.transport).toEqual({
      kind: 'module',
      url: new URL('../../src/io/transport/node-webrtc-module.ts', import.meta.url).href,
      options: { signaling: { host: 'signal.example', port: 80, path: '/', secure: false } },
    });
    const iceServers = [{ urls: 'turn:turn.example:3478', username: 'u', credential: 'c' }];
    const secure = workerStartOptions({ ...webrtcBase, signaling: { host: 'h', secure: true, path: '/peerjs', key: 'k' }, iceServers });
    expect(secure.transport).toMatchObject({ options: { signaling: { host: 'h', port: 443, path: '/peerjs', secure: true, key: 'k' }, iceServers } });
  });

  it('refuse what cannot make a node, with CONFIG naming the option', () => {
    expect(code(() => workerStartOptions({ ...base, storage: 'indexeddb' as unknown as 'memory' }))).toMatch(/^CONFIG: storage must be/);
    expect(code(() => workerStartOptions({ ...base, listen: '127.0.0.1' }))).toMatch(/^CONFIG: listen must be host:port/);
    expect(code(() => workerStartOptions({ ...base, listen: 'h:70000' }))).toMatch(/^CONFIG: listen must be host:port/);
    expect(code(() => workerStartOptions({ ...base, peerAddresses: { n2: 'http://x:1' } }))).toMatch(/^CONFIG: the address of n2/);
    expect(code(() => workerStartOptions({ ...base, peerAddresses: { n1: 'ws://x:1' } }))).toMatch(/^CONFIG: peerAddresses names this node/);
    expect(code(() => workerStartOptions({ ...base, id: 'n9', peers: ['n1', 'n2'], join: false }))).toMatch(/^CONFIG: id n9 is not one of peers/);
    expect(code(() => workerStartOptions({ ...base, transport: 'tcp' as unknown as 'webrtc' }))).toMatch(/^CONFIG: transport must be 'websocket' or 'webrtc'/);
    expect(code(() => workerStartOptions({ ...base, signaling: { host: 'h' } }))).toMatch(/^CONFIG: signaling and iceServers are for transport 'webrtc', not 'websocket'/);
    expect(code(() => workerStartOptions({ ...webrtcBase, signaling: undefined as unknown as { host: string } }))).toMatch(/^CONFIG: transport 'webrtc' needs signaling/);
    expect(code(() => workerStartOptions({ ...webrtcBase, signaling: {} }))).toMatch(/^CONFIG: signaling.host must be a host name/);
    expect(code(() => workerStartOptions({ ...webrtcBase, signaling: { host: 'h', port: 70_000 } }))).toMatch(/^CONFIG: signaling.port must be a port number/);
    expect(code(() => workerStartOptions({ ...webrtcBase, signaling: { host: 'h', path: 'peerjs' } }))).toMatch(/^CONFIG: signaling.path must start with \//);
    expect(code(() => workerStartOptions({ ...webrtcBase, iceServers: [{ username: 'u' } as unknown as { urls: string }] }))).toMatch(/^CONFIG: an ICE server's urls must be/);
    expect(code(() => workerStartOptions({ ...webrtcBase, listen: '127.0.0.1:0' }))).toMatch(/^CONFIG: listen is for transport 'websocket', not 'webrtc'/);
    expect(code(() => workerStartOptions({ ...webrtcBase, peerAddresses: { n2: 'ws://127.0.0.1:7002' } }))).toMatch(/^CONFIG: peerAddresses is for transport 'websocket'/);
  });
});

describe('createNode in one process', () => {
  it('refuses a held data directory and a taken port; a worker that does not load fails the start', async () => {
    const dir = join(root, 'n1');
    const first = await createNode({ cluster: 'c', id: 'n1', peers: ['n1'], storage: { dir }, listen: '127.0.0.1:0' });
    live.push(first);
    expect(await refusal(createNode({ cluster: 'c', id: 'n1', peers: ['n1'], storage: { dir }, listen: '127.0.0.1:0' }))).toMatch(/^STORAGE: .*n1 is the data directory of a node this process runs already/);

    const port = (first.address as string).replace('ws://', '');
    expect(await refusal(createNode({ cluster: 'c', id: 'n2', peers: ['n2'], storage: { dir: join(root, 'n2') }, listen: port }))).toMatch(/^CONFIG: .*EADDRINUSE/);

    const missing = join(root, 'no-such-worker.js');
    expect(await refusal(createNode({ cluster: 'c', id: 'n3', peers: ['n3'], storage: { dir: join(root, 'n3') }, workerUrl: missing }))).toMatch(/^STOPPED: the node's worker is gone \(it failed: /);
    // The directory of a node that failed to start is free again.
    const again = await createNode({ cluster: 'c', id: 'n3', peers: ['n3'], storage: { dir: join(root, 'n3') } });
    live.push(again);
    expect(again.address).toBeNull();
  });

  it('fails a call in flight with STOPPED when the worker dies', async () => {
    // Three voters, none of the others reachable: a linearizable read waits for a quorum.
    const alone = await createNode({ cluster: 'c', id: 'a1', peers: ['a1', 'a2', 'a3'], storage: 'memory', proposalTimeoutMs: 600_000 });
    const read = alone.read('k').then(
      () => 'answered',
      (e: unknown) => `${String((e as { code?: unknown }).code)}: ${(e as Error).message}`,
    );
    await alone.testing.crash();
    expect(await read).toMatch(/^STOPPED: /);
    expect(await alone.status().then(() => 'answered', (e: unknown) => String((e as { code?: unknown }).code))).toBe('STOPPED');
  });
});
