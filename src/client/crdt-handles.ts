/**
 * `node.crdt(name, type)`: typed handles over the gossip engine's replicated data without order
 * (src/core/crdt/, docs/design.md "Replicated data without order"). Each update is a local input
 * of the worker's gossip engine: taken at once, offline too, persisted with the node's gossip
 * state before its delta leaves, and merged everywhere the delta or an anti-entropy exchange
 * reaches (delta CRDTs, Almeida et al. 2018). Values come back from the worker; `on` hears every
 * change, local or remote, with the value as of the engine's Ready.
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
import type { Scalar } from '../core/crdt/scalar.ts';
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
  /** Every change of this CRDT here (a local update, or news merged from a peer); returns the unsubscribe. */
  on(listener: (value: CrdtValues[N], origin: 'local' | 'remote') => void): () => void;
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

/** A handle of `type` on the CRDT `name` (the worker holds it already: `crdtOpen`). */
export function crdtHandle<N extends CrdtTypeName>(port: CrdtPort, name: string, type: N): CrdtHandles[N] {
  const base: CrdtHandle<N> = {
    name,
    type,
    value: () => port.value(name, type),
    on: (listener) =>
      port.onChange((e) => {
        if (e.name === name && e.crdt === type) listener(e.value as CrdtValues[N], e.origin);
      }),
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

function lwwField(entries: readonly OrMapEntry[], key: string): Scalar | undefined {
  const e = entries.find((x) => x.key === key && x.type === 'lww-register');
  return e === undefined ? undefined : (e.value as Scalar);
}
