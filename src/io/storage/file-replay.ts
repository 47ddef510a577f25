/**
 * Replay: the stored state that the records of the file log's segments describe, read in order.
 * Pure (no `fs`): file-recovery.ts reads and scans the files, this folds their records.
 *
 * The fold mirrors `planWrite`'s order of parts (write-rules.ts): a snapshot (emptying the log
 * when a leader's snapshot replaced it), a compaction, entries (each replacing the stored entry
 * at its index and everything after it: that is how a new leader's conflicting suffix is
 * truncated, with no record of its own), the hard state, and a commit that ends the write.
 *
 * Replay may start at a segment whose older neighbours were deleted (compaction drops whole
 * segments once none of their entries is live, file-storage.ts). Its checkpoint gives the state
 * at its start; entries the deleted segments held are missing from the replayed log until a
 * later compaction drops them for good, so a log that at the end still starts after its first
 * index lacks an entry: that is corruption (a segment lost), never a shorter log. Each later
 * segment's checkpoint must agree with the state replayed up to it.
 */
import type { Entry, HardState } from '../../core/raft/types.ts';
import { FileLogCorruptError } from './file-errors.ts';
import type { SnapshotRef } from './file-records.ts';
import type { SegmentScan } from './file-frames.ts';
import { checkStoredState } from './write-rules.ts';

export interface ScannedSegment {
  readonly seq: number;
  readonly name: string;
  readonly scan: SegmentScan;
}

export interface ReplayedLog {
  readonly hardState: HardState;
  readonly snapshot: SnapshotRef | null;
  /** The first stored index (the last is `firstIndex + entries.length - 1`). */
  readonly firstIndex: number;
  /** Every stored entry, from `firstIndex` (some may be behind the snapshot). */
  readonly entries: readonly Entry[];
  /** The segment each entry is stored in (`segmentOf[i]` for `entries[i]`). */
  readonly segmentOf: readonly number[];
  /** The sequence number of the last finished write (0: none). */
  readonly writeSeq: number;
}

class Fold {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: SnapshotRef | null = null;
  first = 1;
  /** The entries replayed so far; `log[0]` has index `logFirst`. */
  log: Entry[] = [];
  logFirst = 1;
  segmentOf: number[] = [];
  writeSeq = 0;

  entry(e: Entry, seq: number, where: string): void {
    if (this.log.length === 0 || e.index < this.logFirst) {
      // The first entry replayed, or one below what this replay holds: it replaces every entry
      // from its index on, including those in deleted segments.
      this.log = [e];
      this.segmentOf = [seq];
      this.logFirst = e.index;
      return;
    }
    const at = e.index - this.logFirst;
    if (at > this.log.length) throw new FileLogCorruptError(`${where}: entry ${e.index} leaves a gap after entry ${this.logFirst + this.log.length - 1}`);
    this.log.length = at;
    this.segmentOf.length = at;
    this.log.push(e);
    this.segmentOf.push(seq);
  }

  dropBefore(first: number): void {
    this.first = first;
    const n = Math.max(0, Math.min(this.log.length, first - this.logFirst));
    if (n === 0) return;
    this.log.splice(0, n);
    this.segmentOf.splice(0, n);
    this.logFirst += n;
  }

  checkpoint(hardState: HardState, firstIndex: number, snapshot: SnapshotRef | null, where: string): void {
    const same =
      hardState.term === this.hardState.term &&
      hardState.vote === this.hardState.vote &&
      hardState.commit === this.hardState.commit &&
      firstIndex === this.first &&
      (snapshot?.meta.index ?? 0) === (this.snapshot?.meta.index ?? 0) &&
      (snapshot?.meta.term ?? 0) === (this.snapshot?.meta.term ?? 0);
    if (!same) throw new FileLogCorruptError(`${where}: the checkpoint disagrees with the segments before it`);
  }
}

/** Fold `segments` (oldest first, consecutive sequence numbers) into the stored state. */
export function replaySegments(segments: readonly ScannedSegment[], dir: string): ReplayedLog {
  const fold = new Fold();
  segments.forEach((segment, i) => {
    const first = segment.scan.records[0]?.record;
    if (first === undefined) return; // an empty last segment: nothing was finished in it
    if (first.type !== 'checkpoint') throw new FileLogCorruptError(`${segment.name}: does not start with a checkpoint`);
    if (first.segmentSeq !== segment.seq) throw new FileLogCorruptError(`${segment.name}: its checkpoint names segment ${first.segmentSeq}`);
    if (i === 0) {
      fold.hardState = first.hardState;
      fold.snapshot = first.snapshot;
      fold.first = first.firstIndex;
    } else fold.checkpoint(first.hardState, first.firstIndex, first.snapshot, segment.name);
    for (const { record } of segment.scan.records.slice(1)) {
      const where = segment.name;
      switch (record.type) {
        case 'checkpoint':
          throw new FileLogCorruptError(`${where}: a second checkpoint inside the segment`);
        case 'blob':
          throw new FileLogCorruptError(`${where}: a blob record (of another kind of log) in a Raft log`);
        case 'entry':
          fold.entry(record.entry, segment.seq, where);
          break;
        case 'hardState':
          fold.hardState = record.hardState;
          break;
        case 'snapshot':
          fold.snapshot = record.snapshot;
          if (record.clearLog) {
            fold.log = [];
            fold.segmentOf = [];
            fold.first = record.snapshot.meta.index + 1;
            fold.logFirst = fold.first;
          }
          break;
        case 'compact':
          fold.dropBefore(Math.max(fold.first, record.compactTo + 1));
          break;
        case 'commit':
          if (fold.writeSeq !== 0 && record.writeSeq !== fold.writeSeq + 1) {
            throw new FileLogCorruptError(`${where}: write ${record.writeSeq} follows write ${fold.writeSeq}: a write is missing`);
          }
          fold.writeSeq = record.writeSeq;
          break;
        default: {
          const never: never = record;
          throw new Error(`unknown record ${String(never)}`);
        }
      }
    }
  });
  fold.dropBefore(fold.first);
  if (fold.log.length > 0 && fold.logFirst !== fold.first) {
    throw new FileLogCorruptError(`${dir}: the log should start at ${fold.first} but the segments hold it from ${fold.logFirst}: a segment is missing`);
  }
  try {
    checkStoredState(fold.hardState, fold.snapshot?.meta ?? null, fold.log, `file log ${dir}`);
  } catch (e) {
    throw new FileLogCorruptError(e instanceof Error ? e.message : String(e), { cause: e });
  }
  return { hardState: fold.hardState, snapshot: fold.snapshot, firstIndex: fold.first, entries: fold.log, segmentOf: fold.segmentOf, writeSeq: fold.writeSeq };
}
