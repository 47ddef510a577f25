/**
 * What this proves about the pure-TypeScript SHA-256, HMAC-SHA256 and HKDF-SHA256
 * (src/io/crypto/sha256.ts), the synchronous backend the simulator and fuzzer run:
 *
 * - It reproduces the published vectors: FIPS 180-2 examples for SHA-256 (the million 'a'
 *   included), all seven RFC 4231 cases for HMAC-SHA256 (keys shorter than, equal to and longer
 *   than a block), and the three SHA-256 cases of RFC 5869 for HKDF.
 * - It agrees byte for byte with node:crypto (createHash, createHmac, hkdfSync) on seeded random
 *   inputs of every length 0..300, on lengths around the 55/56/64-byte padding edges, on large
 *   inputs (1 MiB and more), and on keys of every length 0..200.
 * - Feeding a message in arbitrary pieces gives the one-shot digest (the pending-block path),
 *   one `HmacKey` reused for many tags gives the same tags as fresh keys, and HKDF output
 *   lengths from 0 to the 8,160-byte maximum match node:crypto, past it an assert.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/core/assert.ts';
import { hkdfSha256, hkdfSha256Expand, hmacSha256, HmacKey, Sha256, sha256 } from '../../../src/io/crypto/sha256.ts';
import { createPrng, fromHex, hex, randomBytes, utf8 } from './test-bytes.ts';

const nodeSha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const nodeHmac = (key: Uint8Array, data: Uint8Array): string => createHmac('sha256', key).update(data).digest('hex');
const nodeHkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): string =>
  Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex');

describe('SHA-256', () => {
  it('matches the FIPS 180-2 examples', () => {
    expect(hex(sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(hex(sha256(new Uint8Array(1_000_000).fill(0x61)))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('matches node:crypto on random inputs of every length 0..300 and on large ones', () => {
    const prng = createPrng(1);
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(prng, length);
      expect(hex(sha256(data)), `length ${length}`).toBe(nodeSha256(data));
    }
    for (const length of [1023, 1024, 4096 + 7, 65_536, 1 << 20, (1 << 20) + 55]) {
      const data = randomBytes(prng, length);
      expect(hex(sha256(data)), `length ${length}`).toBe(nodeSha256(data));
    }
  });

  it('gives the one-shot digest when the message comes in arbitrary pieces', () => {
    const prng = createPrng(2);
    const hasher = new Sha256();
    for (let round = 0; round < 200; round++) {
      const data = randomBytes(prng, prng.nextInt(700));
      hasher.reset();
      for (let offset = 0; offset < data.length; ) {
        const piece = Math.min(data.length - offset, prng.nextInt(130));
        hasher.update(data.subarray(offset, offset + piece));
        offset += piece;
      }
      const out = new Uint8Array(40);
      hasher.digestInto(out, 8);
      expect(hex(out.subarray(8)), `round ${round}`).toBe(nodeSha256(data));
    }
  });
});

describe('HMAC-SHA256', () => {
  // RFC 4231 §4.2 to §4.8; case 5 is truncated to 128 bits by the RFC.
  const rfc4231: readonly { key: string; data: string; mac: string; truncate?: number }[] = [
    {
      key: '0b'.repeat(20),
      data: hex(utf8('Hi There')),
      mac: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    },
    {
      key: hex(utf8('Jefe')),
      data: hex(utf8('what do ya want for nothing?')),
      mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    },
    { key: 'aa'.repeat(20), data: 'dd'.repeat(50), mac: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe' },
    {
      key: '0102030405060708090a0b0c0d0e0f10111213141516171819',
      data: 'cd'.repeat(50),
      mac: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    },
    { key: '0c'.repeat(20), data: hex(utf8('Test With Truncation')), mac: 'a3b6167473100ee06e0c796c2955552b', truncate: 16 },
    {
      key: 'aa'.repeat(131),
      data: hex(utf8('Test Using Larger Than Block-Size Key - Hash Key First')),
      mac: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    },
    {
      key: 'aa'.repeat(131),
      data: hex(
        utf8(
          'This is a test using a larger than block-size key and a larger than block-size data. ' +
            'The key needs to be hashed before being used by the HMAC algorithm.',
        ),
      ),
      mac: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    },
  ];

  it.each(rfc4231.map((c, i) => [i + 1, c] as const))('matches RFC 4231 test case %i', (_n, c) => {
    const mac = hmacSha256(fromHex(c.key), fromHex(c.data));
    expect(hex(mac.subarray(0, c.truncate ?? 32))).toBe(c.mac);
  });

  it('matches node:crypto for keys of every length 0..200 and data of every length 0..300', () => {
    const prng = createPrng(3);
    for (let keyLength = 0; keyLength <= 200; keyLength++) {
      const key = randomBytes(prng, keyLength);
      const data = randomBytes(prng, prng.nextInt(301));
      expect(hex(hmacSha256(key, data)), `key ${keyLength}`).toBe(nodeHmac(key, data));
    }
    const key = new HmacKey(randomBytes(prng, 32));
    const keyBytes = randomBytes(createPrng(4), 32);
    const reused = new HmacKey(keyBytes);
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(prng, length);
      expect(hex(reused.mac(data)), `length ${length}`).toBe(nodeHmac(keyBytes, data));
      key.mac(data); // another key's tags in between change nothing
    }
    for (const length of [4096, 65_536 + 3, 1 << 20]) {
      const data = randomBytes(prng, length);
      expect(hex(reused.mac(data)), `length ${length}`).toBe(nodeHmac(keyBytes, data));
    }
  });

  it('gives the one-shot tag for a message in pieces (start, update, finishInto)', () => {
    const prng = createPrng(5);
    const keyBytes = randomBytes(prng, 32);
    const key = new HmacKey(keyBytes);
    for (let round = 0; round < 100; round++) {
      const head = randomBytes(prng, prng.nextInt(80));
      const body = randomBytes(prng, prng.nextInt(300));
      const out = new Uint8Array(32);
      key.start().update(head).update(body).finishInto(out);
      expect(hex(out)).toBe(createHmac('sha256', keyBytes).update(head).update(body).digest('hex'));
    }
  });

  it('asserts when a tag is continued without start', () => {
    const key = new HmacKey(new Uint8Array(32));
    expect(() => key.update(new Uint8Array(1))).toThrow(AssertionError);
    key.mac(new Uint8Array(1));
    expect(() => key.finishInto(new Uint8Array(32))).toThrow(AssertionError);
  });
});

describe('HKDF-SHA256', () => {
  // RFC 5869 Appendix A.1 to A.3.
  const rfc5869 = [
    {
      ikm: '0b'.repeat(22),
      salt: '000102030405060708090a0b0c',
      info: 'f0f1f2f3f4f5f6f7f8f9',
      length: 42,
      okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    },
    {
      ikm: Array.from({ length: 80 }, (_, i) => i.toString(16).padStart(2, '0')).join(''),
      salt: Array.from({ length: 80 }, (_, i) => (0x60 + i).toString(16).padStart(2, '0')).join(''),
      info: Array.from({ length: 80 }, (_, i) => (0xb0 + i).toString(16).padStart(2, '0')).join(''),
      length: 82,
      okm:
        'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09' +
        'da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
    },
    {
      ikm: '0b'.repeat(22),
      salt: '',
      info: '',
      length: 42,
      okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    },
  ];

  it.each(rfc5869.map((c, i) => [i + 1, c] as const))('matches RFC 5869 test case %i', (_n, c) => {
    expect(hex(hkdfSha256(fromHex(c.ikm), fromHex(c.salt), fromHex(c.info), c.length))).toBe(c.okm);
  });

  it('matches node:crypto on random inputs and every output length class', () => {
    const prng = createPrng(6);
    for (let round = 0; round < 300; round++) {
      const ikm = randomBytes(prng, prng.nextInt(100));
      const salt = randomBytes(prng, prng.nextInt(100));
      const info = randomBytes(prng, prng.nextInt(300));
      const length = 1 + prng.nextInt(200);
      expect(hex(hkdfSha256(ikm, salt, info, length)), `round ${round}`).toBe(nodeHkdf(ikm, salt, info, length));
    }
    const ikm = randomBytes(prng, 32);
    for (const length of [1, 31, 32, 33, 64, 65, 8159, 8160]) {
      expect(hex(hkdfSha256(ikm, utf8('salt'), utf8('info'), length)), `length ${length}`).toBe(
        nodeHkdf(ikm, utf8('salt'), utf8('info'), length),
      );
    }
    expect(hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 0)).toEqual(new Uint8Array(0));
  });

  it('asserts on an output longer than 255 blocks', () => {
    expect(() => hkdfSha256Expand(new Uint8Array(32), new Uint8Array(0), 8161)).toThrow(AssertionError);
    expect(() => hkdfSha256Expand(new Uint8Array(32), new Uint8Array(0), -1)).toThrow(AssertionError);
  });
});
