/**
 * The LWW-Register an OR-Map embeds: its writes are dots, so that removing the map's field can
 * reset it (Almeida et al. 2018 §7: the map embeds causal CRDTs only).
 *
 * A write mints a dot holding the stamped entry (lww-register.ts: timestamp bumped past the newest
 * write seen, ties by replica then value) and, in its delta's context, names every dot the
 * register shows, which it replaces. Concurrent writes therefore leave one dot each, as in an
 * MV-Register, and the value is the newest of them by the LWW order: the store is the MV-Register's
 * with a different reading, and a later write that has seen them all shrinks it back to one dot.
 * A remove of the field removes the writes it saw; a write it did not see survives, as an add
 * survives a concurrent remove in the OR-Set.
 */
import { ok, type Result } from '../result.ts';
import { contextOf, nextDot } from './causal-context.ts';
import { dotsOfFun, emptyDotFun, joinDotFun, singleDot, type Causal, type DotFun, type StoreKind } from './dot-store.ts';
import { encodeDotFun, readDotFun } from './dot-store-wire.ts';
import { timestampMax } from './limits.ts';
import type { ReplicaTable } from './replica-table.ts';
import { compareLwwEntries, stampWrite, type LwwEntry } from './lww-register.ts';
import type { CrdtRefusal } from './refusal.ts';
import type { Scalar } from './scalar.ts';
import type { ReplicaId } from './version-vector.ts';
import type { WireReader, WireValue } from './wire-reader.ts';

/** Dot → the write made under it. */
export type LwwStore = DotFun<LwwEntry>;

function newerEntry(a: LwwEntry, b: LwwEntry): LwwEntry {
  return compareLwwEntries(a, b) >= 0 ? a : b;
}

export const lwwStoreKind: StoreKind<LwwStore> = {
  empty: emptyDotFun(),
  isEmpty: (store) => store.size === 0,
  join: (a, aContext, b, bContext) => joinDotFun(a, aContext, b, bContext, newerEntry),
  dots: dotsOfFun,
};

/** The newest write the store shows, or null if none. */
export function lwwStoreWinner(store: LwwStore): LwwEntry | null {
  let winner: LwwEntry | null = null;
  for (const seqs of store.values()) for (const entry of seqs.values()) winner = winner === null ? entry : newerEntry(winner, entry);
  return winner;
}

/** The delta of `replica` writing `value` at `timestamp`: one dot, replacing every dot shown now. */
export function lwwStoreWrite(
  state: Causal<LwwStore>,
  replica: ReplicaId,
  timestamp: number,
  value: Scalar,
): Result<Causal<LwwStore>, CrdtRefusal> {
  const seen = lwwStoreWinner(state.store);
  const entry = stampWrite(seen === null ? null : seen.timestamp, replica, timestamp, value);
  if (!entry.ok) return entry;
  const minted = nextDot(state.context, replica);
  if (!minted.ok) return minted;
  const dot = minted.value;
  return ok({ store: singleDot(dot, entry.value), context: contextOf([...dotsOfFun(state.store), dot]) });
}

/** The winning value, undefined if the register shows no write. */
export function lwwStoreValue(store: LwwStore): Scalar | undefined {
  return lwwStoreWinner(store)?.value;
}

/**
 * `[replica, seq, timestamp, value, ...]`, replicas by their index in `table`. The writer is not
 * written: it is the dot's replica (a replica writes under its own dots), and decode sets it so.
 */
export function encodeLwwStore(store: LwwStore, table: ReplicaTable): WireValue {
  return encodeDotFun(store, table, (entry, out) => out.push(entry.timestamp, entry.value));
}

export function readLwwStore(reader: WireReader, value: unknown, path: string, table: ReplicaTable): LwwStore {
  return readDotFun(reader, value, path, table, 4, (items, offset, at, replica) => ({
    timestamp: reader.integer(items[offset], `${at}[${offset}]`, 0, timestampMax),
    replica,
    value: reader.scalar(items[offset + 1], `${at}[${offset + 1}]`),
  }));
}
