/**
 * The data a Raft node exchanges with its driver: log entries, the durable hard state, and the
 * Ready batch that tells the driver what to persist, send and apply.
 */

/** A node's id: a short printable string (a tab id, a PeerJS id). */
export type NodeId = string;

/**
 * `normal` carries an application command (opaque bytes, encoded once by the client).
 * `empty` is the no-op a new leader appends so that entries of earlier terms become committed
 * through it (Raft paper §5.4.2; dissertation §3.6.2 and §6.4 for ReadIndex).
 */
export type EntryKind = 'normal' | 'empty' | 'config';

/**
 * A cluster configuration: the voters (whose majorities elect and commit) and the learners
 * (who receive the log and do not vote). Sorted, disjoint.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
  /**
   * For `config` entries: the whole configuration that takes effect as soon as the entry is in
   * a node's log, committed or not (single-server changes, dissertation §4.1).
   */
  readonly config?: ConfState;
}

/** Where a snapshot ends in the log, and the configuration in force there. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: ConfState;
}

/** A state machine snapshot: opaque bytes made by the application, and where they end. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** What must survive a crash: the current term, the vote cast in it, and the commit index. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state the application may show; never persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: number;
}

/**
 * The answer to a `readIndex` request: once the local state machine has applied `index`, a read
 * served from it is linearizable (dissertation §6.4).
 */
export interface ReadState {
  readonly requestId: number;
  readonly index: number;
}

/** A proposal or read the leader refused after the caller was told it was accepted. */
export interface DroppedRequest {
  readonly kind: 'read';
  readonly requestId: number;
}

/**
 * One batch of work for the driver. The driver MUST handle a Ready in this order:
 *
 *   1. PERSIST `hardState` (when not null) and APPEND `entries` to durable storage. Entries
 *      replace any stored entries at the same or higher indices (a follower's log suffix can be
 *      overwritten by a new leader).
 *   2. Only AFTER step 1 is durable, SEND `messages`. Votes and append acknowledgements promise
 *      state that must already be on disk; sending them earlier can elect two leaders in one
 *      term or lose a committed entry after a crash.
 *   3. APPLY `committedEntries` to the state machine, in order, and answer `readStates` once
 *      the applied index reaches theirs.
 *   4. Call `advance()`. Only one Ready is outstanding at a time; the driver may keep calling
 *      `step`, `tick`, `propose` and `readIndex` while a write is pending.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  /**
   * A snapshot received from the leader. PERSIST it before `entries` (it replaces every stored
   * entry up to its index, and any stored entry after it that it does not match), and RESTORE
   * the state machine from it before applying `committedEntries`, which continue after it.
   */
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly import('./messages.ts').Message[];
  readonly readStates: readonly ReadState[];
  readonly droppedReads: readonly number[];
}

/** What a driver loads from durable storage at boot (the core never reads storage itself). */
export interface BootState {
  readonly hardState: HardState;
  /** The latest stored snapshot, if any; the driver restores its state machine from it. */
  readonly snapshot?: Snapshot | null;
  /** The stored entries after the snapshot (or from index 1), in index order. */
  readonly entries: readonly Entry[];
}
