/**
 * Dot stores and their join: the one merge rule every causal type in this folder is built from
 * (Almeida, Shoker and Baquero 2018, §6, "causal δ-CRDTs").
 *
 * A causal state is a pair (store, context): the store holds the dots whose effect is still
 * visible, the context every dot ever seen (causal-context.ts). Joining two states keeps a dot
 * when both stores hold it, or when one store holds it and the other's context has NOT seen it
 * (it is new to the other side); a dot one side holds and the other has seen but dropped was
 * removed or overwritten, and stays dropped. That single rule gives add-wins sets, multi-value
 * registers and maps with reset-on-remove, and needs no tombstones: "seen but absent" is the
 * tombstone, and the context stores it in one counter per replica.
 *
 * Three shapes of store (§6): a dot set (`DotSet`, an OR-Set element's dots), a dot function
 * (`DotFun<V>`, dot → value: registers and causal counters), and a dot map (key → store: the
 * OR-Set itself and the OR-Map). A store never holds an empty inner part: an element with no dots
 * or a field with an empty store is absent, so one state has one representation.
 */
import { contextHas, joinContexts, type CausalContext, type Dot } from './causal-context.ts';
import type { ReplicaId } from './version-vector.ts';

/** Dot → value, grouped by replica (replica → seq → value); inner maps never empty. */
export type DotFun<V> = ReadonlyMap<ReplicaId, ReadonlyMap<number, V>>;

/** A set of dots: a dot function whose values carry nothing. */
export type DotSet = DotFun<true>;

/** A store with the context it was built under: a whole state or a delta. */
export interface Causal<S> {
  readonly store: S;
  readonly context: CausalContext;
}

/**
 * What the OR-Map needs of a store it embeds (§7): its empty value, whether a store is empty,
 * the join under two contexts, and its dots (a remove is a delta whose context is those dots).
 */
export interface StoreKind<S> {
  readonly empty: S;
  isEmpty(store: S): boolean;
  join(a: S, aContext: CausalContext, b: S, bContext: CausalContext): S;
  dots(store: S): Iterable<Dot>;
}

const emptyFun: DotFun<never> = new Map();

export function emptyDotFun<V>(): DotFun<V> {
  return emptyFun;
}

/** A dot function of one dot. */
export function singleDot<V>(dot: Dot, value: V): DotFun<V> {
  return new Map([[dot.replica, new Map([[dot.seq, value]])]]);
}

export function* dotsOfFun<V>(store: DotFun<V>): Iterable<Dot> {
  for (const [replica, seqs] of store) for (const seq of seqs.keys()) yield { replica, seq };
}

export function dotFunSize<V>(store: DotFun<V>): number {
  let size = 0;
  for (const seqs of store.values()) size += seqs.size;
  return size;
}

/** Entries the store costs in decode: one per replica group and one per dot. */
export function dotFunEntries<V>(store: DotFun<V>): number {
  return store.size + dotFunSize(store);
}

/**
 * The join of two dot functions (§6): a dot in both keeps the join of its values (one dot names
 * one event, so honest values are equal; `joinValue` keeps the merge a semilattice even for a
 * peer that sent two values under one dot); a dot in one keeps its value unless the other side's
 * context has seen it, in which case the other side dropped it on purpose.
 */
export function joinDotFun<V>(
  a: DotFun<V>,
  aContext: CausalContext,
  b: DotFun<V>,
  bContext: CausalContext,
  joinValue: (x: V, y: V) => V,
): DotFun<V> {
  const joined = new Map<ReplicaId, ReadonlyMap<number, V>>();
  for (const [replica, aSeqs] of a) {
    const bSeqs = b.get(replica);
    const kept = new Map<number, V>();
    for (const [seq, value] of aSeqs) {
      const other = bSeqs?.get(seq);
      if (other !== undefined) kept.set(seq, joinValue(value, other));
      else if (!contextHas(bContext, replica, seq)) kept.set(seq, value);
    }
    if (bSeqs !== undefined) {
      for (const [seq, value] of bSeqs) {
        if (!aSeqs.has(seq) && !contextHas(aContext, replica, seq)) kept.set(seq, value);
      }
    }
    if (kept.size > 0) joined.set(replica, kept);
  }
  for (const [replica, bSeqs] of b) {
    if (a.has(replica)) continue;
    const kept = new Map<number, V>();
    for (const [seq, value] of bSeqs) if (!contextHas(aContext, replica, seq)) kept.set(seq, value);
    if (kept.size > 0) joined.set(replica, kept);
  }
  return joined;
}

/** A dot set's join: a dot function's, with nothing to join in the values. */
export function joinDotSet(a: DotSet, aContext: CausalContext, b: DotSet, bContext: CausalContext): DotSet {
  return joinDotFun(a, aContext, b, bContext, keepTrue);
}

function keepTrue(): true {
  return true;
}

/**
 * The join of two dot maps (§6): each key's stores joined under the two whole contexts (the
 * contexts are shared by every key: that is what lets a remove of a key reach the dots of the
 * store inside it), and keys whose joined store is empty dropped.
 */
export function joinDotMap<K, S>(
  a: ReadonlyMap<K, S>,
  aContext: CausalContext,
  b: ReadonlyMap<K, S>,
  bContext: CausalContext,
  kind: StoreKind<S>,
): ReadonlyMap<K, S> {
  const joined = new Map<K, S>();
  for (const [key, aStore] of a) {
    const store = kind.join(aStore, aContext, b.get(key) ?? kind.empty, bContext);
    if (!kind.isEmpty(store)) joined.set(key, store);
  }
  for (const [key, bStore] of b) {
    if (a.has(key)) continue;
    const store = kind.join(kind.empty, aContext, bStore, bContext);
    if (!kind.isEmpty(store)) joined.set(key, store);
  }
  return joined;
}

/** The dot set kind, for dot maps of dot sets (the OR-Set). */
export const dotSetKind: StoreKind<DotSet> = {
  empty: emptyFun,
  isEmpty: (store) => store.size === 0,
  join: (a, aContext, b, bContext) => joinDotSet(a, aContext, b, bContext),
  dots: dotsOfFun,
};

/** The join of two causal states (§6): the stores under their contexts, and the contexts. */
export function joinCausal<S>(a: Causal<S>, b: Causal<S>, kind: StoreKind<S>): Causal<S> {
  return { store: kind.join(a.store, a.context, b.store, b.context), context: joinContexts(a.context, b.context) };
}
