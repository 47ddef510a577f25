/**
 * What this proves about the v2 envelope (src/io/envelope.ts, docs/protocol.md §4):
 *
 * - Every header round-trips (each family, seq 0 and seq up to 2^53 - 1 with a tag, names of
 *   multi-byte UTF-8 at their byte limits, empty and large bodies); the body and the tag come back
 *   as views into the frame (no copy), and a golden frame pins the layout byte for byte.
 * - The authenticated bytes are exactly the header and the body: the frame minus the auth length
 *   byte and the tag. `prepareEnvelope`/`sealEnvelope` hand the tag function exactly those bytes,
 *   write the tag in place, and give a frame that owns its buffer.
 * - Every malformed header is refused with its code and field, never thrown: empty, truncated at
 *   every byte, oversized, trailing bytes, a wrong version (a v1 frame included), an unknown
 *   family, reserved flags, names empty, too long, not UTF-8, not printable or starting with a
 *   byte order mark, a frame to oneself, a seq beyond 2^53 - 1, body lengths beyond the frame, an
 *   auth length other than the one seq calls for; then frames for another cluster or node.
 * - Nothing outside the tag is unauthenticated: flipping any bit of a frame either gets it
 *   refused, or changes the authenticated bytes, or changes the tag.
 * - A seeded fuzz loop of byte mutations never makes `decodeEnvelope` throw, and every frame it
 *   accepts re-encodes to the same bytes (the encoding is canonical: one frame per header).
 * - The names' UTF-8, kept between frames (encoding them for every frame was the largest cost of
 *   a small frame), is copied into each frame, never shared: writing into one frame's name
 *   changes no later frame; and past the bound on names kept, every name still encodes as itself.
 */
import { describe, expect, it, vi } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { CodecError, type CodecErrorCode } from '../../src/io/codec-error.ts';
import { codecLimitsDefault, resolveCodecLimits, type CodecLimits } from '../../src/io/codec-limits.ts';
import {
  authTagBytes,
  decodeEnvelope,
  encodeEnvelope,
  envelopeOverheadBytesMax,
  envelopeVersion,
  prepareEnvelope,
  protocolFamilies,
  sealEnvelope,
  tryEncodeEnvelope,
  tryPrepareEnvelope,
  type DecodedEnvelope,
  type EnvelopeExpect,
  type EnvelopeHeader,
} from '../../src/io/envelope.ts';

const cluster = 'c';
const plain: EnvelopeHeader = { family: 'raft', cluster, from: 'n1', to: 'n2', seq: 0 };
const authed: EnvelopeHeader = { ...plain, seq: 7 };
const body = Uint8Array.of(0x81, 0xa1, 0x61, 0x01); // {"a": 1}: the envelope never reads it
const tag = Uint8Array.from({ length: authTagBytes }, (_, i) => 0xa0 + i);

/** A stand-in MAC, deterministic and sensitive to every byte: NOT a real tag. */
function fakeMac(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(authTagBytes);
  for (let i = 0; i < bytes.byteLength; i++) out[i % authTagBytes] = ((out[i % authTagBytes] as number) * 31 + (bytes[i] as number) + i) & 0xff;
  return out;
}

function decoded(frame: Uint8Array, limits?: CodecLimits, route?: EnvelopeExpect): DecodedEnvelope {
  const result = decodeEnvelope(frame, limits, route);
  if (!result.ok) throw result.error;
  return result.value;
}

/** Decoding `frame` fails with `code` at `field`, and the message names the field. */
function expectRefused(frame: unknown, code: CodecErrorCode, field: string | null, limits?: CodecLimits, route?: EnvelopeExpect): CodecError {
  const result = decodeEnvelope(frame as Uint8Array, limits, route);
  if (result.ok) throw new Error(`expected ${code} at ${String(field)}, but the frame was accepted`);
  expect(result.error).toBeInstanceOf(CodecError);
  expect(result.error.code, result.error.message).toBe(code);
  expect(result.error.field, result.error.message).toBe(field);
  if (field !== null) expect(result.error.message).toContain(field);
  return result.error;
}

