/**
 * What this proves about the synchronous link authenticator (src/io/crypto/link-auth.ts):
 *
 * - A tag is exactly HMAC-SHA256(K_link, head || frame) with the head of link-tag-input.ts: the
 *   test rebuilds head and key from the documented text and computes the tag with node:crypto.
 * - What a tag binds: changing any byte of the frame, the seq, the claimed sender, the cluster
 *   or the secret fails with 'bad-tag'; so does reflecting a node's own frame back to it as if
 *   its peer had sent it, and a third member's frame presented as another member's.
 * - The order of `open`'s steps: a forged frame (bad tag) never moves the window nor takes a
 *   slot in the link table; replays are 'replayed', frames behind the window 'too-old',
 *   reordered frames inside it are accepted once each.
 * - Bounds: past `linksMax` peers, `seal` and `open` refuse with 'too-many-links' and the table
 *   does not grow; forged frames from thousands of made-up ids leave it empty.
 * - Hostile input never throws: malformed senders, seqs, frames and tags are 'malformed' (a tag
 *   of the wrong length is 'bad-tag'), including a seeded storm of random garbage; every `open`
 *   is counted exactly once.
 * - `sealWith` hands the seq to the encoder; seqs start at `sendSeqFirst` and increase by one per
 *   link; a bad `to` or bad options are ConfigError.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/raft/errors.ts';
import { createLinkAuthenticator, type LinkAuthenticator, type OpenResult } from '../../../src/io/crypto/link-auth.ts';
import { linkKeyBytes } from '../../../src/io/crypto/link-keys.ts';
import { createPrng, hex, randomBytes, utf8 } from './test-bytes.ts';

const secret = utf8('a cluster secret of 32 bytes....');
const cluster = 'c';

function node(self: string, options: { linksMax?: number; replayWindowMax?: number; sendSeqFirst?: number } = {}): LinkAuthenticator {
  return createLinkAuthenticator({ secret, cluster, self, mac: 'sync', ...options });
}

function seal(from: LinkAuthenticator, to: string, frame: Uint8Array): { seq: number; tag: Uint8Array } {
  const sealed = from.seal(to, frame);
  if (!sealed.ok) throw new Error(`seal refused: ${sealed.error}`);
  return sealed;
}

/** The documented head: "peerquorum frame v2" || u64be(seq) || lp(from) || lp(to). */
function referenceHead(seq: number, from: string, to: string): Buffer {
  const lp = (s: string): Buffer => {
    const bytes = Buffer.from(s, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return Buffer.concat([Buffer.from('peerquorum frame v2', 'utf8'), seqBytes, lp(from), lp(to)]);
}

describe('createLinkAuthenticator', () => {
  it('tags exactly HMAC(K_link, head || frame) as documented, and the peer opens it', () => {
    const a = node('n1', { sendSeqFirst: 2 ** 40 + 3 });
    const b = node('n2');
    const prng = createPrng(21);
    for (let i = 0; i < 50; i++) {
      const frame = randomBytes(prng, prng.nextInt(400));
      const { seq, tag } = seal(a, 'n2', frame);
      expect(seq).toBe(2 ** 40 + 3 + i);
      const key = linkKeyBytes(secret, cluster, 'n2', 'n1');
      const expected = createHmac('sha256', key).update(referenceHead(seq, 'n1', 'n2')).update(frame).digest('hex');
      expect(hex(tag)).toBe(expected);
      expect(b.open('n1', seq, frame, tag)).toBe('ok');
    }
    expect(a.counters).toMatchObject({ sealed: 50 });
    expect(b.counters).toMatchObject({ opened: 50, badTag: 0, replayed: 0, tooOld: 0 });
  });

  it('binds the frame bytes, the seq, the sender, the direction, the cluster and the secret', () => {
    const a = node('n1');
    const b = node('n2');
    const frame = randomBytes(createPrng(22), 120);
    const { seq, tag } = seal(a, 'n2', frame);
    for (let i = 0; i < frame.length; i++) {
      const changed = new Uint8Array(frame);
      changed[i]! ^= 0x01;
      expect(b.open('n1', seq, changed, tag), `byte ${i}`).toBe('bad-tag');
    }
    expect(b.open('n1', seq, frame.subarray(1), tag)).toBe('bad-tag');
    expect(b.open('n1', seq, new Uint8Array([...frame, 0]), tag)).toBe('bad-tag');
    expect(b.open('n1', seq + 1, frame, tag)).toBe('bad-tag');
    expect(b.open('n3', seq, frame, tag)).toBe('bad-tag'); // another sender claimed
    // Reflection: n1's own frame to n2, played back to n1 as if n2 had sent it (same pair key).
    expect(node('n1').open('n2', seq, frame, tag)).toBe('bad-tag');
    // A third member n3 cannot speak for n1 to n2: its frame is tagged under K(n3, n2).
    const fromN3 = seal(node('n3'), 'n2', frame);
    expect(b.open('n1', fromN3.seq, frame, fromN3.tag)).toBe('bad-tag');
    expect(createLinkAuthenticator({ secret, cluster: 'other', self: 'n2' }).open('n1', seq, frame, tag)).toBe('bad-tag');
    expect(createLinkAuthenticator({ secret: utf8('another secret of 32 bytes......'), cluster, self: 'n2' }).open('n1', seq, frame, tag)).toBe(
      'bad-tag',
    );
    expect(b.counters.opened).toBe(0);
    expect(b.open('n1', seq, frame, tag)).toBe('ok'); // and the forgeries left the window alone
  });

  it('verifies before the window: forgeries never move it; replays, old and reordered frames', () => {
    const a = node('n1', { replayWindowMax: 64 });
    const b = node('n2', { replayWindowMax: 64 });
    const frames = Array.from({ length: 200 }, (_, i) => utf8(`frame ${i}`));
    const sealed = frames.map((frame) => seal(a, 'n2', frame));
    // A forged frame far ahead: were it accepted into the window, frame 1 would become too old.
    expect(b.open('n1', 1_000_000, frames[0]!, new Uint8Array(32))).toBe('bad-tag');
    expect(b.open('n1', sealed[0]!.seq, frames[0]!, sealed[0]!.tag)).toBe('ok');
    expect(b.open('n1', sealed[0]!.seq, frames[0]!, sealed[0]!.tag)).toBe('replayed');
    // Reordered inside the window: 100 first, then 99 down to 37, each once.
    expect(b.open('n1', sealed[99]!.seq, frames[99]!, sealed[99]!.tag)).toBe('ok');
    for (let i = 98; i >= 36; i--) expect(b.open('n1', sealed[i]!.seq, frames[i]!, sealed[i]!.tag), `frame ${i}`).toBe('ok');
    for (let i = 98; i >= 36; i--) expect(b.open('n1', sealed[i]!.seq, frames[i]!, sealed[i]!.tag)).toBe('replayed');
    expect(b.open('n1', sealed[35]!.seq, frames[35]!, sealed[35]!.tag)).toBe('too-old'); // seq 36 = 100 - 64
    // A replay with a broken tag is a bad tag first: verification comes before the window.
    expect(b.open('n1', sealed[99]!.seq, frames[99]!, new Uint8Array(32))).toBe('bad-tag');
    expect(b.counters).toMatchObject({ opened: 65, replayed: 64, tooOld: 1, badTag: 2 });
  });

  it('keeps the link table within linksMax; forged ids take no slot', () => {
    const b = node('n2', { linksMax: 2 });
    const frame = utf8('hello');
    for (const peer of ['p1', 'p2']) {
      const { seq, tag } = seal(node(peer), 'n2', frame);
      expect(b.open(peer, seq, frame, tag)).toBe('ok');
    }
    const p3 = seal(node('p3'), 'n2', frame);
    expect(b.open('p3', p3.seq, frame, p3.tag)).toBe('too-many-links');
    expect(b.seal('p4', frame)).toEqual({ ok: false, error: 'too-many-links' });
    expect(b.seal('p1', frame).ok).toBe(true); // known peers still work
    expect(b.linkCount).toBe(2);
    expect(b.counters.tooManyLinks).toBe(2);

    const c = node('n3', { linksMax: 4 });
    for (let i = 0; i < 2000; i++) expect(c.open(`fake-${i}`, 1, frame, new Uint8Array(32))).toBe('bad-tag');
    expect(c.linkCount).toBe(0);
    const real = seal(node('p1'), 'n3', frame);
    expect(c.open('p1', real.seq, frame, real.tag)).toBe('ok');
  });

  it('calls malformed input malformed and never throws', () => {
    const b = node('n2');
    const { seq, tag } = seal(node('n1'), 'n2', utf8('x'));
    const frame = utf8('x');
    const cases: readonly [unknown, unknown, unknown, unknown, OpenResult][] = [
      ['n2', seq, frame, tag, 'malformed'], // from ourselves
      ['', seq, frame, tag, 'malformed'],
      ['n\uD800', seq, frame, tag, 'malformed'],
      ['x'.repeat(65_536), seq, frame, tag, 'malformed'],
      [42, seq, frame, tag, 'malformed'],
      [null, seq, frame, tag, 'malformed'],
      ['n1', 0, frame, tag, 'malformed'],
      ['n1', -1, frame, tag, 'malformed'],
      ['n1', 1.5, frame, tag, 'malformed'],
      ['n1', NaN, frame, tag, 'malformed'],
      ['n1', 2 ** 53, frame, tag, 'malformed'],
      ['n1', '1', frame, tag, 'malformed'],
      ['n1', seq, 'x', tag, 'malformed'],
      ['n1', seq, [120], tag, 'malformed'],
      ['n1', seq, frame, Array.from(tag), 'malformed'],
      ['n1', seq, frame, tag.subarray(0, 16), 'bad-tag'],
      ['n1', seq, frame, new Uint8Array(0), 'bad-tag'],
      ['n1', seq, frame, tag, 'ok'],
    ];
    for (const [i, [from, s, f, t, expected]] of cases.entries()) {
      expect(b.open(from as string, s as number, f as Uint8Array, t as Uint8Array), `case ${i}`).toBe(expected);
    }
    expect(b.counters).toMatchObject({ malformed: 15, badTag: 2, opened: 1 });
  });

  it('survives a seeded storm of hostile frames, counting each open once', () => {
    const prng = createPrng(23);
    const a = node('n1');
    const b = node('n2', { linksMax: 8 });
    const valid: { seq: number; frame: Uint8Array; tag: Uint8Array }[] = [];
    const opens = 20_000;
    for (let i = 0; i < opens; i++) {
      const frame = randomBytes(prng, prng.nextInt(64));
      if (prng.nextInt(3) === 0) valid.push({ frame, ...seal(a, 'n2', frame) });
      const pick = valid[prng.nextInt(valid.length + 1)];
      const garbage = (): unknown => [undefined, null, 0, -1, 1.5, '', 'n1', 'n2', {}, [], frame, new Uint8Array(32)][prng.nextInt(12)];
      const from = prng.nextInt(4) === 0 ? garbage() : prng.nextInt(2) === 0 ? 'n1' : `p${prng.nextInt(100)}`;
      const seq = prng.nextInt(4) === 0 ? garbage() : (pick?.seq ?? 1 + prng.nextInt(1000));
      const tag = prng.nextInt(4) === 0 ? garbage() : (pick?.tag ?? randomBytes(prng, 32));
      const bytes = prng.nextInt(4) === 0 ? garbage() : (pick?.frame ?? frame);
      b.open(from as string, seq as number, bytes as Uint8Array, tag as Uint8Array); // a throw fails the test
    }
    const { sealed: _sealed, overloaded, opened, malformed, badTag, tooManyLinks, replayed, tooOld } = b.counters;
    expect(overloaded).toBe(0);
    expect(opened + malformed + badTag + tooManyLinks + replayed + tooOld).toBe(opens);
    expect(opened).toBeGreaterThan(100);
    expect(b.linkCount).toBe(1); // only n1 ever produced a good tag
  });

  it('hands the seq to sealWith, numbers each link on its own, and refuses bad options', () => {
    const a = node('n1', { sendSeqFirst: 7 });
    const b = node('n2');
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = a.sealWith('n2', (seq) => {
        seen.push(seq);
        return utf8(`seq=${seq}`);
      });
      if (!r.ok) throw new Error('refused');
      expect(r.frame).toEqual(utf8(`seq=${r.seq}`));
      expect(b.open('n1', r.seq, r.frame, r.tag)).toBe('ok');
    }
    expect(seen).toEqual([7, 8, 9]);
    const other = a.seal('n3', utf8('x'));
    expect(other.ok && other.seq).toBe(7);

    expect(() => a.seal('n1', utf8('x'))).toThrow(ConfigError);
    expect(() => a.seal('', utf8('x'))).toThrow(ConfigError);
    const bad: readonly (() => unknown)[] = [
      () => createLinkAuthenticator({ secret: 'short', cluster, self: 'n1' }),
      () => createLinkAuthenticator({ secret, cluster: '', self: 'n1' }),
      () => createLinkAuthenticator({ secret, cluster, self: '' }),
      () => createLinkAuthenticator({ secret, cluster, self: 'n1', linksMax: 0 }),
      () => createLinkAuthenticator({ secret, cluster, self: 'n1', replayWindowMax: 100 }),
      () => createLinkAuthenticator({ secret, cluster, self: 'n1', sendSeqFirst: 0 }),
      () => createLinkAuthenticator({ secret, cluster, self: 'n1', mac: 'web-crypto' as 'sync' }),
    ];
    for (const [i, f] of bad.entries()) expect(f, `case ${i}`).toThrow(ConfigError);
  });
});
