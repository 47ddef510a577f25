/**
 * What this proves about `Inflights`, the bounded ring of appends in flight to one follower:
 * it fills to its capacity and says so, frees every append acknowledged at or below an index
 * (and nothing above it), wraps around its array many times without losing order, resets, and
 * asserts on our own misuse (adding when full, adding out of order, a non-positive capacity).
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/core/assert.ts';
import { Inflights } from '../../src/core/raft/inflights.ts';

describe('Inflights', () => {
  it('fills up to its capacity', () => {
    const inf = new Inflights(3);
    expect(inf.isFull()).toBe(false);
    inf.add(1);
    inf.add(2);
    expect(inf.isFull()).toBe(false);
    inf.add(5);
    expect(inf.size).toBe(3);
    expect(inf.isFull()).toBe(true);
    expect(() => inf.add(6)).toThrow(AssertionError);
  });

  it.each<[string, number[], number, number]>([
    // added, freeLE(index) -> size after
    ['nothing acknowledged', [3, 6, 9], 2, 3],
    ['the first exactly', [3, 6, 9], 3, 2],
    ['between two', [3, 6, 9], 7, 1],
    ['all', [3, 6, 9], 9, 0],
    ['beyond all', [3, 6, 9], 100, 0],
    ['on an empty ring', [], 5, 0],
  ])('freeLE: %s', (_name, added, index, size) => {
    const inf = new Inflights(4);
    for (const i of added) inf.add(i);
    inf.freeLE(index);
    expect(inf.size).toBe(size);
  });

  it('wraps around its array many times and keeps the order', () => {
    const inf = new Inflights(4);
    let next = 1;
    let acked = 0;
    // Keep the ring nearly full while the start goes round: 3 adds, 2 frees per step.
    for (let step = 0; step < 50; step++) {
      while (!inf.isFull() && next < acked + 8) inf.add(next++);
      acked += 2;
      inf.freeLE(acked);
      expect(inf.size).toBe(Math.max(0, next - 1 - acked));
    }
    // What is left is exactly the appends above `acked`, freed one by one in order.
    const left = inf.size;
    for (let i = 1; i <= left; i++) {
      inf.freeLE(acked + i);
      expect(inf.size).toBe(left - i);
    }
  });

  it('frees an append after the ring wrapped: the start is not slot 0', () => {
    const inf = new Inflights(3);
    inf.add(1);
    inf.add(2);
    inf.add(3);
    inf.freeLE(2); // start moves to slot 2
    inf.add(4); // slot 0
    inf.add(5); // slot 1
    expect(inf.isFull()).toBe(true);
    inf.freeLE(4);
    expect(inf.size).toBe(1);
    inf.freeLE(5);
    expect(inf.size).toBe(0);
  });

  it('asserts that indices increase, even across the wrap', () => {
    const inf = new Inflights(2);
    inf.add(5);
    expect(() => inf.add(5)).toThrow(AssertionError);
    inf.add(6);
    inf.freeLE(5);
    expect(() => inf.add(6)).toThrow(AssertionError);
    inf.add(7);
  });

  it('reset empties the ring', () => {
    const inf = new Inflights(2);
    inf.add(1);
    inf.add(2);
    inf.reset();
    expect(inf.size).toBe(0);
    expect(inf.isFull()).toBe(false);
    inf.add(1);
    expect(inf.size).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects capacity %s', (capacity) => {
    expect(() => new Inflights(capacity)).toThrow(AssertionError);
  });
});
