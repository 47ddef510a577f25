/**
 * The causal context of a causal CRDT: the set of every event (dot) a state has seen, whether the
 * event's effect is still in the state or was since overwritten or removed (Almeida, Shoker and
 * Baquero, "Delta State Replicated Data Types", 2018, §5 and the `ccontext` of their §6).
 *
 * A dot `(replica, seq)` names the seq-th event of a replica. Seen dots are kept as a compact
 * version vector (every dot up to vector[r] is seen) plus a "dot cloud" of dots seen beyond a gap.
 * Gaps are normal with deltas: a delta carrying dot (a, 7) may arrive before the one carrying
 * (a, 6), and the context must say "7 seen, 6 not" or a removal would be misread. Once the gap
 * fills, `compact` folds the cloud back into the vector, so a context costs one entry per replica
 * in the steady state: this is what lets removes leave no tombstones (a removed element's dots
 * are simply "seen and absent"), and what makes the context a dotted version vector in the sense
 * of Preguiça et al. (2012) wherever the cloud is empty.
 *
 * Contexts are immutable and always compact: per replica the cloud is sorted, free of repeats,
 * and starts above vector[r] + 1. Compact form is canonical, so equal contexts encode alike.
 */
import { err, ok, type Result } from '../result.ts';
import { countMax, replicasPerVectorMax } from './limits.ts';
import { argumentRefusal, type CrdtRefusal } from './refusal.ts';
import { compareText } from './text.ts';
import { readReplicaRef, readReplicaTable, replicaIndex, replicaTable, type ReplicaTable } from './replica-table.ts';
import { emptyVector, mergeVectors, vectorCount, type ReplicaId, type VersionVector } from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

/** The seq-th event of `replica` (seq from 1). */
export interface Dot {
  readonly replica: ReplicaId;
  readonly seq: number;
}

export interface CausalContext {
  /** Every dot (r, s) with s ≤ vector[r] is seen. */
  readonly vector: VersionVector;
  /** Dots seen beyond a gap: per replica ascending, no repeats, each above vector[r] + 1. */
  readonly cloud: ReadonlyMap<ReplicaId, readonly number[]>;
}

const emptyCloud: ReadonlyMap<ReplicaId, readonly number[]> = new Map();
const empty: CausalContext = { vector: emptyVector(), cloud: emptyCloud };

export function emptyContext(): CausalContext {
  return empty;
}

export function contextHas(context: CausalContext, replica: ReplicaId, seq: number): boolean {
  if (seq <= vectorCount(context.vector, replica)) return true;
  const seqs = context.cloud.get(replica);
  return seqs !== undefined && binarySearch(seqs, seq);
}

/**
 * The dot for `replica`'s next event: one past every dot of it the context has seen. Every dot a
 * replica mints is in its own context from then on (each mutation's delta carries its dot), so
 * its dots are unique as long as it keeps its state: a replica that loses its state must come
 * back under a new id, or it would mint dots its peers already hold (the gossip engine's
 * incarnations give it one).
 *
 * Refused, not asserted, past `countMax`: a peer's valid state may name dots of this replica up
 * to countMax (it can claim any count for any replica), and input from a peer must never stop a
 * node. The replica's mutations of that state are refused from then on; a new id starts afresh.
 */
export function nextDot(context: CausalContext, replica: ReplicaId): Result<Dot, CrdtRefusal> {
  const seqs = context.cloud.get(replica);
  const last = seqs === undefined ? vectorCount(context.vector, replica) : (seqs[seqs.length - 1] as number);
  if (last >= countMax) return err(argumentRefusal('TOO_LARGE', 'overflow', 'replica', `${replica} has no dots left below countMax`));
  return ok({ replica, seq: last + 1 });
}

/** The smallest context holding `dots`. */
export function contextOf(dots: Iterable<Dot>): CausalContext {
  return contextWithDots(empty, dots);
}

/** `context` with `dots` added, compacted. */
export function contextWithDots(context: CausalContext, dots: Iterable<Dot>): CausalContext {
  const pending = new Map<ReplicaId, number[]>();
  for (const { replica, seq } of dots) {
    if (contextHas(context, replica, seq)) continue;
    let seqs = pending.get(replica);
    if (seqs === undefined) pending.set(replica, (seqs = [...(context.cloud.get(replica) ?? [])]));
    seqs.push(seq);
  }
  return pending.size === 0 ? context : compact(context.vector, context.cloud, pending);
}

/** The least upper bound of two contexts: every dot either has seen. */
export function joinContexts(a: CausalContext, b: CausalContext): CausalContext {
  if (a === b || (b.cloud.size === 0 && b.vector.size === 0)) return a;
  if (a.cloud.size === 0 && a.vector.size === 0) return b;
  const vector = mergeVectors(a.vector, b.vector);
  const pending = new Map<ReplicaId, number[]>();
  for (const cloud of [a.cloud, b.cloud]) {
    for (const [replica, seqs] of cloud) {
      const into = pending.get(replica);
      if (into === undefined) pending.set(replica, [...seqs]);
      else into.push(...seqs);
    }
  }
  return compact(vector, emptyCloud, pending);
}

