/**
 * What crosses the boundary between a page and the dedicated Web Worker that hosts its node
 * (DESIGN.md §3): the start options, the comlink API, events, status and metrics. Everything
 * here is structured-clonable data; nothing is a class instance.
 *
 * Errors never cross as thrown errors (comlink rebuilds them as plain `Error` and loses the
 * code): every call answers a `Result<T>` (src/core/result.ts), `{ ok: true, value }` or
 * `{ ok: false, error: { code, message } }` with an `ErrorCode`, and the page turns a failure
 * back into a `NodeError` with that code.
 */
import type { CrdtTypeName, CrdtValues } from '../core/crdt/crdt-types.ts';
import type { CrdtChangeOf } from '../core/gossip/crdt-change.ts';
import type { GossipConfig } from '../core/gossip/config.ts';
import type { CrdtOp } from '../core/gossip/crdt-op.ts';
import type { GossipCounters } from '../core/gossip/counters.ts';
import type { MemberState } from '../core/gossip/types.ts';
import type { RaftConfig } from '../core/raft/config.ts';
import type { NodeId, Role } from '../core/raft/types.ts';
import type { RouterMetrics } from './frame-router.ts';
import type { BftByzantineMode } from './bft-fault-injector.ts';
import type { IdentityStatus } from './peer-identities.ts';
import type { LinkState, TransportStats } from '../io/transport/transport.ts';
import type { DriverEvent, DriverMetrics } from './driver.ts';
import type { GossipHostMetrics } from './gossip-host.ts';
import type { LeaderWatchMetrics } from './gossip-leader-watch.ts';
import type { Result } from '../core/result.ts';
import { NodeError } from './errors.ts';
import type { ServicesSpec, ServicesWatchEvent, ServicesWorkerApi } from './services-protocol.ts';
import type { HealthEvent, HealthOptions, HealthStatus } from './node-health.ts';

/**
 * The links of the node:
 * - `broadcast`: BroadcastChannel between tabs (and workers) of one origin, no server;
 * - `webrtc`: WebRTC data channels that the page creates (PeerJS signaling lives on the main
 *   thread, DESIGN.md §3) and hands over with `attachChannel`;
 * - `module`: a module the worker imports (`url` resolved against the page), whose
 *   `createTransport({ cluster, self, peers, options })` returns a `Transport`;
 * - `websocket` (Node.js only): listen on `listen` (port 0: any free port) and dial `peers`
 *   (id to `ws://host:port`), src/io/transport/websocket-transport.ts.
 */
export type TransportSpec =
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'webrtc' }
  | WebSocketTransportSpec
  | { readonly kind: 'module'; readonly url: string; readonly options?: unknown };

/** The WebSocket transport of a Node node; `tuning` are plain numbers (websocket-transport.ts). */
export interface WebSocketTransportSpec {
  readonly kind: 'websocket';
  readonly listen?: { readonly host: string; readonly port: number };
  readonly peers: Readonly<Record<NodeId, string>>;
  readonly tuning?: WebSocketTuning;
}

