/**
 * `createNode`: a peerquorum node for a page. The node itself runs in a dedicated Web Worker
 * (src/runtime/worker.ts: driver, core, state machine, IndexedDB, links); this module is its
 * main-thread side (DESIGN.md §3, §6):
 *
 * 1. The id: from the page, else this tab's `sessionStorage`, else the first free one of
 *    `peers`; held with the id's liveness lock for the node's life (node-id.ts, locks.ts). A
 *    tab whose node's stored state the browser evicted does not run that id again: it joins
 *    under a new one (`rejoinedAfterEviction`, node-id.ts).
 * 2. `navigator.storage.persist()`, which exists on the main thread only, so that the browser
 *    does not evict the log under storage pressure.
 * 3. The worker, started over comlink; its events come back on a MessagePort.
 * 4. The Web Locks failure oracle: the node waits on the lock of the leader it follows, and
 *    tells the driver `leaderGone` when the browser grants it (the leader's tab is gone).
 * 5. `pagehide`: a leader hands leadership to its most up-to-date follower before the tab goes
 *    (fire and forget: the worker sends TimeoutNow at once, dissertation §3.10).
 * 6. For WebRTC, the page side of the links (links.ts), which transfers data channels to the
 *    worker.
 *
 * Membership: `peers` lists the cluster's initial voters, the same list on every node. A tab
 * without an id takes the first id of `peers` that no other tab of this browser runs; when all
 * of them run, it joins the running cluster as a learner under a new id (`join`), and the
 * leader promotes it once it has caught up.
 */
import * as Comlink from 'comlink';
import type { NodeId } from '../core/raft/types.ts';
import { requestPersistence, type PersistenceResult } from '../io/storage/indexeddb-storage.ts';
import type { CrdtHandleOf, CrdtKind } from './crdt-handles.ts';
import type { Members } from './members.ts';
import type { BootSummary, GossipTuning, MachineSpec, NodeEvent, NodeEventType, NodeProtocol, NodeStatus, RaftTuning, ReadConsistency, TransportSpec, WorkerApi, WorkerStartOptions } from '../runtime/worker-protocol.ts';
import { bytesClient, kvClient, type MachineClient } from './machine-client.ts';
import { LeaderWatch, type LockHold } from './locks.ts';
import { linksFactory, type Links, type LinksFactory, type SignalingOptions } from './links.ts';
import { claimNodeId, eventShowsDurableState, evictedAtBoot, evictedAtStart, isEmptyBoot, markDurable, rejoinUnderNewId, type ClaimedId, type Rejoined } from './node-id.ts';
import { NodeError, unwrap } from './node-error.ts';
import type { KvCommand, KvResult } from '../machines/kv.ts';
import type { BftHandle } from './bft-handle.ts';
import { NodeApiHandle, stopTimeoutMs, workerTestHooks, type NodeTestHooks } from './node-api-handle.ts';
import { servicesKvClient, withServices, type ServicesNode } from './services-node.ts';
import type { ServicesSpec } from '../runtime/services-protocol.ts';
import type { HealthOptions } from '../runtime/node-health.ts';

/** A transport module the worker imports (see `TransportSpec`), with an optional page side. */
export interface CustomTransport {
  readonly module: string | URL;
  readonly options?: unknown;
  readonly links?: LinksFactory;
}

/** A state machine module the worker imports (see `MachineSpec`). */
export interface CustomMachine {
  readonly module: string | URL;
  readonly options?: unknown;
}