/** Offsets in a frame of `plain`/`authed` (names "c", "n1", "n2"). */
const at = { v: 0, family: 1, flags: 2, clusterLength: 3, fromLength: 5, toLength: 8, seq: 11, bodyLength: 19, body: 23 } as const;
const authLengthAt = at.body + body.byteLength;

function edit(frame: Uint8Array, change: (f: Uint8Array, view: DataView) => void): Uint8Array {
  const copy = frame.slice();
  change(copy, new DataView(copy.buffer));
  return copy;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

// ---- round trips -----------------------------------------------------------------------------

describe('round trips', () => {
  it('every family, unauthenticated and authenticated, comes back as it was sent', () => {
    for (const family of protocolFamilies) {
      for (const [header, auth] of [
        [{ ...plain, family }, null],
        [{ ...authed, family }, tag],
      ] as const) {
        const frame = encodeEnvelope(header, body, auth);
        const d = decoded(frame);
        expect({ v: d.v, family: d.family, cluster: d.cluster, from: d.from, to: d.to, seq: d.seq }).toEqual({ v: envelopeVersion, ...header });
        expect(d.body).toEqual(body);
        expect(d.auth === null ? null : Array.from(d.auth)).toEqual(auth === null ? null : Array.from(auth));
      }
    }
  });

  it('seq up to 2^53 - 1, both halves of the u64 used', () => {
    for (const seq of [1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12_345, Number.MAX_SAFE_INTEGER]) {
      expect(decoded(encodeEnvelope({ ...authed, seq }, body, tag)).seq).toBe(seq);
    }
  });

  it('names of multi-byte UTF-8 at their byte limits, an empty body, a body filling frameBytesMax', () => {
    const id64 = `${'東'.repeat(21)}x`; // 63 + 1 bytes
    const cluster128 = '😀'.repeat(32); // 128 bytes
    const header: EnvelopeHeader = { family: 'gossip', cluster: cluster128, from: id64, to: 'nœud-ß', seq: 0 };
    const d = decoded(encodeEnvelope(header, new Uint8Array(0)));
    expect([d.cluster, d.from, d.to, d.body.byteLength]).toEqual([cluster128, id64, 'nœud-ß', 0]);

    const limits = codecLimitsDefault;
    const big = new Uint8Array(limits.frameBytesMax - envelopeOverheadBytesMax(limits));
    big.fill(7);
    const longest: EnvelopeHeader = { family: 'raft', cluster: 'c'.repeat(128), from: 'f'.repeat(64), to: 't'.repeat(64), seq: 1 };
    const frame = encodeEnvelope(longest, big, tag);
    expect(frame.byteLength).toBe(limits.frameBytesMax);
    expect(decoded(frame).body.byteLength).toBe(big.byteLength);
    const oneMore = tryEncodeEnvelope(longest, new Uint8Array(big.byteLength + 1), tag);
    expect(oneMore.ok || oneMore.error.code).toBe('FRAME_TOO_LARGE');
  });

  it('body, tag and authenticated bytes are views into the frame, not copies', () => {
    const frame = encodeEnvelope(authed, body, tag);
    const d = decoded(frame);
    for (const view of [d.body, d.auth as Uint8Array, d.authenticated]) expect(view.buffer).toBe(frame.buffer);
    expect(d.body.byteOffset).toBe(at.body);
    expect(d.authenticated.byteOffset).toBe(0);
  });

  it('a golden frame pins the layout', () => {
    const frame = encodeEnvelope(authed, body, tag);
    expect(hex(frame.subarray(0, authLengthAt + 1))).toBe(
      [
        '02 01 00', // version 2, family raft, flags 0
        '01 63', // cluster "c"
        '02 6e 31', // from "n1"
        '02 6e 32', // to "n2"
        '00 00 00 00 00 00 00 07', // seq 7
        '00 00 00 04', // body length 4
        '81 a1 61 01', // body
        '20', // auth length 32
      ].join(' '),
    );
    expect(frame.subarray(authLengthAt + 1)).toEqual(tag);
    const unauthenticated = encodeEnvelope(plain, body);
    expect(unauthenticated.byteLength).toBe(authLengthAt + 1);
    expect(unauthenticated[authLengthAt]).toBe(0);
  });
});

// ---- the authenticated bytes -----------------------------------------------------------------

describe('the authenticated bytes', () => {
  it('are the header and the body: every byte before the auth length byte', () => {
    for (const [header, auth] of [
      [plain, null],
      [authed, tag],
    ] as const) {
      const frame = encodeEnvelope(header, body, auth);
      const d = decoded(frame);
      const authBytes = auth === null ? 0 : authTagBytes;
      expect(d.authenticated).toEqual(frame.subarray(0, frame.byteLength - 1 - authBytes));
      expect(d.authenticated.byteLength).toBe(18 + 1 + 2 + 2 + body.byteLength);
      expect(d.authenticated.subarray(d.authenticated.byteLength - body.byteLength)).toEqual(body);
    }
  });

  it('sealEnvelope hands the tag function exactly those bytes and appends the tag', () => {
    let seen: Uint8Array | null = null;
    const frame = sealEnvelope(authed, body, (bytes) => {
      seen = bytes.slice();
      return fakeMac(bytes);
    });
    const d = decoded(frame);
    expect(seen).toEqual(d.authenticated);
    expect(d.auth).toEqual(fakeMac(d.authenticated));
    // The sealed frame is what encodeEnvelope makes with the same tag.
    expect(frame).toEqual(encodeEnvelope(authed, body, fakeMac(d.authenticated)));
    // It owns its buffer exactly, so it can be transferred.
    expect(frame.buffer.byteLength).toBe(frame.byteLength);
  });

  it('prepareEnvelope works across an await, once, with a 32-byte tag only', async () => {
    const unsealed = prepareEnvelope(authed, body);
    const mac = await Promise.resolve(fakeMac(unsealed.authenticated));
    expect(() => unsealed.seal(new Uint8Array(31))).toThrow(CodecError);
    const frame = unsealed.seal(mac);
    expect(unsealed.authenticated.buffer).toBe(frame.buffer);
    expect(decoded(frame).auth).toEqual(mac);
    expect(() => unsealed.seal(mac)).toThrow(/already sealed/);
    const zero = tryPrepareEnvelope(plain, body);
    expect(zero.ok || [zero.error.code, zero.error.field]).toEqual(['MALFORMED', 'seq']);
  });

  it('flipping any bit of a frame gets it refused, or changes the authenticated bytes or the tag', () => {
    let checked = 0;
    for (const frame of [sealEnvelope(authed, body, fakeMac), encodeEnvelope(plain, body)]) {
      const original = decoded(frame);
      for (let i = 0; i < frame.byteLength; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const flipped = edit(frame, (f) => (f[i] = (f[i] as number) ^ (1 << bit)));
          const result = decodeEnvelope(flipped);
          checked++;
          if (!result.ok) continue;
          const d = result.value;
          const sameAuthenticated = hex(d.authenticated) === hex(original.authenticated);
          const sameAuth = hex(d.auth ?? new Uint8Array(0)) === hex(original.auth ?? new Uint8Array(0));
          expect(sameAuthenticated && sameAuth, `bit ${bit} of byte ${i}`).toBe(false);
        }
      }
    }
    expect(checked).toBe(8 * (2 * (authLengthAt + 1) + authTagBytes));
  });
});

