/**
 * PN-Counter: a counter that goes up and down (Shapiro et al. 2011), as a delta-state CRDT
 * (Almeida et al. 2018).
 *
 * Two G-Counters, one of increments (P) and one of decrements (N); the value is P − N. A single
 * per-replica total that went up and down would not do: its entry would no longer only grow, and
 * max would no longer be a join (a replica's newer, lower total would lose to its older, higher
 * one). Each half keeps its own delta rule, so a delta is the one entry of the one half that
 * changed.
 */
import { ok, type Result } from '../result.ts';
import { addToCount, encodeGCounter, gCounterEmpty, gCounterEntries, gCounterMerge, gCounterValue, readGCounter, type GCounter } from './g-counter.ts';
import type { CrdtRefusal } from './refusal.ts';
import { assertReplicaId, vectorCount, type ReplicaId } from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

export interface PnCounter {
  /** Increments per replica. */
  readonly p: GCounter;
  /** Decrements per replica. */
  readonly n: GCounter;
}

const empty: PnCounter = { p: gCounterEmpty(), n: gCounterEmpty() };

export function pnCounterEmpty(): PnCounter {
  return empty;
}

/** The delta of `replica` adding `amount` (a positive safe integer; its P total at most countMax). */
export function pnCounterIncrement(state: PnCounter, replica: ReplicaId, amount: number): Result<PnCounter, CrdtRefusal> {
  assertReplicaId(replica);
  const total = addToCount(vectorCount(state.p, replica), amount, 'amount');
  if (!total.ok) return total;
  return ok({ p: new Map([[replica, total.value]]), n: gCounterEmpty() });
}

/** The delta of `replica` subtracting `amount` (a positive safe integer; its N total at most countMax). */
export function pnCounterDecrement(state: PnCounter, replica: ReplicaId, amount: number): Result<PnCounter, CrdtRefusal> {
  assertReplicaId(replica);
  const total = addToCount(vectorCount(state.n, replica), amount, 'amount');
  if (!total.ok) return total;
  return ok({ p: gCounterEmpty(), n: new Map([[replica, total.value]]) });
}

export function pnCounterMerge(a: PnCounter, b: PnCounter): PnCounter {
  return { p: gCounterMerge(a.p, b.p), n: gCounterMerge(a.n, b.n) };
}

export function pnCounterValue(state: PnCounter): number {
  return gCounterValue(state.p) - gCounterValue(state.n);
}

/** `[P, N]`, each as a G-Counter encodes. */
export function encodePnCounter(state: PnCounter): WireValue {
  return [encodeGCounter(state.p), encodeGCounter(state.n)];
}

export function readPnCounter(reader: WireReader, value: unknown, path: string): PnCounter {
  const [p, n] = reader.tuple(value, path, 2);
  return { p: readGCounter(reader, p, `${path}[0]`), n: readGCounter(reader, n, `${path}[1]`) };
}

export function decodePnCounter(input: unknown): Result<PnCounter, CrdtRefusal> {
  return readWire(input, (reader, value) => readPnCounter(reader, value, 'state'));
}

export function pnCounterEntries(state: PnCounter): number {
  return gCounterEntries(state.p) + gCounterEntries(state.n);
}
