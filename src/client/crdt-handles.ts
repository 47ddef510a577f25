/**
 * `node.crdt(name, type)`: typed handles over the gossip engine's replicated data without order
 * (src/core/crdt/, docs/design.md "Replicated data without order"). Each update is a local input
 * of the worker's gossip engine: taken at once, offline too, persisted with the node's gossip
 * state before its delta leaves, and merged everywhere the delta or an anti-entropy exchange
 * reaches (delta CRDTs, Almeida et al. 2018). Values come back from the worker; `observe` hears
 * every change, local or remote, as what changed (a map's fields, a set's elements, a counter's
 * or register's new value: src/core/gossip/crdt-change.ts), and `on` with the whole value. The
 * handle keeps its own copy of the value, opened with the worker's and kept current from the
 * changes, so that an event costs in proportion to the change, not to the CRDT (a 1,000-key map
 * is not built, cloned to the page and walked for every update).
 *
 * Names: the registry's (`or-map`, `or-set`, `pn-counter`, `g-counter`, `lww-register`,
 * `mv-register`), or the short ones `map` (an OR-Map), `set` (an add-wins OR-Set), `counter` (a
 * PN-Counter) and `register` (a last-writer-wins register).
 *
 * Last-writer-wins stamps are the caller's clock (`Date.now()` unless given): the writer with the
 * later stamp wins, ties by replica id; a clock far ahead wins every race it enters
 * (lww-register.ts). Use an MV-register to see concurrent writes instead.
 */
import type { CrdtTypeName, CrdtValues } from '../core/crdt/crdt-types.ts';
import type { FieldOp, OrMapEntry } from '../core/crdt/or-map.ts';
import { fieldId } from '../core/crdt/or-map-store.ts';
import { compareText } from '../core/crdt/text.ts';
import type { Scalar } from '../core/crdt/scalar.ts';
import type { CrdtChange, CrdtChangeOf } from '../core/gossip/crdt-change.ts';
import type { CrdtOp } from '../core/gossip/crdt-op.ts';
import type { CrdtChangedEvent } from '../runtime/worker-protocol.ts';
import { NodeError } from './node-error.ts';

/** The short names and what they stand for. */
export const crdtAliases = { map: 'or-map', set: 'or-set', counter: 'pn-counter', register: 'lww-register' } as const;

export type CrdtKind = CrdtTypeName | keyof typeof crdtAliases;

/** The registry name a kind stands for. */
export type CrdtTypeOfKind<K extends CrdtKind> = K extends keyof typeof crdtAliases ? (typeof crdtAliases)[K] : K;

const typeNames: readonly CrdtTypeName[] = ['g-counter', 'pn-counter', 'lww-register', 'mv-register', 'or-set', 'or-map'];

export function crdtTypeOfKind<K extends CrdtKind>(kind: K): CrdtTypeOfKind<K> {
  const type = Object.hasOwn(crdtAliases, kind) ? crdtAliases[kind as keyof typeof crdtAliases] : kind;
  if (!typeNames.includes(type as CrdtTypeName)) throw new NodeError('CONFIG', `unknown CRDT type ${JSON.stringify(kind)}; one of ${[...typeNames, ...Object.keys(crdtAliases)].join(', ')}`);
  return type as CrdtTypeOfKind<K>;
}

/** What every handle has. */
export interface CrdtHandle<N extends CrdtTypeName> {
  readonly name: string;
  readonly type: N;
  /** The value here now. */
  value(): Promise<CrdtValues[N]>;
  /** Every change of this CRDT here (a local update, or news merged from a peer), with the whole value then; returns the unsubscribe. */
  on(listener: (value: CrdtValues[N], origin: 'local' | 'remote') => void): () => void;
  /**
   * Every change of this CRDT here, as what changed (a map: the fields updated with their values
   * and the fields removed; a set: the elements added and removed; others: the new value);
   * returns the unsubscribe. In proportion to the change: prefer it to `on` for large CRDTs.
   */
  observe(listener: (change: CrdtChangeOf<N>, origin: 'local' | 'remote') => void): () => void;
}