/**
 * Folds the dots of `pending` (replacing `cloud`'s entries for the same replicas) into `vector`:
 * per replica, sorted, every dot up to the vector is dropped, each dot right after it advances
 * it, and the rest stays in the cloud. One sweep per replica suffices, since after the first gap
 * nothing can advance the vector further.
 */
function compact(
  vector: VersionVector,
  cloud: ReadonlyMap<ReplicaId, readonly number[]>,
  pending: ReadonlyMap<ReplicaId, number[]>,
): CausalContext {
  if (pending.size === 0) return { vector, cloud };
  const nextVector = new Map(vector);
  const nextCloud = new Map(cloud);
  for (const [replica, seqs] of pending) {
    seqs.sort((x, y) => x - y);
    let base = vectorCount(vector, replica);
    const rest: number[] = [];
    for (const seq of seqs) {
      if (seq <= base || seq === rest[rest.length - 1]) continue;
      if (seq === base + 1) base = seq;
      else rest.push(seq);
    }
    if (base > 0) nextVector.set(replica, base);
    if (rest.length === 0) nextCloud.delete(replica);
    else nextCloud.set(replica, rest);
  }
  return { vector: nextVector, cloud: nextCloud };
}

/**
 * At least the entries the context costs in decode: its replicas in the table (at most one per
 * vector and per cloud replica), one per vector entry, one per cloud dot.
 */
export function contextEntries(context: CausalContext): number {
  let entries = 2 * context.vector.size + context.cloud.size;
  for (const seqs of context.cloud.values()) entries += seqs.length;
  return entries;
}

/** The replicas the context names (for a replica table). */
export function* contextReplicas(context: CausalContext): Iterable<ReplicaId> {
  yield* context.vector.keys();
  yield* context.cloud.keys();
}

/**
 * The context as two flat lists naming replicas by their index in `table` (which must hold
 * them): the vector `[replica, count, ...]` and the cloud `[replica, seq, ...]`, by index then seq.
 */
export function encodeContextParts(context: CausalContext, table: ReplicaTable): [WireValue, WireValue] {
  const vector: WireValue[] = [];
  for (const [replica, count] of [...context.vector].sort(([a], [b]) => compareText(a, b))) vector.push(replicaIndex(table, replica), count);
  const cloud: WireValue[] = [];
  for (const [replica, seqs] of [...context.cloud].sort(([a], [b]) => compareText(a, b))) {
    for (const seq of seqs) cloud.push(replicaIndex(table, replica), seq);
  }
  return [vector, cloud];
}

/**
 * A peer's context parts. Every vector entry and cloud dot is an entry of the budget; the result
 * is compacted, so a cloud naming dots the vector already covers (or one dot twice) is accepted,
 * since it means the same, but not kept.
 */
export function readContextParts(reader: WireReader, vectorValue: unknown, cloudValue: unknown, path: string, table: ReplicaTable): CausalContext {
  const vectorItems = reader.groups(vectorValue, `${path}.vector`, 2, replicasPerVectorMax);
  const vector = new Map<ReplicaId, number>();
  for (let i = 0; i < vectorItems.length; i += 2) {
    const replica = readReplicaRef(reader, table, vectorItems[i], `${path}.vector[${i}]`);
    if (vector.has(replica)) reader.refuse('duplicate', `${path}.vector[${i}]`, 'replica named twice');
    vector.set(replica, reader.integer(vectorItems[i + 1], `${path}.vector[${i + 1}]`, 1, countMax));
  }
  const cloudItems = reader.groups(cloudValue, `${path}.cloud`, 2);
  const pending = new Map<ReplicaId, number[]>();
  for (let i = 0; i < cloudItems.length; i += 2) {
    const replica = readReplicaRef(reader, table, cloudItems[i], `${path}.cloud[${i}]`);
    const seq = reader.integer(cloudItems[i + 1], `${path}.cloud[${i + 1}]`, 1, countMax);
    const seqs = pending.get(replica);
    if (seqs === undefined) pending.set(replica, [seq]);
    else seqs.push(seq);
  }
  return compact(vector, emptyCloud, pending);
}

/** A context on its own: `[replicas, vector, cloud]`. */
export function encodeContext(context: CausalContext): WireValue {
  const table = replicaTable(contextReplicas(context));
  return [[...table.ids], ...encodeContextParts(context, table)];
}

export function readContext(reader: WireReader, value: unknown, path: string): CausalContext {
  const [tableValue, vectorValue, cloudValue] = reader.tuple(value, path, 3);
  const table = readReplicaTable(reader, tableValue, `${path}[0]`);
  return readContextParts(reader, vectorValue, cloudValue, path, table);
}

export function decodeContext(input: unknown): Result<CausalContext, CrdtRefusal> {
  return readWire(input, (reader, value) => readContext(reader, value, 'context'));
}

function binarySearch(sorted: readonly number[], target: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const found = sorted[middle] as number;
    if (found === target) return true;
    if (found < target) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
