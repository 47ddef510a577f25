/**
 * What this proves about the causality layer (version vectors, and causal contexts as in Almeida
 * et al. 2018 §5): comparing vectors gives before / after / equal / concurrent exactly as the
 * happened-before order says (a table), merging is the entry-wise max and never lowers a count;
 * a context with a gap keeps the dots beyond it in its cloud and folds them into the vector once
 * the gap fills (so a steady-state context is one count per replica), joins are commutative and
 * idempotent on random dot sets, `nextDot` never mints a dot the context has seen, and encodings
 * are canonical (the same dots in any insertion order encode alike) and survive decode.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, shuffled } from '../../../src/core/prng.ts';
import {
  contextHas,
  contextOf,
  contextWithDots,
  decodeContext,
  emptyContext,
  encodeContext,
  joinContexts,
  nextDot,
  type CausalContext,
  type Dot,
} from '../../../src/core/crdt/causal-context.ts';
import { compareVectors, decodeVector, encodeVector, mergeVectors, vectorLeq, vectorWith, type VectorOrder } from '../../../src/core/crdt/version-vector.ts';
import { unwrap } from './crdt-histories.ts';

const vector = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

describe('version vectors', () => {
  it.each<[string, Record<string, number>, Record<string, number>, VectorOrder]>([
    ['both empty', {}, {}, 'equal'],
    ['same counts', { a: 2, b: 1 }, { a: 2, b: 1 }, 'equal'],
    ['empty before anything', {}, { a: 1 }, 'before'],
    ['one count behind', { a: 1, b: 3 }, { a: 2, b: 3 }, 'before'],
    ['a replica more', { a: 2, b: 3, c: 1 }, { a: 2, b: 3 }, 'after'],
    ['each ahead somewhere', { a: 2, b: 1 }, { a: 1, b: 2 }, 'concurrent'],
    ['disjoint replicas', { a: 1 }, { b: 1 }, 'concurrent'],
  ])('%s', (_, a, b, order) => {
    expect(compareVectors(vector(a), vector(b))).toBe(order);
    const mirrored = order === 'before' ? 'after' : order === 'after' ? 'before' : order;
    expect(compareVectors(vector(b), vector(a))).toBe(mirrored);
  });

  it('merge takes each larger count, and both sides are before or equal to it', () => {
    const a = vector({ a: 3, b: 1 });
    const b = vector({ b: 4, c: 2 });
    const merged = mergeVectors(a, b);
    expect(merged).toEqual(vector({ a: 3, b: 4, c: 2 }));
    expect(vectorLeq(a, merged) && vectorLeq(b, merged)).toBe(true);
    expect(mergeVectors(merged, a)).toBe(merged); // nothing new: the same object, no copy
  });

  it('vectorWith only raises a count', () => {
    const a = vector({ a: 3 });
    expect(vectorWith(a, 'a', 2)).toBe(a);
    expect(vectorWith(a, 'a', 5)).toEqual(vector({ a: 5 }));
  });

  it('encodes flat and sorted, and decodes back', () => {
    const a = new Map([
      ['zed', 1],
      ['alpha', 7],
      ['__proto__', 2],
    ]);
    expect(encodeVector(a)).toEqual(['__proto__', 2, 'alpha', 7, 'zed', 1]);
    expect(unwrap(decodeVector(encodeVector(a)))).toEqual(a);
  });
});

const dot = (replica: string, seq: number): Dot => ({ replica, seq });

function randomDots(seed: number, count: number): Dot[] {
  const prng = createPrng(seed);
  return Array.from({ length: count }, () => dot(['a', 'b', 'c'][prng.nextInt(3)] as string, 1 + prng.nextInt(12)));
}

describe('causal contexts', () => {
  it('a gap keeps later dots in the cloud until it fills, then the vector absorbs them', () => {
    let context: CausalContext = contextOf([dot('a', 1), dot('a', 2), dot('a', 4), dot('a', 5)]);
    expect(context.vector.get('a')).toBe(2);
    expect(context.cloud.get('a')).toEqual([4, 5]);
    expect(contextHas(context, 'a', 3)).toBe(false);
    expect(contextHas(context, 'a', 5)).toBe(true);
    context = contextWithDots(context, [dot('a', 3)]);
    expect(context.vector.get('a')).toBe(5);
    expect(context.cloud.size).toBe(0);
  });

  it('a join fills one side’s gap with the other side’s vector', () => {
    const gappy = contextOf([dot('a', 3), dot('b', 2)]);
    const prefix = contextOf([dot('a', 1), dot('a', 2), dot('b', 1)]);
    const joined = joinContexts(gappy, prefix);
    expect(joined.vector).toEqual(vector({ a: 3, b: 2 }));
    expect(joined.cloud.size).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6])('joins are commutative, associative, idempotent, and hold exactly the dots joined (seed %i)', (seed) => {
    const [xs, ys, zs] = [randomDots(seed, 10), randomDots(seed + 100, 10), randomDots(seed + 200, 10)] as [Dot[], Dot[], Dot[]];
    const [x, y, z] = [contextOf(xs), contextOf(ys), contextOf(zs)];
    expect(encodeContext(joinContexts(x, y))).toEqual(encodeContext(joinContexts(y, x)));
    expect(encodeContext(joinContexts(joinContexts(x, y), z))).toEqual(encodeContext(joinContexts(x, joinContexts(y, z))));
    expect(encodeContext(joinContexts(x, x))).toEqual(encodeContext(x));
    const joined = joinContexts(x, y);
    for (const replica of ['a', 'b', 'c']) {
      for (let seq = 1; seq <= 13; seq++) {
        const expected = [...xs, ...ys].some((d) => d.replica === replica && d.seq === seq);
        expect(contextHas(joined, replica, seq), `${replica}:${seq}`).toBe(expected);
      }
    }
  });

  it('the same dots added in any order encode alike (compact form is canonical)', () => {
    const dots = randomDots(77, 30);
    const reference = encodeContext(contextOf(dots));
    const prng = createPrng(78);
    for (let i = 0; i < 10; i++) {
      const context = shuffled(prng, dots).reduce((c, d) => contextWithDots(c, [d]), emptyContext());
      expect(encodeContext(context)).toEqual(reference);
    }
  });

  it('nextDot is past every dot of its replica the context has seen, cloud included', () => {
    expect(unwrap(nextDot(emptyContext(), 'a'))).toEqual(dot('a', 1));
    expect(unwrap(nextDot(contextOf([dot('a', 1), dot('a', 2)]), 'a'))).toEqual(dot('a', 3));
    expect(unwrap(nextDot(contextOf([dot('a', 1), dot('a', 7)]), 'a'))).toEqual(dot('a', 8));
  });

  it('encodes as [replicas, vector, cloud] with replica indices, and decodes back', () => {
    const context = contextOf([dot('b', 1), dot('a', 1), dot('a', 2), dot('a', 9)]);
    expect(encodeContext(context)).toEqual([['a', 'b'], [0, 2, 1, 1], [0, 9]]);
    expect(encodeContext(unwrap(decodeContext(encodeContext(context))))).toEqual(encodeContext(context));
  });

  it('decode accepts a cloud that repeats the vector (same meaning) and stores it compacted', () => {
    const decoded = unwrap(decodeContext([['a'], [0, 3], [0, 2, 0, 4, 0, 4, 0, 6]]));
    expect(decoded.vector.get('a')).toBe(4);
    expect(decoded.cloud.get('a')).toEqual([6]);
  });
});
