/**
 * The options of `createNode` from `peerquorum/node`, and what they become for the worker
 * (`WorkerStartOptions`, src/runtime/worker-protocol.ts). Checked here, on the app's thread,
 * so that a mistake is a CONFIG error naming the option before any thread or socket exists.
 *
 * A Node node differs from a tab in what it is given, not in what it runs: its id is fixed by
 * its operator (no sessionStorage to keep one), its storage is a data directory (no IndexedDB),
 * and its links are WebSockets it listens on and dials, or WebRTC data channels (werift) met
 * through the PeerServer browsers use, so that it joins a cluster of tabs.
 */
import { pathToFileURL } from 'node:url';
import type { HealthOptions } from '../runtime/node-health.ts';
import { resolve } from 'node:path';
import type { NodeId } from '../core/raft/types.ts';
import { NodeError } from '../runtime/errors.ts';
import type { GossipTuning, MachineSpec, NodeProtocol, RaftTuning, TransportSpec, WebSocketTuning, WorkerStartOptions } from '../runtime/worker-protocol.ts';
import type { ServicesSpec } from '../runtime/services-protocol.ts';
import type { SignalingOptions } from '../client/links.ts';
import { parseNodeWebRtcModuleOptions } from '../io/transport/node-webrtc-options.ts';
import type { IceServer } from '../io/transport/node-webrtc-slot.ts';
import { defaultWebRtcModuleUrl } from './node-worker-spawn.ts';

/** A state machine module the worker imports: a path (relative to the working directory) or a URL. */
export interface NodeCustomMachine {
  readonly module: string | URL;
  readonly options?: unknown;
}

export interface NodeCreateOptions<M extends 'kv' | 'services' | NodeCustomMachine = 'kv' | 'services' | NodeCustomMachine> {
  readonly cluster: string;
  /** This node's id (1..255 UTF-8 bytes), the same in every life of the node. */
  readonly id: NodeId;
  /**
   * The cluster's initial voters, `id` among them, the same on every node; default `id` and
   * the ids of `peerAddresses`. A node whose `id` is not one of them joins the running
   * cluster as a learner through them (promoted once it keeps up), unless `join` is false.
   */
  readonly peers?: readonly NodeId[];
  /**
   * `{ dir }`: the file log, gossip and BFT files and the identity key under `dir` (one node per
   * directory; created if missing). `memory`: lost when the node stops (tests).
   */
  readonly storage: { readonly dir: string } | 'memory';
  /**
   * `websocket` (the default): listen on `listen` and dial `peerAddresses`. `webrtc`: data
   * channels to `peers`, met through the PeerServer at `signaling` (the same option as a tab's
   * createNode), ICE over `iceServers`.
   */
  readonly transport?: 'websocket' | 'webrtc';
  /**
   * `webrtc`: the PeerServer, `{ host, port?, path?, secure?, key? }` as a tab's `signaling`;
   * `host` is needed (no page location to default to), `port` defaults to 443 if `secure` else
   * 80, `path` to `/`, `secure` to false.
   */
  readonly signaling?: SignalingOptions;
  /** `webrtc`: STUN/TURN servers; none by default (loopback needs none). */
  readonly iceServers?: readonly IceServer[];
  /** `host:port` to accept peers on (port 0: any free port, see `node.address`). Absent: dial only. */
  readonly listen?: string;
  /** How to reach the other members: id to `ws://host:port`. */
  readonly peerAddresses?: Readonly<Record<NodeId, string>>;
  /** WebSocket limits and reconnect backoff (websocket-transport.ts defaults otherwise). */
  readonly webSocket?: WebSocketTuning;
  /**
   * The cluster secret, the same on every node, at least 16 bytes: every frame is then
   * authenticated per pair of nodes (DESIGN.md §4). WITHOUT IT ANYONE WHO CAN REACH THE PORT
   * CAN SPEAK FOR ANY NODE.
   */
  readonly secret?: string;
  /** Default `kv`. */
  readonly machine?: M;
  readonly services?: ServicesSpec;
  readonly protocols?: readonly NodeProtocol[];
  /** `'bft'`: PBFT alone (needs `secret`). */
  readonly protocol?: 'bft';
  readonly gossip?: GossipTuning;
  readonly leaderPhiThreshold?: number;
  readonly raft?: RaftTuning;
  /** Default 10 ms. */
  readonly tickMs?: number;
  /** How long `propose` and `read` may take before TIMEOUT; default 10 s. */
  readonly proposalTimeoutMs?: number;
  readonly bftClients?: number;
  /** Lifecycle, metrics and alert rules (`status().health`, `lifecycle`/`alert`/`alert-cleared` events; src/runtime/node-health.ts). */
  readonly health?: HealthOptions;
  readonly seed?: number;
  /** Default true: see `peers`. */
  readonly join?: boolean;
  /** The worker script, when the default beside this module is not where it is (node-worker-spawn.ts). */
  readonly workerUrl?: string | URL;
}

