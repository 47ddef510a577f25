/**
 * The log of the IndexedDB adapter as SEGMENTS: one record per run of consecutive entries
 * written together (one `StorageWrite`, split at `segmentEntriesMax`), under the key
 * `['log', start]`, instead of one record per entry.
 *
 * Why: IndexedDB pays per request far more than per byte. Measured in headless Chromium here
 * (a 2-core machine, strict durability): 1,000 `put`s of one small entry each in one
 * transaction took 34 ms, one `put` of the same 1,000 entries as one array 1.4 ms. A leader that
 * batches a thousand commands into one append must not pay a thousand requests for it, on
 * every node.
 *
 * Truncation without reading: a segment written later at `start` SHADOWS every entry of earlier
 * segments from `start` on. The entry at index i is the one in the segment with the greatest
 * start at or below i. So a follower's conflicting suffix is replaced by deleting the segments
 * that start at or after the new entries' first index and writing the new segment; a segment
 * that starts before keeps its now-shadowed tail, which boot ignores. Compaction deletes the
 * segments wholly below the log's first index. These are pure functions; the adapter issues the
 * requests they plan, in one transaction.
 */
import type { Entry } from '../../core/raft/types.ts';
import type { WritePlan } from './write-rules.ts';
import { StorageError } from './storage.ts';

/** The most entries one segment record holds (a large write becomes several segments). */
export const segmentEntriesMax = 1024;

/** What one write does to the segment records, in this order: deletes, then puts. */
export interface SegmentChanges {
  /** The starts of the stored segments once the write is done, ascending. */
  readonly starts: readonly number[];
  /** Delete every segment. */
  readonly deleteAll: boolean;
  /** Delete the segments starting at or below this index; null: none. */
  readonly deleteThrough: number | null;
  /** Delete the segments starting at or above this index; null: none. */
  readonly deleteFrom: number | null;
  /** New segments: runs of `plan.entries`. */
  readonly puts: readonly (readonly Entry[])[];
}

/** Plan the segment records of a write that passed the rules, given the current starts. */
export function planSegments(starts: readonly number[], plan: WritePlan): SegmentChanges {
  let segments = plan.clearLog ? [] : [...starts];
  let deleteFrom: number | null = null;
  const puts: Entry[][] = [];
  const first = plan.entries[0];
  if (first !== undefined) {
    // A range delete is not free in IndexedDB: issue one only when a segment is replaced.
    if (segments.some((s) => s >= first.index)) deleteFrom = first.index;
    segments = segments.filter((s) => s < first.index);
    for (let i = 0; i < plan.entries.length; i += segmentEntriesMax) {
      const run = plan.entries.slice(i, i + segmentEntriesMax);
      puts.push(run);
      segments.push((run[0] as Entry).index);
    }
  }
  // Segments wholly before the log's first index go; all of them when the log is empty.
  let deleteThrough: number | null = null;
  if (plan.lastIndex < plan.firstIndex) {
    if (segments.length > 0) deleteThrough = segments[segments.length - 1] as number;
    segments = [];
  } else {
    while (segments.length > 1 && (segments[1] as number) <= plan.firstIndex) deleteThrough = segments.shift() as number;
  }
  return { starts: segments, deleteAll: plan.clearLog, deleteThrough, deleteFrom, puts };
}

/**
 * The log `firstIndex..lastIndex` from the segments read at boot (ascending starts; each
 * segment's entries already checked to run from its start). Throws `StorageError` when the
 * segments do not hold exactly that log.
 */
export function assembleLog(segments: readonly { readonly start: number; readonly entries: readonly Entry[] }[], firstIndex: number, lastIndex: number, what: string): Entry[] {
  if (lastIndex < firstIndex) {
    if (segments.length > 0) throw new StorageError(`${what}: log segments for an empty log ${firstIndex}..${lastIndex}`);
    return [];
  }
  const s0 = segments[0];
  if (s0 === undefined) throw new StorageError(`${what}: no log segment for the log ${firstIndex}..${lastIndex}`);
  if (s0.start > firstIndex) throw new StorageError(`${what}: the log segments start at ${s0.start}, not at ${firstIndex}`);
  const entries: Entry[] = [];
  for (const [k, seg] of segments.entries()) {
    const next = segments[k + 1]?.start ?? lastIndex + 1;
    const from = Math.max(seg.start, firstIndex);
    const to = Math.min(next - 1, lastIndex);
    if (from > to) throw new StorageError(`${what}: log segment ${seg.start} lies outside the log ${firstIndex}..${lastIndex}`);
    const held = seg.start + seg.entries.length - 1;
    if (held < to) throw new StorageError(`${what}: log segment ${seg.start} ends at ${held}, where ${to} belongs`);
    for (let i = from; i <= to; i++) entries.push(seg.entries[i - seg.start] as Entry);
  }
  return entries;
}
