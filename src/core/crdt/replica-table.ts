/**
 * The replica table of an encoded causal state: every replica id the state names, once, sorted;
 * dots and vector entries then name a replica by its index in the table.
 *
 * Why: a dot is named by its replica, and an OR-Set of 10,000 elements holds at least 10,000
 * dots. Node ids are often UUIDs (36 bytes); written once in the table and referred to by a
 * one-byte index, the ids cost 36 bytes each instead of 36 per dot. Sorted, so equal states
 * encode alike (the index of a replica depends only on the set of replicas named).
 */
import { replicasPerVectorMax } from './limits.ts';
import { compareText } from './text.ts';
import type { ReplicaId } from './version-vector.ts';
import type { WireReader } from './wire-reader.ts';

export interface ReplicaTable {
  /** Sorted, distinct. */
  readonly ids: readonly ReplicaId[];
  /** Replica id → its index in `ids`. */
  readonly index: ReadonlyMap<ReplicaId, number>;
}

/** The table of the replicas named in `replicas` (repeats allowed). */
export function replicaTable(replicas: Iterable<ReplicaId>): ReplicaTable {
  const ids = [...new Set(replicas)].sort(compareText);
  return { ids, index: new Map(ids.map((id, i) => [id, i])) };
}

/** The index of `replica`, which the table was built to hold. */
export function replicaIndex(table: ReplicaTable, replica: ReplicaId): number {
  return table.index.get(replica) as number;
}

/** A peer's table: at most `replicasPerVectorMax` valid ids, strictly ascending. */
export function readReplicaTable(reader: WireReader, value: unknown, path: string): ReplicaTable {
  const items = reader.entries(value, path, replicasPerVectorMax);
  const ids: ReplicaId[] = [];
  for (let i = 0; i < items.length; i++) {
    const id = reader.replica(items[i], `${path}[${i}]`);
    if (i > 0 && compareText(ids[i - 1] as string, id) >= 0) reader.refuse('duplicate', `${path}[${i}]`, 'replica ids must be strictly ascending');
    ids.push(id);
  }
  return { ids, index: new Map(ids.map((id, i) => [id, i])) };
}

/** A peer's reference to a replica of the table. */
export function readReplicaRef(reader: WireReader, table: ReplicaTable, value: unknown, path: string): ReplicaId {
  if (table.ids.length === 0) reader.refuse('shape', path, 'a replica named with an empty replica table');
  return table.ids[reader.integer(value, path, 0, table.ids.length - 1)] as ReplicaId;
}
