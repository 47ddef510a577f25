/**
 * What this proves about the link MAC (src/io/crypto/mac.ts):
 *
 * - The synchronous backend and the Web Crypto backend produce the same 32-byte tags on seeded
 *   random keys and messages of every length 0..300 and some large ones, and both equal
 *   node:crypto's HMAC-SHA256; the two-part form (`head`, `body`) tags the concatenation.
 * - Each backend verifies the other's tags, and refuses a tag with any single bit flipped, a
 *   truncated or extended tag, a tag over other data, and a tag under another key.
 * - The constant-time comparison is a correct equality.
 * - The Web Crypto backend imports its key non-extractable (a spy on `importKey` sees the call,
 *   and `exportKey` of the key it made fails).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createSyncMac, createWebCryptoMac, equalBytesConstantTime } from '../../../src/io/crypto/mac.ts';
import { createPrng, hex, randomBytes } from './test-bytes.ts';

describe('link MAC backends', () => {
  it('agree with each other and with node:crypto on random inputs', async () => {
    const prng = createPrng(11);
    for (let round = 0; round < 8; round++) {
      const key = randomBytes(prng, 32);
      const sync = createSyncMac(key);
      const web = await createWebCryptoMac(key);
      const lengths = round === 0 ? [...Array.from({ length: 301 }, (_, i) => i), 4096, 70_000, 1 << 20] : [prng.nextInt(301)];
      for (const length of lengths) {
        const data = randomBytes(prng, length);
        const expected = createHmac('sha256', key).update(data).digest('hex');
        expect(hex(sync.tag(data)), `length ${length}`).toBe(expected);
        expect(hex(await web.tag(data)), `length ${length}`).toBe(expected);
        const split = prng.nextInt(length + 1);
        const head = data.subarray(0, split);
        const body = data.subarray(split);
        expect(hex(sync.tag(head, body))).toBe(expected);
        expect(hex(await web.tag(head, body))).toBe(expected);
        expect(sync.verify(await web.tag(data), head, body)).toBe(true);
        expect(await web.verify(sync.tag(head, body), data)).toBe(true);
      }
    }
  });

  it('refuse flipped bits, wrong lengths, other data and other keys', async () => {
    const prng = createPrng(12);
    const key = randomBytes(prng, 32);
    const sync = createSyncMac(key);
    const web = await createWebCryptoMac(key);
    const otherSync = createSyncMac(randomBytes(prng, 32));
    const data = randomBytes(prng, 200);
    const tag = sync.tag(data);
    for (let bit = 0; bit < 256; bit++) {
      const bad = new Uint8Array(tag);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(sync.verify(bad, data), `bit ${bit}`).toBe(false);
      if (bit % 37 === 0) expect(await web.verify(bad, data), `bit ${bit}`).toBe(false);
    }
    for (const bad of [tag.subarray(0, 31), tag.subarray(0, 16), new Uint8Array(0), new Uint8Array([...tag, 0])]) {
      expect(sync.verify(bad, data)).toBe(false);
      expect(await web.verify(bad, data)).toBe(false);
    }
    const otherData = new Uint8Array(data);
    otherData[199]! ^= 0x80;
    expect(sync.verify(tag, otherData)).toBe(false);
    expect(await web.verify(tag, otherData)).toBe(false);
    expect(otherSync.verify(tag, data)).toBe(false);
    expect(sync.verify(tag, data)).toBe(true);
    expect(await web.verify(tag, data)).toBe(true);
  });

  it('compares in constant time and correctly', () => {
    expect(equalBytesConstantTime(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(equalBytesConstantTime(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(equalBytesConstantTime(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false);
    expect(equalBytesConstantTime(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('imports the Web Crypto key non-extractable, for sign and verify only', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    try {
      await createWebCryptoMac(new Uint8Array(32).fill(9));
      expect(importKey).toHaveBeenCalledTimes(1);
      const [format, , algorithm, extractable, usages] = importKey.mock.calls[0]!;
      expect([format, algorithm, extractable, usages]).toEqual(['raw', { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']]);
      const key = (await importKey.mock.results[0]!.value) as CryptoKey;
      expect(key.extractable).toBe(false);
      await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
    } finally {
      importKey.mockRestore();
    }
  });
});
