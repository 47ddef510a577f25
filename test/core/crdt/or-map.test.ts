/**
 * What this proves about the OR-Map (Almeida et al. 2018 §7): removing a key resets its fields to
 * what the remover did not see. An element added to a nested set concurrently with the remove
 * survives alone; a counter keeps the increments of replicas the remover did not see (and, one
 * dot per replica, the whole contribution of a replica that incremented concurrently: the
 * documented price of a bounded counter, causal-counter.ts); a register keeps a concurrent write;
 * nested maps reset the same way, level by level. Fields are named by key and type, so a counter
 * and a set created concurrently under one key are two fields. Nesting past nestingDepthMax,
 * bad keys and bad amounts are refused.
 */
import { describe, expect, it } from 'vitest';
import { nestingDepthMax } from '../../../src/core/crdt/limits.ts';
import { orMapApply, orMapEmpty, orMapGet, orMapMerge, orMapValue, type OrMap, type OrMapOp } from '../../../src/core/crdt/or-map.ts';
import { unwrap } from './crdt-histories.ts';

function apply(state: OrMap, replica: string, op: OrMapOp): OrMap {
  return orMapMerge(state, unwrap(orMapApply(state, replica, op)));
}

const addTag = (element: string): OrMapOp => ({ op: 'update', key: 'tags', field: { type: 'or-set', op: 'add', element } });
const count = (add: number): OrMapOp => ({ op: 'update', key: 'n', field: { type: 'pn-counter', add } });
const removeKey = (key: string): OrMapOp => ({ op: 'remove', key });

