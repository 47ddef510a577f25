/**
 * Version vectors: for each replica, how many of its events are known (Parker et al. 1983; the
 * causality layer of every causal CRDT in this folder, Almeida et al. 2018 §5).
 *
 * A vector is an immutable `Map` from replica id to a count of at least one: a replica never
 * heard from has count 0 and no entry, so that one history has one representation and equal
 * vectors encode to equal bytes. Vectors form a join-semilattice under entry-wise max
 * (`mergeVectors`), and comparing two says whether one history contains the other or the two are
 * concurrent, which is all the causal types need to decide what a peer has seen.
 */
import { assert } from '../assert.ts';
import { countMax, replicaIdBytesMax, replicasPerVectorMax } from './limits.ts';
import { compareText, textProblem } from './text.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';
import type { Result } from '../result.ts';
import type { CrdtRefusal } from './refusal.ts';

export type ReplicaId = string;

/** Replica id → count of its events known, every count at least 1. */
export type VersionVector = ReadonlyMap<ReplicaId, number>;

/** How two histories relate: a before b means every event of a is in b, and b has more. */
export type VectorOrder = 'before' | 'after' | 'equal' | 'concurrent';

const empty: VersionVector = new Map();

export function emptyVector(): VersionVector {
  return empty;
}

/**
 * A replica id is the node's own configuration, not a peer's input, so a bad one is our bug:
 * asserted here (TIGER_STYLE), where a local mutation would otherwise write it into a state that
 * every peer then refuses.
 */
export function assertReplicaId(replica: ReplicaId): void {
  assert(textProblem(replica, replicaIdBytesMax, false) === null, `replica id must be 1 to ${replicaIdBytesMax} UTF-8 bytes, well-formed`);
}

export function vectorCount(vector: VersionVector, replica: ReplicaId): number {
  return vector.get(replica) ?? 0;
}

/** `vector` with `replica` raised to `count` (never lowered: a vector only grows). */
export function vectorWith(vector: VersionVector, replica: ReplicaId, count: number): VersionVector {
  assert(Number.isSafeInteger(count) && count >= 0 && count <= countMax, 'a vector count must be an integer in [0, countMax]');
  if (count <= vectorCount(vector, replica)) return vector;
  const next = new Map(vector);
  next.set(replica, count);
  return next;
}

/** The least upper bound: each replica's larger count. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  if (a.size < b.size) return mergeVectors(b, a);
  let merged: Map<ReplicaId, number> | null = null;
  for (const [replica, count] of b) {
    if (count > vectorCount(a, replica)) {
      merged ??= new Map(a);
      merged.set(replica, count);
    }
  }
  return merged ?? a;
}

/** Whether every event `a` knows, `b` knows too. */
export function vectorLeq(a: VersionVector, b: VersionVector): boolean {
  for (const [replica, count] of a) if (count > vectorCount(b, replica)) return false;
  return true;
}

export function compareVectors(a: VersionVector, b: VersionVector): VectorOrder {
  const aInB = vectorLeq(a, b);
  const bInA = vectorLeq(b, a);
  if (aInB && bInA) return 'equal';
  if (aInB) return 'before';
  if (bInA) return 'after';
  return 'concurrent';
}

/** `[replica, count, replica, count, ...]` sorted by replica, so equal vectors encode alike. */
export function encodeVector(vector: VersionVector): WireValue {
  const flat: WireValue[] = [];
  for (const [replica, count] of [...vector].sort(([a], [b]) => compareText(a, b))) flat.push(replica, count);
  return flat;
}

/** A peer's vector: at most `replicasPerVectorMax` replicas, each once, counts in [1, countMax]. */
export function readVector(reader: WireReader, value: unknown, path: string): VersionVector {
  const items = reader.groups(value, path, 2, replicasPerVectorMax);
  const vector = new Map<ReplicaId, number>();
  for (let i = 0; i < items.length; i += 2) {
    const replica = reader.replica(items[i], `${path}[${i}]`);
    if (vector.has(replica)) reader.refuse('duplicate', `${path}[${i}]`, 'replica named twice');
    vector.set(replica, reader.integer(items[i + 1], `${path}[${i + 1}]`, 1, countMax));
  }
  return vector;
}

export function decodeVector(input: unknown): Result<VersionVector, CrdtRefusal> {
  return readWire(input, (reader, value) => readVector(reader, value, 'vector'));
}
