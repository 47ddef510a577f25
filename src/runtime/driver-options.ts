/**
 * What the driver (driver.ts) takes and gives: its options, the parts it is built from (frame
 * codec, write sink), the observer hooks, its metrics and its events. Apart from the driver so
 * that each reads as one list.
 */
import type { RaftConfig } from '../core/raft/config.ts';
import type { Message } from '../core/raft/messages.ts';
import type { RaftStatus } from '../core/raft/raft-node.ts';
import type { Entry, NodeId, Ready, Role } from '../core/raft/types.ts';
import type { SessionCommand, SessionOptions, SessionOutcome } from '../machines/sessions.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import type { RaftStorage, StorageWrite } from '../io/storage/storage.ts';
import type { LinkState } from '../io/transport/transport.ts';
import type { Clock } from './clock.ts';
import type { TaggedError } from '../core/error-code.ts';
import type { PeerLink } from './frame-router.ts';

/**
 * How the driver makes a write durable: begin it, hear when it is. A real adapter reports
 * through its promise (`writesThrough`); the simulator's storage from virtual time.
 */
export interface WriteSink {
  write(write: StorageWrite, done: () => void, failed: (error: unknown) => void): void;
}

/**
 * Writes made durable one at a time, in the order they were begun: a write begins once the one
 * before it is durable, and none begins after one failed. This lets the driver go on with its
 * next Ready while a snapshot it took is still being written (a Ready's own write waits behind
 * it, so what is durable is always a prefix of what was begun, as when the loop waited), instead
 * of holding the leader's heartbeats until IndexedDB has the snapshot: a 1.5 MB snapshot written
 * under load took longer than an election timeout, and the followers elected a new leader.
 * At most two writes wait here: the snapshot's and the next Ready's (one Ready at a time).
 */
export function writesInOrder(sink: WriteSink): WriteSink {
  const queue: { write: StorageWrite; done: () => void; failed: (error: unknown) => void }[] = [];
  let busy = false;
  let failure: { error: unknown } | null = null;
  const begin = (): void => {
    const next = queue.shift();
    if (next === undefined) {
      busy = false;
      return;
    }
    busy = true;
    sink.write(
      next.write,
      () => {
        next.done();
        begin();
      },
      (error) => {
        failure = { error };
        busy = false;
        const dropped = queue.splice(0);
        next.failed(error);
        for (const w of dropped) w.failed(error);
      },
    );
  };
  return {
    write(write, done, failed) {
      if (failure !== null) {
        failed(failure.error);
        return;
      }
      queue.push({ write, done, failed });
      if (!busy) begin();
    },
  };
}

/** A sink over a storage adapter's promise-returning `write`. */
export function writesThrough(storage: RaftStorage): WriteSink {
  return {
    write(w, done, failed) {
      storage.write(w).then(done, failed);
    },
  };
}

/**
 * What the driver lets an observer see (metrics, traces, the simulator's checkers). Every hook
 * is called synchronously, in the driver's own order.
 */
export interface DriverObserver {
  /** A Ready was taken (before any of it is handled). */
  onReady?(rd: Ready): void;
  /** A peer's message, decoded and validated, about to be stepped into the core. */
  onStep?(m: Message): void;
  /** A message leaving for a peer. */
  onSend?(m: Message): void;
  /** A committed entry was applied: for a normal entry, the session command and its outcome. */
  onApplied?(entry: Entry, command: SessionCommand | null, outcome: SessionOutcome | null): void;
  /** The state machine became the leader's snapshot at `index`. */
  onRestored?(index: number): void;
  /** This node snapshotted its state machine at `index` (`data` its bytes). */
  onSnapshot?(index: number, data: Uint8Array): void;
  /** A Ready's entries (and snapshot) were applied, its read states handed over. */
  onAppliedReady?(rd: Ready): void;
  /**
   * After each step, tick and `advance()`: the node's role, term or commit index may have moved
   * (cheap to ask: `Driver.role()`, `term()`, `commitIndex()`).
   */
  onProgress?(): void;
}