// ---- refusals --------------------------------------------------------------------------------

describe('malformed frames are refused with their code', () => {
  const frame = encodeEnvelope(authed, body, tag);
  const unauthenticated = encodeEnvelope(plain, body);

  it('not bytes, or empty: MALFORMED', () => {
    for (const notBytes of [null, undefined, 'frame', 5, [2, 1, 0], frame.buffer]) expectRefused(notBytes, 'MALFORMED', null);
    expectRefused(new Uint8Array(0), 'MALFORMED', 'v');
  });

  it('cut after any byte: MALFORMED', () => {
    for (const whole of [frame, unauthenticated]) {
      for (let n = 0; n < whole.byteLength; n++) {
        const result = decodeEnvelope(whole.subarray(0, n));
        expect(result.ok || result.error.code, `cut at ${n}`).toBe('MALFORMED');
      }
    }
  });

  it('bytes after the tag: MALFORMED', () => {
    expectRefused(concat(frame, Uint8Array.of(0)), 'MALFORMED', 'auth');
    expectRefused(concat(unauthenticated, new Uint8Array(32)), 'MALFORMED', 'auth');
  });

  it('above frameBytesMax: FRAME_TOO_LARGE before reading a byte; at the limit: accepted', () => {
    expectRefused(new Uint8Array(codecLimitsDefault.frameBytesMax + 1), 'FRAME_TOO_LARGE', null);
    expect(decodeEnvelope(frame, resolveCodecLimits({ frameBytesMax: frame.byteLength })).ok).toBe(true);
    expectRefused(frame, 'FRAME_TOO_LARGE', null, resolveCodecLimits({ frameBytesMax: frame.byteLength - 1 }));
  });

  it('another version, a v1 frame among them: BAD_VERSION', () => {
    for (const v of [0, 1, 3, 0x80, 0xff]) expectRefused(edit(frame, (f) => (f[at.v] = v)), 'BAD_VERSION', 'v');
    // The start of a v1 frame as v1 wrote it: a msgpack map of 6 (0x86) whose first key is "v" and value 1.
    const v1 = Uint8Array.of(0x86, 0xa1, 0x76, 0x01, 0xa6, 0x66, 0x61, 0x6d, 0x69, 0x6c, 0x79, 0xa4, 0x72, 0x61, 0x66, 0x74);
    expect(expectRefused(v1, 'BAD_VERSION', 'v').message).toMatch(/v1 frame/);
    for (const map of [0x80, 0x8f]) expect(expectRefused(Uint8Array.of(map, 0xa1, 0x76, 0x01), 'BAD_VERSION', 'v').message).toMatch(/v1 frame/);
  });

  it('an unknown family or reserved flags: MALFORMED', () => {
    for (const family of [0, protocolFamilies.length + 1, 0xff]) expectRefused(edit(frame, (f) => (f[at.family] = family)), 'MALFORMED', 'family');
    for (const flags of [1, 0x80]) expectRefused(edit(frame, (f) => (f[at.flags] = flags)), 'MALFORMED', 'flags');
  });

  /** A frame whose name fields are the given raw bytes (lengths written from them). */
  function withNames(clusterBytes: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
    const seqAndBody = frame.subarray(at.seq);
    return concat(frame.subarray(0, 3), Uint8Array.of(clusterBytes.byteLength), clusterBytes, Uint8Array.of(from.byteLength), from, Uint8Array.of(to.byteLength), to, seqAndBody);
  }
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('the name fields rebuilt from raw bytes decode as before (the helper is sound)', () => {
    expect(withNames(utf8('c'), utf8('n1'), utf8('n2'))).toEqual(frame);
  });

  it.each<[string, Uint8Array]>([
    ['empty', new Uint8Array(0)],
    ['not UTF-8 (0xff)', Uint8Array.of(0x6e, 0xff)],
    ['an overlong form', Uint8Array.of(0xc0, 0xae)],
    ['a surrogate', Uint8Array.of(0xed, 0xa0, 0x80)],
    ['a truncated sequence', Uint8Array.of(0x6e, 0xe2, 0x82)],
    ['above U+10FFFF', Uint8Array.of(0xf4, 0x90, 0x80, 0x80)],
    ['a control character', Uint8Array.of(0x6e, 0x07)],
    ['a C1 control character', Uint8Array.of(0x6e, 0xc2, 0x85)],
    ['a bidirectional override', utf8('n\u202e1')],
    ['a leading byte order mark', Uint8Array.of(0xef, 0xbb, 0xbf, 0x6e, 0x31)],
  ])('a name that is %s: MALFORMED naming the field', (_what, bad) => {
    expectRefused(withNames(bad, utf8('n1'), utf8('n2')), 'MALFORMED', 'cluster');
    expectRefused(withNames(utf8('c'), bad, utf8('n2')), 'MALFORMED', 'from');
    expectRefused(withNames(utf8('c'), utf8('n1'), bad), 'MALFORMED', 'to');
  });

  it('names longer than clusterBytesMax and nodeIdBytesMax: MALFORMED; at the limits: accepted', () => {
    expect(decodeEnvelope(withNames(utf8('c'.repeat(128)), utf8('f'.repeat(64)), utf8('t'.repeat(64)))).ok).toBe(true);
    expectRefused(withNames(utf8('c'.repeat(129)), utf8('n1'), utf8('n2')), 'MALFORMED', 'cluster');
    expectRefused(withNames(utf8('c'), utf8('f'.repeat(65)), utf8('n2')), 'MALFORMED', 'from');
    expectRefused(withNames(utf8('c'), utf8('n1'), utf8(`${'東'.repeat(21)}xy`)), 'MALFORMED', 'to');
    const tight = resolveCodecLimits({ nodeIdBytesMax: 2, clusterBytesMax: 1 });
    expect(decodeEnvelope(frame, tight).ok).toBe(true);
    expectRefused(withNames(utf8('cc'), utf8('n1'), utf8('n2')), 'MALFORMED', 'cluster', tight);
  });

  it('a frame to its own sender: MALFORMED', () => {
    expectRefused(withNames(utf8('c'), utf8('n1'), utf8('n1')), 'MALFORMED', 'to');
  });

  it('a seq beyond 2^53 - 1: MALFORMED; 2^53 - 1 itself: accepted', () => {
    expectRefused(edit(frame, (_f, v) => v.setUint32(at.seq, 0x20_0000)), 'MALFORMED', 'seq');
    expectRefused(edit(frame, (_f, v) => v.setUint32(at.seq, 0xffff_ffff)), 'MALFORMED', 'seq');
    const max = edit(frame, (_f, v) => (v.setUint32(at.seq, 0x1f_ffff), v.setUint32(at.seq + 4, 0xffff_ffff)));
    expect(decoded(max).seq).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a body length beyond the frame, or leaving no room for the auth length: MALFORMED', () => {
    for (const length of [body.byteLength + 1 + authTagBytes, body.byteLength + 2 + authTagBytes, 0x7fff_ffff, 0xffff_ffff]) {
      expectRefused(edit(frame, (_f, v) => v.setUint32(at.bodyLength, length)), 'MALFORMED', 'body');
    }
    // Shorter than the body: what follows is read as the auth length and tag, and does not fit.
    for (let length = 0; length < body.byteLength; length++) {
      const result = decodeEnvelope(edit(frame, (_f, v) => v.setUint32(at.bodyLength, length)));
      expect(result.ok || result.error.code).toBe('MALFORMED');
    }
  });

  it('an auth length other than the one seq calls for: MALFORMED', () => {
    for (const length of [0, 1, 16, 31, 33, 0xff]) {
      expectRefused(edit(frame, (f) => (f[authLengthAt] = length)), 'MALFORMED', 'auth');
    }
    // seq 0 with a tag, seq 7 without one.
    expectRefused(concat(edit(unauthenticated, (f) => (f[authLengthAt] = authTagBytes)), tag), 'MALFORMED', 'auth');
    expectRefused(edit(frame.subarray(0, authLengthAt + 1), (f) => (f[authLengthAt] = 0)), 'MALFORMED', 'auth');
  });

  it('for another cluster: WRONG_CLUSTER, checked before the recipient; for another node: WRONG_RECIPIENT', () => {
    expect(decodeEnvelope(frame, undefined, { cluster, self: 'n2' }).ok).toBe(true);
    expectRefused(frame, 'WRONG_CLUSTER', 'cluster', undefined, { cluster: 'other', self: 'n9' });
    expectRefused(frame, 'WRONG_RECIPIENT', 'to', undefined, { cluster, self: 'n3' });
  });
});

