/**
 * OR-Map: a map from keys to embedded CRDTs of any of the six kinds, nested up to
 * `nestingDepthMax` maps deep (Almeida et al. 2018 §7, the δ-ORMap; the store and its join are in
 * or-map-store.ts).
 *
 * Mutations are data (`OrMapOp`), so the same description can travel from a page to its worker
 * and be applied, logged or replayed; each returns a delta that is itself a map state:
 * - update: applies the field's own mutation to its embedded store, with the MAP's context (so
 *   every dot anywhere in the map is unique), and wraps the embedded delta as the one field of a
 *   map delta, under the embedded delta's context. An embedded delta with an empty store (an
 *   OR-Set remove) still carries its context, and so still removes what it names.
 * - remove: a delta with no fields and a context naming every dot of the key's fields. Merged,
 *   it resets those fields to what the remover did not see: a field updated concurrently survives
 *   with only the unseen updates (an add-wins map), a field nobody touched since is gone, and no
 *   tombstone of the key remains.
 */
import { err, ok, type Result } from '../result.ts';
import { contextOf, emptyContext, type CausalContext, type Dot } from './causal-context.ts';
import { counterStoreAdd, type CounterStore } from './causal-counter.ts';
import { lwwStoreWrite, type LwwStore } from './causal-lww-register.ts';
import type { CrdtTypeName } from './crdt-type-name.ts';
import { joinCausal, type Causal, type DotFun } from './dot-store.ts';
import { encodeCausal, readCausal } from './dot-store-wire.ts';
import { nestingDepthMax } from './limits.ts';
import { dotFunSeenBy, mergeKeyedDelta, type KeyedKind, type MergeOutcome } from './merge-delta.ts';
import { mvWrite, type MvStore } from './mv-register.ts';
import {
  embeddedKind,
  embeddedValue,
  encodeOrMapStore,
  fieldId,
  orMapEntries,
  orMapStoreKind,
  orMapStoreValue,
  readOrMapStore,
  type EmbeddedStore,
  type EmbeddedValue,
  type OrMapEntry,
  type OrMapField,
  type OrMapStore,
} from './or-map-store.ts';
import { keyArgumentRefusal, orSetAdd, orSetRemove, orSetStoreSeenBy, type OrSetStore } from './or-set.ts';
import { argumentRefusal, type CrdtRefusal } from './refusal.ts';
import type { Scalar } from './scalar.ts';
import { assertReplicaId, type ReplicaId } from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

export type { EmbeddedValue, OrMapEntry, OrMapField, OrMapStore } from './or-map-store.ts';

export type OrMap = Causal<OrMapStore>;

/** A mutation of one field, by the field's type. */
export type FieldOp =
  /** Adds `add` (a positive safe integer). */
  | { readonly type: 'g-counter'; readonly add: number }
  /** Adds `add` (a non-zero safe integer; negative subtracts). */
  | { readonly type: 'pn-counter'; readonly add: number }
  /** Writes `value` stamped `timestamp` (see lww-register.ts). */
  | { readonly type: 'lww-register'; readonly timestamp: number; readonly value: Scalar }
  | { readonly type: 'mv-register'; readonly value: Scalar }
  | { readonly type: 'or-set'; readonly op: 'add' | 'remove'; readonly element: string }
  /** Applies `apply` to the nested map. */
  | { readonly type: 'or-map'; readonly apply: OrMapOp };

export type OrMapOp =
  /** Mutates the field (`key`, `field.type`), creating it if absent. */
  | { readonly op: 'update'; readonly key: string; readonly field: FieldOp }
  /** Removes (resets) the field (`key`, `type`), or every field under `key` if no type is given. */
  | { readonly op: 'remove'; readonly key: string; readonly type?: CrdtTypeName };

const empty: OrMap = { store: orMapStoreKind.empty, context: emptyContext() };

export function orMapEmpty(): OrMap {
  return empty;
}

/** The delta of `replica` applying `op` to `state`, or why the op cannot be applied. */
export function orMapApply(state: OrMap, replica: ReplicaId, op: OrMapOp): Result<OrMap, CrdtRefusal> {
  assertReplicaId(replica);
  return applyToStore(state, replica, op, 1);
}

function applyToStore(state: Causal<OrMapStore>, replica: ReplicaId, op: OrMapOp, depth: number): Result<OrMap, CrdtRefusal> {
  const refusal = keyArgumentRefusal(op.key, 'key');
  if (refusal !== null) return err(refusal);
  if (op.op === 'remove') return ok({ store: orMapStoreKind.empty, context: contextOf(dotsUnder(state.store, op.key, op.type)) });
  const type = op.field.type;
  const id = fieldId(op.key, type);
  const kind = embeddedKind(type);
  const inner = { store: state.store.get(id)?.store ?? kind.empty, context: state.context };
  const delta = applyToField(inner, replica, op.field, depth);
  if (!delta.ok) return delta;
  const store: OrMapStore = kind.isEmpty(delta.value.store) ? orMapStoreKind.empty : new Map([[id, { key: op.key, type, store: delta.value.store }]]);
  return ok({ store, context: delta.value.context });
}

