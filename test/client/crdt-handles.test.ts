/**
 * What this proves: a CRDT handle keeps its own copy of the value from the changes the worker
 * sends (crdt-handles.ts), so `on` listeners see the whole value as the worker would list it
 * (a map's fields by key then type, a set's elements sorted) and `observe` listeners see each
 * change as sent; a change applied twice, or one already in the value the handle opened with,
 * leaves the same value (changes are assignments).
 */
import { describe, expect, it } from 'vitest';
import { crdtHandle, type CrdtPort } from '../../src/client/crdt-handles.ts';
import type { CrdtChangedEvent } from '../../src/runtime/worker-protocol.ts';

function fakePort(): { port: CrdtPort; emit: (e: CrdtChangedEvent) => void } {
  const listeners = new Set<(e: CrdtChangedEvent) => void>();
  const port: CrdtPort = {
    update: () => Promise.resolve(),
    value: () => Promise.reject(new Error('not asked in this test')),
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { port, emit: (e) => listeners.forEach((l) => l(e)) };
}

describe('crdt handles keep their value from changes', () => {
  it('a map: fields updated and removed, in the worker order; observe sees the change itself', () => {
    const { port, emit } = fakePort();
    const map = crdtHandle(port, 'board', 'or-map', [
      { key: 'a', type: 'lww-register', value: 1 },
      { key: 'b', type: 'lww-register', value: 2 },
    ]);
    const values: unknown[] = [];
    const seen: unknown[] = [];
    map.on((v) => values.push(v));
    map.observe((c, origin) => seen.push([c, origin]));
    const change = { kind: 'fields', updated: [{ key: 'a', type: 'pn-counter', value: 3 }, { key: 'c', type: 'lww-register', value: 'x' }], removed: [{ key: 'b', type: 'lww-register' }] } as const;
    emit({ type: 'crdt-changed', name: 'board', crdt: 'or-map', origin: 'remote', change });
    emit({ type: 'crdt-changed', name: 'board', crdt: 'or-map', origin: 'remote', change });
    // Another CRDT's change is not this handle's.
    emit({ type: 'crdt-changed', name: 'other', crdt: 'or-map', origin: 'local', change: { kind: 'fields', updated: [], removed: [{ key: 'a', type: 'lww-register' }] } });
    const expected = [
      { key: 'a', type: 'lww-register', value: 1 },
      { key: 'a', type: 'pn-counter', value: 3 },
      { key: 'c', type: 'lww-register', value: 'x' },
    ];
    expect(values).toEqual([expected, expected]);
    expect(seen).toEqual([
      [change, 'remote'],
      [change, 'remote'],
    ]);
  });

  it('a set: elements added and removed, sorted; a counter: the new value', () => {
    const { port, emit } = fakePort();
    const set = crdtHandle(port, 'tags', 'or-set', ['b', 'y']);
    const counter = crdtHandle(port, 'hits', 'pn-counter', 4);
    const sets: unknown[] = [];
    const counts: unknown[] = [];
    set.on((v) => sets.push(v));
    counter.on((v, origin) => counts.push([v, origin]));
    emit({ type: 'crdt-changed', name: 'tags', crdt: 'or-set', origin: 'local', change: { kind: 'elements', added: ['a', 'b'], removed: ['y'] } });
    emit({ type: 'crdt-changed', name: 'hits', crdt: 'pn-counter', origin: 'remote', change: { kind: 'value', value: 9 } });
    expect(sets).toEqual([['a', 'b']]);
    expect(counts).toEqual([[9, 'remote']]);
  });
});
