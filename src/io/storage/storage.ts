/**
 * The durable storage of one Raft node, behind one small interface that every adapter (memory,
 * IndexedDB) implements and one compliance suite (`test/io/storage-compliance.ts`) checks.
 *
 * The core never reads storage (DESIGN.md §2): a driver calls `boot()` once to load what the
 * node needs in memory, then `write()` once per Ready, in order, waiting for each to finish
 * before sending the Ready's messages. A write is atomic: after a crash it is either wholly
 * durable or wholly absent, and writes become durable in the order they were issued.
 */
import type { ErrorCode } from '../../core/error-code.ts';
import type { BootState, Entry, HardState, Snapshot } from '../../core/raft/types.ts';

/**
 * One atomic write. Its parts take effect in this order: `clearLog`, `snapshot`, `compactTo`
 * (which must not go beyond the stored snapshot's index), `entries`, `hardState`.
 */
export interface StorageWrite {
  /** The new hard state, or null to keep the stored one. */
  readonly hardState: HardState | null;
  /** Store as the latest snapshot (replacing the previous one). */
  readonly snapshot: Snapshot | null;
  /**
   * Delete every stored entry first: a snapshot from the leader replaced this node's log
   * (`Ready.snapshot`). Entries in this same write then continue after the snapshot.
   */
  readonly clearLog: boolean;
  /** Delete stored entries up to and including this index (a local snapshot covers them); 0: none. */
  readonly compactTo: number;
  /**
   * Append these entries, in index order, first deleting any stored entry at the same or a higher
   * index (a new leader may overwrite a follower's uncommitted suffix).
   */
  readonly entries: readonly Entry[];
}

export interface RaftStorage {
  /** Load the hard state, the latest snapshot and the log after it. */
  boot(): Promise<BootState>;
  /** Make one write durable; resolves once it is. Writes take effect in call order. */
  write(write: StorageWrite): Promise<void>;
  /** Release the underlying handles; the storage is unusable afterwards. */
  close(): Promise<void>;
}

/** Thrown (and rejected with) when storage cannot do its job; the node stops and reboots. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code = 'STORAGE' satisfies ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A write that changes nothing, to build on. */
export const emptyWrite: StorageWrite = { hardState: null, snapshot: null, clearLog: false, compactTo: 0, entries: [] };

/** The write a Ready asks for. */
export function writeForReady(ready: { hardState: HardState | null; snapshot: Snapshot | null; entries: readonly Entry[] }): StorageWrite {
  return { hardState: ready.hardState, snapshot: ready.snapshot, clearLog: ready.snapshot !== null, compactTo: 0, entries: ready.entries };
}
