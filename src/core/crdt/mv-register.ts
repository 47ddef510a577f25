/**
 * MV-Register: a multi-value register (Shapiro et al. 2011; the δ-MVRegister of Almeida et al.
 * 2018), the register that never loses a write to a clock.
 *
 * A write is a dot holding the value; it overwrites exactly the writes its replica has seen (the
 * delta's context names their dots), so two writes neither of which saw the other both survive
 * the merge, and the value is the set of them until a later write that has seen both replaces
 * them. The store is a dot function (dot-store.ts), so its merge is the causal join of §6 and a
 * replaced value leaves nothing behind but the context's record of its dot.
 *
 * Inside an OR-Map the register's dots come from the map's shared context (or-map.ts).
 */
import { err, ok, type Result } from '../result.ts';
import { contextEntries, contextOf, emptyContext, nextDot } from './causal-context.ts';
import { dotFunEntries, dotsOfFun, emptyDotFun, joinCausal, joinDotFun, singleDot, type Causal, type DotFun, type StoreKind } from './dot-store.ts';
import { encodeCausal, encodeDotFun, readCausal, readDotFun } from './dot-store-wire.ts';
import type { ReplicaTable } from './replica-table.ts';
import type { CrdtRefusal } from './refusal.ts';
import { compareScalars, normalizeScalar, scalarArgumentRefusal, type Scalar } from './scalar.ts';
import { assertReplicaId, type ReplicaId } from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

/** Dot → the value written under it. */
export type MvStore = DotFun<Scalar>;

export type MvRegister = Causal<MvStore>;

const empty: MvRegister = { store: emptyDotFun(), context: emptyContext() };

export function mvEmpty(): MvRegister {
  return empty;
}

/** The larger value: two values under one dot come only from a faulty peer, and must still merge alike. */
function joinScalars(a: Scalar, b: Scalar): Scalar {
  return compareScalars(a, b) >= 0 ? a : b;
}

export const mvStoreKind: StoreKind<MvStore> = {
  empty: emptyDotFun(),
  isEmpty: (store) => store.size === 0,
  join: (a, aContext, b, bContext) => joinDotFun(a, aContext, b, bContext, joinScalars),
  dots: dotsOfFun,
};

/**
 * The delta of `replica` writing `value` over `state` (a register, or the store of one inside a
 * map with the map's context): a new dot holding the value, under a context of that dot and every
 * dot the register shows now, which the write replaces.
 */
export function mvWrite(state: Causal<MvStore>, replica: ReplicaId, value: Scalar): Result<MvRegister, CrdtRefusal> {
  assertReplicaId(replica);
  const refusal = scalarArgumentRefusal(value);
  if (refusal !== null) return err(refusal);
  const minted = nextDot(state.context, replica);
  if (!minted.ok) return minted;
  const dot = minted.value;
  return ok({ store: singleDot(dot, normalizeScalar(value)), context: contextOf([...dotsOfFun(state.store), dot]) });
}

export function mvMerge(a: MvRegister, b: MvRegister): MvRegister {
  return joinCausal(a, b, mvStoreKind);
}

/** The concurrent values, each once, in scalar order (empty before any write). */
export function mvStoreValue(store: MvStore): readonly Scalar[] {
  const values: Scalar[] = [];
  for (const seqs of store.values()) values.push(...seqs.values());
  values.sort(compareScalars);
  return values.filter((value, i) => i === 0 || compareScalars(values[i - 1] as Scalar, value) !== 0);
}

export function mvValue(state: MvRegister): readonly Scalar[] {
  return mvStoreValue(state.store);
}

/** `[replica, seq, value, ...]`, replicas by their index in `table`. */
export function encodeMvStore(store: MvStore, table: ReplicaTable): WireValue {
  return encodeDotFun(store, table, (value, out) => out.push(value));
}

/** `[replicas, [replica, seq, value, ...], vector, cloud]` (dot-store-wire.ts). */
export function encodeMvRegister(state: MvRegister): WireValue {
  return encodeCausal(state, encodeMvStore);
}

export function readMvStore(reader: WireReader, value: unknown, path: string, table: ReplicaTable): MvStore {
  return readDotFun(reader, value, path, table, 3, (items, offset, at) => reader.scalar(items[offset], `${at}[${offset}]`));
}

export function readMvRegister(reader: WireReader, value: unknown, path: string): MvRegister {
  return readCausal(reader, value, path, (store, at, table) => readMvStore(reader, store, at, table), mvStoreKind);
}

export function decodeMvRegister(input: unknown): Result<MvRegister, CrdtRefusal> {
  return readWire(input, (reader, value) => readMvRegister(reader, value, 'state'));
}

export function mvEntries(state: MvRegister): number {
  return dotFunEntries(state.store) + contextEntries(state.context);
}
