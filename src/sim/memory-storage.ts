/**
 * A node's durable storage in the simulator: hard state, the latest snapshot and the log, with
 * writes that take virtual time. It implements the write semantics of the storage interface the
 * browser uses (src/io/storage/storage.ts: `StorageWrite` with hardState, snapshot, clearLog,
 * compactTo, entries), synchronously and with a crash model.
 *
 * Two layers, as on a real disk (or IndexedDB): what is DURABLE survives a crash; a write that
 * has begun but not completed is PENDING and a crash loses it entirely (one write is one
 * transaction: atomic, never torn, snapshot and all). Writes complete in the order they began.
 * `onDurable` runs when a write completes; the node releases that Ready's messages only then,
 * which is the Ready contract (DESIGN.md §2): votes and acknowledgements never leave before what
 * they promise is on disk.
 *
 * One write, in this order:
 *   - `hardState` replaces the stored one;
 *   - `snapshot` replaces the stored snapshot (it must be newer); with `clearLog` (a snapshot
 *     installed from the leader, `Ready.snapshot`) every stored entry goes and the log continues
 *     right after the snapshot;
 *   - `compactTo` drops stored entries up to that index (a local snapshot covers them; entries
 *     between it and the snapshot's index stay, as the engine's trailing entries do);
 *   - `entries` replace stored entries at the same or higher index (a follower's suffix can be
 *     overwritten by a new leader), and must continue the stored log without a gap.
 *
 * Every write is checked, as it becomes durable, by the rules the browser's storage adapters
 * enforce (src/io/storage/write-rules.ts `planWrite`: term, vote and commit never go back, a
 * snapshot is newer and committed, committed entries are never replaced, no gaps, ...) and
 * carried out by the same steps (`applyPlanToLog`). A write those adapters would refuse changes
 * nothing here either and is reported through `onRefused` (the simulator counts it as a safety
 * violation: the engine or the driver asked storage for something that must not happen).
 *
 * `load` gives what a restarting node boots from: the hard state, the snapshot and the stored
 * entries after it.
 */
import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';
import { emptyHardState, type BootState, type Entry, type HardState, type Snapshot } from '../core/raft/types.ts';
import { emptyWrite, StorageError, type StorageWrite } from '../io/storage/storage.ts';
import { applyPlanToLog, planWrite, type StoredLogView, type WritePlan } from '../io/storage/write-rules.ts';
import type { LogReader, PendingLogWrite } from './checkers/raft-checkers.ts';
import type { SnapshotPoint } from './checkers/leader-completeness.ts';
import { sample, type Distribution } from './distributions.ts';
import type { Scheduler } from './scheduler.ts';

export type { StorageWrite };

/** A write as the simulator issues it: fields left out change nothing (`emptyWrite`'s). */
export type SimStorageWrite = Partial<StorageWrite>;

export interface MemoryStorageOptions {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  /** How long one write takes to become durable. */
  readonly latency: Distribution;
  /**
   * A write broke the storage rules and was refused (nothing of it was stored); its `onDurable`
   * never runs. Without this hook a refusal throws.
   */
  readonly onRefused?: (error: StorageError) => void;
  /**
   * A durable write removed stored entries other than by compaction (a follower's suffix
   * overwritten, or the log cleared under a snapshot installed from the leader): the entries it
   * removed that it did not store again unchanged. For the durability checker.
   */
  readonly onEntriesDropped?: (dropped: readonly Entry[]) => void;
}

export interface StorageStats {
  writes: number;
  entriesWritten: number;
  /** Snapshots made durable: taken locally (with compaction), or installed from a leader. */
  snapshotsStored: number;
  snapshotsInstalled: number;
  /** Entries dropped by compaction. */
  entriesCompacted: number;
  /** Writes refused by the storage rules. */
  writesRefused: number;
  /** Writes lost because the node crashed before they completed. */
  writesLost: number;
  entriesLost: number;
}

interface PendingWrite {
  readonly write: StorageWrite;
  readonly completesAtUs: number;
}

export class MemoryStorage implements LogReader {
  private hardState: HardState = emptyHardState;
  private snapshot: Snapshot | null = null;
  /** The stored entries: log[p] has index offset + 1 + p. */
  private log: Entry[] = [];
  private offset = 0;
  private readonly pending: PendingWrite[] = [];
  /** Bumped by a crash: completions scheduled before it are void. */
  private generation = 0;
  private latency: Distribution;
  readonly stats: StorageStats = {
    writes: 0,
    entriesWritten: 0,
    snapshotsStored: 0,
    snapshotsInstalled: 0,
    entriesCompacted: 0,
    writesRefused: 0,
    writesLost: 0,
    entriesLost: 0,
  };

  constructor(private readonly options: MemoryStorageOptions) {
    this.latency = options.latency;
  }

  setLatency(latency: Distribution): void {
    this.latency = latency;
  }

  /**
   * Begin a write; `onDurable` runs once it is durable (never, if the node crashes first).
   * Returns the virtual time at which it will complete.
   */
  write(input: SimStorageWrite, onDurable: () => void): number {
    // Invalid writes (such as clearLog without a snapshot) are refused by the shared storage
    // rules when the write completes, as every adapter refuses them.
    const write: StorageWrite = { ...emptyWrite, ...input };
    const { scheduler, prng } = this.options;
    const last = this.pending[this.pending.length - 1];
    // In order: a write never completes before one that began earlier.
    const completesAtUs = Math.max(scheduler.nowUs + sample(prng, this.latency), last?.completesAtUs ?? 0);
    const pw: PendingWrite = { write, completesAtUs };
    this.pending.push(pw);
    const generation = this.generation;
    scheduler.at(completesAtUs, () => {
      if (generation !== this.generation) return;
      assert(this.pending[0] === pw, 'storage writes complete in order');
      this.pending.shift();
      if (this.makeDurable(write)) onDurable();
    });
    return completesAtUs;
  }

