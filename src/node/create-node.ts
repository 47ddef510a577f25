/**
 * `createNode` for Node.js (`peerquorum/node`): a peerquorum node whose driver, file log and
 * WebSocket links run in a `worker_threads` Worker, with the same API as a tab's node
 * (src/client/create-node.ts) plus what a server process needs (node-handle.ts: `address`,
 * `stop({ handOver })`).
 *
 * ```ts
 * import { createNode } from 'peerquorum/node';
 * const node = await createNode({
 *   cluster: 'c1', id: 'n1', storage: { dir: '/var/lib/pq/n1' }, secret,
 *   listen: '127.0.0.1:7001', peerAddresses: { n2: 'ws://127.0.0.1:7002', n3: 'ws://127.0.0.1:7003' },
 * });
 * await node.propose({ op: 'write', key: 'k', value: 'v' });
 * await node.read('k');                      // linearizable
 * process.once('SIGTERM', () => void node.stop({ handOver: true }));
 * ```
 *
 * One data directory, one node: the file logs lock their directories by pid, and every worker of
 * a process has the same pid, so a second node on a directory this process runs would not be
 * refused by the lock; it is refused here (STORAGE) instead.
 */
import * as Comlink from 'comlink';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { bytesClient, kvClient, type MachineClient } from '../client/machine-client.ts';
import { NodeError, unwrap } from '../client/node-error.ts';
import { servicesKvClient, withServices, type ServicesNode } from '../client/services-node.ts';
import type { KvCommand, KvResult } from '../machines/kv.ts';
import { storageDirOf, type WorkerApi } from '../runtime/worker-protocol.ts';
import { NodeHandle, type NodeNode } from './node-handle.ts';
import { workerStartOptions, type NodeCreateOptions, type NodeCustomMachine } from './node-options.ts';
import { nodeEndpoint } from './node-endpoint.ts';
import { spawnNodeWorker } from './node-worker-spawn.ts';

export type NodeKvNode = NodeNode<KvCommand, KvResult, string, string | null>;
export type NodeBytesNode = NodeNode<Uint8Array, Uint8Array, unknown, unknown>;

/** The data directories nodes of this process run on (see the header). */
const claimedDirs = new Set<string>();

export function createNode(options: NodeCreateOptions<'kv'>): Promise<NodeKvNode>;
export function createNode(options: NodeCreateOptions<NodeCustomMachine>): Promise<NodeBytesNode>;
export function createNode(options: NodeCreateOptions<'services'>): Promise<ServicesNode & NodeKvNode>;
export async function createNode(options: NodeCreateOptions): Promise<NodeKvNode | NodeBytesNode | (ServicesNode & NodeKvNode)> {
  const machine = options.machine ?? 'kv';
  if (machine === 'kv') return startNode(options, kvClient);
  if (machine === 'services') {
    const node = await startNode(options, servicesKvClient);
    return Object.assign(withServices(node), { address: node.address, stop: node.stop.bind(node), handOver: node.handOver.bind(node), testing: node.testing });
  }
  return startNode(options, bytesClient);
}

async function startNode<C, R, Q, A>(options: NodeCreateOptions, client: MachineClient<C, R, Q, A>): Promise<NodeHandle<C, R, Q, A>> {
  const start = workerStartOptions(options);
  const dir = storageDirOf(start.storage);
  if (dir !== null && claimedDirs.has(dir)) throw new NodeError('STORAGE', `${dir} is the data directory of a node this process runs already`);
  if (dir !== null) claimedDirs.add(dir);
  const release = (): void => {
    if (dir !== null) claimedDirs.delete(dir);
  };
  let worker;
  try {
    const url = options.workerUrl === undefined ? undefined : new URL(options.workerUrl, pathToFileURL(`${process.cwd()}/`));
    worker = spawnNodeWorker(`peerquorum ${start.cluster}/${start.id}`, url);
  } catch (e) {
    release();
    throw new NodeError('CONFIG', `cannot start the node's worker: ${e instanceof Error ? e.message : String(e)}`);
  }
  const api = Comlink.wrap<WorkerApi>(nodeEndpoint(worker));
  const channel = new MessageChannel();
  const node = new NodeHandle<C, R, Q, A>(start.id, start.cluster, worker, api, channel.port1, client, release);
  try {
    // Node's MessagePort is transferable like the DOM's: the worker posts events on it.
    const port = channel.port2 as unknown as MessagePort;
    // Through the handle's api: a worker that dies while starting (its script did not load)
    // fails the call with STOPPED instead of leaving it waiting (worker-calls.ts).
    unwrap(await node.api.start(start, Comlink.transfer(port, [port as unknown as Transferable])));
    node.address = unwrap(await node.api.listenAddress());
    return node;
  } catch (e) {
    await node.stop({ handOver: false });
    throw e instanceof NodeError ? e : new NodeError('INTERNAL', e instanceof Error ? e.message : String(e));
  }
}