/** `host:port` (a bracketed IPv6 host too) as the transport takes it. */
export function parseListen(listen: string): { readonly host: string; readonly port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65_535)) throw new NodeError('CONFIG', `listen must be host:port with a port in 0..65535, got ${JSON.stringify(listen)}`);
  const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

function checkAddresses(addresses: Readonly<Record<NodeId, string>>, self: NodeId): void {
  if (typeof addresses !== 'object' || addresses === null) throw new NodeError('CONFIG', 'peerAddresses must map ids to ws:// addresses');
  for (const [id, url] of Object.entries(addresses)) {
    if (id === self) throw new NodeError('CONFIG', `peerAddresses names this node (${self}) itself`);
    if (typeof url !== 'string' || !/^wss?:\/\/[^/]+/.test(url)) throw new NodeError('CONFIG', `the address of ${id} must be ws://host:port, got ${JSON.stringify(url)}`);
  }
}

function machineSpec(machine: NodeCreateOptions['machine'], services: ServicesSpec | undefined): MachineSpec {
  if (machine === undefined || machine === 'kv') return { kind: 'kv' };
  if (machine === 'services') return { kind: 'services', options: services ?? {} };
  if (typeof machine === 'object' && machine !== null && 'module' in machine) {
    const url = machine.module instanceof URL ? machine.module.href : new URL(machine.module, pathToFileURL(`${process.cwd()}/`)).href;
    return { kind: 'module', url, options: machine.options };
  }
  throw new NodeError('CONFIG', `unknown machine ${JSON.stringify(machine)}`);
}

function checkBasics(o: NodeCreateOptions): void {
  if (typeof o.cluster !== 'string' || o.cluster.length === 0) throw new NodeError('CONFIG', 'cluster must be a non-empty string');
  if (typeof o.id !== 'string' || o.id.length === 0) throw new NodeError('CONFIG', 'id must be a non-empty string');
  const storage: unknown = o.storage;
  const dirOk = typeof storage === 'object' && storage !== null && typeof (storage as { dir?: unknown }).dir === 'string' && (storage as { dir: string }).dir.length > 0;
  if (storage !== 'memory' && !dirOk) throw new NodeError('CONFIG', `storage must be { dir: '/path' } or 'memory', got ${JSON.stringify(storage)}`);
  const transport = o.transport ?? 'websocket';
  if (transport !== 'websocket' && transport !== 'webrtc') throw new NodeError('CONFIG', `transport must be 'websocket' or 'webrtc', got ${JSON.stringify(o.transport)}`);
  if (o.secret !== undefined && typeof o.secret !== 'string') throw new NodeError('CONFIG', 'secret must be a string');
}

