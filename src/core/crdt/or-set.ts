/**
 * OR-Set, add-wins (Shapiro et al. 2011, the Observed-Remove Set; as the add-wins δ-AWORSet of
 * Almeida et al. 2018): an element is in the set while some add of it has not been removed,
 * and a remove takes away only the adds it has seen. So an add concurrent with a remove of the
 * same element wins, which is what a user who just added something expects.
 *
 * The store is a dot map from element to the dots of its adds (dot-store.ts). An add mints a dot
 * and, in its delta's context, names the element's older dots, which it replaces: an element
 * keeps one dot, or one per add made concurrently with the others, however often it was re-added. A remove is
 * a delta with an empty store and a context naming the element's dots: once merged, those dots
 * are "seen and absent", recorded only as the context's per-replica counts. Nothing else is
 * kept: no tombstone per removed element (the original OR-Set kept one per add), which is why a
 * set that saw a million adds and removes stays the size of what it holds.
 *
 * Inside an OR-Map the set's dots come from the map's shared context (or-map.ts).
 */
import { err, ok, type Result } from '../result.ts';
import { contextEntries, contextOf, emptyContext, nextDot, type CausalContext, type Dot } from './causal-context.ts';
import { dotFunSize, dotSetKind, dotsOfFun, joinCausal, joinDotMap, joinDotSet, singleDot, type Causal, type DotSet, type StoreKind } from './dot-store.ts';
import { encodeCausal, pushDots, pushNothing, readCausal, readDotSetAt } from './dot-store-wire.ts';
import { keyBytesMax } from './limits.ts';
import { dotFunSeenBy, mergeKeyedDelta, type KeyedKind, type MergeOutcome } from './merge-delta.ts';
import type { ReplicaTable } from './replica-table.ts';
import { argumentRefusal, type CrdtRefusal } from './refusal.ts';
import { compareText, describeTextProblem, textProblem } from './text.ts';
import { assertReplicaId, type ReplicaId } from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

/** Element → the dots of its live adds (never empty). */
export type OrSetStore = ReadonlyMap<string, DotSet>;

export type OrSet = Causal<OrSetStore>;

const emptyStore: OrSetStore = new Map();
const empty: OrSet = { store: emptyStore, context: emptyContext() };

export function orSetEmpty(): OrSet {
  return empty;
}

function* storeDots(store: OrSetStore): Iterable<Dot> {
  for (const dots of store.values()) yield* dotsOfFun(dots);
}

export const orSetStoreKind: StoreKind<OrSetStore> = {
  empty: emptyStore,
  isEmpty: (store) => store.size === 0,
  join: (a, aContext, b, bContext) => joinDotMap(a, aContext, b, bContext, dotSetKind),
  dots: storeDots,
};

/** Why `key` cannot be a set element or map key, as a refusal, or null if it can. */
export function keyArgumentRefusal(key: unknown, path: string): CrdtRefusal | null {
  if (typeof key !== 'string') return argumentRefusal('CONFIG', 'text', path, `a ${typeof key}, not a string`);
  const problem = textProblem(key, keyBytesMax, true);
  if (problem === null) return null;
  return argumentRefusal(problem === 'too-long' ? 'TOO_LARGE' : 'CONFIG', 'text', path, describeTextProblem(problem, keyBytesMax));
}

/**
 * The delta of `replica` adding `element` to `state` (a set, or the store of one inside a map
 * with the map's context): the element with one new dot, under a context of that dot and the
 * element's older dots, which the add replaces.
 */
export function orSetAdd(state: Causal<OrSetStore>, replica: ReplicaId, element: string): Result<OrSet, CrdtRefusal> {
  assertReplicaId(replica);
  const refusal = keyArgumentRefusal(element, 'element');
  if (refusal !== null) return err(refusal);
  const minted = nextDot(state.context, replica);
  if (!minted.ok) return minted;
  const dot = minted.value;
  const older = state.store.get(element);
  const replaced = older === undefined ? [dot] : [...dotsOfFun(older), dot];
  return ok({ store: new Map([[element, singleDot<true>(dot, true)]]), context: contextOf(replaced) });
}

/**
 * The delta of removing `element`: no store, a context of the element's dots. Removing an element
 * that is absent is an empty delta (there is nothing observed to remove).
 */
