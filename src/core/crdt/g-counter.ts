/**
 * G-Counter: a grow-only counter (Shapiro, Preguiça, Baquero and Zawirski 2011, "A comprehensive
 * study of CRDTs"), as a delta-state CRDT (the δ-GCounter of Almeida et al. 2018).
 *
 * Each replica counts its own increments in its own entry; the value is the sum, and the merge is
 * entry-wise max, which is a join because a replica's entry only grows. The delta of an increment
 * is the one entry that changed, with its new total (not the amount): so a delta is itself a
 * state, merging it twice changes nothing, and merging an old delta after a newer one changes
 * nothing either, which is what lets gossip deliver deltas in any order, duplicated.
 *
 * The state has the shape of a version vector (replica → count ≥ 1), and shares its merge,
 * encoding and validation.
 */
import { err, ok, type Result } from '../result.ts';
import { countMax } from './limits.ts';
import { argumentRefusal, type CrdtRefusal } from './refusal.ts';
import {
  assertReplicaId,
  emptyVector,
  encodeVector,
  mergeVectors,
  readVector,
  vectorCount,
  type ReplicaId,
  type VersionVector,
} from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

/** Replica → its increments so far (at least 1; a replica that never incremented is absent). */
export type GCounter = VersionVector;

export function gCounterEmpty(): GCounter {
  return emptyVector();
}

/**
 * The delta of `replica` adding `amount` (a positive safe integer): refused if the replica's
 * total would pass `countMax`, which keeps the sum of every valid counter a safe integer.
 */
export function gCounterIncrement(state: GCounter, replica: ReplicaId, amount: number): Result<GCounter, CrdtRefusal> {
  assertReplicaId(replica);
  const total = addToCount(vectorCount(state, replica), amount, 'amount');
  if (!total.ok) return total;
  return ok(new Map([[replica, total.value]]));
}

/**
 * `current + amount`, or why not: `amount` must be a positive safe integer and the total at most
 * `countMax`. Shared with the PN-Counter and the causal counter.
 */
export function addToCount(current: number, amount: number, path: string): Result<number, CrdtRefusal> {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    return err(argumentRefusal('CONFIG', 'integer', path, `${amount} is not a positive integer`));
  }
  if (amount > countMax - current) {
    return err(argumentRefusal('TOO_LARGE', 'overflow', path, `${current} + ${amount} is more than countMax (${countMax})`));
  }
  return ok(current + amount);
}

export function gCounterMerge(a: GCounter, b: GCounter): GCounter {
  return mergeVectors(a, b);
}

/** The sum of every replica's count (a safe integer: see limits.ts). */
export function gCounterValue(state: GCounter): number {
  let sum = 0;
  for (const count of state.values()) sum += count;
  return sum;
}

/** `[replica, count, replica, count, ...]`, replicas sorted. */
export function encodeGCounter(state: GCounter): WireValue {
  return encodeVector(state);
}

export function readGCounter(reader: WireReader, value: unknown, path: string): GCounter {
  return readVector(reader, value, path);
}

export function decodeGCounter(input: unknown): Result<GCounter, CrdtRefusal> {
  return readWire(input, (reader, value) => readGCounter(reader, value, 'state'));
}

/** Entries as decode counts them against `entriesPerStateMax`. */
export function gCounterEntries(state: GCounter): number {
  return state.size;
}
