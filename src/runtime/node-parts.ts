/**
 * What a node is built from, when the start options name it rather than Node code supplying it
 * (node-host.ts `NodeHostParts`): the state machine (the built-in KV machine, or a module the
 * worker imports), the transport (a built-in kind, or a module whose `createTransport` is a
 * factory) and the Raft storage. Apart from node-host.ts so that the host reads as the assembly
 * of its parts.
 */
import type { NodeId } from '../core/raft/types.ts';
import { KvMachine } from '../machines/kv.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import { broadcastChannelTransport, dataChannelTransport, isTransport, type TransportContext, type TransportFactory } from '../io/transport/factory.ts';
import type { Transport } from '../io/transport/transport.ts';
import { IndexedDbRaftStorage } from '../io/storage/indexeddb-storage.ts';
import { MemoryRaftStorage } from '../io/storage/memory-storage.ts';
import type { RaftStorage } from '../io/storage/storage.ts';
import { NodeError } from './errors.ts';
import { storageDirOf, type MachineSpec, type TransportSpec, type WebSocketTransportSpec, type WorkerStartOptions } from './worker-protocol.ts';
import type { ServicesSpec } from './services-protocol.ts';
import { loadValidators, servicesAdapter } from './services-part.ts';

/** Answers `read` queries against a machine; the KV machine's query is a key. */
export interface MachineAdapter {
  readonly machine: StateMachine;
  /** A fresh instance of the same machine, at once: the scratch a leader's snapshot is checked in (`DriverOptions.createMachine`). */
  readonly createScratch?: () => StateMachine;
  query(machine: StateMachine, query: unknown): unknown;
  /** Set for the services machine (services-part.ts): the node runs the services' runtime. */
  readonly services?: ServicesSpec;
}

/** What a custom machine module exports (`MachineSpec` kind `module`). */
export interface MachineModule {
  createMachine(options: unknown): StateMachine | Promise<StateMachine>;
  query?(machine: StateMachine, query: unknown): unknown;
}

/** What a custom transport module exports (`TransportSpec` kind `module`): a factory (src/io/transport/factory.ts). */
export interface TransportModule {
  readonly createTransport: TransportFactory;
}

/** The KV machine: `read(key)` answers the key's value, null when absent. */
export function kvAdapter(): MachineAdapter {
  return {
    machine: new KvMachine(),
    createScratch: () => new KvMachine(),
    query(machine, query) {
      if (typeof query !== 'string') throw new NodeError('CONFIG', 'a key-value read takes a string key');
      return (machine as KvMachine).read(query);
    },
  };
}