  /** Check `write` against what is stored and carry it out; false (and nothing stored) if refused. */
  private makeDurable(write: StorageWrite): boolean {
    let plan: WritePlan;
    try {
      plan = planWrite(this.view(), write);
    } catch (error) {
      if (!(error instanceof StorageError) || this.options.onRefused === undefined) throw error;
      this.stats.writesRefused++;
      this.options.onRefused(error);
      return false;
    }
    this.stats.writes++;
    if (plan.snapshot !== null) {
      this.snapshot = plan.snapshot;
      if (plan.clearLog) this.stats.snapshotsInstalled++;
      else this.stats.snapshotsStored++;
    }
    const removed = this.removedBy(plan);
    const before = this.log.length;
    const dropped = plan.clearLog ? 0 : Math.max(0, Math.min(plan.dropThrough, this.lastIndex()) - this.offset);
    this.offset = applyPlanToLog(this.log, this.offset + 1, plan, plan.entries) - 1;
    this.hardState = plan.hardState;
    this.stats.entriesCompacted += dropped;
    this.stats.entriesWritten += plan.entries.length;
    assert(this.log.length <= before - dropped + plan.entries.length || plan.clearLog, 'storage log grew more than written');
    if (removed.length > 0) this.options.onEntriesDropped?.(removed);
    return true;
  }

  /**
   * The stored entries `plan` removes without storing them again unchanged: under a cleared log,
   * those after the new snapshot (it covers the rest); under new entries, the old suffix from
   * their first index that they do not repeat. Compaction (`dropThrough`) removes nothing here.
   */
  private removedBy(plan: WritePlan): Entry[] {
    const last = this.lastIndex();
    let from: number;
    if (plan.clearLog) from = (plan.snapshot?.meta.index ?? 0) + 1;
    else if (plan.entries[0] !== undefined) from = plan.entries[0].index;
    else return [];
    const removed: Entry[] = [];
    for (let i = Math.max(from, this.offset + 1); i <= last; i++) {
      const old = this.log[i - this.offset - 1] as Entry;
      const kept = plan.clearLog ? undefined : plan.entries[i - from];
      if (kept === undefined || kept.term !== old.term) removed.push(old);
    }
    return removed;
  }

  /** What the storage rules need to know of the stored log. */
  private view(): StoredLogView {
    const offset = this.offset;
    const log = this.log;
    return {
      hardState: this.hardState,
      snapshot: this.snapshot?.meta ?? null,
      firstIndex: offset + 1,
      lastIndex: offset + log.length,
      termAt: (index) => (log[index - offset - 1] as Entry).term,
    };
  }

  /** The node crashed: every pending write is lost; what is durable stays. */
  crash(): void {
    for (const pw of this.pending) {
      this.stats.writesLost++;
      this.stats.entriesLost += pw.write.entries.length;
    }
    this.pending.length = 0;
    this.generation++;
  }

  hasPendingWrite(): boolean {
    return this.pending.length > 0;
  }

  /**
   * What a restarting node loads: the hard state, the snapshot, and the stored entries AFTER the
   * snapshot (trailing entries at or below it are kept in storage but not needed to boot). Copies:
   * the node may not share our arrays.
   */
  load(): BootState {
    const from = this.snapshot === null ? 0 : this.snapshot.meta.index - this.offset;
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.log.slice(Math.max(0, from)) };
  }

  /** Lose the durable vote (a storage bug, for the simulator's `forget-vote` sabotage only). */
  forgetVote(): void {
    this.hardState = { ...this.hardState, vote: null };
  }

  durableHardState(): HardState {
    return this.hardState;
  }

  durableSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  /** The durable log: contiguous entries from `firstIndex()` (earlier ones were compacted). Read-only view. */
  durableEntries(): readonly Entry[] {
    return this.log;
  }

  /** The index of the first stored entry (1 when nothing was ever compacted). */
  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.log.length;
  }

  /**
   * The entry at `index` after `pending` (a write not yet durable) lands on the durable log: what
   * the node's log holds at that index. Undefined beyond the end and at or below a snapshot the
   * pending write installs, or below the stored entries.
   */
  entryAfter(index: number, pending: PendingLogWrite): Entry | undefined {
    const first = pending.entries[0];
    if (first !== undefined && index >= first.index) return pending.entries[index - first.index];
    if (pending.snapshot !== null) return undefined; // the install clears the stored log
    return index > this.offset ? this.log[index - this.offset - 1] : undefined;
  }

  /** Whether (index, term) is durable here: a stored entry, or covered by the stored snapshot. */
  holdsDurably(index: number, term: number): boolean {
    if (this.snapshot !== null && index <= this.snapshot.meta.index) return true;
    return index > this.offset && this.log[index - this.offset - 1]?.term === term;
  }

  /** The snapshot the log starts from after `pending` lands. */
  snapshotAfter(pending: PendingLogWrite): SnapshotPoint | null {
    const snap = pending.snapshot ?? this.snapshot;
    return snap === null ? null : { index: snap.meta.index, term: snap.meta.term };
  }

  /** The last index after `pending` lands. */
  lastIndexAfter(pending: PendingLogWrite): number {
    const last = pending.entries[pending.entries.length - 1];
    if (last !== undefined) return last.index;
    return pending.snapshot !== null ? pending.snapshot.meta.index : this.lastIndex();
  }
}