export interface CounterHandle<N extends 'g-counter' | 'pn-counter'> extends CrdtHandle<N> {
  /** Add `by` (a positive integer, default 1). */
  increment(by?: number): Promise<void>;
}

export interface PnCounterHandle extends CounterHandle<'pn-counter'> {
  /** Subtract `by` (a positive integer, default 1). */
  decrement(by?: number): Promise<void>;
}

export interface LwwRegisterHandle extends CrdtHandle<'lww-register'> {
  /** Write `value` stamped `timestamp` (default `Date.now()`). */
  set(value: Scalar, timestamp?: number): Promise<void>;
}

export interface MvRegisterHandle extends CrdtHandle<'mv-register'> {
  /** Write `value`, replacing every value this node sees now (concurrent writes elsewhere stay beside it). */
  set(value: Scalar): Promise<void>;
}

export interface SetHandle extends CrdtHandle<'or-set'> {
  add(element: string): Promise<void>;
  /** Remove the element as this node sees it (a concurrent add elsewhere wins). */
  remove(element: string): Promise<void>;
  clear(): Promise<void>;
}

export interface MapHandle extends CrdtHandle<'or-map'> {
  /** Set `key` to `value`: a last-writer-wins register field, stamped `timestamp` (default `Date.now()`). */
  set(key: string, value: Scalar, timestamp?: number): Promise<void>;
  /** The last-writer-wins value under `key`, undefined when none. */
  get(key: string): Promise<Scalar | undefined>;
  /** Update the field (`key`, `field.type`) of any type (a counter, a set, a nested map...). */
  update(key: string, field: FieldOp): Promise<void>;
  /** Remove the field (`key`, `type`), or every field under `key` (what this node sees of it). */
  remove(key: string, type?: CrdtTypeName): Promise<void>;
}

export interface CrdtHandles {
  readonly 'g-counter': CounterHandle<'g-counter'>;
  readonly 'pn-counter': PnCounterHandle;
  readonly 'lww-register': LwwRegisterHandle;
  readonly 'mv-register': MvRegisterHandle;
  readonly 'or-set': SetHandle;
  readonly 'or-map': MapHandle;
}

export type CrdtHandleOf<K extends CrdtKind> = CrdtHandles[CrdtTypeOfKind<K>];

/** What a handle needs of the node (the worker's API through the page's handle). */
export interface CrdtPort {
  update(name: string, op: CrdtOp): Promise<void>;
  value<N extends CrdtTypeName>(name: string, type: N): Promise<CrdtValues[N]>;
  /** Listen to `crdt-changed` events; returns the unsubscribe. */
  onChange(listener: (e: CrdtChangedEvent) => void): () => void;
}

/**
 * A handle of `type` on the CRDT `name` (the worker holds it already: `crdtOpen`, which answered
 * `opened`, its value then). Changes the worker raised before it answered are in `opened`
 * already; applied again they change nothing (each change says what its parts hold now).
 */
