/**
 * The store of an OR-Map: fields holding the stores of embedded CRDTs, all under the map's one
 * causal context (Almeida et al. 2018 §7, the δ-ORMap; the recursive parts live here, the
 * mutations in or-map.ts).
 *
 * A field is named by its key AND its type, as Riak's maps name theirs: two replicas that create
 * "likes" concurrently, one as a counter and one as a set, get two fields rather than a conflict
 * no merge could settle. Every embedded store is a dot store (dot-store.ts): MV-Register and
 * OR-Set as they are standalone, counters and LWW-Registers in their causal forms
 * (causal-counter.ts, causal-lww-register.ts). Sharing the map's context is what makes a remove a
 * reset: removing a field is a delta whose context names the dots the remover saw in it, and the
 * join takes exactly those out of the embedded store, wherever they are nested, while updates the
 * remover did not see survive. A field whose store ends up empty is no longer in the map.
 */
import { contextEntries, type CausalContext, type Dot } from './causal-context.ts';
import { counterStoreKind, counterStoreValue, encodeCounterStore, readCounterStore, type CounterStore } from './causal-counter.ts';
import { encodeLwwStore, lwwStoreKind, lwwStoreWinner, readLwwStore, type LwwStore } from './causal-lww-register.ts';
import { isCrdtTypeName, type CrdtTypeName } from './crdt-type-name.ts';
import { dotFunEntries, type DotFun, type StoreKind } from './dot-store.ts';
import { nestingDepthMax } from './limits.ts';
import type { ReplicaTable } from './replica-table.ts';
import { encodeMvStore, mvStoreKind, mvStoreValue, readMvStore, type MvStore } from './mv-register.ts';
import { encodeOrSetStore, orSetStoreEntries, orSetStoreKind, orSetStoreValue, readOrSetStore, type OrSetStore } from './or-set.ts';
import type { Scalar } from './scalar.ts';
import { compareText } from './text.ts';
import type { WireReader, WireValue } from './wire-reader.ts';

export type EmbeddedStore = CounterStore | LwwStore | MvStore | OrSetStore | OrMapStore;

export interface OrMapField {
  readonly key: string;
  readonly type: CrdtTypeName;
  /** The embedded CRDT's store, of the kind `type` names; never empty. */
  readonly store: EmbeddedStore;
}

/** Field id → field. The id is derived from key and type (`fieldId`) and never read from a peer. */
export type OrMapStore = ReadonlyMap<string, OrMapField>;

/** What a field shows, by type. */
export type EmbeddedValue =
  | { readonly type: 'g-counter' | 'pn-counter'; readonly value: number }
  | { readonly type: 'lww-register'; readonly value: Scalar }
  | { readonly type: 'mv-register'; readonly value: readonly Scalar[] }
  | { readonly type: 'or-set'; readonly value: readonly string[] }
  | { readonly type: 'or-map'; readonly value: readonly OrMapEntry[] };

/** A field as the map's value lists it. */
export type OrMapEntry = { readonly key: string } & EmbeddedValue;

/**
 * The id of the field (key, type): the type, a colon, the key. Type names hold no colon, so the
 * first colon ends the type and distinct pairs get distinct ids, whatever the key holds.
 */
export function fieldId(key: string, type: CrdtTypeName): string {
  return `${type}:${key}`;
}

const emptyStore: OrMapStore = new Map();

export const orMapStoreKind: StoreKind<OrMapStore> = {
  empty: emptyStore,
  isEmpty: (store) => store.size === 0,
  join: joinOrMapStores,
  dots: orMapStoreDots,
};

/** The kind of store a field of `type` holds. */
export function embeddedKind(type: CrdtTypeName): StoreKind<EmbeddedStore> {
  switch (type) {
    case 'g-counter':
    case 'pn-counter':
      return counterStoreKind as StoreKind<EmbeddedStore>;
    case 'lww-register':
      return lwwStoreKind as StoreKind<EmbeddedStore>;
    case 'mv-register':
      return mvStoreKind as StoreKind<EmbeddedStore>;
    case 'or-set':
      return orSetStoreKind as StoreKind<EmbeddedStore>;
    case 'or-map':
      return orMapStoreKind as StoreKind<EmbeddedStore>;
    default: {
      const never: never = type;
      return never;
    }
  }
}

/**
 * The dot-map join of §6 over fields: each field's embedded stores joined by their own kind
 * under the two whole map contexts; a field missing on one side joins with its kind's empty store,
 * so the other side's context removes what it saw.
 */
function joinOrMapStores(a: OrMapStore, aContext: CausalContext, b: OrMapStore, bContext: CausalContext): OrMapStore {
  const joined = new Map<string, OrMapField>();
  for (const [id, field] of a) {
    const kind = embeddedKind(field.type);
    const store = kind.join(field.store, aContext, b.get(id)?.store ?? kind.empty, bContext);
    if (!kind.isEmpty(store)) joined.set(id, store === field.store ? field : { key: field.key, type: field.type, store });
  }
  for (const [id, field] of b) {
    if (a.has(id)) continue;
    const kind = embeddedKind(field.type);
    const store = kind.join(kind.empty, aContext, field.store, bContext);
    if (!kind.isEmpty(store)) joined.set(id, store === field.store ? field : { key: field.key, type: field.type, store });
  }
  return joined;
}

/** Every dot of every field, nested maps included: what a remove of the whole map names. */
export function* orMapStoreDots(store: OrMapStore): Iterable<Dot> {
  for (const field of store.values()) yield* embeddedKind(field.type).dots(field.store);
}

