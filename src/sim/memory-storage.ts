/**
 * A node's durable storage in the simulator: hard state plus the log, with writes that take
 * virtual time.
 *
 * Two layers, as on a real disk (or IndexedDB): what is DURABLE survives a crash; a write that
 * has begun but not completed is PENDING and a crash loses it entirely (one write is one
 * transaction: atomic, never torn). Writes complete in the order they began. `onDurable` runs
 * when a write completes; the node releases that Ready's messages only then, which is the Ready
 * contract (DESIGN.md §2): votes and acknowledgements never leave before what they promise is on
 * disk.
 *
 * Entries of a write replace stored entries at the same or higher index (a follower's suffix can
 * be overwritten by a new leader), and must continue the stored log without a gap.
 */
import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';
import { emptyHardState, type BootState, type Entry, type HardState } from '../core/raft/types.ts';
import { sample, type Distribution } from './distributions.ts';
import type { Scheduler } from './scheduler.ts';

export interface StorageWrite {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
}

export interface MemoryStorageOptions {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  /** How long one write takes to become durable. */
  readonly latency: Distribution;
}

export interface StorageStats {
  writes: number;
  entriesWritten: number;
  /** Writes lost because the node crashed before they completed. */
  writesLost: number;
  entriesLost: number;
}

interface PendingWrite {
  readonly write: StorageWrite;
  readonly completesAtUs: number;
}

export class MemoryStorage {
  private hardState: HardState = emptyHardState;
  private readonly log: Entry[] = [];
  private readonly pending: PendingWrite[] = [];
  /** Bumped by a crash: completions scheduled before it are void. */
  private generation = 0;
  private latency: Distribution;
  readonly stats: StorageStats = { writes: 0, entriesWritten: 0, writesLost: 0, entriesLost: 0 };

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
  write(write: StorageWrite, onDurable: () => void): number {
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
      this.makeDurable(write);
      onDurable();
    });
    return completesAtUs;
  }

  private makeDurable(write: StorageWrite): void {
    this.stats.writes++;
    if (write.hardState !== null) this.hardState = write.hardState;
    const first = write.entries[0];
    if (first === undefined) return;
    assert(first.index >= 1 && first.index <= this.log.length + 1, `write at ${first.index} leaves a gap after ${this.log.length}`);
    this.log.length = first.index - 1;
    for (const e of write.entries) {
      assert(e.index === this.log.length + 1, 'entries of a write must be contiguous');
      this.log.push(e);
    }
    this.stats.entriesWritten += write.entries.length;
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

  /** What a restarting node loads (copies: the node may not share our arrays). */
  load(): BootState {
    return { hardState: this.hardState, entries: this.log.slice() };
  }

  durableHardState(): HardState {
    return this.hardState;
  }

  /** The durable log, entry i at position i - 1. Read-only view. */
  durableEntries(): readonly Entry[] {
    return this.log;
  }

  /**
   * The entry at `index` after `pendingEntries` (a write not yet durable) lands on the durable
   * log: what the node's log holds at that index. Undefined beyond the end.
   */
  entryAfter(index: number, pendingEntries: readonly Entry[]): Entry | undefined {
    const first = pendingEntries[0];
    if (first !== undefined && index >= first.index) return pendingEntries[index - first.index];
    return this.log[index - 1];
  }

  /** The last index after `pendingEntries` lands. */
  lastIndexAfter(pendingEntries: readonly Entry[]): number {
    const last = pendingEntries[pendingEntries.length - 1];
    return last !== undefined ? last.index : this.log.length;
  }
}