export function orSetRemove(state: Causal<OrSetStore>, element: string): OrSet {
  const dots = state.store.get(element);
  return dots === undefined ? empty : { store: emptyStore, context: contextOf(dotsOfFun(dots)) };
}

/** The delta of removing every element the set shows now (adds not yet seen survive it). */
export function orSetClear(state: Causal<OrSetStore>): OrSet {
  return { store: emptyStore, context: contextOf(storeDots(state.store)) };
}

export function orSetHas(state: Causal<OrSetStore>, element: string): boolean {
  return state.store.has(element);
}

export function orSetMerge(a: OrSet, b: OrSet): OrSet {
  return joinCausal(a, b, orSetStoreKind);
}

const emptyDots: DotSet = new Map();
const elementKind: KeyedKind<DotSet> = {
  dots: dotsOfFun,
  seenBy: dotFunSeenBy,
  join: (a, aContext, b, bContext) => {
    const joined = joinDotSet(a ?? emptyDots, aContext, b ?? emptyDots, bContext);
    return joined.size === 0 ? undefined : joined;
  },
};

/** Whether `context` holds a dot of any element of `store`. */
export function orSetStoreSeenBy(store: OrSetStore, context: CausalContext): boolean {
  for (const dots of store.values()) if (dotFunSeenBy(dots, context)) return true;
  return false;
}

/** `orSetMerge`, at a cost in proportion to `delta`, with the elements whose dots changed (merge-delta.ts). */
export function orSetMergeDelta(state: OrSet, delta: OrSet, owned = false): MergeOutcome<OrSet> {
  return mergeKeyedDelta(state, delta, elementKind, owned);
}

/** The elements, sorted by code units. */
export function orSetStoreValue(store: OrSetStore): readonly string[] {
  return [...store.keys()].sort(compareText);
}

export function orSetValue(state: OrSet): readonly string[] {
  return orSetStoreValue(state.store);
}

/**
 * `[element, k, replica, seq, ... (k dots), element, k, ...]`, elements sorted: one flat list
 * (the count says where the next element starts), so an OR-Set inside nested maps adds one level
 * of nesting, not two.
 */
export function encodeOrSetStore(store: OrSetStore, table: ReplicaTable): WireValue {
  const out: WireValue[] = [];
  for (const [element, dots] of [...store].sort(([a], [b]) => compareText(a, b))) {
    out.push(element, dotFunSize(dots));
    pushDots(dots, table, out, pushNothing);
  }
  return out;
}

/** `[replicas, [element, k, replica, seq, ...], vector, cloud]` (dot-store-wire.ts). */
export function encodeOrSet(state: OrSet): WireValue {
  return encodeCausal(state, encodeOrSetStore);
}

/** A peer's set store: elements once each, each with at least one dot. */
export function readOrSetStore(reader: WireReader, value: unknown, path: string, table: ReplicaTable): OrSetStore {
  const items = reader.entries(value, path);
  const store = new Map<string, DotSet>();
  let i = 0;
  while (i < items.length) {
    const element = reader.key(items[i], `${path}[${i}]`);
    if (store.has(element)) reader.refuse('duplicate', `${path}[${i}]`, 'element listed twice');
    // The count is bounded by the items left, so it can never send the reader past the end.
    const dotsLeft = Math.floor((items.length - i - 2) / 2);
    if (dotsLeft < 1) reader.refuse('shape', `${path}[${i}]`, 'an element without dots at the end of the list');
    const count = reader.integer(items[i + 1], `${path}[${i + 1}]`, 1, dotsLeft);
    store.set(element, readDotSetAt(reader, items, i + 2, count, path, table));
    i += 2 + 2 * count;
  }
  return store;
}

export function readOrSet(reader: WireReader, value: unknown, path: string): OrSet {
  return readCausal(reader, value, path, (store, at, table) => readOrSetStore(reader, store, at, table), orSetStoreKind);
}

export function decodeOrSet(input: unknown): Result<OrSet, CrdtRefusal> {
  return readWire(input, (reader, value) => readOrSet(reader, value, 'state'));
}

/** The entries the store costs in decode: two items per element and two per dot. */
export function orSetStoreEntries(store: OrSetStore): number {
  let entries = 2 * store.size;
  for (const dots of store.values()) entries += 2 * dotFunSize(dots);
  return entries;
}

export function orSetEntries(state: OrSet): number {
  return orSetStoreEntries(state.store) + contextEntries(state.context);
}