export interface CreateNodeOptions<M extends 'kv' | 'services' | CustomMachine = 'kv' | 'services' | CustomMachine> {
  readonly cluster: string;
  /** This node's id; default: this tab's id from `sessionStorage`, else a free one of `peers`. */
  readonly id?: NodeId;
  readonly transport: 'broadcast' | 'webrtc' | CustomTransport;
  /** Default `indexeddb`. */
  readonly storage?: 'indexeddb' | 'memory';
  /** Default `kv`; `services`: kv, board, tools, agents, config and locks on one log (services-node.ts). */
  readonly machine?: M;
  readonly services?: ServicesSpec;
  /**
   * The cluster's initial voters, the same on every node. A gossip-only node has no voters: its
   * `peers` are the members it joins through (and the ids a tab may take).
   */
  readonly peers: readonly NodeId[];
  /**
   * What the node runs: `['raft']` (the default: one total order), `['gossip']` (membership and
   * replicated data without order: `members`, `crdt`), or both (then phi suspicion of the Raft
   * leader also calls forget-leader across browsers, where Web Locks cannot see).
   */
  readonly protocols?: readonly NodeProtocol[];
  /** `'bft'`: PBFT alone (`protocols: ['bft']`; `peers` are its 3F + 1 replicas; needs `secret`; `node.bft` votes). */
  readonly protocol?: 'bft';
  /** Gossip settings (`probeIntervalTicks`, `phiThreshold`...); ticks are `tickMs` long. */
  readonly gossip?: GossipTuning;
  /** With both protocols: the leader's phi at which a follower forgets it; default 2 (src/runtime/gossip-leader-watch.ts); 0: off. */
  readonly leaderPhiThreshold?: number;
  /** WebRTC: the PeerJS server. */
  readonly signaling?: SignalingOptions;
  /** WebRTC: STUN/TURN servers; none by default. */
  readonly iceServers?: readonly RTCIceServer[];
  /** Raft settings (`electionTimeoutTicks`, `heartbeatIntervalTicks`...); ticks are `tickMs` long. */
  readonly raft?: RaftTuning;
  /** Default 10 ms; the election timeout defaults to 15 ticks (150 to 300 ms, randomized per election). */
  readonly tickMs?: number;
  /** How long `propose` and `read` may take before TIMEOUT; default 10 s. */
  readonly proposalTimeoutMs?: number;
  /** `protocol: 'bft'`: PBFT clients this node runs, so that many proposals are in flight at once (each client has one, PBFT §4.1); default 1, at most 64. */
  readonly bftClients?: number;
  /** How long to wait for this id's liveness lock (a reloading tab releasing it); default 5 s. */
  readonly idLockWaitMs?: number;
  /**
   * When every id of `peers` already runs in another tab of this browser (or `id` is not one
   * of them), join the running cluster as a learner under a new id instead of failing with
   * ID_IN_USE: the node asks the members of `peers` to add it, copies the log, and is promoted
   * to voter once it keeps up (DESIGN.md §6). Default true. Over BroadcastChannel any tab can
   * join; over WebRTC the members must accept links from ids they were not given.
   */
  readonly join?: boolean;
  /** A leader hands leadership over on `pagehide` and on `close()`; default true. */
  readonly handOverOnPageHide?: boolean;
  /** Use the Web Locks failure oracle; default true. */
  readonly livenessOracle?: boolean;
  /** Where the worker script is, when the bundler does not resolve the default. */
  readonly workerUrl?: string | URL;
  /**
   * The cluster secret, the same on every node (at least 16 bytes; a string is taken as UTF-8).
   * With it every frame is authenticated under a key for its pair of nodes and checked against
   * replays, so a page without it can neither join, vote nor write (DESIGN.md §4). WITHOUT IT,
   * LINKS ARE NOT AUTHENTICATED: anyone who reaches the transport (the PeerServer, this origin's
   * BroadcastChannel) can speak for any node. `status().authenticated` says which.
   */
  readonly secret?: string;
  /** Lifecycle, metrics and alert rules (`status().health`, `lifecycle`/`alert`/`alert-cleared` events); default rules `defaultAlertRules`. */
  readonly health?: HealthOptions;
}

export type { NodeTestHooks };

