/**
 * What this proves: `mergeDelta` (merge-delta.ts and each type's entry in crdt-types.ts) answers
 * what the old path answered, for every type, over seeded random histories (crdt-histories.ts):
 * its state encodes like `merge(state, delta)`, and it reports news exactly when that encoding
 * differs from the state's (the reference: merge, encode the whole, compare). For the keyed types
 * the touched keys are exactly the keys whose entry differs between the two states. The pairs
 * are a history's sampled and final states against its deltas (what a node merges on a push) and
 * against other states (what anti-entropy merges), duplicates included (old news).
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/core/prng.ts';
import { crdtTypeNames, crdtTypes, wireEquals, type CrdtType } from '../../../src/core/crdt/crdt-types.ts';
import { deepEqual } from '../../../src/core/crdt/merge-delta.ts';
import type { OrMap } from '../../../src/core/crdt/or-map.ts';
import type { OrSet } from '../../../src/core/crdt/or-set.ts';
import { runHistory } from './crdt-histories.ts';

const seeds = Array.from({ length: 10 }, (_, i) => 7000 + i);

/** The keys whose entry differs between two keyed states (the reference for `touched`). */
function differingKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => !deepEqual(a.get(k), b.get(k))).sort();
}

describe.each(crdtTypeNames)('%s', (name) => {
  const type = crdtTypes[name] as CrdtType<unknown, unknown>;
  const keyed = name === 'or-set' || name === 'or-map';

  it.each(seeds)('mergeDelta agrees with merge + encode-compare (seed %i)', (seed) => {
    const history = runHistory(name, seed, { replicaCount: 4, steps: 200 });
    const states = [type.empty(), ...history.samples, ...history.replicas];
    const others = [...history.deltas, ...history.samples, ...history.replicas, type.empty()];
    const prng = createPrng(seed);
    let news = 0;
    let stale = 0;
    for (let t = 0; t < 300; t++) {
      const state = states[prng.nextInt(states.length)];
      const delta = others[prng.nextInt(others.length)];
      const reference = type.merge(state, delta);
      const changedReference = !wireEquals(type.encode(reference), type.encode(state));
      const out = type.mergeDelta(state, delta);
      expect(type.encode(out.state)).toEqual(type.encode(reference));
      expect(out.changed).toBe(changedReference);
      if (keyed) {
        const before = (state as OrSet | OrMap).store as ReadonlyMap<string, unknown>;
        const after = (out.state as OrSet | OrMap).store as ReadonlyMap<string, unknown>;
        expect([...(out.touched ?? [])].sort()).toEqual(differingKeys(before, after));
      } else {
        expect(out.touched).toBeNull();
      }
      if (out.changed) news++;
      else stale++;
    }
    // Both answers must be exercised, or the comparison proves little.
    expect(news).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(0);
  });
});

describe('deepEqual', () => {
  it('compares maps by key, arrays and objects by items, scalars by value', () => {
    expect(deepEqual(new Map([['a', { p: 1, n: 0 }]]), new Map([['a', { n: 0, p: 1 }]]))).toBe(true);
    expect(deepEqual(new Map([['a', 1], ['b', 2]]), new Map([['b', 2], ['a', 1]]))).toBe(true);
    expect(deepEqual(new Map([['a', 1]]), new Map([['a', 2]]))).toBe(false);
    expect(deepEqual(new Map([['a', 1]]), new Map([['b', 1]]))).toBe(false);
    expect(deepEqual([1, 'x'], [1, 'x'])).toBe(true);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    expect(deepEqual({ a: null }, { a: undefined })).toBe(false);
  });
});
