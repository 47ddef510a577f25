/**
 * A node's Raft log in memory, and how far each part of it has got:
 *
 *   snapshot ... applied ........ committed ........ persisted ........ last
 *
 * Entries up to `offset` live only in the snapshot (compacted away). `persisted` is the last
 * index known durable; entries from `unstableFrom` on have not yet been handed to the driver in
 * a Ready; between them is at most one Ready's write in flight. The core never reads storage:
 * the driver loads the snapshot and log tail at boot.
 *
 * The log also tracks the configurations its `config` entries carry, because a configuration
 * takes effect when its entry is appended and is undone when that entry is truncated (§4.1).
 */
import { assert } from '../assert.ts';
import type { ConfState, Entry, Snapshot, SnapshotMeta } from './types.ts';

/** Fixed overhead counted per entry when batching by bytes (index, term, kind, framing). */
export const entryOverheadBytes = 24;

interface ConfigAt {
  readonly index: number;
  readonly config: ConfState;
}

export class RaftLog {
  /**
   * entries[i] has index offset + 1 + i, for i below `count`. The array is a store whose length
   * only grows (slots from `count` on are empty): compaction moves the tail to the front in
   * place, so a log that cycles between snapshots reuses one backing store instead of growing a
   * new one (and copying it) after every compaction, which cost tens of bytes per entry.
   */
  private readonly entries: (Entry | undefined)[];
  private count: number;
  /** The index and term of the last compacted entry (the snapshot's), 0 for none. */
  private offset: number;
  private offsetTerm: number;
  /** The configuration at `offset`, and the config entries after it in index order. */
  private baseConfig: ConfState;
  private readonly configs: ConfigAt[] = [];
  committed: number;
  /** The last index handed to the state machine in a Ready. */
  applied: number;
  /** The last index known durable. */
  persisted: number;
  /** The first index not yet handed to the driver for persistence. */
  private unstableFrom: number;
  /** The last entry of the write in flight, if any: (index, term). */
  private inProgress: { index: number; term: number } | null = null;
  /** A snapshot received from the leader, not yet handed to the driver. */
  private unstableSnapshot: Snapshot | null = null;
  /** Bumped whenever the current configuration may have changed. */
  configVersion = 0;
  /**
   * The last `slice` asked and its answer. Entries at an index change only by truncation (or a
   * snapshot restore), which clears it; appends after `hi` do not change what [lo, hi] answers.
   */
  private sliceCache: { lo: number; hi: number; maxEntries: number; maxBytes: number; entries: readonly Entry[] } | null = null;

