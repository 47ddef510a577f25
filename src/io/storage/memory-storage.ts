/**
 * Raft storage in memory, with a crash model like the simulator's (src/sim/memory-storage.ts),
 * for tests and for edge or Node use where nothing must survive the process:
 *
 * - a write is checked when it is issued against the shared rules (`write-rules.ts`; a bad one
 *   is rejected at once and changes nothing), then is IN FLIGHT until a later macrotask, when it
 *   becomes DURABLE and its promise resolves;
 * - writes become durable one at a time, in the order they were issued, each whole (atomic);
 * - `crash()` loses every write in flight (their promises never settle, as a dead process never
 *   sees its writes finish) and keeps what is durable; the same instance then boots again from
 *   the durable state alone;
 * - `durable()` is a copy of what is durable, for tests.
 *
 * What is stored, as on a real store: the hard state, the latest snapshot, and the log: a
 * contiguous run of entries that reaches at least the snapshot's index (it may keep a few
 * entries behind it, `compactTo` < snapshot index) and ends at the last index. `boot()` returns
 * the entries after the snapshot only (`BootState`).
 */
import type { BootState, Entry, HardState, Snapshot } from '../../core/raft/types.ts';
import { StorageError, type RaftStorage, type StorageWrite } from './storage.ts';
import {
  applyPlanToLog,
  checkStoredState,
  copyEntry,
  copyHardState,
  copySnapshot,
  fail,
  isCount,
  planWrite,
  type StoredLogView,
  type WritePlan,
} from './write-rules.ts';

export interface StoredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Every stored entry in index order, including any kept behind the snapshot. */
  readonly entries: readonly Entry[];
}

export interface MemoryRaftStorageOptions {
  /** Start from this state (`durable()` of another instance: a reopen). Checked; copied. */
  readonly initial?: StoredState;
  /** How long a write stays in flight, in milliseconds (0: until the next macrotask). */
  readonly writeDelayMs?: number;
}

/** One copy of the stored data; the storage keeps two (durable, and durable + in flight). */
interface MemoryState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** log[i] has index first + i. */
  first: number;
  log: Entry[];
}

function viewOf(s: MemoryState): StoredLogView {
  return {
    hardState: s.hardState,
    snapshot: s.snapshot?.meta ?? null,
    firstIndex: s.first,
    lastIndex: s.first + s.log.length - 1,
    termAt: (index) => (s.log[index - s.first] as Entry).term,
  };
}

function applyPlan(s: MemoryState, plan: WritePlan): void {
  if (plan.snapshot !== null) s.snapshot = plan.snapshot;
  s.first = applyPlanToLog(s.log, s.first, plan, plan.entries);
  s.hardState = plan.hardState;
}

/** Entries, hard state and snapshot are never changed in place, so a shallow copy is a copy. */
function cloneState(s: MemoryState): MemoryState {
  return { hardState: s.hardState, snapshot: s.snapshot, first: s.first, log: s.log.slice() };
}

export class MemoryRaftStorage implements RaftStorage {
  private durableState: MemoryState;
  /** The durable state with every write in flight applied: what new writes are checked against. */
  private headState: MemoryState;
  /** Operations (writes, boots, close) issued and not yet done, in issue order. */
  private readonly inFlight: (() => void)[] = [];
  /** Bumped by a crash: completions scheduled before it are void. */
  private generation = 0;
  private closed = false;
  private readonly writeDelayMs: number;

  constructor(options: MemoryRaftStorageOptions = {}) {
    this.writeDelayMs = options.writeDelayMs ?? 0;
    if (!isCount(this.writeDelayMs)) throw new RangeError(`writeDelayMs ${this.writeDelayMs} is not a count of milliseconds`);
    const initial = options.initial;
    if (initial === undefined) {
      this.durableState = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, first: 1, log: [] };
    } else {
      checkStoredState(initial.hardState, initial.snapshot?.meta ?? null, initial.entries, 'initial state');
      if (initial.snapshot !== null && !(initial.snapshot.data instanceof Uint8Array)) fail('initial state: snapshot data is not a Uint8Array');
      const log = initial.entries.map(copyEntry);
      const snapIndex = initial.snapshot?.meta.index ?? 0;
      this.durableState = {
        hardState: copyHardState(initial.hardState),
        snapshot: initial.snapshot === null ? null : copySnapshot(initial.snapshot),
        first: log[0]?.index ?? snapIndex + 1,
        log,
      };
    }
    this.headState = cloneState(this.durableState);
  }

  /** The durable state, once every write issued before this call is durable. */
  boot(): Promise<BootState> {
    return this.enqueue(() => {
      const s = this.durableState;
      const snapIndex = s.snapshot?.meta.index ?? 0;
      const after = s.log.slice(Math.max(0, snapIndex + 1 - s.first));
      return {
        hardState: copyHardState(s.hardState),
        snapshot: s.snapshot === null ? null : copySnapshot(s.snapshot),
        entries: after.map(copyEntry),
      };
    });
  }

  write(write: StorageWrite): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('memory storage is closed'));
    let plan: WritePlan;
    try {
      plan = planWrite(viewOf(this.headState), write);
    } catch (e) {
      return Promise.reject(e instanceof StorageError ? e : new StorageError('write rejected', { cause: e }));
    }
    applyPlan(this.headState, plan);
    return this.enqueue(() => applyPlan(this.durableState, plan));
  }

  /** Resolves once every write issued before it is durable; the storage is unusable afterwards. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = this.enqueue(() => undefined);
    this.closed = true;
    return done;
  }

  /**
   * The process died: every write in flight is lost (its promise never settles) and what is
   * durable stays. The instance is usable again, as a restarted process would be: `boot()`
   * returns the durable state.
   */
  crash(): void {
    this.generation++;
    this.inFlight.length = 0;
    this.headState = cloneState(this.durableState);
    this.closed = false;
  }

  /** A copy of what is durable now. */
  durable(): StoredState {
    const s = this.durableState;
    return {
      hardState: copyHardState(s.hardState),
      snapshot: s.snapshot === null ? null : copySnapshot(s.snapshot),
      entries: s.log.map(copyEntry),
    };
  }

  /** Whether some write (or boot) has been issued and is not done. */
  hasInFlight(): boolean {
    return this.inFlight.length > 0;
  }

  /**
   * Run `op` on a later macrotask, after every operation issued before it. Each timer runs the
   * OLDEST operation in flight, so operations finish in issue order whatever the timers do.
   */
  private enqueue<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StorageError('memory storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.inFlight.push(() => {
        try {
          resolve(op());
        } catch (e) {
          reject(e);
        }
      });
      const generation = this.generation;
      setTimeout(() => {
        if (generation !== this.generation) return;
        this.inFlight.shift()?.();
      }, this.writeDelayMs);
    });
  }
}
