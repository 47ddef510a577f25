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
import type { RaftConfig } from '../core/raft/config.ts';
import type { NodeId, Role } from '../core/raft/types.ts';
import type { RouterMetrics } from './frame-router.ts';
import type { IdentityStatus } from './peer-identities.ts';
import type { LinkState, TransportStats } from '../io/transport/transport.ts';
import type { DriverEvent, DriverMetrics } from './driver.ts';
import type { Result } from '../core/result.ts';

/**
 * The links of the node:
 * - `broadcast`: BroadcastChannel between tabs (and workers) of one origin, no server;
 * - `webrtc`: WebRTC data channels that the page creates (PeerJS signaling lives on the main
 *   thread, DESIGN.md §3) and hands over with `attachChannel`;
 * - `module`: a module the worker imports (`url` resolved against the page), whose
 *   `createTransport({ cluster, self, peers, options })` returns a `Transport`.
 */
export type TransportSpec =
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'webrtc' }
  | { readonly kind: 'module'; readonly url: string; readonly options?: unknown };

/** Where the log lives: IndexedDB (`peerquorum/<cluster>/<node>`), or memory (lost on close). */
export type StorageSpec = 'indexeddb' | 'memory';

/**
 * The replicated state machine: the built-in key-value machine, or a module the worker imports,
 * whose `createMachine(options)` returns a `StateMachine` and whose optional
 * `query(machine, query)` answers `read` (a structured-clonable query and answer).
 */
export type MachineSpec = { readonly kind: 'kv' } | { readonly kind: 'module'; readonly url: string; readonly options?: unknown };

/** Raft settings a page may tune (numbers and flags only; the rest is the node's identity). */
export type RaftTuning = Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'prng' | 'applied'>>;

export interface WorkerStartOptions {
  readonly cluster: string;
  readonly id: NodeId;
  /** The bootstrap voters (including `id`), or empty to join a running cluster as a learner. */
  readonly voters: readonly NodeId[];
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
}

export type ReadConsistency = 'linearizable' | 'lease' | 'local';

/** Events of a node, as the driver emits them. */
export type NodeEvent = DriverEvent;
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
}

/** The state machine's state at one applied index, hashed (equal on converged replicas). */
export interface MachineDigest {
  readonly applied: number;
  readonly digest: string;
}

/**
 * The API the worker exposes with comlink. Methods answer `Result`s (see above); `events` is a
 * MessagePort (transferred in `start`) on which the worker posts every `NodeEvent`.
 */
export interface WorkerApi {
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
  stop(): Promise<Result<void>>;

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
