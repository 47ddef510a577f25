/**
 * What this proves about the G-Counter and PN-Counter (Shapiro et al. 2011; Almeida et al.
 * 2018): the value is the sum of every replica's increments (minus decrements) after any
 * exchange; a delta carries a replica's new total, not the amount, so merging it twice or late
 * changes nothing; amounts that are not positive integers, and totals that would pass countMax,
 * are refused as values (TOO_LARGE / CONFIG), never thrown and never wrapped around.
 */
import { describe, expect, it } from 'vitest';
import { countMax } from '../../../src/core/crdt/limits.ts';
import { gCounterEmpty, gCounterIncrement, gCounterMerge, gCounterValue, type GCounter } from '../../../src/core/crdt/g-counter.ts';
import { pnCounterDecrement, pnCounterEmpty, pnCounterIncrement, pnCounterMerge, pnCounterValue } from '../../../src/core/crdt/pn-counter.ts';
import { unwrap } from './crdt-histories.ts';

describe('G-Counter', () => {
  it('sums every replica’s increments, whatever the order and repeats of deltas', () => {
    let a = gCounterEmpty();
    let b = gCounterEmpty();
    const deltas: GCounter[] = [];
    for (let i = 1; i <= 5; i++) {
      const da = unwrap(gCounterIncrement(a, 'a', i));
      a = gCounterMerge(a, da);
      const db = unwrap(gCounterIncrement(b, 'b', 10));
      b = gCounterMerge(b, db);
      deltas.push(da, db);
    }
    expect(gCounterValue(a)).toBe(15);
    expect(gCounterValue(b)).toBe(50);
    const merged = [...deltas].reverse().reduce(gCounterMerge, gCounterMerge(a, deltas[0] as GCounter));
    expect(gCounterValue(merged)).toBe(65);
    expect(gCounterValue(gCounterMerge(merged, merged))).toBe(65);
  });

  it('a delta holds the replica’s new total, so an old delta merged late is harmless', () => {
    const first = unwrap(gCounterIncrement(gCounterEmpty(), 'a', 2));
    const state = gCounterMerge(gCounterEmpty(), first);
    const second = unwrap(gCounterIncrement(state, 'a', 3));
    expect(second).toEqual(new Map([['a', 5]]));
    expect(gCounterValue(gCounterMerge(second, first))).toBe(5);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 53])('refuses the amount %s', (amount) => {
    const result = gCounterIncrement(gCounterEmpty(), 'a', amount);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toBe('integer');
  });

  it('refuses a total past countMax, and takes one that reaches it', () => {
    const near = new Map([['a', countMax - 1]]);
    expect(unwrap(gCounterIncrement(near, 'a', 1))).toEqual(new Map([['a', countMax]]));
    const result = gCounterIncrement(near, 'a', 2);
    expect(result.ok ? null : result.error).toMatchObject({ code: 'TOO_LARGE', reason: 'overflow' });
  });
});

describe('PN-Counter', () => {
  it('goes down as well as up, and concurrent increments and decrements all count', () => {
    let a = pnCounterEmpty();
    let b = pnCounterEmpty();
    const da1 = unwrap(pnCounterIncrement(a, 'a', 5));
    a = pnCounterMerge(a, da1);
    const da2 = unwrap(pnCounterDecrement(a, 'a', 2));
    a = pnCounterMerge(a, da2);
    const db1 = unwrap(pnCounterDecrement(b, 'b', 7));
    b = pnCounterMerge(b, db1);
    expect(pnCounterValue(a)).toBe(3);
    expect(pnCounterValue(b)).toBe(-7);
    for (const merged of [pnCounterMerge(a, b), pnCounterMerge(b, a), [da2, db1, da1, da2].reduce(pnCounterMerge, pnCounterEmpty())]) {
      expect(pnCounterValue(merged)).toBe(-4);
    }
  });

  it('a decrement’s delta leaves the increments alone', () => {
    const up = pnCounterMerge(pnCounterEmpty(), unwrap(pnCounterIncrement(pnCounterEmpty(), 'a', 4)));
    const down = unwrap(pnCounterDecrement(up, 'a', 1));
    expect(down.p.size).toBe(0);
    expect(down.n).toEqual(new Map([['a', 1]]));
  });

  it('refuses a decrement total past countMax', () => {
    const state = { p: new Map<string, number>(), n: new Map([['a', countMax]]) };
    expect(pnCounterDecrement(state, 'a', 1).ok).toBe(false);
  });
});