  constructor(snapshot: SnapshotMeta | null, stored: readonly Entry[], committed: number, applied: number, initialConfig: ConfState) {
    this.offset = snapshot?.index ?? 0;
    this.offsetTerm = snapshot?.term ?? 0;
    this.baseConfig = snapshot?.config ?? initialConfig;
    for (let i = 0; i < stored.length; i++) {
      assert((stored[i] as Entry).index === this.offset + i + 1, 'boot log must be contiguous after the snapshot');
    }
    this.entries = stored.slice();
    this.count = stored.length;
    for (const e of stored) this.trackConfig(e);
    const last = this.lastIndex();
    assert(committed <= last, 'boot: commit beyond the stored log');
    this.committed = Math.max(committed, this.offset);
    this.applied = Math.min(Math.max(applied, this.offset), this.committed);
    this.persisted = last;
    this.unstableFrom = last + 1;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.count;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  snapshotIndex(): number {
    return this.offset;
  }

  /** The term of the entry at `index`, the snapshot's term at its index, undefined otherwise. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return (this.entries[index - this.offset - 1] as Entry).term;
  }

  entry(index: number): Entry | undefined {
    return index > this.offset && index <= this.lastIndex() ? this.entries[index - this.offset - 1] : undefined;
  }

  matchTerm(index: number, term: number): boolean {
    const t = this.term(index);
    return t !== undefined && t === term;
  }

  /** Election restriction (Raft paper §5.4.1): is a log ending at (index, term) at least as up to date? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  // ---- configuration -----------------------------------------------------------------------

  /** The configuration in force: the latest in the log, committed or not. */
  config(): ConfState {
    const n = this.configs.length;
    return n === 0 ? this.baseConfig : (this.configs[n - 1] as ConfigAt).config;
  }

  /** The index of the latest config entry, or the snapshot index when there is none after it. */
  lastConfigIndex(): number {
    const n = this.configs.length;
    return n === 0 ? this.offset : (this.configs[n - 1] as ConfigAt).index;
  }

  /** The configuration in force at `index` (for snapshot metadata). */
  configAt(index: number): ConfState {
    assert(index >= this.offset, 'configAt below the snapshot');
    let config = this.baseConfig;
    for (const c of this.configs) {
      if (c.index > index) break;
      config = c.config;
    }
    return config;
  }

  private trackConfig(e: Entry): void {
    if (e.kind !== 'config') return;
    assert(e.config !== undefined, 'config entry without a configuration');
    this.configs.push({ index: e.index, config: e.config });
    this.configVersion++;
  }

  // ---- appending -----------------------------------------------------------------------------

  /** Leader append: entries must continue the log. */
  append(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, 'append must continue the log');
    assert(entry.index > this.committed, 'append below commit');
    this.entries[this.count++] = entry;
    this.trackConfig(entry);
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
      this.truncateAndAppend(entries, conflict - (prevIndex + 1));
    }
    return lastNew;
  }

  /** The index of the first entry that is new or differs in term from ours, or 0. */
  private findConflict(entries: readonly Entry[]): number {
    // Indexed, not for-of: this runs per entry on every follower (see `ready` in raft-node.ts).
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as Entry;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Replace the log from `entries[from]` on with `entries[from..]` (no copy of the message's array). */
  private truncateAndAppend(entries: readonly Entry[], from: number): void {
    const first = (entries[from] as Entry).index;
    assert(first > this.offset && first <= this.lastIndex() + 1, 'truncateAndAppend out of range');
    if (first <= this.lastIndex()) {
      this.truncateTo(first - this.offset - 1);
      // Entries from `first` on change: what was durable or in flight there no longer counts.
      if (this.persisted >= first) this.persisted = first - 1;
      if (this.inProgress !== null && this.inProgress.index >= first) {
        this.inProgress = first - 1 > this.offset ? { index: first - 1, term: this.term(first - 1) as number } : null;
      }
      if (this.unstableFrom > first) this.unstableFrom = first;
      // A configuration whose entry is gone is no longer in force (§4.1).
      while (this.configs.length > 0 && (this.configs[this.configs.length - 1] as ConfigAt).index >= first) {
        this.configs.pop();
        this.configVersion++;
      }
      this.sliceCache = null;
    }
    for (let i = from; i < entries.length; i++) {
      const e = entries[i] as Entry;
      this.entries[this.count++] = e;
      this.trackConfig(e);
    }
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
    return { index: this.offset, term: this.offsetTerm };
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /**
   * Entries [lo, hi] limited to `maxEntries` and about `maxBytes` (at least one entry). The array
   * is shared, never to be changed by the caller: the same range asked twice (a leader's followers
   * in step ask for the same appends) answers the same array, one copy instead of one per
   * follower.
   */
  slice(lo: number, hi: number, maxEntries: number, maxBytes: number): readonly Entry[] {
    if (lo > hi) return [];
    assert(lo > this.offset && hi <= this.lastIndex(), 'slice out of range');
    const cached = this.sliceCache;
    if (cached !== null && cached.lo === lo && cached.hi === hi && cached.maxEntries === maxEntries && cached.maxBytes === maxBytes) return cached.entries;
    let end = Math.min(hi, lo + maxEntries - 1);
    let bytes = 0;
    for (let i = lo; i <= end; i++) {
      bytes += (this.entries[i - this.offset - 1] as Entry).data.byteLength + entryOverheadBytes;
      if (bytes > maxBytes && i > lo) {
        end = i - 1;
        break;
      }
    }
    const entries = this.entries.slice(lo - this.offset - 1, end - this.offset) as Entry[];
    this.sliceCache = { lo, hi, maxEntries, maxBytes, entries };
    return entries;
  }

  /** Keep the first `n` entries; empty the slots after them so that what they held can be freed. */
  private truncateTo(n: number): void {
    this.entries.fill(undefined, n, this.count);
    this.count = n;
  }

  /** How many entries the log holds in memory. */
  size(): number {
    return this.count;
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /**
   * Drop the entries up to `index` from memory: the application holds a snapshot at or beyond
   * it. Only applied and durable entries may go.
   */
  compact(index: number): void {
    if (index <= this.offset) return;
    assert(index <= this.applied && index <= this.persisted, 'compact beyond applied or persisted entries');
    const term = this.term(index) as number;
    this.baseConfig = this.configAt(index);
    while (this.configs.length > 0 && (this.configs[0] as ConfigAt).index <= index) this.configs.shift();
    const dropped = index - this.offset;
    this.entries.copyWithin(0, dropped, this.count);
    this.truncateTo(this.count - dropped);
    this.offset = index;
    this.offsetTerm = term;
  }

  /**
   * Install a snapshot received from the leader (a follower far behind). Returns false when the
   * log already holds its last entry: then it only advances the commit index.
   */
  restore(snapshot: Snapshot): boolean {
    const { meta } = snapshot;
    assert(meta.index > this.committed, 'restore of a snapshot the log already committed');
    if (this.matchTerm(meta.index, meta.term)) {
      this.commitTo(meta.index);
      return false;
    }
    this.truncateTo(0);
    this.sliceCache = null;
    this.offset = meta.index;
    this.offsetTerm = meta.term;
    this.baseConfig = meta.config;
    this.configs.length = 0;
    this.configVersion++;
    this.committed = meta.index;
    // `applied` moves to the snapshot's index only when the snapshot is handed to the driver
    // (`takeSnapshot`): until then the state machine has not restored it, and a snapshot of the
    // machine taken meanwhile would be older than its claimed index.
    // The write in flight held entries the snapshot replaces; what is durable from now on is
    // this snapshot, once the Ready that carries it is written. A follower's `persisted` is
    // informational (only a leader counts its own), and a snapshot only holds committed entries.
    this.inProgress = null;
    this.persisted = meta.index;
    this.unstableFrom = meta.index + 1;
    this.unstableSnapshot = snapshot;
    return true;
  }

  // ---- the Ready cycle -----------------------------------------------------------------------

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex() || this.unstableSnapshot !== null;
  }

  hasCommittedToApply(): boolean {
    return this.committed > this.applied;
  }

  takeSnapshot(): Snapshot | null {
    const s = this.unstableSnapshot;
    this.unstableSnapshot = null;
    if (s !== null && s.meta.index > this.applied) this.applied = s.meta.index;
    return s;
  }

  /** A snapshot from the leader waits to be handed to the driver. */
  hasPendingSnapshot(): boolean {
    return this.unstableSnapshot !== null;
  }

  /** Hand the unstable entries to the driver for one write. */
  takeUnstable(): Entry[] {
    assert(this.inProgress === null, 'one write in flight at a time');
    const last = this.lastIndex();
    if (this.unstableFrom > last) return [];
    const taken = this.entries.slice(this.unstableFrom - this.offset - 1, this.count) as Entry[];
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
    const taken = this.entries.slice(this.applied - this.offset, hi - this.offset) as Entry[];
    this.applied = hi;
    return taken;
  }

  /**
   * Committed entries that are already durable here (through `persisted`), to apply while a
   * write is in flight (ready-while-writing.ts). Never while a leader's snapshot waits to be
   * handed out: the entries before it are gone and the machine must restore it first.
   */
  takeDurableCommitted(): Entry[] {
    const hi = Math.min(this.committed, this.persisted, this.lastIndex());
    if (hi <= this.applied || this.unstableSnapshot !== null) return [];
    const taken = this.entries.slice(this.applied - this.offset, hi - this.offset) as Entry[];
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
