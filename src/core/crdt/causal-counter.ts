/**
 * The counter an OR-Map embeds: a G-Counter or PN-Counter whose entries are dots, so that removing
 * the map's field can reset it (Almeida et al. 2018 §7: an OR-Map embeds causal CRDTs, and a
 * remove is a reset of what the remover observed; the causal counter of Baquero's
 * delta-enabled-crdts library, `ccounter`, is the model).
 *
 * Each replica's contribution is one dot holding its running totals (increments p, decrements n).
 * An increment mints a new dot with the new totals and, in its delta's context, names the
 * replica's older dot, which it replaces; so a counter keeps one dot per replica, as a G-Counter
 * keeps one entry per replica. A remove of the field is a delta whose context names the dots it
 * saw: those contributions are gone, and a replica whose dot was removed counts again from zero.
 *
 * The price of one dot per replica, said plainly: an increment concurrent with a remove keeps the
 * incrementing replica's whole contribution (its new dot carries its total, and the remover never
 * saw that dot), not only the increment made after the remove. Exact observed-reset needs a dot
 * per increment, a state that grows with every increment; a field's counter stays bounded here.
 */
import { ok, type Result } from '../result.ts';
import { contextOf, nextDot } from './causal-context.ts';
import { dotsOfFun, emptyDotFun, joinDotFun, singleDot, type Causal, type DotFun, type StoreKind } from './dot-store.ts';
import { encodeDotFun, readDotFun } from './dot-store-wire.ts';
import type { ReplicaTable } from './replica-table.ts';
import { addToCount } from './g-counter.ts';
import { countMax } from './limits.ts';
import type { CrdtRefusal } from './refusal.ts';
import { assertReplicaId, type ReplicaId } from './version-vector.ts';
import type { WireReader, WireValue } from './wire-reader.ts';

/** A replica's running totals: increments and decrements (always 0 in a G-Counter). */
export interface CounterTotals {
  readonly p: number;
  readonly n: number;
}

/** Dot → its replica's totals when the dot was minted. */
export type CounterStore = DotFun<CounterTotals>;

/** Two totals under one dot come only from a faulty peer; the larger of each still merges alike. */
function joinTotals(a: CounterTotals, b: CounterTotals): CounterTotals {
  return a.p >= b.p && a.n >= b.n ? a : { p: Math.max(a.p, b.p), n: Math.max(a.n, b.n) };
}

export const counterStoreKind: StoreKind<CounterStore> = {
  empty: emptyDotFun(),
  isEmpty: (store) => store.size === 0,
  join: (a, aContext, b, bContext) => joinDotFun(a, aContext, b, bContext, joinTotals),
  dots: dotsOfFun,
};

/**
 * A replica's contribution: the totals of its newest dot. An honest store holds one dot per
 * replica; should a peer's hold more, taking the newest keeps the value bounded (at most
 * countMax per replica) and the same on every replica.
 */
function newestTotals(seqs: ReadonlyMap<number, CounterTotals>): CounterTotals {
  let newestSeq = 0;
  let totals: CounterTotals = { p: 0, n: 0 };
  for (const [seq, held] of seqs) {
    if (seq > newestSeq) {
      newestSeq = seq;
      totals = held;
    }
  }
  return totals;
}

/**
 * The delta of `replica` adding `amount` (a positive safe integer) to the increments, or to the
 * decrements if `decrement`: one new dot with the replica's new totals, replacing its older dots.
 */
export function counterStoreAdd(
  state: Causal<CounterStore>,
  replica: ReplicaId,
  amount: number,
  decrement: boolean,
): Result<Causal<CounterStore>, CrdtRefusal> {
  assertReplicaId(replica);
  const own = state.store.get(replica);
  const totals = own === undefined ? { p: 0, n: 0 } : newestTotals(own);
  const sum = addToCount(decrement ? totals.n : totals.p, amount, 'amount');
  if (!sum.ok) return sum;
  const totalsAfter = decrement ? { p: totals.p, n: sum.value } : { p: sum.value, n: totals.n };
  const minted = nextDot(state.context, replica);
  if (!minted.ok) return minted;
  const dot = minted.value;
  const replaced = own === undefined ? [dot] : [...[...own.keys()].map((seq) => ({ replica, seq })), dot];
  return ok({ store: singleDot(dot, totalsAfter), context: contextOf(replaced) });
}

/** The counter's value: each replica's newest increments minus its decrements, summed. */
export function counterStoreValue(store: CounterStore): number {
  let value = 0;
  for (const seqs of store.values()) {
    const totals = newestTotals(seqs);
    value += totals.p - totals.n;
  }
  return value;
}

/** `[replica, seq, p, n, ...]`, replicas by their index in `table`. */
export function encodeCounterStore(store: CounterStore, table: ReplicaTable): WireValue {
  return encodeDotFun(store, table, (totals, out) => out.push(totals.p, totals.n));
}

/** A peer's counter store; a grow-only one must have no decrements. */
export function readCounterStore(reader: WireReader, value: unknown, path: string, table: ReplicaTable, growOnly: boolean): CounterStore {
  return readDotFun(reader, value, path, table, 4, (items, offset, at) => ({
    p: reader.integer(items[offset], `${at}[${offset}]`, 0, countMax),
    n: reader.integer(items[offset + 1], `${at}[${offset + 1}]`, 0, growOnly ? 0 : countMax),
  }));
}
