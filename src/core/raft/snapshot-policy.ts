/**
 * The snapshot policy and log compaction: when the application should snapshot its state
 * machine (every `snapshotEveryEntries` entries or `snapshotEveryBytes` bytes), what the core
 * keeps once it has (the snapshot, for lagging followers, a few trailing entries, and the
 * entries a live follower is about to need), and which snapshot a leader sends a follower.
 */
import { assert } from '../assert.ts';
import type { Progress } from './progress.ts';
import type { Raft } from './raft.ts';
import type { Snapshot } from './types.ts';

/**
 * The application made a snapshot of its state at `index` (at most the applied index): keep
 * it for followers that fall behind, and drop log entries behind it from memory, keeping
 * `snapshotTrailingEntries` so that a follower slightly behind still gets plain appends, and
 * on a leader what a live follower still needs (`catchUpFloor`).
 * Returns the snapshot with its metadata and the index up to which storage may drop entries.
 */
export function compactLog(r: Raft, index: number, data: Uint8Array): { snapshot: Snapshot; compactTo: number } {
  assert(index <= r.log.applied && index <= r.log.persisted, 'snapshot beyond applied, durable entries');
  assert(index > r.log.snapshotIndex(), 'snapshot not newer than the last one');
  const term = r.log.term(index) as number;
  const snapshot: Snapshot = { meta: { index, term, config: r.log.configAt(index) }, data };
  r.snapshot = snapshot;
  r.appliedBytesSinceSnapshot = 0;
  const keep = Math.min(index - r.cfg.snapshotTrailingEntries, catchUpFloor(r, index));
  const compactTo = Math.max(r.log.snapshotIndex(), keep);
  r.log.compact(compactTo);
  return { snapshot, compactTo };
}

/**
 * Leader: the lowest index a follower that still answers (within an election timeout) needs
 * next, for a follower being sent a snapshot (that snapshot's index: once installed it asks for
 * the entries after it) or one that installed ours and catches up by appends (its match).
 * Compacting past it would waste the transfer: the follower, installed, would find the entries
 * it needs gone and be sent the next snapshot from byte 0; under a steady load, with a transfer
 * slower than the snapshot period, it never caught up (the services simulator with snapshots:
 * a 35 KB state in small chunks, a snapshot every ~0.45 s, a transfer of ~0.9 s, seed 2: 36
 * restarts and no install). etcd keeps `SnapshotCatchUpEntries` behind every snapshot for the
 * same reason (dissertation §5.1: a snapshot is for a follower too far behind to be sent
 * entries, and one that just installed it is not). Bounded: never more than
 * `snapshotCatchUpEntriesMax` entries behind the snapshot; a follower that needs older entries
 * than that, or does not answer, holds nothing back and is sent the newest snapshot. Followers
 * merely lagging are not held for (they get a snapshot as before).
 */
function catchUpFloor(r: Raft, index: number): number {
  if (r.role !== 'leader') return index;
  const lowest = Math.max(r.log.snapshotIndex(), index - r.cfg.snapshotCatchUpEntriesMax);
  let floor = index;
  for (const pr of r.progress.values()) {
    if (pr.catchingUp && (pr.state === 'snapshot' || pr.match >= index)) pr.catchingUp = false;
    const transferring = pr.state === 'snapshot' && pr.snapshotAcked > 0;
    if (!transferring && !pr.catchingUp) continue;
    if (r.now - pr.lastResponseTick >= r.cfg.electionTimeoutTicks) continue;
    const needs = transferring ? pr.snapshotIndex : pr.match;
    if (needs >= lowest && needs < floor) floor = needs;
  }
  return floor;
}

/**
 * Leader: the snapshot to send `pr` the next chunk of. The one its transfer began with, as
 * long as the log still holds the entries after it, even when the leader has taken a newer
 * snapshot since (etcd-raft too sends the snapshot it began with, to the end): restarting from
 * byte 0 at every new snapshot starved a follower whose transfer took longer than a snapshot
 * period. The newest instead when nothing was acknowledged yet (that costs nothing), or when
 * the entries after the old one were compacted (installed, it would only need another one).
 */
export function snapshotToSend(r: Raft, pr: Progress): Snapshot {
  const latest = r.snapshot;
  assert(latest !== null, 'snapshot state without a snapshot');
  assert(pr.state === 'snapshot', 'a snapshot chunk for a follower not in the snapshot state');
  const current = pr.snapshot;
  if (current === latest) return latest;
  if (current !== null && pr.snapshotAcked > 0 && current.meta.index >= r.log.snapshotIndex()) return current;
  if (current !== null && pr.snapshotAcked > 0) r.counters.snapshotTransfersRestarted++;
  pr.becomeSnapshot(latest);
  return latest;
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
