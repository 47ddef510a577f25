/**
 * Seeded random histories of the replicated data types, shared by the law and convergence tests.
 *
 * For each type an op model draws a random local mutation (the type's own delta mutator, with
 * arguments from a small universe so that replicas collide on the same counters, elements, keys
 * and timestamps). `runHistory` then plays several replicas: each step either mutates one replica
 * (the delta is merged locally and queued to every other replica, sometimes twice), delivers a
 * queued delta in random order (sometimes leaving it queued, to be delivered again), or merges one
 * replica's whole state into another (a full-state sync, as anti-entropy does). Every delta and a
 * sample of intermediate states are kept, as material for the lattice laws.
 */
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import type { Result } from '../../../src/core/result.ts';
import { crdtTypes, type CrdtStates, type CrdtTypeName, type CrdtTypeOf } from '../../../src/core/crdt/crdt-types.ts';
import { gCounterIncrement } from '../../../src/core/crdt/g-counter.ts';
import { lwwWrite } from '../../../src/core/crdt/lww-register.ts';
import { mvWrite } from '../../../src/core/crdt/mv-register.ts';
import { orMapApply, type FieldOp, type OrMapOp } from '../../../src/core/crdt/or-map.ts';
import { orSetAdd, orSetClear, orSetRemove } from '../../../src/core/crdt/or-set.ts';
import { pnCounterDecrement, pnCounterIncrement } from '../../../src/core/crdt/pn-counter.ts';
import type { Scalar } from '../../../src/core/crdt/scalar.ts';

export function unwrap<T, E>(result: Result<T, E>): T {
  if (!result.ok) throw new Error(`unexpected refusal: ${JSON.stringify(result.error)}`);
  return result.value;
}

function pick<T>(prng: Prng, items: readonly T[]): T {
  return items[prng.nextInt(items.length)] as T;
}

const values: readonly Scalar[] = ['a', 'b', 'long value ✓', '', 0, 1, -2.5, true, false, null];
const elements = ['x', 'y', 'z', '__proto__', 'constructor', 'ü'];
const keys = ['k1', 'k2', 'hasOwnProperty', 'toString'];

export type OpModel<S> = (state: S, replica: string, prng: Prng) => S;

/** A random field op; nested maps down to `depth` more levels. */
function randomFieldOp(prng: Prng, depth: number): FieldOp {
  const types = depth > 0 ? 6 : 5;
  switch (prng.nextInt(types)) {
    case 0:
      return { type: 'g-counter', add: 1 + prng.nextInt(3) };
    case 1:
      return { type: 'pn-counter', add: prng.nextInt(2) === 0 ? 1 + prng.nextInt(3) : -1 - prng.nextInt(3) };
    case 2:
      return { type: 'lww-register', timestamp: prng.nextInt(20), value: pick(prng, values) };
    case 3:
      return { type: 'mv-register', value: pick(prng, values) };
    case 4:
      return { type: 'or-set', op: prng.nextInt(3) === 0 ? 'remove' : 'add', element: pick(prng, elements) };
    default:
      return { type: 'or-map', apply: randomMapOp(prng, depth - 1) };
  }
}

export function randomMapOp(prng: Prng, depth: number): OrMapOp {
  const key = pick(prng, keys);
  if (prng.nextInt(5) === 0) return prng.nextInt(2) === 0 ? { op: 'remove', key } : { op: 'remove', key, type: 'or-set' };
  // Fields of one key keep to few types, so updates and removes meet on the same field often.
  return { op: 'update', key, field: randomFieldOp(prng, depth) };
}

export const opModels: { readonly [N in CrdtTypeName]: OpModel<CrdtStates[N]> } = {
  'g-counter': (state, replica, prng) => unwrap(gCounterIncrement(state, replica, 1 + prng.nextInt(5))),
  'pn-counter': (state, replica, prng) =>
    unwrap(prng.nextInt(2) === 0 ? pnCounterIncrement(state, replica, 1 + prng.nextInt(5)) : pnCounterDecrement(state, replica, 1 + prng.nextInt(5))),
  // Timestamps from a small range: ties (broken by replica id) and writes behind the seen stamp.
  'lww-register': (state, replica, prng) => unwrap(lwwWrite(state, replica, prng.nextInt(20), pick(prng, values))),
  'mv-register': (state, replica, prng) => unwrap(mvWrite(state, replica, pick(prng, values))),
  'or-set': (state, replica, prng) => {
    const roll = prng.nextInt(10);
    if (roll < 6) return unwrap(orSetAdd(state, replica, pick(prng, elements)));
    if (roll < 9) return orSetRemove(state, pick(prng, elements));
    return orSetClear(state);
  },
  'or-map': (state, replica, prng) => unwrap(orMapApply(state, replica, randomMapOp(prng, 2))),
};

export interface History<S> {
  /** The final state of each replica (before any final delivery). */
  readonly replicas: S[];
  /** Every delta any replica produced, in the order produced. */
  readonly deltas: S[];
  /** Intermediate states of random replicas at random steps. */
  readonly samples: S[];
  /** Deltas still queued per replica at the end. */
  readonly inboxes: S[][];
}

export interface HistoryOptions {
  readonly replicaCount: number;
  readonly steps: number;
}

export function runHistory<N extends CrdtTypeName>(name: N, seed: number, options: HistoryOptions): History<CrdtStates[N]> {
  const type = crdtTypes[name] as CrdtTypeOf<N>;
  const mutate = opModels[name] as OpModel<CrdtStates[N]>;
  const prng = createPrng(seed);
  const ids = Array.from({ length: options.replicaCount }, (_, i) => `r${i}`);
  const replicas = ids.map(() => type.empty());
  const inboxes: CrdtStates[N][][] = ids.map(() => []);
  const deltas: CrdtStates[N][] = [];
  const samples: CrdtStates[N][] = [];
  for (let step = 0; step < options.steps; step++) {
    const roll = prng.nextInt(10);
    const at = prng.nextInt(ids.length);
    if (roll < 5) {
      const delta = mutate(replicas[at] as CrdtStates[N], ids[at] as string, prng);
      replicas[at] = type.merge(replicas[at] as CrdtStates[N], delta);
      deltas.push(delta);
      inboxes.forEach((inbox, other) => {
        if (other === at) return;
        inbox.push(delta);
        if (prng.nextInt(5) === 0) inbox.push(delta);
      });
    } else if (roll < 9) {
      const inbox = inboxes[at] as CrdtStates[N][];
      if (inbox.length === 0) continue;
      const i = prng.nextInt(inbox.length);
      const delta = inbox[i] as CrdtStates[N];
      if (prng.nextInt(4) !== 0) inbox.splice(i, 1);
      replicas[at] = type.merge(replicas[at] as CrdtStates[N], delta);
    } else {
      const from = prng.nextInt(ids.length);
      replicas[at] = type.merge(replicas[at] as CrdtStates[N], replicas[from] as CrdtStates[N]);
    }
    if (prng.nextInt(4) === 0) samples.push(replicas[prng.nextInt(ids.length)] as CrdtStates[N]);
  }
  return { replicas, deltas, samples, inboxes };
}