export interface WebSocketTuning {
  readonly frameBytesMax?: number;
  readonly sendQueueFramesMax?: number;
  readonly sendQueueBytesMax?: number;
  readonly helloTimeoutMs?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

/**
 * Where the log lives: IndexedDB (`peerquorum/<cluster>/<node>`), memory (lost on close), or,
 * in Node.js, files under a data directory of its own (`{ dir }`: the crash-safe file log, the
 * gossip and BFT files and the identity key, laid out by src/runtime/file-node-storage.ts).
 */
export type StorageSpec = 'indexeddb' | 'memory' | { readonly dir: string };

/** The data directory of a `{ dir }` storage, null for the others; CONFIG for a malformed one (it crossed from another thread). */
export function storageDirOf(spec: StorageSpec): string | null {
  if (typeof spec !== 'object' || spec === null) return null;
  if (typeof spec.dir !== 'string' || spec.dir.length === 0) throw new NodeError('CONFIG', `storage.dir must be a non-empty path, got ${JSON.stringify(spec)}`);
  return spec.dir;
}

/**
 * The replicated state machine: the built-in key-value machine, or a module the worker imports,
 * whose `createMachine(options)` returns a `StateMachine` and whose optional
 * `query(machine, query)` answers `read` (a structured-clonable query and answer).
 */
export type MachineSpec =
  | { readonly kind: 'kv' }
  | { readonly kind: 'module'; readonly url: string; readonly options?: unknown }
  /** The coordination services machine (kv, board, tools, agents, config, locks on one log; services-protocol.ts). */
  | { readonly kind: 'services'; readonly options?: ServicesSpec };

/** Raft settings a page may tune (numbers and flags only; the rest is the node's identity). */
export type RaftTuning = Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'prng' | 'applied'>>;

/**
 * The protocols a node runs: Raft (one order), gossip (membership; replicated data without
 * order), or both; or BFT alone (PBFT: one order that F Byzantine members of 3F + 1 cannot break;
 * needs the cluster secret).
 */
export type NodeProtocol = 'raft' | 'gossip' | 'bft';

/** Gossip settings a page may tune (timings in ticks of `tickMs`; src/core/gossip/config.ts). */
export type GossipTuning = Partial<Omit<GossipConfig, 'id' | 'prng'>>;

export interface WorkerStartOptions {
  readonly cluster: string;
  readonly id: NodeId;
  /**
   * The bootstrap voters (including `id`), or empty to join a running cluster as a learner.
   * Ignored by a gossip-only node.
   */
  readonly voters: readonly NodeId[];
  /** Default `['raft']`: nothing that ran before changes. */
  readonly protocols?: readonly NodeProtocol[];
  /** Gossip: the members to join through; default the voters and `joinVia`, without `id`. */
  readonly gossipSeeds?: readonly NodeId[];
  readonly gossip?: GossipTuning;
  /**
   * With both protocols: a follower forgets its leader (and campaigns) once the leader's phi
   * reaches this at two consecutive looks (gossip-leader-watch.ts); default
   * `leaderPhiThresholdDefault` there (2); 0 turns the watch off.
   */
  readonly leaderPhiThreshold?: number;
  /** With `voters` empty: the members to ask to add this node (a `join` request, until it is one). */
  readonly joinVia?: readonly NodeId[];
  readonly transport: TransportSpec;
  readonly storage: StorageSpec;
  readonly machine: MachineSpec;
  readonly raft?: RaftTuning;
  /** Wall time of one Raft tick. */
  readonly tickMs?: number;
  /** How long a proposal or a read may wait before it fails with TIMEOUT. */
  readonly proposalTimeoutMs?: number;
  readonly seed?: number;
  /**
   * The cluster secret: every frame is then authenticated under a key per pair of nodes
   * (HMAC-SHA256, Web Crypto) and checked against replays (DESIGN.md §4). Without one, links
   * are NOT authenticated: anyone who can reach the transport can speak for any node. At least
   * 16 bytes (a string is taken as UTF-8).
   */
  readonly secret?: string;
  /** Node health: sampling, the window, the sync threshold and the alert rules (node-health.ts). */
  readonly health?: HealthOptions;
  /** A BFT node: how many PBFT clients it runs (its concurrent proposals in flight); default 1 (bft-client-id.ts). */
  readonly bftClients?: number;
}

export type ReadConsistency = 'linearizable' | 'lease' | 'local';

/** A member's state or incarnation changed in this node's gossip view (this node itself included). */
export interface MemberChangedEvent {
  readonly type: 'member-changed';
  readonly member: NodeId;
  /** null when the member was not known before. */
  readonly previous: MemberState | null;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly phi: number;
}

/** A member's phi crossed the gossip `phiThreshold`, upward (`suspected`) or back down. */
export interface MemberPhiEvent {
  readonly type: 'member-phi';
  readonly member: NodeId;
  readonly phi: number;
  readonly suspected: boolean;
}

/**
 * The peers this node's gossip engine wants links to changed (its mesh, the probe under way,
 * relays). BroadcastChannel and memory links reach every node anyway; a WebRTC page may dial
 * them (its links are those of `peers` today).
 */
export interface LinksWantedEvent {
  readonly type: 'links-wanted';
  readonly peers: readonly NodeId[];
}

/**
 * A CRDT's value changed here: by a local update (`local`) or by merging a peer's delta or
 * state (`remote`). One per CRDT per Ready of the engine, with what changed since the last one
 * (src/core/gossip/crdt-change.ts: a map's touched fields, a set's touched elements, a counter's
 * or register's new value), not the whole value: a page keeps its copy current from them.
 */
export interface CrdtChangedEvent<N extends CrdtTypeName = CrdtTypeName> {
  readonly type: 'crdt-changed';
  readonly name: string;
  readonly crdt: N;
  readonly origin: 'local' | 'remote';
  readonly change: CrdtChangeOf<N>;
}

export type GossipNodeEvent = MemberChangedEvent | MemberPhiEvent | LinksWantedEvent | CrdtChangedEvent;

/** Events of a node: the Raft driver's, and the gossip host's. */
export type NodeEvent = DriverEvent | GossipNodeEvent | ServicesWatchEvent | BftNodeEvent | HealthEvent;

/** Events of a BFT node (bft-part.ts). */
export type BftNodeEvent =
  /** This replica entered `view` (a view change completed). */
  | { readonly type: 'bft-view-changed'; readonly view: number; readonly primary: NodeId }
  /** This replica asked to leave its view (it suspects the primary). */
  | { readonly type: 'bft-view-change-started'; readonly view: number; readonly reason: string }
  /**
   * A member asks this one for its answer to a vote (`node.bft.vote`), and the page said it
   * answers votes itself (`bftVoteHandler(true)`): answer with `bftAnswerVote`.
   */
  | { readonly type: 'bft-vote-question'; readonly voteId: string; readonly origin: NodeId; readonly proposal: Uint8Array };
export type NodeEventType = NodeEvent['type'];

/** What the node read from storage when it booted, before it heard from anyone. */
export interface BootSummary {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
  /** The last stored log index (the snapshot's index when the log after it is empty). */
  readonly lastIndex: number;
  readonly snapshotIndex: number;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly cluster: string;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: number;
  /** The state machine reflects every entry up to here (a local read now sees them); may trail `commit`. */
  readonly applied: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly links: Readonly<Record<NodeId, LinkState>>;
  readonly boot: BootSummary;
  /**
   * Set by the page's side (src/client/create-node.ts), never by the worker: this tab ran its
   * node as `oldId` before, that node's durable state was gone (the browser evicted its
   * database), so it did not run as its old self (it could have voted twice in one term) and
   * joined the cluster as a learner under `newId`.
   */
  readonly rejoinedAfterEviction?: { readonly oldId: NodeId; readonly newId: NodeId };
  /** Whether links are authenticated (the cluster has a secret); false: anyone on the transport can speak for any node. */
  readonly authenticated: boolean;
  /**
   * This node's identity key's fingerprint, and the fingerprints of the keys its peers published
   * in their hellos (the first one each, kept for this node's life). Hellos go only over links a
   * cluster secret authenticates: without one, no key is published and `peers` stays empty.
   */
  readonly identity: IdentityStatus;
  /** What the node runs. On a gossip-only node the Raft fields above are zero, null or empty. */
  readonly protocols: readonly NodeProtocol[];
  /** The gossip view, when the node runs gossip. */
  readonly gossip: GossipNodeStatus | null;
  /** The BFT replica's view, when the node runs BFT (absent from nodes of older builds). */
  readonly bft?: BftNodeStatus | null;
  /** Lifecycle (joining, syncing, active, leaving, down), active alerts and health metrics (absent from older builds). */
  readonly health?: HealthStatus;
}

/** Where a BFT replica stands (PBFT §4: views, sequence numbers, watermarks of §4.3). */
export interface BftNodeStatus {
  readonly view: number;
  readonly primary: NodeId;
  /** Between sending a view-change and entering the new view. */
  readonly viewChanging: boolean;
  readonly lastExecutedSeq: number;
  /** The last stable checkpoint; the low watermark is it, the high one is it plus the window. */
  readonly stableSeq: number;
  readonly lowWatermark: number;
  readonly highWatermark: number;
  /** The primaries this replica voted out, most recent last. */
  readonly suspected: readonly NodeId[];
  readonly replicas: readonly NodeId[];
  /** F: members that may lie (N = 3F + 1). */
  readonly faultsTolerated: number;
  /** SHA-256 (hex) of the machine's state after executing `stateSeq`: honest replicas at one seq agree. */
  readonly stateSeq: number;
  readonly stateDigest: string;
  /** The fault injector's mode (`node.bft.setByzantine`, tests and demos only): `honest` unless asked. */
  readonly byzantine: BftByzantineMode;
}

/** How a one-shot vote ended (`node.bft.vote`). */
export type BftVoteOutcome =
  | { readonly outcome: 'quorum-reached'; readonly value: Uint8Array; readonly answers: number }
  | { readonly outcome: 'no-consensus' | 'timeout'; readonly answers: number };

/** One member of the gossip view, as `node.members.list()` shows it. */
export interface MemberInfo {
  readonly id: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
  /** Phi accrual of its arrivals now (0 with too few arrivals yet, and for this node itself). */
  readonly phi: number;
  /** Whether it is one of this node's mesh neighbours (always false for this node). */
  readonly inMesh: boolean;
  /** Whether this entry is this node. */
  readonly self: boolean;
}

export interface GossipNodeStatus {
  readonly state: 'joining' | 'alive' | 'left';
  readonly incarnation: number;
  /** Members known, this node excluded, by state. */
  readonly members: Readonly<Record<MemberState, number>>;
  readonly mesh: readonly NodeId[];
  readonly linksWanted: readonly NodeId[];
}

export interface NodeMetrics {
  readonly driver: Readonly<DriverMetrics>;
  /** Frames in and out, accepted, and dropped by cause (codec codes, authentication verdicts...). */
  readonly router: Readonly<RouterMetrics>;
  readonly transport: Readonly<TransportStats>;
  /** Frames dropped by the test hook's blocked links (both ways). */
  readonly blockedFramesDropped: number;
  /** Times the Web Locks oracle reported a leader gone (`leaderGone`). */
  readonly leaderGoneSignals: number;
  /** Hand-overs started by `handOver` (pagehide) and `transferLeadership`. */
  readonly transfersStarted: number;
  /** The gossip host's counters and the engine's (refusals by code, probes, suspicions...). */
  readonly gossip: (Readonly<GossipHostMetrics> & { readonly engine: Readonly<GossipCounters> }) | null;
  /** Phi suspicion of the Raft leader (both protocols only). */
  readonly leaderWatch: Readonly<LeaderWatchMetrics> | null;
}

/**
 * The state machine's state at one applied index, hashed (equal on converged replicas): `applied`
 * and `digest` are taken in the same turn, so the hash is of the state at exactly that index.
 */
export interface MachineDigest {
  readonly applied: number;
  readonly digest: string;
}

/**
 * The API the worker exposes with comlink. Methods answer `Result`s (see above); `events` is a
 * MessagePort (transferred in `start`) on which the worker posts every `NodeEvent`.
 */
export interface WorkerApi extends ServicesWorkerApi {
  start(options: WorkerStartOptions, events: MessagePort): Promise<Result<NodeStatus>>;
  propose(command: Uint8Array): Promise<Result<Uint8Array>>;
  /**
   * Propose several commands in one call (the page batches what its callers propose in one
   * task: one message each way instead of one per command). Answers each command's result, in
   * order, once all are settled.
   */
  proposeMany(commands: readonly Uint8Array[]): Promise<Result<Uint8Array>[]>;
  read(consistency: ReadConsistency, query: unknown): Promise<Result<unknown>>;
  status(): Result<NodeStatus>;
  /** The gossip view: this node first, then every member it knows, by id (CONFIG without gossip). */
  members(): Result<readonly MemberInfo[]>;
  /** Hold the CRDT (`name`, `crdt`) (empty if new) and answer its value; its changes come as `crdt-changed` events. */
  crdtOpen(name: string, crdt: CrdtTypeName): Result<CrdtValues[CrdtTypeName]>;
  /** Update a CRDT; refusals (a bad op: CONFIG; a full store or state: TOO_LARGE) are answered. */
  crdtUpdate(name: string, op: CrdtOp): Result<void>;
  crdtValue(name: string, crdt: CrdtTypeName): Result<CrdtValues[CrdtTypeName]>;
  /**
   * Hand leadership over (dissertation §3.10). `to` absent: from a leader to its most
   * up-to-date follower; from a follower, to this node (the request goes to the leader).
   * Answers the transferee.
   */
  transferLeadership(to?: NodeId): Result<NodeId>;
  /** The page is going away (`pagehide`): a leader hands over at once; otherwise nothing. */
  handOver(): void;
  /** The Web Locks oracle saw `leader`'s tab go (DESIGN.md §6). */
  leaderGone(leader: NodeId): void;
  /** `webrtc` only: a freshly created, negotiated data channel to `peer`, transferred here. */
  attachChannel(peer: NodeId, channel: RTCDataChannel): Result<void>;
  detachChannel(peer: NodeId): Result<void>;
  /** Where peers dial this node (`ws://host:port` of a listening WebSocket transport), else null. */
  listenAddress(): Result<string | null>;
  stop(): Promise<Result<void>>;
  /** BFT: ask every member for its answer to `proposal`; answered once 2F + 1 did (or at the timeout). */
  bftVote(proposal: Uint8Array, timeoutMs: number): Promise<Result<BftVoteOutcome>>;
  /** BFT: whether the page answers vote questions (`bft-vote-question` events); else the worker answers the proposal itself. */
  bftVoteHandler(on: boolean): Result<void>;
  /** BFT: this member's answer to a `bft-vote-question`. */
  bftAnswerVote(voteId: string, origin: NodeId, value: Uint8Array): Result<void>;
  /** BFT, tests and demos only: make this replica lie on the wire (bft-fault-injector.ts); `honest` stops it. */
  bftSetByzantine(mode: BftByzantineMode): Result<void>;

  // ---- test hooks (e2e; DESIGN.md §8) ---------------------------------------------------------
  /** Drop every frame to and from these peers until `unblock` (a partition). */
  block(peers: readonly NodeId[]): void;
  /** Unblock these peers, or all when absent. */
  unblock(peers?: readonly NodeId[]): void;
  /** Hold every frame this node sends or receives for `delayMs` (0: none): slow links. */
  slow(delayMs: number): Result<void>;
  /** Send raw bytes to `to` on the real link, as if they were a frame (hostile-input tests). */
  injectFrame(to: NodeId, frame: Uint8Array): Result<void>;
  metrics(): Result<NodeMetrics>;
  /** A hash of the local state machine's snapshot bytes, with the applied index. */
  digest(): Promise<Result<MachineDigest>>;
}