/** `webrtc`: the transport module spec; CONFIG naming the option when it cannot make links. */
function webRtcSpec(o: NodeCreateOptions): TransportSpec {
  for (const key of ['listen', 'peerAddresses', 'webSocket'] as const) {
    if (o[key] !== undefined) throw new NodeError('CONFIG', `${key} is for transport 'websocket', not 'webrtc'`);
  }
  const s: unknown = o.signaling;
  if (typeof s !== 'object' || s === null) throw new NodeError('CONFIG', "transport 'webrtc' needs signaling: { host, port?, path?, secure?, key? }");
  const { host, port, path, secure, key } = s as SignalingOptions;
  const signaling = { host, port: port ?? (secure === true ? 443 : 80), path: path ?? '/', secure: secure ?? false, ...(key === undefined ? {} : { key }) };
  try {
    // The worker checks them again as it loads the module; here a mistake fails before any thread.
    const options = parseNodeWebRtcModuleOptions({ signaling, ...(o.iceServers === undefined ? {} : { iceServers: o.iceServers }) });
    return { kind: 'module', url: defaultWebRtcModuleUrl().href, options };
  } catch (e) {
    throw new NodeError('CONFIG', e instanceof Error ? e.message : String(e));
  }
}

function webSocketSpec(o: NodeCreateOptions, addresses: Readonly<Record<NodeId, string>>): TransportSpec {
  if (o.signaling !== undefined || o.iceServers !== undefined) throw new NodeError('CONFIG', `signaling and iceServers are for transport 'webrtc', not 'websocket'`);
  return {
    kind: 'websocket',
    ...(o.listen === undefined ? {} : { listen: parseListen(o.listen) }),
    peers: addresses,
    ...(o.webSocket === undefined ? {} : { tuning: o.webSocket }),
  };
}

/** The options as the worker takes them; CONFIG when they do not make a node. */
export function workerStartOptions(o: NodeCreateOptions): WorkerStartOptions {
  checkBasics(o);
  const addresses = o.peerAddresses ?? {};
  checkAddresses(addresses, o.id);
  const peers = o.peers ?? [o.id, ...Object.keys(addresses)];
  if (!Array.isArray(peers) || peers.length === 0 || peers.some((p) => typeof p !== 'string' || p.length === 0)) throw new NodeError('CONFIG', 'peers must list the initial voters (non-empty ids)');
  if (new Set(peers).size !== peers.length) throw new NodeError('CONFIG', 'peers must be distinct');
  const protocols = o.protocol === 'bft' ? (['bft'] as const) : (o.protocols ?? ['raft']);
  const raft = protocols.includes('raft');
  const joining = raft && !peers.includes(o.id);
  if (joining && o.join === false) throw new NodeError('CONFIG', `id ${o.id} is not one of peers (and join is false)`);
  const transport = o.transport === 'webrtc' ? webRtcSpec(o) : webSocketSpec(o, addresses);
  return {
    cluster: o.cluster,
    id: o.id,
    voters: joining || !raft ? [] : peers,
    ...(joining ? { joinVia: peers } : {}),
    protocols,
    gossipSeeds: peers.filter((p) => p !== o.id),
    ...(o.gossip === undefined ? {} : { gossip: o.gossip }),
    ...(o.leaderPhiThreshold === undefined ? {} : { leaderPhiThreshold: o.leaderPhiThreshold }),
    transport,
    // Absolute: the directory is also the key of this process's claim on it (create-node.ts).
    storage: o.storage === 'memory' ? 'memory' : { dir: resolve(o.storage.dir) },
    machine: machineSpec(o.machine, o.services),
    ...(o.raft === undefined ? {} : { raft: o.raft }),
    ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
    ...(o.proposalTimeoutMs === undefined ? {} : { proposalTimeoutMs: o.proposalTimeoutMs }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.secret === undefined ? {} : { secret: o.secret }),
    ...(o.bftClients === undefined ? {} : { bftClients: o.bftClients }),
    ...(o.health === undefined ? {} : { health: o.health }),
  };
}
