/**
 * What this proves: every replicated data type's merge is a join-semilattice on the states real
 * histories produce (Shapiro et al. 2011; Almeida et al. 2018: deltas are states too).
 * For each type, seeded random histories of 4 replicas (crdt-histories.ts: random ops, random
 * and duplicated delivery, full-state syncs) yield a pool of states and deltas; random picks from
 * the pool must merge commutatively, associatively and idempotently, with the empty state as
 * identity, and the encoding must be canonical: a state survives encode → msgpack → decode
 * unchanged (through the wire codec's own msgpack doors, whose pre-scan refuses nesting deeper
 * than 8), equal states encode alike, and no encoding nests deeper than `wireDepthMax`. A failure names the type and the seed.
 */
import { describe, expect, it } from 'vitest';
import { packBody, unpackBody } from '../../../src/io/codec-msgpack.ts';
import { codecLimitsDefault } from '../../../src/io/codec-limits.ts';
import { createPrng } from '../../../src/core/prng.ts';
import { crdtTypeNames, crdtTypes, type CrdtType } from '../../../src/core/crdt/crdt-types.ts';
import { wireDepthMax } from '../../../src/core/crdt/limits.ts';
import type { WireValue } from '../../../src/core/crdt/wire-reader.ts';
import { runHistory } from './crdt-histories.ts';

/** How many arrays deep `value` nests (a scalar is 0). */
function wireDepth(value: WireValue): number {
  return Array.isArray(value) ? 1 + Math.max(0, ...value.map((item: WireValue) => wireDepth(item))) : 0;
}

const seeds = Array.from({ length: 12 }, (_, i) => 1000 + i);
const triplesPerSeed = 25;

describe.each(crdtTypeNames)('%s', (name) => {
  const type = crdtTypes[name] as CrdtType<unknown, unknown>;

  function expectSame(a: unknown, b: unknown, what: string): void {
    expect(type.encode(a), what).toEqual(type.encode(b));
    expect(type.equals(a, b), what).toBe(true);
  }

  it.each(seeds)('merge is commutative, associative, idempotent, with empty as identity (seed %i)', (seed) => {
    const history = runHistory(name, seed, { replicaCount: 4, steps: 160 });
    const pool: unknown[] = [type.empty(), ...history.samples, ...history.deltas, ...history.replicas];
    const prng = createPrng(seed);
    for (let t = 0; t < triplesPerSeed; t++) {
      const a = pool[prng.nextInt(pool.length)];
      const b = pool[prng.nextInt(pool.length)];
      const c = pool[prng.nextInt(pool.length)];
      const label = `${name} seed ${seed} triple ${t}`;
      expectSame(type.merge(a, b), type.merge(b, a), `${label}: commutative`);
      expectSame(type.merge(type.merge(a, b), c), type.merge(a, type.merge(b, c)), `${label}: associative`);
      expectSame(type.merge(a, a), a, `${label}: idempotent`);
      expectSame(type.merge(a, type.empty()), a, `${label}: empty is the identity`);
      expectSame(type.merge(type.merge(a, b), a), type.merge(a, b), `${label}: a merge contains its parts`);
    }
  });

  it.each(seeds.slice(0, 4))('encode is canonical and survives msgpack and decode (seed %i)', (seed) => {
    const history = runHistory(name, seed, { replicaCount: 3, steps: 120 });
    for (const state of [type.empty(), ...history.samples, ...history.deltas]) {
      const wire = type.encode(state);
      const bytes = packBody(wire);
      const unpacked = unpackBody(bytes, codecLimitsDefault);
      expect(unpacked.ok).toBe(true);
      const decoded = type.decode(unpacked.ok ? unpacked.value : undefined);
      if (!decoded.ok) throw new Error(`${name} seed ${seed}: ${decoded.error.message}`);
      expectSame(decoded.value, state, `${name} seed ${seed}: round trip`);
      expect(type.value(decoded.value)).toEqual(type.value(state));
      expect(wireDepth(wire), `${name} seed ${seed}: nesting`).toBeLessThanOrEqual(wireDepthMax);
    }
  });
});