describe('the encoder refuses headers its peers would refuse', () => {
  it.each<[string, Partial<EnvelopeHeader>, Uint8Array | null, string]>([
    ['an unknown family', { family: 'chat' as EnvelopeHeader['family'] }, null, 'family'],
    ['an empty cluster', { cluster: '' }, null, 'cluster'],
    ['a cluster of 129 bytes', { cluster: 'c'.repeat(129) }, null, 'cluster'],
    ['an id of 65 bytes', { from: 'f'.repeat(65) }, null, 'from'],
    ['an unprintable id', { to: 'n\u0000' }, null, 'to'],
    ['an id with a byte order mark', { to: '\ufeffn2' }, null, 'to'],
    ['a frame to oneself', { to: 'n1' }, null, 'to'],
    ['a negative seq', { seq: -1 }, null, 'seq'],
    ['a fractional seq', { seq: 1.5 }, tag, 'seq'],
    ['an unsafe seq', { seq: 2 ** 53 }, tag, 'seq'],
    ['seq 0 with a tag', { seq: 0 }, tag, 'auth'],
    ['a seq without a tag', { seq: 3 }, null, 'auth'],
    ['a tag of 31 bytes', { seq: 3 }, new Uint8Array(31), 'auth'],
  ])('%s: MALFORMED', (_what, change, auth, field) => {
    const result = tryEncodeEnvelope({ ...plain, ...change }, body, auth);
    expect(result.ok || [result.error.code, result.error.field]).toEqual(['MALFORMED', field]);
    expect(() => encodeEnvelope({ ...plain, ...change }, body, auth)).toThrow(CodecError);
  });
});

