/**
 * The data a Raft node exchanges with its driver: log entries, the durable hard state, and the
 * Ready batch that tells the driver what to persist, send and apply.
 */

import type { EngineReady } from '../engine.ts';
import type { Message } from './messages.ts';

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
 * One batch of work for the driver: the Raft engine's Ready (src/core/engine.ts states the order
 * every engine's Ready follows; src/runtime/ready-loop.ts is the one processor that follows it).
 * In Raft's terms:
 *
 *   1. SEND `messagesBeforeWrite` at once: a leader's appends, heartbeats, snapshot chunks and
 *      TimeoutNow, which promise nothing about the leader's own disk (dissertation §10.2.1).
 *      APPLY the first `appliedBeforeWrite` of `committedEntries` at once: committed, and
 *      already durable here (written by earlier Readies).
 *   2. PERSIST `hardState` (when not null), `snapshot` and `entries` (`mustPersist`). Entries
 *      replace any stored entries at the same or higher indices (a follower's log suffix can be
 *      overwritten by a new leader).
 *   3. Only AFTER step 2 is durable, SEND `messagesAfterWrite`. Votes and append
 *      acknowledgements promise state that must already be on disk; sending them earlier can
 *      elect two leaders in one term or lose a committed entry after a crash.
 *   4. RESTORE the state machine from `snapshot`, APPLY the rest of `committedEntries` in order,
 *      and answer `readStates` once the applied index reaches theirs.
 *   5. Call `advance()`. Only one Ready is outstanding at a time; the driver may keep stepping
 *      and ticking while a write is pending.
 */
export interface Ready extends EngineReady<Message> {
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
  /** Every message, in order: `messagesBeforeWrite` and `messagesAfterWrite` say when each may leave. */
  readonly messages: readonly Message[];
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
