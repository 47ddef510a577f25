/**
 * Distributions of virtual durations (microseconds), drawn from the run's one PRNG. Message
 * delays, storage latencies, outage lengths and client think times are all one of these, so a
 * fault mix is plain data that can be printed next to a failing seed.
 */
import type { Prng } from '../core/prng.ts';

export type Distribution =
  | { readonly kind: 'constant'; readonly us: number }
  | { readonly kind: 'uniform'; readonly minUs: number; readonly maxUs: number }
  /** `minUs` plus an exponential tail of mean `meanUs`, capped at `maxUs`. */
  | { readonly kind: 'exponential'; readonly minUs: number; readonly meanUs: number; readonly maxUs: number }
  /** One of `parts`, picked by weight (a fast common case with a slow tail, for instance). */
  | { readonly kind: 'mixture'; readonly parts: readonly { readonly weight: number; readonly dist: Distribution }[] };

/** Draw an integer number of microseconds (>= 0). */
export function sample(prng: Prng, dist: Distribution): number {
  switch (dist.kind) {
    case 'constant':
      return Math.max(0, Math.round(dist.us));
    case 'uniform':
      return dist.minUs + prng.nextInt(Math.max(1, dist.maxUs - dist.minUs + 1));
    case 'exponential': {
      // 1 - u is in (0, 1], so the log is finite.
      const tail = -Math.log(1 - prng.nextFloat()) * dist.meanUs;
      return Math.min(dist.maxUs, Math.round(dist.minUs + tail));
    }
    case 'mixture': {
      let total = 0;
      for (const p of dist.parts) total += p.weight;
      let x = prng.nextFloat() * total;
      for (const p of dist.parts) {
        x -= p.weight;
        if (x < 0) return sample(prng, p.dist);
      }
      const last = dist.parts[dist.parts.length - 1];
      return last === undefined ? 0 : sample(prng, last.dist);
    }
    default: {
      const never: never = dist;
      return never;
    }
  }
}

/** The largest value `sample` can return. */
export function maxOf(dist: Distribution): number {
  switch (dist.kind) {
    case 'constant':
      return dist.us;
    case 'uniform':
      return dist.maxUs;
    case 'exponential':
      return dist.maxUs;
    case 'mixture':
      return Math.max(0, ...dist.parts.map((p) => maxOf(p.dist)));
    default: {
      const never: never = dist;
      return never;
    }
  }
}

/** A short human-readable form, e.g. `exp(200us+~1500us<=50000us)`. */
export function describe(dist: Distribution): string {
  switch (dist.kind) {
    case 'constant':
      return `${dist.us}us`;
    case 'uniform':
      return `uniform(${dist.minUs}..${dist.maxUs}us)`;
    case 'exponential':
      return `exp(${dist.minUs}us+~${dist.meanUs}us<=${dist.maxUs}us)`;
    case 'mixture':
      return `mix(${dist.parts.map((p) => `${p.weight}:${describe(p.dist)}`).join(', ')})`;
    default: {
      const never: never = dist;
      return never;
    }
  }
}

/** Pick one of `items` by weight (weights >= 0, not all 0). */
export function pickWeighted<T>(prng: Prng, items: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of items) total += w;
  let x = prng.nextFloat() * total;
  for (const [item, w] of items) {
    x -= w;
    if (x < 0) return item;
  }
  const last = items[items.length - 1];
  if (last === undefined) throw new RangeError('pickWeighted of nothing');
  return last[0];
}

/** A uniform element of a non-empty array. */
export function pick<T>(prng: Prng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty array');
  return items[prng.nextInt(items.length)] as T;
}

/** True with probability `p`. */
export function chance(prng: Prng, p: number): boolean {
  return p > 0 && prng.nextFloat() < p;
}

/** Fisher-Yates shuffle of a copy (the core's, which gossip uses too). */
export { shuffled } from '../core/prng.ts';
