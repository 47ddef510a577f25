/**
 * What this proves: `mergeDelta` (merge-delta.ts and each type's entry in crdt-types.ts) answers
 * what the old path answered, for every type, over seeded random histories (crdt-histories.ts):
 * its state encodes like `merge(state, delta)`, and it reports news exactly when that encoding
 * differs from the state's (the reference: merge, encode the whole, compare). For the keyed types
 * the touched keys are exactly the keys whose entry differs between the two states. The pairs
 * are a history's sampled and final states against its deltas (what a node merges on a push) and
 * against other states (what anti-entropy merges), duplicates included (old news); and again with
 * the state owned by the caller (a copy), which a large map may join in place.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/core/prng.ts';
import { crdtTypeNames, crdtTypes, wireEquals, type CrdtType } from '../../../src/core/crdt/crdt-types.ts';
import { deepEqual } from '../../../src/core/crdt/merge-delta.ts';
import { orMapApply, type OrMap } from '../../../src/core/crdt/or-map.ts';
import { orSetAdd, orSetRemove, type OrSet } from '../../../src/core/crdt/or-set.ts';
import { runHistory, unwrap } from './crdt-histories.ts';

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
      // Owned (the caller drops the state): a large map is joined in place, with the same answers.
      const copy = type.decode(type.encode(state));
      expect(copy.ok).toBe(true);
      if (copy.ok) {
        const owned = type.mergeDelta(copy.value, delta, true);
        expect(type.encode(owned.state)).toEqual(type.encode(reference));
        expect(owned.changed).toBe(changedReference);
        expect(owned.touched === null ? null : [...owned.touched].sort()).toEqual(out.touched === null ? null : [...out.touched].sort());
      }
      if (out.changed) news++;
      else stale++;
    }
    // Both answers must be exercised, or the comparison proves little.
    expect(news).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(0);
  });
});

describe('owned large maps and sets, joined in place', () => {
  it.each([1, 2, 3])('a 150-key map and a 150-element set under random writes, removes and stale deltas match merge (seed %i)', (seed) => {
    const prng = createPrng(seed);
    const map = crdtTypes['or-map'];
    const set = crdtTypes['or-set'];
    const replicas = ['r0', 'r1', 'r2'];
    // Each replica's state (the reference, by merge) and one owned copy joined in place by mergeDelta.
    let maps = replicas.map(() => map.empty());
    let sets = replicas.map(() => set.empty());
    let ownedMap = map.empty();
    let ownedSet = set.empty();
    const mapDeltas: (typeof ownedMap)[] = [];
    const setDeltas: (typeof ownedSet)[] = [];
    for (let step = 0; step < 1500; step++) {
      const at = prng.nextInt(replicas.length);
      const replica = replicas[at] as string;
      const key = `k${prng.nextInt(150)}`;
      const mapOp = prng.nextInt(6) === 0 ? ({ op: 'remove', key } as const) : ({ op: 'update', key, field: { type: 'lww-register', timestamp: step, value: step } } as const);
      const md = unwrap(orMapApply(maps[at] as OrMap, replica, mapOp));
      const sd = unwrap(prng.nextInt(5) === 0 ? { ok: true as const, value: orSetRemove(sets[at] as OrSet, key) } : orSetAdd(sets[at] as OrSet, replica, key));
      maps = maps.map((m, i) => (i === at ? map.merge(m, md) : m));
      sets = sets.map((x, i) => (i === at ? set.merge(x, sd) : x));
      mapDeltas.push(md);
      setDeltas.push(sd);
      // The owned copy hears a random earlier delta (late, repeated or new), as a receiver does.
      const mi = prng.nextInt(mapDeltas.length);
      const si = prng.nextInt(setDeltas.length);
      const mapBefore = map.encode(ownedMap);
      const mapReference = map.merge(ownedMap, mapDeltas[mi] as OrMap);
      const mapOut = map.mergeDelta(ownedMap, mapDeltas[mi] as OrMap, true);
      expect(map.encode(mapOut.state)).toEqual(map.encode(mapReference));
      expect(mapOut.changed).toBe(!wireEquals(map.encode(mapReference), mapBefore));
      ownedMap = mapOut.state;
      const setBefore = set.encode(ownedSet);
      const setReference = set.merge(ownedSet, setDeltas[si] as OrSet);
      const setOut = set.mergeDelta(ownedSet, setDeltas[si] as OrSet, true);
      expect(set.encode(setOut.state)).toEqual(set.encode(setReference));
      expect(setOut.changed).toBe(!wireEquals(set.encode(setReference), setBefore));
      ownedSet = setOut.state;
    }
    // Large enough that the in-place path ran.
    expect(ownedMap.store.size).toBeGreaterThan(64);
    expect(ownedSet.store.size).toBeGreaterThan(64);
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
