/**
 * Merging a delta into a large state, at a cost in proportion to the delta, and knowing whether
 * it brought news without encoding the state (Almeida, Shoker and Baquero 2018 §6: a causal
 * delta's effect is confined to the keys its store names and the dots its context names).
 *
 * The join of two dot maps (dot-store.ts `joinDotMap`) visits every key of both sides and builds
 * every inner store anew; for a 1,000-key map and a one-key delta that is 1,000 joins, and
 * deciding "news?" by encoding the result and comparing it with the old encoding costs as much
 * again. Here only the keys that can change are joined:
 *   1. a key the delta's store names (its inner stores join as usual);
 *   2. a key the delta's store does not name, but one of whose dots the delta's context holds:
 *      the delta's side saw that dot and dropped it (a remove, or a write that replaced it), so
 *      the join takes it out. A key with no dot in the delta's context joins with the empty
 *      store under that context and keeps every dot it has: it is unchanged, and not joined.
 * Finding the keys of 2 reads each key's dots once (a lookup per dot, no allocation); the joins,
 * the comparisons and the copy of the key map are the only work that allocates.
 *
 * News: the state changed iff some key's inner store changed (compared structurally: inner
 * stores are canonical, never holding empty parts) or the delta's context holds a dot ours does
 * not (`contextCovers`). Equal states encode alike (crdt-types.ts: encodings are canonical), so
 * this answers exactly what "encode the join, compare with the old encoding" answered; the
 * property test (test/core/crdt/merge-delta.test.ts) holds the two to the same answers.
 */
import { contextHas, joinContexts, type CausalContext, type Dot } from './causal-context.ts';
import type { Causal } from './dot-store.ts';
import { vectorCount } from './version-vector.ts';

/** What merging a delta (or any state) into a state gave. */
export interface MergeOutcome<S> {
  /** The join: equal to `merge(state, delta)`. */
  readonly state: S;
  /** Whether the join differs from the state (the delta held news). */
  readonly changed: boolean;
  /**
   * For keyed types (OR-Set elements, OR-Map field ids): the keys whose inner store changed
   * (added, changed, or gone), each once. Null for the other types, whose whole value is small.
   */
  readonly touched: readonly string[] | null;
}

/** What `mergeKeyedDelta` needs of the entries under each key of a dot map. */
export interface KeyedKind<E> {
  /** Every dot of the entry (nested ones too). */
  dots(entry: E): Iterable<Dot>;
  /** The join of one key's entries (undefined: absent on that side) under the two contexts; undefined when it is empty. */
  join(a: E | undefined, aContext: CausalContext, b: E | undefined, bContext: CausalContext): E | undefined;
}

/** Whether `a` has seen every dot `b` has seen (then their join is `a`). */
export function contextCovers(a: CausalContext, b: CausalContext): boolean {
  if (a === b) return true;
  // A context is compact: a's dot right after its vector is never in its cloud, so a vector of b
  // above a's names a dot a has not seen.
  for (const [replica, count] of b.vector) if (count > vectorCount(a.vector, replica)) return false;
  for (const [replica, seqs] of b.cloud) for (const seq of seqs) if (!contextHas(a, replica, seq)) return false;
  return true;
}

/** The join of dot-map states `a` and `b` (see the header), with the keys it changed. */
export function mergeKeyedDelta<E>(a: Causal<ReadonlyMap<string, E>>, b: Causal<ReadonlyMap<string, E>>, kind: KeyedKind<E>): MergeOutcome<Causal<ReadonlyMap<string, E>>> {
  const touched: string[] = [];
  let store: Map<string, E> | null = null;
  const consider = (key: string, mine: E | undefined, theirs: E | undefined): void => {
    const joined = kind.join(mine, a.context, theirs, b.context);
    if (joined === undefined ? mine === undefined : mine !== undefined && (joined === mine || deepEqual(joined, mine))) return;
    touched.push(key);
    store ??= new Map(a.store);
    if (joined === undefined) store.delete(key);
    else store.set(key, joined);
  };
  for (const [key, theirs] of b.store) consider(key, a.store.get(key), theirs);
  if (hasDots(b.context)) {
    for (const [key, mine] of a.store) {
      if (!b.store.has(key) && anyDotIn(kind.dots(mine), b.context)) consider(key, mine, undefined);
    }
  }
  const covered = contextCovers(a.context, b.context);
  if (store === null && covered) return { state: a, changed: false, touched };
  return { state: { store: store ?? a.store, context: covered ? a.context : joinContexts(a.context, b.context) }, changed: true, touched };
}

function hasDots(context: CausalContext): boolean {
  return context.vector.size > 0 || context.cloud.size > 0;
}

function anyDotIn(dots: Iterable<Dot>, context: CausalContext): boolean {
  for (const { replica, seq } of dots) if (contextHas(context, replica, seq)) return true;
  return false;
}

/**
 * Structural equality of two inner stores: maps by key (order ignored), arrays and plain
 * objects by their items and fields, scalars by `===` (registers hold no NaN, and store -0 as 0).
 * Inner stores hold nothing else.
 */
export function deepEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (x instanceof Map) {
    if (!(y instanceof Map) || x.size !== y.size) return false;
    for (const [key, value] of x) {
      if (!y.has(key) || !deepEqual(value, y.get(key))) return false;
    }
    return true;
  }
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  if (y instanceof Map || Array.isArray(y)) return false;
  const xKeys = Object.keys(x);
  if (xKeys.length !== Object.keys(y).length) return false;
  for (const key of xKeys) {
    if (!Object.hasOwn(y, key) || !deepEqual((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key])) return false;
  }
  return true;
}
