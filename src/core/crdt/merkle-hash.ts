/**
 * The hashes of the Merkle anti-entropy tree (merkle.ts): where a key goes, what an entry
 * (key, digest of its state) contributes to its bucket, and the digest of an encoded state.
 *
 * Non-cryptographic on purpose. Anti-entropy compares the trees of two members over a link that
 * is already authenticated (HMAC per pair of nodes, DESIGN.md §4), to find which keys to repair;
 * a hash that a member could steer would only let that member hide a difference it could as well
 * create by sending wrong states. What the tree needs is speed (every key of every store is
 * hashed at boot) and a low chance of two different states colliding, which 52 bits give:
 * comparing a million differing buckets misses one with probability about 2^-32.
 *
 * The function is MurmurHash3's 32-bit block mix (Appleby 2011) run as two lanes with different
 * seeds over the same 32-bit words, and the two finalized lanes combined into 52 bits (20 from
 * one, 32 from the other) so the result is a safe integer and sums of two stay safe. Strings are
 * hashed by UTF-16 code units, two to a word, which every JavaScript engine reads alike.
 */
import type { WireValue } from './wire-reader.ts';

/** Hashes and digests are integers in [0, 2^52). */
export const hashModulus = 2 ** 52;

const laneSeedA = 0x9747b28c;
const laneSeedB = 0x2f1d3a65;

/** Purposes of a hash, mixed into the seed so a key's placement and its entry hash are unrelated. */
export const hashPurpose = { placement: 1, entry: 2, digest: 3 } as const;

/** A DataView, not a typed array, so a float's words come out in one order on any platform. */
const floatView = new DataView(new ArrayBuffer(8));

/** A streaming hasher of 32-bit words; `finish` gives a 52-bit hash. */
export class Hash52 {
  private a: number;
  private b: number;
  private words = 0;

  constructor(purpose: number) {
    this.a = (laneSeedA ^ Math.imul(purpose, 0x85ebca6b)) | 0;
    this.b = (laneSeedB ^ Math.imul(purpose, 0xc2b2ae35)) | 0;
  }

  /** Mixes one 32-bit word (its low 32 bits are taken). */
  word(value: number): this {
    let k = Math.imul(value | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    this.a = mixLane(this.a, k);
    this.b = mixLane(this.b, k);
    this.words++;
    return this;
  }

  /** A string: its length, then its code units two to a word. */
  text(value: string): this {
    this.word(value.length);
    for (let i = 0; i < value.length; i += 2) this.word(value.charCodeAt(i) | (i + 1 < value.length ? value.charCodeAt(i + 1) << 16 : 0));
    return this;
  }

  /** A number: safe integers by value (so 3 and 3.0 agree), anything else by its float64 bits. */
  number(value: number): this {
    if (Number.isSafeInteger(value)) {
      const magnitude = Math.abs(value);
      return this.word(value < 0 ? 1 : 0)
        .word(Math.floor(magnitude / 0x1_0000_0000))
        .word(magnitude >>> 0);
    }
    floatView.setFloat64(0, value);
    return this.word(2).word(floatView.getUint32(0)).word(floatView.getUint32(4));
  }

  /** The 52-bit hash of the words so far. */
  finish(): number {
    const a = finalize(this.a, this.words);
    const b = finalize(this.b, this.words);
    return (a >>> 12) * 0x1_0000_0000 + b;
  }
}

function mixLane(h: number, k: number): number {
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer (fmix32) over the lane and the length, as an unsigned 32-bit value. */
function finalize(h: number, words: number): number {
  let x = h ^ (words * 4);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Where a key goes in the tree: uniform over [0, 2^52), its top bits choose the leaf. */
export function placementHash(key: string): number {
  return new Hash52(hashPurpose.placement).text(key).finish();
}

/** What the entry (key, digest) adds to the hash of every node above it. */
export function entryHash(key: string, digest: number): number {
  return new Hash52(hashPurpose.entry).text(key).number(digest).finish();
}

/**
 * The digest of an encoded state: a structural hash of the plain value (arrays with their
 * lengths, tagged scalars), so two states digest alike exactly when they encode alike, which
 * `encode` makes true exactly when they are the same state (crdt-types.ts).
 */
export function digestWire(value: WireValue): number {
  const hash = new Hash52(hashPurpose.digest);
  feedWire(hash, value);
  return hash.finish();
}

function feedWire(hash: Hash52, value: WireValue): void {
  if (value === null) hash.word(0);
  else if (value === false) hash.word(1);
  else if (value === true) hash.word(2);
  else if (typeof value === 'number') hash.word(3).number(value);
  else if (typeof value === 'string') hash.word(4).text(value);
  else {
    hash.word(5).word(value.length);
    for (const item of value) feedWire(hash, item);
  }
}

/** (a + b) mod 2^52, for a, b in [0, 2^52): the order-free combination of entry hashes. */
export function addHashes(a: number, b: number): number {
  const sum = a + b;
  return sum >= hashModulus ? sum - hashModulus : sum;
}

/** (a − b) mod 2^52: takes an entry's hash back out of a node. */
export function subtractHashes(a: number, b: number): number {
  const difference = a - b;
  return difference < 0 ? difference + hashModulus : difference;
}
