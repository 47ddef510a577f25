/**
 * The encoded form of dot stores and causal states, and the validation of a peer's
 * (Almeida et al. 2018 §6 gives the states; their form on the wire is ours).
 *
 * A causal state travels as `[replicas, store, vector, cloud]`: the replica table
 * (replica-table.ts), the store, and its causal context as two flat lists. Dots are flat too:
 * `[replica, seq, ...value]` groups of a fixed stride in one list, never a list per dot, so that
 * a state nests few arrays deep (limits.ts, `wireDepthMax`) and costs few bytes. Everything is
 * sorted (replicas by id, then seqs), so equal states encode to equal values.
 *
 * The table holds exactly the replicas the context names: every dot of a store is in its
 * context (`checkCovered`), so its replica is there too.
 */
import { contextHas, contextReplicas, encodeContextParts, readContextParts, type CausalContext, type Dot } from './causal-context.ts';
import type { Causal, DotFun, DotSet, StoreKind } from './dot-store.ts';
import { countMax } from './limits.ts';
import { readReplicaRef, readReplicaTable, replicaIndex, replicaTable, type ReplicaTable } from './replica-table.ts';
import { compareText } from './text.ts';
import type { ReplicaId } from './version-vector.ts';
import type { WireReader, WireValue } from './wire-reader.ts';

/** Appends the dots of `store` to `out` as `replica, seq, ...value` groups, sorted. */
export function pushDots<V>(store: DotFun<V>, table: ReplicaTable, out: WireValue[], pushValue: (value: V, out: WireValue[]) => void): void {
  // Most stores hold one replica with one dot (a register, a counter, a set element): no sorting,
  // no copies; a state's encoding runs this for every key (a 1,000-key map: 1,000 times).
  const replicas = store.size === 1 ? store : [...store].sort(([a], [b]) => compareText(a, b));
  for (const [replica, seqs] of replicas) {
    const index = replicaIndex(table, replica);
    for (const [seq, value] of seqs.size === 1 ? seqs : [...seqs].sort(([x], [y]) => x - y)) {
      out.push(index, seq);
      pushValue(value, out);
    }
  }
}

/** A dot function as one flat list of `replica, seq, ...value` groups. */
export function encodeDotFun<V>(store: DotFun<V>, table: ReplicaTable, pushValue: (value: V, out: WireValue[]) => void): WireValue {
  const out: WireValue[] = [];
  pushDots(store, table, out, pushValue);
  return out;
}

export function pushNothing(): void {}

/**
 * Reads `count` dots from `items` starting at `start`, each `stride` items (replica, seq, then
 * `stride − 2` items that `readValue` reads at the offset it is given, knowing the dot's replica).
 * A dot twice is refused.
 */
export function readDots<V>(
  reader: WireReader,
  items: readonly unknown[],
  start: number,
  count: number,
  stride: number,
  path: string,
  table: ReplicaTable,
  readValue: (items: readonly unknown[], offset: number, path: string, replica: ReplicaId) => V,
): DotFun<V> {
  const store = new Map<ReplicaId, Map<number, V>>();
  for (let d = 0; d < count; d++) {
    const at = start + d * stride;
    const replica = readReplicaRef(reader, table, items[at], `${path}[${at}]`);
    const seq = reader.integer(items[at + 1], `${path}[${at + 1}]`, 1, countMax);
    let seqs = store.get(replica);
    if (seqs === undefined) store.set(replica, (seqs = new Map()));
    if (seqs.has(seq)) reader.refuse('duplicate', `${path}[${at}]`, `dot ${seq} of ${replica} listed twice`);
    seqs.set(seq, readValue(items, at + 2, path, replica));
  }
  return store;
}

/** A peer's dot function: one flat list of groups of `stride`. */
export function readDotFun<V>(
  reader: WireReader,
  value: unknown,
  path: string,
  table: ReplicaTable,
  stride: number,
  readValue: (items: readonly unknown[], offset: number, path: string, replica: ReplicaId) => V,
): DotFun<V> {
  const items = reader.groups(value, path, stride);
  return readDots(reader, items, 0, items.length / stride, stride, path, table, readValue);
}

export function readNothing(): true {
  return true;
}

/** The dots of a dot set, for a caller that embeds them in a list of its own. */
export function readDotSetAt(reader: WireReader, items: readonly unknown[], start: number, count: number, path: string, table: ReplicaTable): DotSet {
  return readDots(reader, items, start, count, 2, path, table, readNothing);
}

/**
 * Refuses a store holding a dot its context has not seen. Every state a replica builds has
 * dots(store) ⊆ context (each mutation's delta carries its dot in its context, §6). A dot outside
 * the context breaks the naming of events: `nextDot` counts from the context, so its replica could
 * mint that dot again for another event, and a remove that observed one would erase the other.
 */
export function checkCovered(reader: WireReader, dots: Iterable<Dot>, context: CausalContext, path: string): void {
  for (const { replica, seq } of dots) {
    if (!contextHas(context, replica, seq)) reader.refuse('inconsistent', path, `dot ${seq} of ${replica} is not in the state's context`);
  }
}

/** `[replicas, store, vector, cloud]`. */
export function encodeCausal<S>(state: Causal<S>, encodeStore: (store: S, table: ReplicaTable) => WireValue): WireValue {
  const table = replicaTable(contextReplicas(state.context));
  return [[...table.ids], encodeStore(state.store, table), ...encodeContextParts(state.context, table)];
}

/** A peer's causal state, refused if its store holds a dot its context has not seen. */
export function readCausal<S>(
  reader: WireReader,
  value: unknown,
  path: string,
  readStore: (value: unknown, path: string, table: ReplicaTable) => S,
  kind: StoreKind<S>,
): Causal<S> {
  const [tableValue, storeValue, vectorValue, cloudValue] = reader.tuple(value, path, 4);
  const table = readReplicaTable(reader, tableValue, `${path}[0]`);
  const context = readContextParts(reader, vectorValue, cloudValue, path, table);
  const store = readStore(storeValue, `${path}[1]`, table);
  checkCovered(reader, kind.dots(store), context, `${path}[1]`);
  return { store, context };
}
