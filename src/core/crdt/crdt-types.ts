/**
 * One registry of the replicated data types, by name, with one shape for all: the gossip engine
 * stores, merges, digests and ships states of any type without a switch per type, and the codec
 * reads a peer's state by the type name that travels beside it.
 *
 * Every entry obeys the same laws, which test/core/crdt checks for each from seeded random
 * histories: `merge` is commutative, associative and idempotent with `empty()` as identity (a
 * join-semilattice, Shapiro et al. 2011), every local mutation's delta is a state that
 * merges like any other (Almeida et al. 2018), `encode` is canonical (equal states encode to
 * equal values, so digests can compare them; merge order never shows), and `decode(encode(s))`
 * gives back `s`. `decode` is the door for a peer's state: it validates hostile input against
 * limits.ts and answers with a refusal, never a throw.
 *
 * Mutations are not here: their arguments differ by type (an increment, a write, an add); they
 * are the functions of each type's module, and `orMapApply` for maps.
 */
import type { Result } from '../result.ts';
import type { CrdtTypeName } from './crdt-type-name.ts';
import { decodeGCounter, encodeGCounter, gCounterEmpty, gCounterEntries, gCounterMerge, gCounterValue, type GCounter } from './g-counter.ts';
import { decodeLwwRegister, encodeLwwRegister, lwwEmpty, lwwEntries, lwwMerge, lwwValue, type LwwRegister } from './lww-register.ts';
import { decodeMvRegister, encodeMvRegister, mvEmpty, mvEntries, mvMerge, mvValue, type MvRegister } from './mv-register.ts';
import type { MergeOutcome } from './merge-delta.ts';
import { decodeOrMap, encodeOrMap, orMapEmpty, orMapEntries, orMapMerge, orMapMergeDelta, orMapValue, type OrMap, type OrMapEntry } from './or-map.ts';
import { decodeOrSet, encodeOrSet, orSetEmpty, orSetEntries, orSetMerge, orSetMergeDelta, orSetValue, type OrSet } from './or-set.ts';
import { decodePnCounter, encodePnCounter, pnCounterEmpty, pnCounterEntries, pnCounterMerge, pnCounterValue, type PnCounter } from './pn-counter.ts';
import type { CrdtRefusal } from './refusal.ts';
import type { Scalar } from './scalar.ts';
import type { WireValue } from './wire-reader.ts';

export { crdtTypeNames, isCrdtTypeName, type CrdtTypeName } from './crdt-type-name.ts';
export type { MergeOutcome } from './merge-delta.ts';

/**
 * The operations every type offers. Declared as methods, so that a `CrdtType<GCounter, number>`
 * is usable as a `CrdtType<unknown, unknown>` by code that handles states by name (`crdtType`);
 * such code must hand each type only states that type made (by `empty`, `merge` or `decode`).
 */
export interface CrdtType<S, V> {
  readonly name: CrdtTypeName;
  /** The bottom of the lattice: the state of a replica that has seen nothing. */
  empty(): S;
  /** The least upper bound of two states (or a state and a delta, or two deltas). */
  merge(a: S, b: S): S;
  /**
   * `merge(state, delta)` and whether it differs from `state`, at a cost in proportion to the
   * delta where the type is large (OR-Set, OR-Map: merge-delta.ts, with the keys it changed);
   * the small types merge and compare encodings. What a node does with every peer's delta.
   * With `owned`, the caller owns `state` and never uses it again: a keyed type may then update
   * its key map in place instead of copying it.
   */
  mergeDelta(state: S, delta: S, owned?: boolean): MergeOutcome<S>;
  /** What the application sees. */
  value(state: S): V;
  /** Whether two states are the same state (compares the canonical encodings). */
  equals(a: S, b: S): boolean;
  /** A plain value (arrays, strings, numbers, booleans, null): msgpack-friendly, canonical. */
  encode(state: S): WireValue;
  /** A peer's encoded state, validated against limits.ts; a refusal rather than a throw. */
  decode(input: unknown): Result<S, CrdtRefusal>;
  /**
   * At least the entries `decode` would charge the state against `entriesPerStateMax`. Merges
   * and local mutations do not enforce the bound (a merge of two full states may pass it); a
   * state past it is one no peer will take, so the engine should refuse a local mutation whose
   * result would pass it.
   */
  entries(state: S): number;
}

