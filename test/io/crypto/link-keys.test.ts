/**
 * What this proves about link keys (src/io/crypto/link-keys.ts):
 *
 * - The key is exactly the construction the file's header documents: the test rebuilds salt and
 *   info by hand from the text (label, u16 length prefixes, ids sorted by UTF-8 bytes) and
 *   derives with node:crypto's hkdfSync; a golden key pins the bytes for docs/protocol.md.
 * - Both ends get the same key ((a, b) and (b, a)); any change of secret, cluster or either id
 *   changes it; the length prefixes keep ("ab", "c") apart from ("a", "bc"), and the cluster
 *   boundary too; ids are ordered by UTF-8 bytes, not by JavaScript's UTF-16 `<`.
 * - A string secret is its UTF-8; `LinkKeyDeriver` gives `linkKeyBytes`'s keys.
 * - Bad configuration throws `ConfigError`: a short secret, the same id twice, an empty name,
 *   a lone surrogate (which UTF-8 would merge with U+FFFD), a name over 65,535 bytes.
 */
import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/raft/errors.ts';
import { LinkKeyDeriver, linkKeyBytes, linkKeyInfo, secretBytesMin } from '../../../src/io/crypto/link-keys.ts';
import { createPrng, hex, randomBytes, utf8 } from './test-bytes.ts';

const secret = utf8('correct horse battery staple, 32b');

/** The construction, rebuilt from the header's text without the module's helpers. */
function referenceKey(secretBytes: Uint8Array, cluster: string, a: string, b: string): string {
  const lp = (s: string): Buffer => {
    const bytes = Buffer.from(s, 'utf8');
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(bytes.length);
    return Buffer.concat([prefix, bytes]);
  };
  const [lo, hi] = Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) < 0 ? [a, b] : [b, a];
  const label = Buffer.from('peerquorum link v2', 'utf8');
  const info = Buffer.concat([label, lp(cluster), lp(lo), lp(hi)]);
  return Buffer.from(hkdfSync('sha256', secretBytes, label, info, 32)).toString('hex');
}

describe('linkKeyBytes', () => {
  it('is the documented HKDF construction, the same from both ends', () => {
    const prng = createPrng(7);
    const ids = ['n1', 'n2', 'node-a', 'ab', 'a', 'b', 'c', 'Zoë', '节点', '\u{1F600}', '\uE000', 'x'.repeat(300)];
    for (let round = 0; round < 200; round++) {
      const s = randomBytes(prng, secretBytesMin + prng.nextInt(48));
      const a = ids[prng.nextInt(ids.length)]!;
      let b = ids[prng.nextInt(ids.length)]!;
      if (b === a) b = `${a}'`;
      const cluster = ['c', 'prod', 'cluster-\u{1F680}'][prng.nextInt(3)]!;
      const key = linkKeyBytes(s, cluster, a, b);
      expect(key.length).toBe(32);
      expect(hex(key)).toBe(referenceKey(s, cluster, a, b));
      expect(linkKeyBytes(s, cluster, b, a)).toEqual(key);
    }
  });

  it('pins a golden key (docs/protocol.md example)', () => {
    expect(hex(linkKeyInfo('c', 'n2', 'n1'))).toBe(
      hex(utf8('peerquorum link v2')) + '0001' + hex(utf8('c')) + '0002' + hex(utf8('n1')) + '0002' + hex(utf8('n2')),
    );
    const goldenSecret = new Uint8Array(32).map((_, i) => i);
    expect(hex(linkKeyBytes(goldenSecret, 'c', 'n1', 'n2'))).toBe(referenceKey(goldenSecret, 'c', 'n1', 'n2'));
    expect(hex(linkKeyBytes(goldenSecret, 'c', 'n1', 'n2'))).toBe('7387681f56d3cc3531cc891a0ebac220662cd389d0ff1ec280e1a514dc440e94');
  });

  it('changes with the secret, the cluster and either id; length prefixes keep splits apart', () => {
    const base = hex(linkKeyBytes(secret, 'c', 'n1', 'n2'));
    const variants = [
      linkKeyBytes(utf8('correct horse battery staple, 32c'), 'c', 'n1', 'n2'),
      linkKeyBytes(secret, 'd', 'n1', 'n2'),
      linkKeyBytes(secret, 'c', 'n1', 'n3'),
      linkKeyBytes(secret, 'c', 'n0', 'n2'),
    ].map(hex);
    expect(new Set([base, ...variants]).size).toBe(5);
    expect(hex(linkKeyBytes(secret, 'c', 'ab', 'c'))).not.toBe(hex(linkKeyBytes(secret, 'c', 'a', 'bc')));
    expect(hex(linkKeyBytes(secret, 'ca', 'b', 'x'))).not.toBe(hex(linkKeyBytes(secret, 'c', 'ab', 'x')));
  });

  it('sorts ids by UTF-8 bytes, not by UTF-16 units', () => {
    // U+E000 < U+1F600 in code points (and in UTF-8), but '\uE000' > '\uD83D...' in UTF-16.
    const astral = '\u{1F600}';
    const bmp = '\uE000';
    expect(bmp > astral).toBe(true);
    const info = linkKeyInfo('c', astral, bmp);
    const lo = utf8(bmp);
    expect(hex(info.subarray(18 + 3 + 2, 18 + 3 + 2 + lo.length))).toBe(hex(lo));
  });

  it('takes a string secret as its UTF-8', () => {
    const s = 'sécret-with-ünïcode-\u{1F511}-long-enough';
    expect(linkKeyBytes(s, 'c', 'a', 'b')).toEqual(linkKeyBytes(utf8(s), 'c', 'a', 'b'));
  });

  it('gives the same keys through a LinkKeyDeriver', () => {
    const deriver = new LinkKeyDeriver(secret, 'c');
    for (const [a, b] of [
      ['n1', 'n2'],
      ['n3', 'n1'],
      ['x', 'y'],
    ] as const) {
      expect(deriver.keyFor(a, b)).toEqual(linkKeyBytes(secret, 'c', a, b));
    }
  });

  it('refuses bad configuration with ConfigError', () => {
    const bad: readonly (() => unknown)[] = [
      () => linkKeyBytes(new Uint8Array(secretBytesMin - 1), 'c', 'a', 'b'),
      () => linkKeyBytes('short', 'c', 'a', 'b'),
      () => linkKeyBytes(`${'x'.repeat(20)}\uD800`, 'c', 'a', 'b'),
      () => linkKeyBytes(42 as unknown as Uint8Array, 'c', 'a', 'b'),
      () => linkKeyBytes(secret, 'c', 'a', 'a'),
      () => linkKeyBytes(secret, '', 'a', 'b'),
      () => linkKeyBytes(secret, 'c', '', 'b'),
      () => linkKeyBytes(secret, 'c', 'a\uDC00', 'b'),
      () => linkKeyBytes(secret, 'c', 'a', 'x'.repeat(65_536)),
      () => linkKeyBytes(secret, 'c', 'a', 7 as unknown as string),
    ];
    for (const [i, f] of bad.entries()) expect(f, `case ${i}`).toThrow(ConfigError);
    expect(linkKeyBytes(secret, 'c', 'a', 'x'.repeat(65_535)).length).toBe(32);
  });
});