export interface PeerquorumNode<Command, Result, Query, Answer> {
  readonly id: NodeId;
  /** The gossip membership (CONFIG from `list` when the node does not run gossip). */
  readonly members: Members;
  readonly bft: BftHandle; // the one-shot quorum vote of a BFT node (bft-handle.ts)
  /**
   * The CRDT `name` of `type` (`map`, `set`, `counter`, `register`, or a registry name such as
   * `or-map`, `g-counter`, `mv-register`), held by this node from now on: a typed handle
   * (crdt-handles.ts). Needs gossip in `protocols`.
   */
  crdt<K extends CrdtKind>(name: string, type: K): Promise<CrdtHandleOf<K>>;
  readonly cluster: string;
  /** What `navigator.storage.persist()` answered. */
  readonly persistence: Promise<PersistenceResult>;
  /**
   * Set when this tab's node ran under `oldId` before and its stored state was gone at start
   * (the browser evicted its database): it did not run as its old self, and joined the cluster
   * as a learner under `newId` (also in `status().rejoinedAfterEviction`).
   */
  readonly rejoinedAfterEviction: Rejoined | null;
  /** Apply a command through the log, exactly once; resolves with the machine's result. */
  propose(command: Command): Promise<Result>;
  /** Read the local replica once `consistency` allows (default `linearizable`). */
  read(query: Query, options?: { readonly consistency?: ReadConsistency }): Promise<Answer>;
  status(): Promise<NodeStatus>;
  on<T extends NodeEventType>(type: T, listener: (event: Extract<NodeEvent, { type: T }>) => void): () => void;
  /** See `WorkerApi.transferLeadership`; resolves with the transferee. */
  transferLeadership(to?: NodeId): Promise<NodeId>;
  close(): Promise<void>;
  readonly testing: NodeTestHooks;
}

export type KvNode = PeerquorumNode<KvCommand, KvResult, string, string | null>;
export type BytesNode = PeerquorumNode<Uint8Array, Uint8Array, unknown, unknown>;

export function createNode(options: CreateNodeOptions<'kv'>): Promise<KvNode>;
export function createNode(options: CreateNodeOptions<CustomMachine>): Promise<BytesNode>;
export function createNode(options: CreateNodeOptions<'services'>): Promise<ServicesNode>;
export async function createNode(options: CreateNodeOptions): Promise<KvNode | BytesNode | ServicesNode> {
  const machine = options.machine ?? 'kv';
  if (machine === 'kv') return startNode(options, { kind: 'kv' }, kvClient);
  if (machine === 'services') return withServices((await startNode(options, { kind: 'services', options: options.services ?? {} }, servicesKvClient)) as NodeHandle<KvCommand, KvResult, string, string | null>);
  return startNode(options, { kind: 'module', url: new URL(machine.module, location.href).href, options: machine.options }, bytesClient);
}

function transportSpec(transport: CreateNodeOptions['transport']): TransportSpec {
  if (transport === 'broadcast' || transport === 'webrtc') return { kind: transport };
  if (typeof transport === 'object' && transport !== null && 'module' in transport) {
    return { kind: 'module', url: new URL(transport.module, location.href).href, options: transport.options };
  }
  throw new NodeError('CONFIG', `unknown transport ${JSON.stringify(transport)}`);
}

function checkOptions(options: CreateNodeOptions): void {
  if (typeof options.cluster !== 'string' || options.cluster.length === 0) throw new NodeError('CONFIG', 'cluster must be a non-empty string');
  if (!Array.isArray(options.peers) || options.peers.length === 0 || options.peers.some((p) => typeof p !== 'string' || p.length === 0)) {
    throw new NodeError('CONFIG', 'peers must list the initial voters, or for gossip only the members to join through (non-empty ids)');
  }
  const protocols: unknown = options.protocols ?? ['raft'];
  if (!Array.isArray(protocols) || protocols.length === 0 || protocols.some((p) => p !== 'raft' && p !== 'gossip' && p !== 'bft')) {
    throw new NodeError('CONFIG', `protocols must list 'raft', 'gossip' or both, got ${JSON.stringify(options.protocols)}`);
  }
  if (new Set(options.peers).size !== options.peers.length) throw new NodeError('CONFIG', 'peers must be distinct');
  if (options.id !== undefined && !options.peers.includes(options.id) && options.join === false) {
    throw new NodeError('CONFIG', `id ${options.id} is not one of peers (and join is false)`);
  }
}

function spawnWorker(options: CreateNodeOptions, id: NodeId): Worker {
  const name = `peerquorum ${options.cluster}/${id}`;
  if (options.workerUrl !== undefined) return new Worker(options.workerUrl, { type: 'module', name });
  // Written inline so that bundlers (Vite, webpack 5) see and bundle the worker.
  return new Worker(new URL('../runtime/worker.ts', import.meta.url), { type: 'module', name });
}