/** The dots of the fields under `key` (of `type` only, if given). */
function dotsUnder(store: OrMapStore, key: string, type: CrdtTypeName | undefined): Dot[] {
  const dots: Dot[] = [];
  for (const field of store.values()) {
    if (field.key === key && (type === undefined || field.type === type)) dots.push(...embeddedKind(field.type).dots(field.store));
  }
  return dots;
}

/**
 * The embedded delta of `op` on the field's store (`inner`: the field's store, or its kind's
 * empty store, under the map's context). Each case is the embedded type's own delta mutator.
 */
function applyToField(inner: Causal<EmbeddedStore>, replica: ReplicaId, op: FieldOp, depth: number): Result<Causal<EmbeddedStore>, CrdtRefusal> {
  switch (op.type) {
    case 'g-counter':
      return counterStoreAdd(inner as Causal<CounterStore>, replica, op.add, false);
    case 'pn-counter':
      if (!Number.isSafeInteger(op.add) || op.add === 0) {
        return err(argumentRefusal('CONFIG', 'integer', 'add', `${op.add} is not a non-zero integer`));
      }
      return counterStoreAdd(inner as Causal<CounterStore>, replica, Math.abs(op.add), op.add < 0);
    case 'lww-register':
      return lwwStoreWrite(inner as Causal<LwwStore>, replica, op.timestamp, op.value);
    case 'mv-register':
      return mvWrite(inner as Causal<MvStore>, replica, op.value);
    case 'or-set':
      return op.op === 'add' ? orSetAdd(inner as Causal<OrSetStore>, replica, op.element) : ok(orSetRemove(inner as Causal<OrSetStore>, op.element));
    case 'or-map':
      if (depth + 1 > nestingDepthMax) {
        return err(argumentRefusal('CONFIG', 'too-deep', 'apply', `maps nested deeper than ${nestingDepthMax}`));
      }
      return applyToStore(inner as Causal<OrMapStore>, replica, op.apply, depth + 1);
    default: {
      const never: never = op;
      return never;
    }
  }
}

export function orMapMerge(a: OrMap, b: OrMap): OrMap {
  return joinCausal(a, b, orMapStoreKind);
}

/** Whether `context` holds a dot of the field's store, nested maps included. */
function fieldSeenBy(field: OrMapField, context: CausalContext): boolean {
  if (field.type === 'or-set') return orSetStoreSeenBy(field.store as OrSetStore, context);
  if (field.type === 'or-map') {
    for (const inner of (field.store as OrMapStore).values()) if (fieldSeenBy(inner, context)) return true;
    return false;
  }
  return dotFunSeenBy(field.store as DotFun<unknown>, context);
}

const fieldKind: KeyedKind<OrMapField> = {
  dots: (field) => embeddedKind(field.type).dots(field.store),
  seenBy: fieldSeenBy,
  join: (a, aContext, b, bContext) => {
    const field = (a ?? b) as OrMapField;
    const kind = embeddedKind(field.type);
    const store = kind.join(a?.store ?? kind.empty, aContext, b?.store ?? kind.empty, bContext);
    if (kind.isEmpty(store)) return undefined;
    return store === field.store ? field : { key: field.key, type: field.type, store };
  },
};

/** `orMapMerge`, at a cost in proportion to `delta`, with the field ids (`fieldId`) it changed (merge-delta.ts). */
export function orMapMergeDelta(state: OrMap, delta: OrMap, owned = false): MergeOutcome<OrMap> {
  return mergeKeyedDelta(state, delta, fieldKind, owned);
}

/** Every field, by key then type. */
export function orMapValue(state: OrMap): readonly OrMapEntry[] {
  return orMapStoreValue(state.store);
}

/** What the field (`key`, `type`) shows, or undefined if the map has no such field. */
export function orMapGet(state: OrMap, key: string, type: CrdtTypeName): EmbeddedValue | undefined {
  const field = state.store.get(fieldId(key, type));
  return field === undefined ? undefined : embeddedValue(field);
}

/** `[replicas, [key, type, store, ...], vector, cloud]` (dot-store-wire.ts). */
export function encodeOrMap(state: OrMap): WireValue {
  return encodeCausal(state, encodeOrMapStore);
}

export function readOrMap(reader: WireReader, value: unknown, path: string): OrMap {
  return readCausal(reader, value, path, (store, at, table) => readOrMapStore(reader, store, at, table, 1), orMapStoreKind);
}

export function decodeOrMap(input: unknown): Result<OrMap, CrdtRefusal> {
  return readWire(input, (reader, value) => readOrMap(reader, value, 'state'));
}

export { orMapEntries };