async function importModule<T>(url: string, what: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ url)) as T;
  } catch (e) {
    throw new NodeError('CONFIG', `cannot load the ${what} module ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function createMachine(spec: MachineSpec): Promise<MachineAdapter> {
  if (spec.kind === 'kv') return kvAdapter();
  if (spec.kind === 'services') return servicesAdapter(spec.options, await loadValidators(spec.options ?? {}));
  const mod = await importModule<Partial<MachineModule>>(spec.url, 'machine');
  if (typeof mod.createMachine !== 'function') throw new NodeError('CONFIG', `${spec.url} does not export createMachine`);
  const made = mod.createMachine(spec.options);
  const machine = await made;
  const query = mod.query;
  // Only a createMachine that answers at once can make scratch machines (the snapshot check runs
  // inside a Ready); an async one leaves the check to the session envelope (driver-options.ts).
  const create = mod.createMachine.bind(mod);
  const createScratch = (): StateMachine => {
    const m = create(spec.options);
    if (m instanceof Promise) throw new NodeError('CONFIG', `${spec.url}: createMachine answered at once at start, and a promise now`);
    return m;
  };
  return {
    machine,
    ...(made instanceof Promise ? {} : { createScratch }),
    query(m, q) {
      if (query === undefined) throw new NodeError('CONFIG', `${spec.url} does not export query: reads are not supported`);
      return query(m, q);
    },
  };
}

/** The transports a page names by kind (the WebRTC one loads its module only when called). */
const builtInTransports: Record<Exclude<TransportSpec['kind'], 'module' | 'websocket'>, TransportFactory> = {
  broadcast: broadcastChannelTransport(),
  webrtc: dataChannelTransport(),
};

/**
 * The node's transport, from the factory Node code supplied, else the one the spec names: a
 * built-in kind, or a module whose `createTransport` is a factory. The spec crossed from the
 * page and the factory is someone else's code: an unknown kind, or a result that is not a
 * transport for this node, is a CONFIG error.
 */
export async function createTransport(spec: TransportSpec, cluster: string, self: NodeId, peers: readonly NodeId[], supplied?: TransportFactory): Promise<Transport> {
  const context: TransportContext = spec.kind === 'module' ? { cluster, self, peers, options: spec.options } : { cluster, self, peers };
  let factory = supplied;
  let what = 'the supplied transport factory';
  if (factory === undefined && spec.kind === 'module') {
    const mod = await importModule<Partial<TransportModule>>(spec.url, 'transport');
    if (typeof mod.createTransport !== 'function') throw new NodeError('CONFIG', `${spec.url} does not export createTransport`);
    factory = mod.createTransport;
    what = `the createTransport of ${spec.url}`;
  } else if (factory === undefined && spec.kind === 'websocket') {
    factory = await webSocketFactory(spec);
    what = 'the websocket transport';
  } else if (factory === undefined) {
    const kind: unknown = spec.kind;
    if (typeof kind !== 'string' || !Object.hasOwn(builtInTransports, kind)) throw new NodeError('CONFIG', `unknown transport ${JSON.stringify(spec)}`);
    factory = builtInTransports[kind as keyof typeof builtInTransports];
    what = `the ${kind} transport`;
  }
  let transport: unknown;
  try {
    transport = await factory(context);
  } catch (e) {
    // A port in use, an address it cannot listen on: the node cannot start as configured.
    if (e instanceof NodeError) throw e;
    throw new NodeError('CONFIG', `${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isTransport(transport) || transport.self !== self) {
    if (isTransport(transport)) await transport.close().catch(() => undefined);
    throw new NodeError('CONFIG', `${what} did not make a transport for ${self}`);
  }
  return transport;
}

/**
 * The `websocket` spec's factory. The spec crossed from another thread: its shape is checked
 * here (CONFIG), its values by the transport itself. `ws` is imported only now, so that a
 * browser worker never loads it.
 */
async function webSocketFactory(spec: WebSocketTransportSpec): Promise<TransportFactory> {
  const listen = spec.listen;
  if (listen !== undefined && (typeof listen.host !== 'string' || !Number.isSafeInteger(listen.port) || listen.port < 0 || listen.port > 65_535)) {
    throw new NodeError('CONFIG', `websocket listen must be { host, port } with a port in 0..65535, got ${JSON.stringify(listen)}`);
  }
  const peers: unknown = spec.peers;
  if (typeof peers !== 'object' || peers === null || Object.values(peers).some((url) => typeof url !== 'string' || !/^wss?:\/\//.test(url))) {
    throw new NodeError('CONFIG', `websocket peers must map ids to ws:// addresses, got ${JSON.stringify(peers)}`);
  }
  const { webSocketTransportFactory } = await import('../io/transport/websocket-factory.ts');
  return webSocketTransportFactory({ ...spec.tuning, ...(listen === undefined ? {} : { listen }), peers: spec.peers });
}

/** The node's Raft storage, as the options name it (Node code may supply its own instead: `NodeHostParts.storage`). */
export async function createStorage(options: WorkerStartOptions): Promise<RaftStorage> {
  if (options.storage === 'memory') return new MemoryRaftStorage();
  const dir = storageDirOf(options.storage);
  if (dir !== null) return (await import('./file-node-storage.ts')).openFileRaftStorage(dir);
  if (options.storage === 'indexeddb') return IndexedDbRaftStorage.open({ cluster: options.cluster, node: options.id });
  throw new NodeError('CONFIG', `unknown storage ${JSON.stringify(options.storage)}`);
}
