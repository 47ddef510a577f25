/**
 * The snapshot policy and log compaction: when the application should snapshot its state
 * machine (every `snapshotEveryEntries` entries or `snapshotEveryBytes` bytes), and what the
 * core keeps once it has (the snapshot, for lagging followers, and a few trailing entries).
 */
import { assert } from '../assert.ts';
import type { Raft } from './raft.ts';
import type { Snapshot } from './types.ts';

/**
 * The application made a snapshot of its state at `index` (at most the applied index): keep
 * it for followers that fall behind, and drop log entries behind it from memory, keeping
 * `snapshotTrailingEntries` so that a follower slightly behind still gets plain appends.
 * Returns the snapshot with its metadata and the index up to which storage may drop entries.
 */
export function compactLog(r: Raft, index: number, data: Uint8Array): { snapshot: Snapshot; compactTo: number } {
  assert(index <= r.log.applied && index <= r.log.persisted, 'snapshot beyond applied, durable entries');
  assert(index > r.log.snapshotIndex(), 'snapshot not newer than the last one');
  const term = r.log.term(index) as number;
  const snapshot: Snapshot = { meta: { index, term, config: r.log.configAt(index) }, data };
  r.snapshot = snapshot;
  r.appliedBytesSinceSnapshot = 0;
  const compactTo = Math.max(r.log.snapshotIndex(), index - r.cfg.snapshotTrailingEntries);
  r.log.compact(compactTo);
  return { snapshot, compactTo };
}

/** The snapshot policy: enough has been applied since the last snapshot to take one. */
export function shouldSnapshot(r: Raft): boolean {
  // The state machine is about to be replaced by a snapshot from the leader.
  if (r.log.hasPendingSnapshot()) return false;
  const sinceEntries = r.log.applied - (r.snapshot?.meta.index ?? 0);
  if (sinceEntries <= 0) return false;
  const byCount = r.cfg.snapshotEveryEntries > 0 && sinceEntries >= r.cfg.snapshotEveryEntries;
  const byBytes = r.cfg.snapshotEveryBytes > 0 && r.appliedBytesSinceSnapshot >= r.cfg.snapshotEveryBytes;
  return byCount || byBytes;
}
