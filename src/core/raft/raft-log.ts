/**
 * A node's Raft log in memory, and how far each part of it has got:
 *
 *   1 ........ applied ........ committed ........ persisted ........ last
 *
 * `persisted` is the last index known durable; entries after `unstableFrom` have not yet been
 * handed to the driver in a Ready; between them is at most one Ready's write in flight. The
 * core never reads storage: the driver loads the whole log at boot (snapshots and compaction
 * come with the snapshot issue; `offset` is where they will plug in).
 */
import { assert } from '../assert.ts';
import type { Entry } from './types.ts';

/** Fixed overhead counted per entry when batching by bytes (index, term, kind, framing). */
export const entryOverheadBytes = 24;

export class RaftLog {
  /** entries[i] has index offset + 1 + i. */
  private entries: Entry[];
  private readonly offset = 0;
  committed: number;
  /** The last index handed to the state machine in a Ready. */
  applied: number;
  /** The last index known durable. */
  persisted: number;
  /** The first index not yet handed to the driver for persistence. */
  private unstableFrom: number;
  /** The last entry of the write in flight, if any: (index, term). */
  private inProgress: { index: number; term: number } | null = null;

  constructor(stored: readonly Entry[], committed: number, applied: number) {
    for (let i = 0; i < stored.length; i++) {
      assert((stored[i] as Entry).index === i + 1, 'boot log must be contiguous from index 1');
    }
    this.entries = stored.slice();
    const last = this.entries.length;
    assert(committed <= last, 'boot: commit beyond the stored log');
    assert(applied <= committed, 'boot: applied beyond commit');
    this.committed = committed;
    this.applied = applied;
    this.persisted = last;
    this.unstableFrom = last + 1;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`, 0 for index 0, undefined when it is not in the log. */
  term(index: number): number | undefined {
    if (index === this.offset) return 0;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return (this.entries[index - this.offset - 1] as Entry).term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.offset - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Election restriction (Raft paper §5.4.1): is a log ending at (index, term) at least as up to date? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Leader append: entries must continue the log. */
  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, 'append must continue the log');
    assert(entry.index > this.committed, 'append below commit');
    this.entries.push(entry);
  }

  /**
   * Follower append (Raft paper §5.3, receiver steps 2–4): when the log matches at
   * (prevIndex, prevTerm), drop any conflicting suffix and append what is new. Returns the last
   * index the follower now shares with the leader, or -1 when it does not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      // A committed entry never conflicts: that would mean two leaders committed different
      // entries at one index, which Raft's safety argument rules out.
      assert(conflict > this.committed, `conflict at ${conflict} at or below commit ${this.committed}`);
      const from = conflict - (prevIndex + 1);
      this.truncateAndAppend(entries.slice(from));
    }
    return lastNew;
  }

  /** The index of the first entry that is new or differs in term from ours, or 0. */
  private findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const first = (entries[0] as Entry).index;
    assert(first > this.offset && first <= this.lastIndex() + 1, 'truncateAndAppend out of range');
    if (first <= this.lastIndex()) {
      this.entries.length = first - this.offset - 1;
      // Entries from `first` on change: what was durable or in flight there no longer counts.
      if (this.persisted >= first) this.persisted = first - 1;
      if (this.inProgress !== null && this.inProgress.index >= first) {
        this.inProgress = first - 1 > this.offset ? { index: first - 1, term: this.term(first - 1) as number } : null;
      }
      if (this.unstableFrom > first) this.unstableFrom = first;
    }
    for (const e of entries) this.entries.push(e);
  }

  /**
   * The largest index at or below `index` whose term is at most `term`, with its term: the
   * conflict hint for fast backtracking. Everything above it is known not to match.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.offset; i--) {
      const t = this.term(i) as number;
      if (t <= term) return { index: i, term: t };
    }
    return { index: this.offset, term: this.term(this.offset) ?? 0 };
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Entries [lo, hi] limited to `maxEntries` and about `maxBytes` (at least one entry). */
  slice(lo: number, hi: number, maxEntries: number, maxBytes: number): Entry[] {
    if (lo > hi) return [];
    assert(lo > this.offset && hi <= this.lastIndex(), 'slice out of range');
    let end = Math.min(hi, lo + maxEntries - 1);
    let bytes = 0;
    for (let i = lo; i <= end; i++) {
      bytes += (this.entries[i - this.offset - 1] as Entry).data.byteLength + entryOverheadBytes;
      if (bytes > maxBytes && i > lo) {
        end = i - 1;
        break;
      }
    }
    return this.entries.slice(lo - this.offset - 1, end - this.offset);
  }

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  hasCommittedToApply(): boolean {
    return this.committed > this.applied;
  }

  /** Hand the unstable entries to the driver for one write. */
  takeUnstable(): Entry[] {
    assert(this.inProgress === null, 'one write in flight at a time');
    const last = this.lastIndex();
    if (this.unstableFrom > last) return [];
    const taken = this.entries.slice(this.unstableFrom - this.offset - 1);
    this.inProgress = { index: last, term: this.lastTerm() };
    this.unstableFrom = last + 1;
    return taken;
  }

  /**
   * Committed entries to apply. Each is either durable or in the write the driver persists
   * before applying, so nothing is applied that a crash could take back.
   */
  takeCommitted(): Entry[] {
    const hi = Math.min(this.committed, this.lastIndex());
    if (hi <= this.applied) return [];
    const taken = this.entries.slice(this.applied - this.offset, hi - this.offset);
    this.applied = hi;
    return taken;
  }

  /** The write handed out by `takeUnstable` is durable. */
  stableTo(): void {
    const p = this.inProgress;
    this.inProgress = null;
    // If the suffix was replaced while the write was in flight, only the part still in the log
    // with the same term is durable (truncateAndAppend already trimmed `inProgress`).
    if (p !== null && this.term(p.index) === p.term && p.index > this.persisted) this.persisted = p.index;
  }
}