export function embeddedValue(field: OrMapField): EmbeddedValue {
  switch (field.type) {
    case 'g-counter':
    case 'pn-counter':
      return { type: field.type, value: counterStoreValue(field.store as CounterStore) };
    case 'lww-register':
      // A field is never empty, so its register shows a write.
      return { type: field.type, value: (lwwStoreWinner(field.store as LwwStore) as { value: Scalar }).value };
    case 'mv-register':
      return { type: field.type, value: mvStoreValue(field.store as MvStore) };
    case 'or-set':
      return { type: field.type, value: orSetStoreValue(field.store as OrSetStore) };
    case 'or-map':
      return { type: field.type, value: orMapStoreValue(field.store as OrMapStore) };
    default: {
      const never: never = field.type;
      return never;
    }
  }
}

function compareFields(a: OrMapField, b: OrMapField): number {
  return compareText(a.key, b.key) || compareText(a.type, b.type);
}

/** The fields, by key then type. */
export function orMapStoreValue(store: OrMapStore): readonly OrMapEntry[] {
  return [...store.values()].sort(compareFields).map((field) => ({ key: field.key, ...embeddedValue(field) }));
}

function encodeEmbedded(field: OrMapField, table: ReplicaTable): WireValue {
  switch (field.type) {
    case 'g-counter':
    case 'pn-counter':
      return encodeCounterStore(field.store as CounterStore, table);
    case 'lww-register':
      return encodeLwwStore(field.store as LwwStore, table);
    case 'mv-register':
      return encodeMvStore(field.store as MvStore, table);
    case 'or-set':
      return encodeOrSetStore(field.store as OrSetStore, table);
    case 'or-map':
      return encodeOrMapStore(field.store as OrMapStore, table);
    default: {
      const never: never = field.type;
      return never;
    }
  }
}

/**
 * Each field's encoding, by field, with the replica table it was made under (its ids joined).
 * Fields are immutable (a join makes a new one when it changes one), so a field's encoding holds
 * as long as the table does: a large map written one key at a time is encoded again in the
 * keys that changed, not all (the node encodes its whole state to persist it, crdt-store.ts).
 */
const fieldWires = new WeakMap<OrMapField, { readonly tableKey: string; readonly wire: WireValue }>();

/** `[key, type, store, key, type, store, ...]`, by key then type; dots name replicas by their index in `table`. */
export function encodeOrMapStore(store: OrMapStore, table: ReplicaTable): WireValue {
  const out: WireValue[] = [];
  const tableKey = JSON.stringify(table.ids);
  for (const field of [...store.values()].sort(compareFields)) {
    const cached = fieldWires.get(field);
    let wire: WireValue;
    if (cached !== undefined && cached.tableKey === tableKey) wire = cached.wire;
    else fieldWires.set(field, { tableKey, wire: (wire = encodeEmbedded(field, table)) });
    out.push(field.key, field.type, wire);
  }
  return out;
}

/**
 * A peer's map store at nesting `depth` (1 for a standalone map). Fields once each, types known,
 * stores never empty, nested maps no deeper than `nestingDepthMax`. Coverage of the dots by the
 * context is checked once, by the caller, over all the dots (`readCausal`).
 */
export function readOrMapStore(reader: WireReader, value: unknown, path: string, table: ReplicaTable, depth: number): OrMapStore {
  const items = reader.groups(value, path, 3);
  const store = new Map<string, OrMapField>();
  for (let i = 0; i < items.length; i += 3) {
    const key = reader.key(items[i], `${path}[${i}]`);
    const type = items[i + 1];
    if (!isCrdtTypeName(type)) reader.refuse('unknown-type', `${path}[${i + 1}]`, 'not a replicated data type');
    const id = fieldId(key, type);
    if (store.has(id)) reader.refuse('duplicate', `${path}[${i}]`, 'field listed twice');
    const embedded = readEmbedded(reader, type, items[i + 2], `${path}[${i + 2}]`, table, depth);
    if (embeddedKind(type).isEmpty(embedded)) reader.refuse('shape', `${path}[${i + 2}]`, 'a field with an empty store');
    store.set(id, { key, type, store: embedded });
  }
  return store;
}

function readEmbedded(reader: WireReader, type: CrdtTypeName, value: unknown, path: string, table: ReplicaTable, depth: number): EmbeddedStore {
  switch (type) {
    case 'g-counter':
    case 'pn-counter':
      return readCounterStore(reader, value, path, table, type === 'g-counter');
    case 'lww-register':
      return readLwwStore(reader, value, path, table);
    case 'mv-register':
      return readMvStore(reader, value, path, table);
    case 'or-set':
      return readOrSetStore(reader, value, path, table);
    case 'or-map':
      if (depth + 1 > nestingDepthMax) reader.refuse('too-deep', path, `maps nested deeper than ${nestingDepthMax}`);
      return readOrMapStore(reader, value, path, table, depth + 1);
    default: {
      const never: never = type;
      return never;
    }
  }
}

/** Entries the store costs in decode (fields, and everything inside them). */
export function orMapStoreEntries(store: OrMapStore): number {
  let entries = store.size;
  for (const field of store.values()) {
    if (field.type === 'or-set') entries += orSetStoreEntries(field.store as OrSetStore);
    else if (field.type === 'or-map') entries += orMapStoreEntries(field.store as OrMapStore);
    else entries += dotFunEntries(field.store as DotFun<unknown>);
  }
  return entries;
}

/** Entries a whole map costs in decode: its store and its context. */
export function orMapEntries(state: { readonly store: OrMapStore; readonly context: CausalContext }): number {
  return orMapStoreEntries(state.store) + contextEntries(state.context);
}
