/**
 * What this proves about the registers. LWW-Register (Shapiro et al. 2011): the highest timestamp
 * wins, ties go to the higher replica id whatever the merge order, and a write is stamped past
 * the write it replaces, so a replica whose clock runs behind still overwrites what it saw (the
 * caller supplies timestamps; nothing reads a clock). MV-Register (Shapiro et al. 2011; Almeida et
 * al. 2018): concurrent writes are all kept, a write that saw them replaces them all, and a write
 * leaves only its dot behind. Both refuse values a register cannot hold.
 */
import { describe, expect, it } from 'vitest';
import { timestampMax, valueBytesMax } from '../../../src/core/crdt/limits.ts';
import { lwwEmpty, lwwMerge, lwwValue, lwwWrite } from '../../../src/core/crdt/lww-register.ts';
import { mvEmpty, mvMerge, mvValue, mvWrite } from '../../../src/core/crdt/mv-register.ts';
import { unwrap } from './crdt-histories.ts';

describe('LWW-Register', () => {
  it('the higher timestamp wins in either merge order', () => {
    const early = unwrap(lwwWrite(lwwEmpty(), 'z', 100, 'early'));
    const late = unwrap(lwwWrite(lwwEmpty(), 'a', 200, 'late'));
    expect(lwwValue(lwwMerge(early, late))).toBe('late');
    expect(lwwValue(lwwMerge(late, early))).toBe('late');
  });

  it('equal timestamps: the higher replica id wins, in either order', () => {
    const fromA = unwrap(lwwWrite(lwwEmpty(), 'a', 100, 'from a'));
    const fromB = unwrap(lwwWrite(lwwEmpty(), 'b', 100, 'from b'));
    expect(lwwValue(lwwMerge(fromA, fromB))).toBe('from b');
    expect(lwwValue(lwwMerge(fromB, fromA))).toBe('from b');
  });

  it('a write behind the seen timestamp is stamped past it and wins', () => {
    const seen = unwrap(lwwWrite(lwwEmpty(), 'fast-clock', 5_000, 'old'));
    const overwrite = unwrap(lwwWrite(seen, 'slow-clock', 1_000, 'new'));
    expect(overwrite?.timestamp).toBe(5_001);
    expect(lwwValue(lwwMerge(seen, overwrite))).toBe('new');
  });

  it('holds strings, finite numbers, booleans and null; -0 is stored as 0', () => {
    for (const value of ['', 'text', 3.25, -1, true, false, null]) expect(lwwValue(unwrap(lwwWrite(lwwEmpty(), 'a', 1, value)))).toBe(value);
    expect(Object.is(lwwValue(unwrap(lwwWrite(lwwEmpty(), 'a', 1, -0))), 0)).toBe(true);
    expect(lwwValue(lwwEmpty())).toBeUndefined();
  });

  it.each<[string, number, unknown, string]>([
    ['NaN', 1, Number.NaN, 'value'],
    ['an object', 1, { a: 1 }, 'value'],
    ['a lone surrogate', 1, '\ud800', 'text'],
    ['a string too long', 1, 'x'.repeat(valueBytesMax + 1), 'text'],
    ['a negative timestamp', -1, 'v', 'integer'],
    ['a fractional timestamp', 1.5, 'v', 'integer'],
    ['a timestamp past timestampMax', timestampMax + 1, 'v', 'integer'],
  ])('refuses %s', (_, timestamp, value, reason) => {
    const result = lwwWrite(lwwEmpty(), 'a', timestamp, value as string);
    expect(result.ok ? null : result.error.reason).toBe(reason);
  });

  it('refuses a write that would have to be stamped past timestampMax', () => {
    const atMax = unwrap(lwwWrite(lwwEmpty(), 'a', timestampMax, 'v'));
    expect(lwwWrite(atMax, 'a', 0, 'w').ok).toBe(false);
  });
});

describe('MV-Register', () => {
  it('keeps concurrent writes, and a write that saw them replaces them all', () => {
    const a = unwrap(mvWrite(mvEmpty(), 'a', 'from a'));
    const b = unwrap(mvWrite(mvEmpty(), 'b', 'from b'));
    const both = mvMerge(a, b);
    expect(mvValue(both)).toEqual(['from a', 'from b']);
    expect(mvValue(mvMerge(b, a))).toEqual(['from a', 'from b']);
    const resolved = unwrap(mvWrite(both, 'c', 'resolved'));
    const everywhere = mvMerge(both, resolved);
    expect(mvValue(everywhere)).toEqual(['resolved']);
    // One live dot; the replaced ones survive only as context counts.
    expect([...everywhere.store.values()].reduce((n, seqs) => n + seqs.size, 0)).toBe(1);
    expect(mvValue(mvMerge(a, everywhere))).toEqual(['resolved']);
  });

  it('a write concurrent with a resolving write survives beside it', () => {
    const base = unwrap(mvWrite(mvEmpty(), 'a', 1));
    const overwrite = unwrap(mvWrite(base, 'b', 2));
    const concurrent = unwrap(mvWrite(base, 'c', 3));
    expect(mvValue([base, overwrite, concurrent].reduce(mvMerge, mvEmpty()))).toEqual([2, 3]);
  });

  it('lists a value written twice concurrently once', () => {
    const a = unwrap(mvWrite(mvEmpty(), 'a', 'same'));
    const b = unwrap(mvWrite(mvEmpty(), 'b', 'same'));
    expect(mvValue(mvMerge(a, b))).toEqual(['same']);
  });

  it('refuses a value a register cannot hold', () => {
    expect(mvWrite(mvEmpty(), 'a', Number.POSITIVE_INFINITY).ok).toBe(false);
    expect(mvWrite(mvEmpty(), 'a', [] as unknown as string).ok).toBe(false);
  });
});