export interface CrdtStates {
  readonly 'g-counter': GCounter;
  readonly 'pn-counter': PnCounter;
  readonly 'lww-register': LwwRegister;
  readonly 'mv-register': MvRegister;
  readonly 'or-set': OrSet;
  readonly 'or-map': OrMap;
}

export interface CrdtValues {
  readonly 'g-counter': number;
  readonly 'pn-counter': number;
  /** Undefined before any write. */
  readonly 'lww-register': Scalar | undefined;
  /** The concurrent values, in scalar order; empty before any write. */
  readonly 'mv-register': readonly Scalar[];
  /** The elements, sorted. */
  readonly 'or-set': readonly string[];
  /** The fields, by key then type. */
  readonly 'or-map': readonly OrMapEntry[];
}

export type CrdtTypeOf<N extends CrdtTypeName> = CrdtType<CrdtStates[N], CrdtValues[N]>;

function define<N extends CrdtTypeName>(
  name: N,
  parts: Omit<CrdtTypeOf<N>, 'name' | 'equals' | 'mergeDelta'> & Partial<Pick<CrdtTypeOf<N>, 'mergeDelta'>>,
): CrdtTypeOf<N> {
  const equals = (a: CrdtStates[N], b: CrdtStates[N]): boolean => wireEquals(parts.encode(a), parts.encode(b));
  // A counter or register is a few entries per replica: merging it whole and comparing encodings is cheap.
  const mergeWhole = (state: CrdtStates[N], delta: CrdtStates[N]): MergeOutcome<CrdtStates[N]> => {
    const merged = parts.merge(state, delta);
    return { state: merged, changed: !equals(state, merged), touched: null };
  };
  return { name, ...parts, equals, mergeDelta: parts.mergeDelta ?? mergeWhole };
}

export const crdtTypes: { readonly [N in CrdtTypeName]: CrdtTypeOf<N> } = {
  'g-counter': define('g-counter', {
    empty: gCounterEmpty,
    merge: gCounterMerge,
    value: gCounterValue,
    encode: encodeGCounter,
    decode: decodeGCounter,
    entries: gCounterEntries,
  }),
  'pn-counter': define('pn-counter', {
    empty: pnCounterEmpty,
    merge: pnCounterMerge,
    value: pnCounterValue,
    encode: encodePnCounter,
    decode: decodePnCounter,
    entries: pnCounterEntries,
  }),
  'lww-register': define('lww-register', {
    empty: lwwEmpty,
    merge: lwwMerge,
    value: lwwValue,
    encode: encodeLwwRegister,
    decode: decodeLwwRegister,
    entries: lwwEntries,
  }),
  'mv-register': define('mv-register', {
    empty: mvEmpty,
    merge: mvMerge,
    value: mvValue,
    encode: encodeMvRegister,
    decode: decodeMvRegister,
    entries: mvEntries,
  }),
  'or-set': define('or-set', {
    empty: orSetEmpty,
    merge: orSetMerge,
    mergeDelta: orSetMergeDelta,
    value: orSetValue,
    encode: encodeOrSet,
    decode: decodeOrSet,
    entries: orSetEntries,
  }),
  'or-map': define('or-map', {
    empty: orMapEmpty,
    merge: orMapMerge,
    mergeDelta: orMapMergeDelta,
    value: orMapValue,
    encode: encodeOrMap,
    decode: decodeOrMap,
    entries: orMapEntries,
  }),
};

/** The type named `name`, for code that holds states of many types by name (see `CrdtType`). */
export function crdtType(name: CrdtTypeName): CrdtType<unknown, unknown> {
  return crdtTypes[name] as CrdtType<unknown, unknown>;
}

/** Structural equality of two encoded states (same shape, same scalars). */
export function wireEquals(a: WireValue, b: WireValue): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!wireEquals(a[i] as WireValue, b[i] as WireValue)) return false;
  return true;
}