async function startNode<C, R, Q, A>(options: CreateNodeOptions, machine: MachineSpec, client: MachineClient<C, R, Q, A>): Promise<PeerquorumNode<C, R, Q, A>> {
  if (options.protocol === 'bft') options = { ...options, protocols: ['bft'] };
  checkOptions(options);
  const transport = transportSpec(options.transport);
  const join = options.join !== false;
  let claimed = await claimNodeId(options.cluster, { id: options.id, peers: options.peers, lockWaitMs: options.idLockWaitMs ?? 5_000, join });
  const storage = options.storage ?? 'indexeddb';
  // A node whose durable state the browser evicted does not run as its old self (node-id.ts).
  let rejoined: Rejoined | null = null;
  if (await evictedAtStart(options.cluster, claimed, storage)) ({ claimed, rejoined } = await rejoinUnderNewId(options.cluster, options.peers, claimed, join, true));
  const started = await launch(options, machine, client, transport, claimed, rejoined);
  if (rejoined !== null || !evictedAtBoot(options.cluster, claimed, storage, started.boot)) return started.node;
  // The backstop: the database vanished between the look and the worker's boot (or the look
  // could not tell), and the worker booted empty under the old id. Stop it at once; rejoin.
  await started.node.close();
  ({ claimed, rejoined } = await rejoinUnderNewId(options.cluster, options.peers, claimed, join, false));
  return (await launch(options, machine, client, transport, claimed, rejoined)).node;
}

async function launch<C, R, Q, A>(
  options: CreateNodeOptions,
  machine: MachineSpec,
  client: MachineClient<C, R, Q, A>,
  transport: TransportSpec,
  claimed: ClaimedId,
  rejoined: Rejoined | null,
): Promise<{ node: NodeHandle<C, R, Q, A>; boot: BootSummary }> {
  const join = options.join !== false;
  // Not one of the initial voters: a node that joins (or joined before this reload: its log
  // holds the configuration, and it asks no more once it sees itself in it).
  const raft = (options.protocols ?? ['raft']).includes('raft');
  const joining = raft && !options.peers.includes(claimed.id);
  if (joining && !join) {
    claimed.hold?.release();
    throw new NodeError('CONFIG', `this tab's node id ${claimed.id} is not one of peers`);
  }
  const persistence = options.storage === 'memory' ? Promise.resolve<PersistenceResult>('unavailable') : requestPersistence();
  const worker = spawnWorker(options, claimed.id);
  const api = Comlink.wrap<WorkerApi>(worker);
  const channel = new MessageChannel();
  const start: WorkerStartOptions = {
    cluster: options.cluster,
    id: claimed.id,
    voters: joining || !raft ? [] : options.peers,
    ...(joining ? { joinVia: options.peers } : {}),
    ...(options.protocols === undefined ? {} : { protocols: options.protocols, gossipSeeds: options.peers }),
    ...(options.gossip === undefined ? {} : { gossip: options.gossip }),
    ...(options.leaderPhiThreshold === undefined ? {} : { leaderPhiThreshold: options.leaderPhiThreshold }),
    transport,
    storage: options.storage ?? 'indexeddb',
    machine,
    ...(options.raft === undefined ? {} : { raft: options.raft }),
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    ...(options.proposalTimeoutMs === undefined ? {} : { proposalTimeoutMs: options.proposalTimeoutMs }),
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.bftClients === undefined ? {} : { bftClients: options.bftClients }),
    ...(options.health === undefined ? {} : { health: options.health }),
  };
  const node = new NodeHandle<C, R, Q, A>(options, claimed.id, claimed.hold, worker, api, channel.port1, client, persistence, rejoined);
  try {
    const status = unwrap(await api.start(start, Comlink.transfer(channel.port2, [channel.port2])));
    if (!evictedAtBoot(options.cluster, claimed, options.storage ?? 'indexeddb', status.boot)) {
      node.noteBoot(status.boot);
      await node.startLinks(transport);
    }
    return { node, boot: status.boot };
  } catch (e) {
    await node.close();
    throw e instanceof NodeError ? e : new NodeError('INTERNAL', e instanceof Error ? e.message : String(e));
  }
}

