/**
 * What this proves about the add-wins OR-Set (Shapiro et al. 2011; Almeida et al. 2018): an add
 * concurrent with a remove of the same element wins; a remove takes away only the adds it
 * observed; an element can be removed and added again; and removes leave no tombstones: after
 * thousands of adds and removes the state holds nothing but one context count per replica, and
 * its encoding is as small as an empty set's. Elements are ordinary strings, `__proto__` and
 * `constructor` included, and elements beyond the key bound are refused.
 */
import { describe, expect, it } from 'vitest';
import { keyBytesMax } from '../../../src/core/crdt/limits.ts';
import { encodeOrSet, orSetAdd, orSetClear, orSetEmpty, orSetHas, orSetMerge, orSetRemove, orSetValue, type OrSet } from '../../../src/core/crdt/or-set.ts';
import { unwrap } from './crdt-histories.ts';

function add(state: OrSet, replica: string, element: string): OrSet {
  return orSetMerge(state, unwrap(orSetAdd(state, replica, element)));
}

describe('OR-Set', () => {
  it('an add concurrent with a remove wins, in either merge order', () => {
    const shared = add(orSetEmpty(), 'a', 'x');
    const removed = orSetMerge(shared, orSetRemove(shared, 'x')); // b removes the x it saw
    const readded = add(shared, 'a', 'x'); // meanwhile a adds x again
    expect(orSetValue(removed)).toEqual([]);
    expect(orSetValue(orSetMerge(removed, readded))).toEqual(['x']);
    expect(orSetValue(orSetMerge(readded, removed))).toEqual(['x']);
  });

  it('a remove takes away only the adds it observed', () => {
    const fromA = add(orSetEmpty(), 'a', 'x');
    const fromB = add(orSetEmpty(), 'b', 'x');
    // c has seen only a's add, and removes x.
    const c = orSetMerge(fromA, orSetRemove(fromA, 'x'));
    const all = [fromA, fromB, c].reduce(orSetMerge, orSetEmpty());
    expect(orSetValue(all)).toEqual(['x']);
    // b's add is the one that survives.
    expect([...(all.store.get('x')?.keys() ?? [])]).toEqual(['b']);
  });

  it('a remove observed everywhere removes the element everywhere; it can be added again', () => {
    let state = add(add(orSetEmpty(), 'a', 'x'), 'b', 'x');
    state = orSetMerge(state, orSetRemove(state, 'x'));
    expect(orSetHas(state, 'x')).toBe(false);
    state = add(state, 'a', 'x');
    expect(orSetValue(state)).toEqual(['x']);
  });

  it('a remove delta is only a context, and removing an absent element is the empty delta', () => {
    const state = add(orSetEmpty(), 'a', 'x');
    const delta = orSetRemove(state, 'x');
    expect(delta.store.size).toBe(0);
    expect(delta.context.vector.get('a')).toBe(1);
    expect(orSetRemove(state, 'absent')).toEqual(orSetEmpty());
  });

  it('removes leave no tombstones: thousands of adds and removes end as one count per replica', () => {
    let a = orSetEmpty();
    let b = orSetEmpty();
    for (let i = 0; i < 2_000; i++) {
      const element = `element ${i}`;
      const added = unwrap(orSetAdd(a, i % 2 === 0 ? 'a' : 'b', element));
      a = orSetMerge(a, added);
      b = orSetMerge(b, added);
      const removed = orSetRemove(b, element);
      b = orSetMerge(b, removed);
      a = orSetMerge(a, removed);
    }
    expect(orSetValue(a)).toEqual([]);
    expect(a.store.size).toBe(0);
    expect(a.context.cloud.size).toBe(0);
    expect([...a.context.vector]).toEqual([
      ['a', 1_000],
      ['b', 1_000],
    ]);
    expect(encodeOrSet(a)).toEqual([['a', 'b'], [], [0, 1_000, 1, 1_000], []]);
  });

  it('adding an element again replaces the dots it saw: one dot, or one per concurrent add', () => {
    let state = orSetEmpty();
    for (let i = 0; i < 50; i++) state = add(state, i % 2 === 0 ? 'a' : 'b', 'x');
    expect([...(state.store.get('x')?.values() ?? [])].map((seqs) => seqs.size)).toEqual([1]);
    const concurrent = orSetMerge(add(state, 'a', 'x'), add(state, 'b', 'x'));
    expect(concurrent.store.get('x')?.size).toBe(2);
    expect(add(concurrent, 'c', 'x').store.get('x')?.size).toBe(1);
  });

  it('clear removes what it saw; an add it did not see survives', () => {
    const state = add(add(orSetEmpty(), 'a', 'x'), 'a', 'y');
    const unseen = unwrap(orSetAdd(state, 'b', 'z'));
    const cleared = [state, orSetClear(state), unseen].reduce(orSetMerge, orSetEmpty());
    expect(orSetValue(cleared)).toEqual(['z']);
  });

  it('elements are plain strings: __proto__, constructor, the empty string', () => {
    let state = orSetEmpty();
    for (const element of ['__proto__', 'constructor', '', 'hasOwnProperty']) state = add(state, 'a', element);
    expect(orSetValue(state)).toEqual(['', '__proto__', 'constructor', 'hasOwnProperty']);
    expect(Object.getPrototypeOf(state.store)).toBe(Map.prototype);
  });

  it.each([
    ['longer than keyBytesMax', 'x'.repeat(keyBytesMax + 1), 'TOO_LARGE'],
    ['multi-byte past keyBytesMax', 'é'.repeat(keyBytesMax / 2 + 1), 'TOO_LARGE'],
    ['a lone surrogate', 'a\udc00', 'CONFIG'],
  ])('refuses an element %s', (_, element, code) => {
    const result = orSetAdd(orSetEmpty(), 'a', element);
    expect(result.ok ? null : result.error).toMatchObject({ code, reason: 'text' });
  });
});
