/**
 * Helpers for the crypto tests: seeded random bytes (one seed reproduces a run, as everywhere
 * in our tests), hex in and out.
 */
import { createPrng, type Prng } from '../../../src/core/prng.ts';

export { createPrng, type Prng };

export function randomBytes(prng: Prng, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = prng.nextUint32() & 0xff;
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(s: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s);
}
