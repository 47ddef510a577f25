/**
 * The rules every storage adapter enforces: what a valid `StorageWrite` is, given what is
 * stored (`planWrite`), and what a valid stored state is (`checkStoredState`). The memory and
 * IndexedDB adapters check with these same functions, so they cannot disagree about what a
 * write means. A write that breaks them is rejected with `StorageError` and changes nothing.
 */
import type { ConfState, Entry, HardState, Snapshot, SnapshotMeta } from '../../core/raft/types.ts';
import { StorageError, type StorageWrite } from './storage.ts';

/** What the rules need to know about the stored log: its bounds and terms, not its bytes. */
export interface StoredLogView {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta | null;
  /** The index of the first stored entry; `lastIndex + 1` when none is stored. */
  readonly firstIndex: number;
  /** The index of the last stored entry; the snapshot's index (or 0) when none is stored. */
  readonly lastIndex: number;
  /** The term of the stored entry at `index`, for `firstIndex <= index <= lastIndex`. */
  termAt(index: number): number;
}

/**
 * A write that passed the rules, as the steps an adapter performs, in this order: replace the
 * snapshot, drop entries (`clearLog` or `dropThrough`), delete the entries at or after
 * `entries[0].index`, store `entries`, store `hardState`. Bytes are copies the caller cannot
 * change any more.
 */
export interface WritePlan {
  readonly hardState: HardState;
  /** The snapshot to store in place of the current one; null keeps the current one. */
  readonly snapshot: Snapshot | null;
  /** Delete every stored entry (a leader's snapshot replaced the log). */
  readonly clearLog: boolean;
  /** Delete the stored entries at or below this index (a local snapshot covers them); 0: none. */
  readonly dropThrough: number;
  readonly entries: readonly Entry[];
  /** The stored log's bounds once the write is done (`StoredLogView`'s meaning). */
  readonly firstIndex: number;
  readonly lastIndex: number;
}

const entryKinds: ReadonlySet<string> = new Set(['normal', 'empty', 'config']);

export function fail(message: string): never {
  throw new StorageError(message);
}