class NodeHandle<C, R, Q, A> extends NodeApiHandle<C, R, Q, A> implements PeerquorumNode<C, R, Q, A> {
  readonly testing: NodeTestHooks;
  private readonly watch: LeaderWatch | null;
  private role: NodeStatus['role'] = 'follower';
  private links: Links | null = null;
  private closing: Promise<void> | null = null;
  /** Until this node is known to have durable state, its events are watched for it (node-id.ts). */
  private awaitingDurable: boolean;
  private readonly onPageHide = (): void => {
    if (this.role === 'leader') void this.api.handOver().catch(() => undefined);
  };

  constructor(
    private readonly options: CreateNodeOptions,
    id: NodeId,
    private readonly hold: LockHold | null,
    private readonly worker: Worker,
    api: Comlink.Remote<WorkerApi>,
    private readonly events: MessagePort,
    client: MachineClient<C, R, Q, A>,
    readonly persistence: Promise<PersistenceResult>,
    readonly rejoinedAfterEviction: Rejoined | null,
  ) {
    super(id, api, client, 'the node is closed');
    this.awaitingDurable = (options.storage ?? 'indexeddb') === 'indexeddb';
    this.watch = options.livenessOracle === false ? null : new LeaderWatch(options.cluster, id, (leader) => void this.api.leaderGone(leader));
    events.onmessage = (e: MessageEvent<NodeEvent>) => this.dispatch(e.data);
    if (options.handOverOnPageHide !== false) addEventListener('pagehide', this.onPageHide);
    this.testing = workerTestHooks(this.api);
  }

  protected isClosed(): boolean {
    return this.closing !== null;
  }

  get cluster(): string {
    return this.options.cluster;
  }

  async startLinks(transport: TransportSpec): Promise<void> {
    let factory: LinksFactory | undefined;
    if (transport.kind === 'webrtc') {
      factory = linksFactory('webrtc') ?? (await import('./peer-links.ts')).startPeerLinks;
    } else if (typeof this.options.transport === 'object') {
      factory = this.options.transport.links;
    }
    if (factory === undefined) return;
    this.links = await factory({
      cluster: this.options.cluster,
      self: this.id,
      peers: this.options.peers.filter((p) => p !== this.id),
      ...(this.options.signaling === undefined ? {} : { signaling: this.options.signaling }),
      ...(this.options.iceServers === undefined ? {} : { iceServers: this.options.iceServers }),
      attachChannel: async (peer, channel) => unwrap(await this.api.attachChannel(peer, Comlink.transfer(channel, [channel as unknown as Transferable]))),
      detachChannel: async (peer) => unwrap(await this.api.detachChannel(peer)),
    });
  }

  /** What the worker's storage held at boot: stored state now is durable state to remember. */
  noteBoot(boot: BootSummary): void {
    if (this.awaitingDurable && !isEmptyBoot(boot)) this.markDurable();
  }

  private markDurable(): void {
    this.awaitingDurable = false;
    markDurable(this.options.cluster, this.id);
  }

  protected override observe(e: NodeEvent): void {
    if (this.awaitingDurable && eventShowsDurableState(e)) this.markDurable();
    if (e.type === 'role') this.role = e.role;
    if (e.type === 'leader') this.watch?.follow(e.leader);
    // The gossip mesh's links, beside the configured peers (never instead of them: Raft needs its voters).
    if (e.type === 'links-wanted') this.links?.setPeers?.([...new Set([...this.options.peers, ...e.peers])].filter((p) => p !== this.id));
  }

  override async status(): Promise<NodeStatus> {
    const status = await super.status();
    return this.rejoinedAfterEviction === null ? status : { ...status, rejoinedAfterEviction: this.rejoinedAfterEviction };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    removeEventListener('pagehide', this.onPageHide);
    this.watch?.close();
    // A leader hands over before it goes, as on pagehide; the worker sends TimeoutNow before
    // it answers, unless a write is in flight (then the transfer is abandoned with the node).
    if (this.role === 'leader' && this.options.handOverOnPageHide !== false) await this.api.handOver().catch(() => undefined);
    try {
      await this.links?.close();
    } catch {
      // The links are going anyway.
    }
    // Stop the driver (its storage closes) BEFORE giving the id's lock back: another tab that
    // takes this id next must find the log complete and the database free.
    await Promise.race([this.api.stop().catch(() => undefined), new Promise((r) => setTimeout(r, stopTimeoutMs))]);
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
    this.events.close();
    this.hold?.release();
  }
}