export interface DriverOptions {
  /** The Raft configuration without the PRNG (the driver seeds one). */
  readonly raft: Omit<RaftConfig, 'prng' | 'applied'>;
  readonly storage: RaftStorage;
  /** How writes become durable; through `storage.write` when absent. */
  readonly writes?: WriteSink;
  /**
   * The peers, as messages: the frame router (frame-router.ts) does the envelope, the
   * authentication and the codec, so the driver never sees an unvalidated message.
   */
  readonly link: PeerLink<Message>;
  /** The application's state machine; the driver wraps it in client sessions. */
  readonly machine: StateMachine;
  /**
   * Makes a fresh instance of the same machine: the SCRATCH machine that a snapshot from the
   * leader is restored into, inside the session layer, as soon as it has arrived whole and
   * before it changes anything (driver-ready-host.ts). A snapshot it cannot restore is refused
   * and counted (`snapshotsRefused` in the node's counters); the node keeps its state. Must be
   * synchronous (the check runs inside a step). Absent: only the session layer's envelope of the
   * snapshot is checked, and bytes the application's machine cannot restore are caught only
   * when the node restores them (it then stops).
   */
  readonly createMachine?: () => StateMachine;
  readonly sessions?: Partial<SessionOptions>;
  readonly clock?: Clock;
  /** Wall time of one Raft tick. */
  readonly tickMs?: number;
  /** The most ticks replayed at once after the loop was held up (at least an election timeout). */
  readonly maxCatchUpTicks?: number;
  readonly proposalTimeoutMs?: number;
  readonly pendingProposalsMax?: number;
  /** Reads of this node's callers waiting at once (default 4,096); more fail at once with READ_DROPPED. */
  readonly pendingReadsMax?: number;
  /** Client sessions this node opens for its callers: at most this many commands in flight (default 4,096). */
  readonly sessionsMax?: number;
  /**
   * A node started with no configuration (`raft.voters` empty) asks these members to add it as
   * a learner, every `joinRetryTicks`, until it sees itself in the configuration.
   */
  readonly joinVia?: readonly NodeId[];
  readonly joinRetryTicks?: number;
  /** Seed of the election jitter and request ids; random when absent. */
  readonly seed?: number;
  readonly observer?: DriverObserver;
}

/**
 * The node's status as the driver sees it: the core's, with the configuration, and with
 * `applied` taken from where entries are applied rather than from the core.
 */
export type DriverStatus = Omit<RaftStatus, 'applied'> & {
  /**
   * The state machine reflects every entry up to here: a local read served now sees them all,
   * and a digest taken now is of the state at this index.
   */
  readonly applied: number;
  /**
   * The last index the core handed out to be applied (its own `applied`, moved when a Ready is
   * taken). It runs ahead of `applied` while a Ready's write is in flight: its committed entries
   * that are not durable here yet are applied only after that write (ready-loop.ts).
   */
  readonly handedOutToApply: number;
  readonly config: { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
};

export interface DriverMetrics {
  ticks: number;
  missedTicks: number;
  readies: number;
  /** Writes to storage (one per Ready that had something to persist), their total wall time, and the entries they carried. */
  storageWrites: number;
  storageWriteMs: number;
  entriesWritten: number;
  framesSent: number;
  entriesApplied: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  commandsRejected: number;
}

export type DriverEvent =
  | { readonly type: 'role'; readonly role: Role; readonly term: number }
  | { readonly type: 'leader'; readonly leader: NodeId | null; readonly term: number }
  | { readonly type: 'commit'; readonly index: number }
  | { readonly type: 'link'; readonly peer: NodeId; readonly state: LinkState }
  | { readonly type: 'error'; readonly error: TaggedError };


export function emptyDriverMetrics(): DriverMetrics {
  return {
    ticks: 0,
    missedTicks: 0,
    readies: 0,
    storageWrites: 0,
    storageWriteMs: 0,
    entriesWritten: 0,
    framesSent: 0,
    entriesApplied: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    commandsRejected: 0,
  };
}