export function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isIndex(n: unknown): n is number {
  return isCount(n) && n >= 1;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** A node id: a non-empty string. */
function isNodeId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

export function checkConfState(config: unknown, what: string): asserts config is ConfState {
  if (!isRecord(config)) fail(`${what}: configuration is not an object`);
  const { voters, learners } = config;
  if (!Array.isArray(voters) || !voters.every(isNodeId)) fail(`${what}: voters are not a list of node ids`);
  if (!Array.isArray(learners) || !learners.every(isNodeId)) fail(`${what}: learners are not a list of node ids`);
}

export function checkHardState(hs: unknown, what: string): asserts hs is HardState {
  if (!isRecord(hs)) fail(`${what}: hard state is not an object`);
  if (!isCount(hs.term)) fail(`${what}: hard state term ${String(hs.term)} is not a count`);
  if (!isCount(hs.commit)) fail(`${what}: hard state commit ${String(hs.commit)} is not a count`);
  if (hs.vote !== null && !isNodeId(hs.vote)) fail(`${what}: hard state vote is neither null nor a node id`);
  if (hs.vote !== null && hs.term === 0) fail(`${what}: a vote in term 0`);
}

export function checkSnapshotMeta(meta: unknown, what: string): asserts meta is SnapshotMeta {
  if (!isRecord(meta)) fail(`${what}: snapshot metadata is not an object`);
  if (!isIndex(meta.index)) fail(`${what}: snapshot index ${String(meta.index)} is not an index`);
  if (!isIndex(meta.term)) fail(`${what}: snapshot term ${String(meta.term)} is not a term`);
  checkConfState(meta.config, `${what}: snapshot at ${meta.index}`);
}

export function checkEntry(e: unknown, what: string): asserts e is Entry {
  if (!isRecord(e)) fail(`${what}: entry is not an object`);
  if (!isIndex(e.index)) fail(`${what}: entry index ${String(e.index)} is not an index`);
  if (!isIndex(e.term)) fail(`${what}: entry ${e.index} has term ${String(e.term)}, not a term`);
  if (typeof e.kind !== 'string' || !entryKinds.has(e.kind)) fail(`${what}: entry ${e.index} has kind ${String(e.kind)}`);
  if (!(e.data instanceof Uint8Array)) fail(`${what}: entry ${e.index} data is not a Uint8Array`);
  if (e.kind === 'config') checkConfState(e.config, `${what}: config entry ${e.index}`);
  else if (e.config !== undefined) fail(`${what}: ${e.kind} entry ${e.index} carries a configuration`);
}

/** Entries in one batch: well formed, indices contiguous, terms never decreasing. */
function checkRun(entries: readonly unknown[], what: string): asserts entries is readonly Entry[] {
  let prev: Entry | undefined;
  for (const e of entries) {
    checkEntry(e, what);
    if (prev !== undefined && e.index !== prev.index + 1) fail(`${what}: entry ${e.index} follows entry ${prev.index}`);
    if (prev !== undefined && e.term < prev.term) fail(`${what}: entry ${e.index} has term ${e.term}, below ${prev.term} before it`);
    prev = e;
  }
}

function checkWriteShape(write: StorageWrite): void {
  if (!isRecord(write)) fail('write is not an object');
  if (write.hardState !== null) checkHardState(write.hardState, 'write');
  if (write.snapshot !== null) {
    if (!isRecord(write.snapshot)) fail('write: snapshot is not an object');
    checkSnapshotMeta(write.snapshot.meta, 'write');
    if (!(write.snapshot.data instanceof Uint8Array)) fail('write: snapshot data is not a Uint8Array');
  }
  if (typeof write.clearLog !== 'boolean') fail('write: clearLog is not a boolean');
  if (!isCount(write.compactTo)) fail(`write: compactTo ${String(write.compactTo)} is not a count`);
  if (!Array.isArray(write.entries)) fail('write: entries is not a list');
  checkRun(write.entries, 'write');
}

/**
 * Term and vote never go back (a node that forgot its vote could vote twice in one term, Raft
 * paper Figure 2), and neither does the commit index.
 */
function checkHardStateStep(before: HardState, after: HardState): void {
  if (after.term < before.term) fail(`hard state term ${after.term} is below the stored ${before.term}`);
  if (after.term === before.term && before.vote !== null && after.vote !== before.vote) {
    fail(`the vote in term ${after.term} changes from ${before.vote} to ${String(after.vote)}`);
  }
  if (after.commit < before.commit) fail(`commit ${after.commit} is below the stored ${before.commit}`);
}

/**
 * Check `write` against what is stored and say what to do, or throw `StorageError` (nothing is
 * done then). The write's parts apply in the order `StorageWrite` documents: `clearLog` (only
 * with the leader's `snapshot` that replaces the log), the snapshot, `compactTo`, `entries`,
 * `hardState`; the rules are stated on that sequence:
 *
 * - the hard state's term and vote never go back, nor its commit index;
 * - a snapshot is newer than the stored one, ends at or below the commit index (it holds
 *   committed entries only), and, made locally (no `clearLog`), ends on a stored entry with its
 *   term; a leader's snapshot never replaces a log committed beyond it;
 * - `compactTo` drops only what the snapshot covers;
 * - entries are well formed, contiguous, with terms that never decrease (within the write and
 *   from the entry before them) and never exceed the current term; they start after the
 *   snapshot and no later than just after the stored log; they may replace a stored suffix, but
 *   never a committed entry with one of another term (committed entries are final, Raft §5.4);
 * - afterwards the log reaches the commit index.
 */
export function planWrite(view: StoredLogView, write: StorageWrite): WritePlan {
  checkWriteShape(write);
  const before = view.hardState;
  const hardState = write.hardState === null ? before : copyHardState(write.hardState);
  if (write.hardState !== null) checkHardStateStep(before, hardState);
  let snapIndex = view.snapshot?.index ?? 0;
  let snapTerm = view.snapshot?.term ?? 0;
  let first = view.firstIndex;
  let last = view.lastIndex;

  const snap = write.snapshot;
  if (write.clearLog && snap === null) fail('clearLog without a snapshot would drop entries nothing replaces');
  if (snap !== null) {
    const { index, term } = snap.meta;
    if (index <= snapIndex) fail(`snapshot at ${index} is not newer than the stored one at ${snapIndex}`);
    if (term < snapTerm) fail(`snapshot term ${term} is below the stored snapshot's ${snapTerm}`);
    if (term > hardState.term) fail(`snapshot term ${term} is above the current term ${hardState.term}`);
    if (index > hardState.commit) fail(`snapshot at ${index} is beyond the commit index ${hardState.commit}`);
    if (write.clearLog) {
      if (index < before.commit) fail(`a leader's snapshot at ${index} would replace a log committed to ${before.commit}`);
      first = index + 1;
      last = index;
    } else {
      // index > snapIndex >= firstIndex - 1, so the entry is stored when index <= lastIndex.
      if (index > last) fail(`local snapshot at ${index} is beyond the stored log, which ends at ${last}`);
      const stored = view.termAt(index);
      if (stored !== term) fail(`local snapshot at ${index} has term ${term}, the stored entry there ${stored}`);
    }
    snapIndex = index;
    snapTerm = term;
  }

  if (write.compactTo > snapIndex) fail(`compactTo ${write.compactTo} is beyond the snapshot at ${snapIndex}`);
  const dropThrough = !write.clearLog && write.compactTo >= first ? write.compactTo : 0;
  first = Math.max(first, write.compactTo + 1);

  const e0 = write.entries[0];
  const eLast = write.entries[write.entries.length - 1];
  if (e0 !== undefined && eLast !== undefined) {
    if (e0.index <= snapIndex) fail(`entries from ${e0.index} overlap the snapshot at ${snapIndex}`);
    if (e0.index > last + 1) fail(`entries from ${e0.index} leave a gap after the stored log, which ends at ${last}`);
    // The entry before the first new one is stored (and unchanged), or is the snapshot's last.
    const prev = e0.index - 1;
    const prevTerm = prev >= first ? view.termAt(prev) : snapTerm;
    if (e0.term < prevTerm) fail(`entry ${e0.index} has term ${e0.term}, below the term ${prevTerm} before it`);
    if (eLast.term > hardState.term) fail(`entry ${eLast.index} has term ${eLast.term}, above the current term ${hardState.term}`);
    if (!write.clearLog) {
      const hi = Math.min(view.lastIndex, before.commit, eLast.index);
      for (let i = e0.index; i <= hi; i++) {
        const replacement = write.entries[i - e0.index] as Entry;
        if (view.termAt(i) !== replacement.term) fail(`entry ${i} is committed and would be replaced by one of term ${replacement.term}`);
      }
    }
    last = eLast.index;
  }
  if (hardState.commit > last) fail(`commit ${hardState.commit} is beyond the stored log, which would end at ${last}`);

  return {
    hardState,
    snapshot: snap === null ? null : copySnapshot(snap),
    clearLog: write.clearLog,
    dropThrough,
    entries: write.entries.map(copyEntry),
    firstIndex: first,
    lastIndex: last,
  };
}

/**
 * Carry out `plan` on an array that mirrors the stored log (`log[i]` is the entry, or whatever
 * the adapter keeps of it, at index `first + i`): the same steps a store performs. Returns the
 * new `first`; `log` is changed in place.
 */
export function applyPlanToLog<T>(log: T[], first: number, plan: WritePlan, items: readonly T[]): number {
  if (plan.clearLog) log.length = 0;
  else if (plan.dropThrough >= first) log.splice(0, plan.dropThrough - first + 1);
  const e0 = plan.entries[0];
  if (e0 !== undefined) {
    log.length = e0.index - plan.firstIndex;
    for (const item of items) log.push(item);
  }
  return plan.firstIndex;
}

/**
 * Check a stored state (as loaded, or given to start from): hard state, snapshot metadata and
 * every stored entry, in index order. Throws `StorageError` saying what is wrong; `what` names
 * the store in the message.
 */
export function checkStoredState(hardState: unknown, snapshot: unknown, entries: readonly unknown[], what: string): void {
  checkHardState(hardState, what);
  if (snapshot !== null) checkSnapshotMeta(snapshot, what);
  checkRun(entries, what);
  const meta = snapshot as SnapshotMeta | null;
  const snapIndex = meta?.index ?? 0;
  const snapTerm = meta?.term ?? 0;
  const e0 = entries[0];
  const eLast = entries[entries.length - 1];
  let last = snapIndex;
  if (e0 !== undefined && eLast !== undefined) {
    if (e0.index > snapIndex + 1) fail(`${what}: the log starts at ${e0.index}, after a gap behind the snapshot at ${snapIndex}`);
    if (eLast.index < snapIndex) fail(`${what}: the log ends at ${eLast.index}, short of the snapshot at ${snapIndex}`);
    const atSnap = entries[snapIndex - e0.index];
    if (atSnap !== undefined && atSnap.term !== snapTerm) fail(`${what}: entry ${snapIndex} has term ${atSnap.term}, the snapshot ${snapTerm}`);
    if (e0.index === snapIndex + 1 && e0.term < snapTerm) fail(`${what}: entry ${e0.index} has term ${e0.term}, below the snapshot's ${snapTerm}`);
    if (eLast.term > hardState.term) fail(`${what}: entry ${eLast.index} has term ${eLast.term}, above the current term ${hardState.term}`);
    last = eLast.index;
  }
  if (snapTerm > hardState.term) fail(`${what}: snapshot term ${snapTerm} is above the current term ${hardState.term}`);
  if (snapIndex > hardState.commit) fail(`${what}: snapshot at ${snapIndex} is beyond the commit index ${hardState.commit}`);
  if (hardState.commit > last) fail(`${what}: commit ${hardState.commit} is beyond the stored log, which ends at ${last}`);
}

// ---- copies ----------------------------------------------------------------------------------

/**
 * The bytes of `data` in a buffer of their own. A `Uint8Array` is often a view into a larger
 * buffer (a decoded network frame); storing the view would keep (or, in IndexedDB, store) the
 * whole buffer, and the caller could change it later.
 */
export function ownBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

export function copyConfState(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

export function copyHardState(hs: HardState): HardState {
  return { term: hs.term, vote: hs.vote, commit: hs.commit };
}

export function copySnapshotMeta(m: SnapshotMeta): SnapshotMeta {
  return { index: m.index, term: m.term, config: copyConfState(m.config) };
}

export function copySnapshot(s: Snapshot): Snapshot {
  return { meta: copySnapshotMeta(s.meta), data: ownBytes(s.data) };
}

export function copyEntry(e: Entry): Entry {
  const base = { index: e.index, term: e.term, kind: e.kind, data: ownBytes(e.data) };
  return e.config === undefined ? base : { ...base, config: copyConfState(e.config) };
}

// ---- MemoryRaftStorage -----------------------------------------------------------------------

/** Everything a storage holds: `durable()`'s answer, and a state to start from. */
