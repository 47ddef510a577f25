/**
 * A small seeded PRNG (sfc32 seeded through splitmix32). The core never reads a global random
 * source (STYLE.md: etcd's election jitter reads one and its tests need a hook around it);
 * everything random is drawn from an instance of this, so one seed reproduces a run exactly.
 */
export interface Prng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform integer in [0, bound). `bound` must be a positive safe integer below 2^32. */
  nextInt(bound: number): number;
  /** A uniform float in [0, 1). */
  nextFloat(): number;
}

function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** A Fisher-Yates shuffle of `items` into a new array, drawn from `prng`. */
export function shuffled<T>(prng: Prng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}

export function createPrng(seed: number): Prng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  // The low and high 32 bits of the seed go into separate state words, so that distinct safe
  // integers (negative ones and those above 2^32 included) start from distinct states.
  const low = seed >>> 0;
  const high = Math.floor(seed / 0x1_0000_0000) | 0;
  let a = low | 0;
  let b = high;
  // c mixes both halves so that nearby seeds diverge after the first few outputs.
  let c = splitmix32(low ^ Math.imul(high, 0x85ebca6b))[1] | 0;
  let d = 1;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard a few outputs: sfc32's first values are weakly mixed.
  for (let i = 0; i < 12; i++) nextUint32();
  return {
    nextUint32,
    nextInt(bound: number): number {
      if (!(Number.isInteger(bound) && bound > 0 && bound <= 0x1_0000_0000)) {
        throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}`);
      }
      // Rejection sampling keeps the draw uniform when bound does not divide 2^32.
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
      for (;;) {
        const x = nextUint32();
        if (x < limit) return x % bound;
      }
    },
    nextFloat(): number {
      return nextUint32() / 0x1_0000_0000;
    },
  };
}