describe('OR-Map', () => {
  it('remove vs a concurrent add to a nested set: only the unseen element remains', () => {
    const shared = apply(orMapEmpty(), 'a', addTag('x'));
    const removed = apply(shared, 'b', removeKey('tags'));
    const added = apply(shared, 'a', addTag('y'));
    expect(orMapValue(removed)).toEqual([]);
    for (const merged of [orMapMerge(removed, added), orMapMerge(added, removed)]) {
      expect(orMapGet(merged, 'tags', 'or-set')).toEqual({ type: 'or-set', value: ['y'] });
    }
  });

  it('a remove that saw everything leaves no field and no tombstone of the key', () => {
    let state = apply(apply(orMapEmpty(), 'a', addTag('x')), 'b', count(3));
    state = apply(state, 'a', removeKey('tags'));
    state = apply(state, 'a', removeKey('n'));
    expect(orMapValue(state)).toEqual([]);
    expect(state.store.size).toBe(0);
    expect(state.context.cloud.size).toBe(0);
  });

  it('a counter keeps what the remover did not see; a replica whose dot was removed counts from zero', () => {
    const shared = apply(orMapEmpty(), 'a', count(5));
    const removed = apply(shared, 'b', removeKey('n'));
    const unseen = apply(shared, 'c', count(2)); // c's contribution: never seen by the remove
    expect(orMapGet(orMapMerge(removed, unseen), 'n', 'pn-counter')).toEqual({ type: 'pn-counter', value: 2 });
    const after = apply(orMapMerge(removed, unseen), 'a', count(-1));
    expect(orMapGet(after, 'n', 'pn-counter')).toEqual({ type: 'pn-counter', value: 1 });
  });

  it('documented: a replica incrementing concurrently with the remove keeps its whole contribution', () => {
    const shared = apply(orMapEmpty(), 'a', count(5));
    const removed = apply(shared, 'b', removeKey('n'));
    const concurrent = apply(shared, 'a', count(1));
    expect(orMapGet(orMapMerge(removed, concurrent), 'n', 'pn-counter')).toEqual({ type: 'pn-counter', value: 6 });
  });

  it('a g-counter field sums the increments of every replica', () => {
    const op = (add: number): OrMapOp => ({ op: 'update', key: 'likes', field: { type: 'g-counter', add } });
    const a = apply(apply(orMapEmpty(), 'a', op(1)), 'a', op(2));
    const b = apply(orMapEmpty(), 'b', op(4));
    expect(orMapGet(orMapMerge(a, b), 'likes', 'g-counter')).toEqual({ type: 'g-counter', value: 7 });
  });

  it('an LWW field: the later write wins; a write concurrent with the remove survives', () => {
    const write = (timestamp: number, value: string): OrMapOp => ({ op: 'update', key: 'title', field: { type: 'lww-register', timestamp, value } });
    const shared = apply(orMapEmpty(), 'a', write(10, 'draft'));
    const a = apply(shared, 'a', write(20, 'by a'));
    const b = apply(shared, 'b', write(30, 'by b'));
    expect(orMapGet(orMapMerge(a, b), 'title', 'lww-register')).toEqual({ type: 'lww-register', value: 'by b' });
    const removed = apply(shared, 'c', removeKey('title'));
    expect(orMapGet(orMapMerge(removed, a), 'title', 'lww-register')).toEqual({ type: 'lww-register', value: 'by a' });
    expect(orMapGet(orMapMerge(removed, shared), 'title', 'lww-register')).toBeUndefined();
  });

  it('an MV field keeps concurrent writes', () => {
    const write = (value: string): OrMapOp => ({ op: 'update', key: 'm', field: { type: 'mv-register', value } });
    const merged = orMapMerge(apply(orMapEmpty(), 'a', write('1')), apply(orMapEmpty(), 'b', write('2')));
    expect(orMapGet(merged, 'm', 'mv-register')).toEqual({ type: 'mv-register', value: ['1', '2'] });
  });

  it('nested maps reset level by level: removing an inner key spares a concurrent update of another', () => {
    const inner = (op: OrMapOp): OrMapOp => ({ op: 'update', key: 'doc', field: { type: 'or-map', apply: op } });
    const title = (value: string): OrMapOp => ({ op: 'update', key: 'title', field: { type: 'lww-register', timestamp: 1, value } });
    const body = (element: string): OrMapOp => ({ op: 'update', key: 'body', field: { type: 'or-set', op: 'add', element } });
    const shared = apply(apply(orMapEmpty(), 'a', inner(title('t'))), 'a', inner(body('p1')));
    const removedTitle = apply(shared, 'b', inner(removeKey('title')));
    const addedBody = apply(shared, 'c', inner(body('p2')));
    const merged = orMapMerge(removedTitle, addedBody);
    expect(orMapValue(merged)).toEqual([
      { key: 'doc', type: 'or-map', value: [{ key: 'body', type: 'or-set', value: ['p1', 'p2'] }] },
    ]);
    // Removing the outer key while an inner set gains an element: only that element remains.
    const removedDoc = apply(shared, 'b', removeKey('doc'));
    expect(orMapValue(orMapMerge(removedDoc, addedBody))).toEqual([
      { key: 'doc', type: 'or-map', value: [{ key: 'body', type: 'or-set', value: ['p2'] }] },
    ]);
  });

  it('fields are named by key and type: a counter and a set under one key are two fields', () => {
    const a = apply(orMapEmpty(), 'a', { op: 'update', key: 'likes', field: { type: 'g-counter', add: 1 } });
    const b = apply(orMapEmpty(), 'b', { op: 'update', key: 'likes', field: { type: 'or-set', op: 'add', element: 'b' } });
    const merged = orMapMerge(a, b);
    expect(orMapValue(merged)).toEqual([
      { key: 'likes', type: 'g-counter', value: 1 },
      { key: 'likes', type: 'or-set', value: ['b'] },
    ]);
    const setOnly = apply(merged, 'a', { op: 'remove', key: 'likes', type: 'or-set' });
    expect(orMapValue(setOnly)).toEqual([{ key: 'likes', type: 'g-counter', value: 1 }]);
  });

  it('keys are plain strings: __proto__ and constructor are keys like any other', () => {
    let state = orMapEmpty();
    for (const key of ['__proto__', 'constructor']) state = apply(state, 'a', { op: 'update', key, field: { type: 'mv-register', value: key } });
    expect(orMapValue(state).map((entry) => entry.key)).toEqual(['__proto__', 'constructor']);
    expect(orMapGet(state, '__proto__', 'mv-register')).toEqual({ type: 'mv-register', value: ['__proto__'] });
  });

  it(`refuses maps nested deeper than ${nestingDepthMax}`, () => {
    let op: OrMapOp = { op: 'update', key: 'leaf', field: { type: 'g-counter', add: 1 } };
    for (let depth = 1; depth < nestingDepthMax; depth++) op = { op: 'update', key: `level ${depth}`, field: { type: 'or-map', apply: op } };
    expect(orMapApply(orMapEmpty(), 'a', op).ok).toBe(true);
    const deeper: OrMapOp = { op: 'update', key: 'one more', field: { type: 'or-map', apply: op } };
    const result = orMapApply(orMapEmpty(), 'a', deeper);
    expect(result.ok ? null : result.error.reason).toBe('too-deep');
  });

  it.each<[string, OrMapOp, string]>([
    ['a pn-counter add of 0', count(0), 'integer'],
    ['a g-counter add below 1', { op: 'update', key: 'g', field: { type: 'g-counter', add: -1 } }, 'integer'],
    ['a key with a lone surrogate', { op: 'remove', key: '\ud800' }, 'text'],
    ['a nested key too long', { op: 'update', key: 'm', field: { type: 'or-map', apply: removeKey('k'.repeat(2_000)) } }, 'text'],
  ])('refuses %s', (_, op, reason) => {
    const result = orMapApply(orMapEmpty(), 'a', op);
    expect(result.ok ? null : result.error.reason).toBe(reason);
  });
});