export function crdtHandle<N extends CrdtTypeName>(port: CrdtPort, name: string, type: N, opened: CrdtValues[N]): CrdtHandles[N] {
  const view = new CrdtView(type, opened);
  const ons = new Set<(value: CrdtValues[N], origin: 'local' | 'remote') => void>();
  const observers = new Set<(change: CrdtChangeOf<N>, origin: 'local' | 'remote') => void>();
  // One subscription per handle keeps the view current whether or not anyone listens.
  port.onChange((e) => {
    if (e.name !== name || e.crdt !== type) return;
    view.apply(e.change);
    for (const listener of observers) listener(e.change as CrdtChangeOf<N>, e.origin);
    if (ons.size === 0) return;
    const value = view.value() as CrdtValues[N];
    for (const listener of ons) listener(value, e.origin);
  });
  const base: CrdtHandle<N> = {
    name,
    type,
    value: () => port.value(name, type),
    on: (listener) => {
      ons.add(listener);
      return () => ons.delete(listener);
    },
    observe: (listener) => {
      observers.add(listener);
      return () => observers.delete(listener);
    },
  };
  const count = (by: number): number => {
    if (!Number.isSafeInteger(by) || by <= 0) throw new NodeError('CONFIG', `a counter moves by a positive integer, got ${by}`);
    return by;
  };
  const handles: { readonly [T in CrdtTypeName]: () => CrdtHandles[T] } = {
    'g-counter': () => ({ ...(base as unknown as CrdtHandle<'g-counter'>), increment: (by = 1) => port.update(name, { type: 'g-counter', add: count(by) }) }),
    'pn-counter': () => ({
      ...(base as unknown as CrdtHandle<'pn-counter'>),
      increment: (by = 1) => port.update(name, { type: 'pn-counter', add: count(by) }),
      decrement: (by = 1) => port.update(name, { type: 'pn-counter', add: -count(by) }),
    }),
    'lww-register': () => ({ ...(base as unknown as CrdtHandle<'lww-register'>), set: (value, timestamp = Date.now()) => port.update(name, { type: 'lww-register', timestamp, value }) }),
    'mv-register': () => ({ ...(base as unknown as CrdtHandle<'mv-register'>), set: (value) => port.update(name, { type: 'mv-register', value }) }),
    'or-set': () => ({
      ...(base as unknown as CrdtHandle<'or-set'>),
      add: (element) => port.update(name, { type: 'or-set', op: 'add', element }),
      remove: (element) => port.update(name, { type: 'or-set', op: 'remove', element }),
      clear: () => port.update(name, { type: 'or-set', op: 'clear' }),
    }),
    'or-map': () => ({
      ...(base as unknown as CrdtHandle<'or-map'>),
      set: (key, value, timestamp = Date.now()) => port.update(name, { type: 'or-map', apply: { op: 'update', key, field: { type: 'lww-register', timestamp, value } } }),
      get: async (key) => lwwField(await port.value(name, 'or-map'), key),
      update: (key, field) => port.update(name, { type: 'or-map', apply: { op: 'update', key, field } }),
      remove: (key, fieldType) => port.update(name, { type: 'or-map', apply: fieldType === undefined ? { op: 'remove', key } : { op: 'remove', key, type: fieldType } }),
    }),
  };
  return handles[type]() as CrdtHandles[N];
}

/**
 * The page's copy of a CRDT's value: a map's fields by id, a set's elements, or the value itself,
 * kept current from the changes; the sorted value is built only when asked for, once per change.
 */
class CrdtView {
  private fields: Map<string, OrMapEntry> | null = null;
  private elements: Set<string> | null = null;
  private whole: unknown;
  private built: unknown = null;

  constructor(type: CrdtTypeName, opened: unknown) {
    if (type === 'or-map') this.fields = new Map((opened as readonly OrMapEntry[]).map((e) => [fieldId(e.key, e.type), e]));
    else if (type === 'or-set') this.elements = new Set(opened as readonly string[]);
    else this.whole = opened;
  }

  apply(change: CrdtChange): void {
    this.built = null;
    if (change.kind === 'value') this.whole = change.value;
    else if (change.kind === 'elements' && this.elements !== null) {
      for (const e of change.added) this.elements.add(e);
      for (const e of change.removed) this.elements.delete(e);
    } else if (change.kind === 'fields' && this.fields !== null) {
      for (const e of change.updated) this.fields.set(fieldId(e.key, e.type), e);
      for (const e of change.removed) this.fields.delete(fieldId(e.key, e.type));
    }
  }

  /** The value as the worker's `value` lists it (a map's fields by key then type, a set's elements sorted). */
  value(): unknown {
    if (this.built !== null) return this.built;
    if (this.fields !== null) this.built = [...this.fields.values()].sort((a, b) => compareText(a.key, b.key) || compareText(a.type, b.type));
    else if (this.elements !== null) this.built = [...this.elements].sort(compareText);
    else return this.whole;
    return this.built;
  }
}

function lwwField(entries: readonly OrMapEntry[], key: string): Scalar | undefined {
  const e = entries.find((x) => x.key === key && x.type === 'lww-register');
  return e === undefined ? undefined : (e.value as Scalar);
}