// ---- fuzz --------------------------------------------------------------------------------------

describe('fuzz', () => {
  it('20,000 byte mutations: decodeEnvelope never throws; what it accepts re-encodes to the same bytes', () => {
    const prng = createPrng(0x2e_4e_7e);
    const seeds = [
      encodeEnvelope(plain, body),
      sealEnvelope(authed, body, fakeMac),
      sealEnvelope({ family: 'bft', cluster: 'clüster', from: '東京', to: 'n2', seq: 2 ** 40 }, new Uint8Array(40), fakeMac),
    ];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const seed = seeds[prng.nextInt(seeds.length)] as Uint8Array;
      let out: Uint8Array = seed.slice();
      for (let op = 1 + prng.nextInt(3); op > 0; op--) {
        const pos = prng.nextInt(out.byteLength + 1);
        switch (prng.nextInt(4)) {
          case 0:
            if (pos < out.byteLength) out[pos] = (out[pos] as number) ^ (1 << prng.nextInt(8));
            break;
          case 1:
            if (pos < out.byteLength) out[pos] = prng.nextInt(256);
            break;
          case 2:
            out = out.slice(0, pos);
            break;
          default:
            out = concat(out.subarray(0, pos), Uint8Array.of(prng.nextInt(256)), out.subarray(pos));
        }
      }
      const result = decodeEnvelope(out);
      if (!result.ok) {
        expect(result.error).toBeInstanceOf(CodecError);
        continue;
      }
      accepted++;
      const d = result.value;
      const again = encodeEnvelope({ family: d.family, cluster: d.cluster, from: d.from, to: d.to, seq: d.seq }, d.body, d.auth);
      expect(hex(again)).toBe(hex(out));
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

describe('the names kept between frames', () => {
  it('are encoded once, not for every frame (a regression of the browser benchmark: three TextEncoder calls a frame)', () => {
    const header: EnvelopeHeader = { ...plain, from: 'fresh-from', to: 'fresh-to', cluster: 'fresh-cluster' };
    const encode = vi.spyOn(TextEncoder.prototype, 'encode');
    try {
      for (let i = 0; i < 1000; i++) encodeEnvelope(header, body);
      expect(encode.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      encode.mockRestore();
    }
  });

  it('are copied into each frame: writing into one frame changes no later one', () => {
    const first = encodeEnvelope(plain, body);
    const golden = hex(first);
    // The names "c", "n1", "n2" start at byte 4 (after each one's length byte).
    first.fill(0x58, 3, 11);
    expect(hex(encodeEnvelope(plain, body))).toBe(golden);
    const sealed = sealEnvelope(authed, body, fakeMac);
    sealed.fill(0x58, 3, 11);
    expect(decoded(encodeEnvelope(plain, body)).from).toBe('n1');
  });

  it('past the bound on names kept, each name still encodes as itself', () => {
    for (let i = 0; i < 3000; i++) {
      const to = `peer-${i}-é`;
      const frame = encodeEnvelope({ ...plain, to }, body);
      const d = decoded(frame);
      expect(d.to).toBe(to);
      expect(d.from).toBe('n1');
      expect(d.cluster).toBe(cluster);
    }
  });
});
