/**
 * What this proves about the wire codec (src/io/codec.ts, specified in docs/protocol.md):
 *
 * - Every Raft message type of the core survives encode -> decode unchanged, binary payloads
 *   (all 256 byte values, empty), config entries and snapshot chunks included; the decoded
 *   message is a fresh object that shares no memory with the frame; frames are plain msgpack
 *   maps that a generic decoder reads, and a golden frame pins the bytes.
 * - Each class of hostile input in TESTING.md "Hostile input" is refused with its exact
 *   `CodecError` code and field: garbage, a valid frame cut at every byte, msgpack outside the
 *   profile (extension types, duplicate keys, bad UTF-8, deep nesting), wrong types in every
 *   field of every message, unsafe and negative integers, oversized frames, frames for another
 *   cluster or node, unknown types, non-contiguous entries, bad configurations and snapshot
 *   chunks, a body speaking for someone other than its envelope.
 * - A seeded fuzz loop (byte mutations of valid frames, then mutations of their decoded values)
 *   never makes `decodeFrame` throw, and every frame it accepts is well formed by checks written
 *   apart from the codec's own validators.
 * - `CodecMetrics` counts what was decoded and what was dropped, by code.
 *
 * The whole file runs on msgpackr's pure-JS path (native acceleration disabled before msgpackr
 * loads), which is the path browsers take; MSGPACKR_NATIVE_ACCELERATION_DISABLED=false runs it
 * on the native add-on instead.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  // Before msgpackr loads. MSGPACKR_NATIVE_ACCELERATION_DISABLED=false runs the file on the
  // native add-on instead, where it is installed.
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import { Packr, Unpackr, isNativeAccelerationEnabled } from 'msgpackr';
import { createPrng, type Prng } from '../../src/core/prng.ts';
import { messageTypes, type Message } from '../../src/core/raft/messages.ts';
import type { ConfState, Entry } from '../../src/core/raft/types.ts';
import {
  CodecError,
  codecErrorCodes,
  codecLimitsDefault,
  createCodecMetrics,
  decodeFrame,
  encodeFrame,
  raftEnvelope,
  resolveCodecLimits,
  tryEncodeFrame,
  type CodecErrorCode,
  type CodecLimits,
  type DecodeOptions,
  type Envelope,
} from '../../src/io/codec.ts';

// ---- samples: every message type, with the awkward values ---------------------------------

const cluster = 'test-cluster';
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const empty = new Uint8Array(0);
const conf: ConfState = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };

const samples: readonly Message[] = [
  {
    type: 'append',
    from: 'n1',
    to: 'n2',
    term: 5,
    prevIndex: 10,
    prevTerm: 4,
    commit: 9,
    entries: [
      { index: 11, term: 4, kind: 'normal', data: allBytes },
      { index: 12, term: 5, kind: 'empty', data: empty },
      { index: 13, term: 5, kind: 'config', data: empty, config: conf },
      // Bytes that would be msgpack extension tokens outside a bin: opaque inside one.
      { index: 14, term: 5, kind: 'normal', data: new Uint8Array([0xc1, 0xd4, 0x72, 0x00]) },
    ],
  },
  { type: 'append', from: 'n1', to: 'n2', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [] },
  { type: 'append-response', from: 'n2', to: 'n1', term: 5, index: 14, reject: false, hintIndex: 0, hintTerm: 0 },
  { type: 'append-response', from: 'n2', to: 'n1', term: 5, index: 10, reject: true, hintIndex: 7, hintTerm: 3 },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 5, commit: 14, round: 9 },
  { type: 'heartbeat-response', from: 'n2', to: 'n1', term: 5, round: 9 },
  { type: 'vote', from: 'n3', to: 'n2', term: 6, lastIndex: 14, lastTerm: 5, transfer: true },
  { type: 'pre-vote', from: 'n3', to: 'n2', term: 7, lastIndex: 14, lastTerm: 5, transfer: false },
  { type: 'vote-response', from: 'n2', to: 'n3', term: 6, reject: false },
  { type: 'pre-vote-response', from: 'n2', to: 'n3', term: 7, reject: true },
  { type: 'timeout-now', from: 'n1', to: 'n3', term: 5 },
  { type: 'propose', from: 'n2', to: 'n1', term: 0, data: [allBytes, empty, new Uint8Array([42])] },
  { type: 'read-index', from: 'n2', to: 'n1', term: 0, requestId: -7, lease: true },
  { type: 'read-index-response', from: 'n1', to: 'n2', term: 0, requestId: -7, index: 14 },
  { type: 'read-index-response', from: 'n1', to: 'n2', term: 0, requestId: 2 ** 53 - 1, index: -1 },
  { type: 'transfer-leader', from: 'n2', to: 'n1', term: 0, transferee: 'n3' },
  { type: 'join', from: 'n2', to: 'n1', term: 0, node: 'tab-x7' },
  {
    type: 'snapshot',
    from: 'n1',
    to: 'n4',
    term: 5,
    meta: { index: 100, term: 4, config: conf },
    offset: 65_536,
    data: allBytes,
    done: false,
    commit: 100,
  },
  {
    type: 'snapshot',
    from: 'n1',
    to: 'n4',
    term: 5,
    meta: { index: 100, term: 4, config: { voters: ['n1'], learners: [] } },
    offset: 0,
    data: empty,
    done: true,
    commit: 100,
  },
  { type: 'snapshot-response', from: 'n4', to: 'n1', term: 5, index: 100, received: 65_792, done: false },
];

const sampleOf = (type: Message['type']): Message => samples.find((m) => m.type === type) as Message;

function frameOf(m: Message, options: { limits?: CodecLimits } = {}): Uint8Array {
  return encodeFrame(raftEnvelope(cluster, m), options);
}

function decodeAs(frame: Uint8Array, self: string, options: DecodeOptions = {}): ReturnType<typeof decodeFrame> {
  return decodeFrame(frame, { cluster, self }, options);
}

/** Decoding `frame` fails with `code` at `field` (a path, a pattern for paths, or null), named in the message. */
function expectRejected(
  frame: Uint8Array,
  code: CodecErrorCode,
  field: string | RegExp | null,
  self = 'n2',
  options: DecodeOptions = {},
): CodecError {
  const result = decodeAs(frame, self, options);
  if (result.ok) throw new Error(`expected ${code} at ${String(field)}, but the frame was accepted`);
  const error = result.error;
  expect(error).toBeInstanceOf(CodecError);
  expect(error.code, error.message).toBe(code);
  if (field instanceof RegExp) expect(error.field ?? '', error.message).toMatch(field);
  else expect(error.field, error.message).toBe(field);
  if (error.field !== null) expect(error.message).toContain(error.field);
  return error;
}

// ---- a tiny msgpack writer for hostile frames (duplicate keys, raw tokens, any value) ---------

/** Bytes inserted verbatim where a value goes. */
class Raw {
  constructor(readonly bytes: Uint8Array) {}
}

/** A map written pair by pair, so that a key may repeat. */
class Pairs {
  constructor(readonly pairs: readonly (readonly [unknown, unknown])[]) {}
}

type Mut = Record<string, unknown>;

const rawPackr = new Packr({ useRecords: false, variableMapSize: true });

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function header(n: number, fix: number, x16: number, x32: number): Uint8Array {
  if (n < 16) return Uint8Array.of(fix | n);
  if (n < 0x10000) return Uint8Array.of(x16, n >> 8, n & 0xff);
  return Uint8Array.of(x32, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function isPlainObject(v: unknown): v is Mut {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function mp(value: unknown): Uint8Array {
  if (value instanceof Raw) return value.bytes;
  if (value instanceof Pairs) return concat([header(value.pairs.length, 0x80, 0xde, 0xdf), ...value.pairs.flatMap(([k, v]) => [mp(k), mp(v)])]);
  if (Array.isArray(value)) return concat([header(value.length, 0x90, 0xdc, 0xdd), ...value.map(mp)]);
  if (isPlainObject(value)) return mp(new Pairs(Object.entries(value)));
  return new Uint8Array(rawPackr.pack(value));
}

/** The frame of `m` as plain values (a deep copy), for editing before it is written. */
function wireOf(m: Message): Mut {
  return structuredClone({ v: 1, family: 'raft', cluster, from: m.from, to: m.to, body: m }) as Mut;
}

function tamper(m: Message, edit: (env: Mut, body: Mut) => void): Uint8Array {
  const env = wireOf(m);
  edit(env, env['body'] as Mut);
  return mp(env);
}

const at = (list: unknown, i: number): Mut => (list as Mut[])[i] as Mut;

// ---- round trip --------------------------------------------------------------------------------

describe('round trip', () => {
  it('runs on the pure-JS msgpackr path (unless asked otherwise)', () => {
    const pureJs = process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED']?.toLowerCase() === 'true';
    console.log(`msgpackr path: ${isNativeAccelerationEnabled ? 'native add-on' : 'pure JS'}`);
    if (pureJs) expect(isNativeAccelerationEnabled).toBe(false);
  });

  it('has a sample of every message type of the core', () => {
    expect(new Set(samples.map((m) => m.type))).toEqual(new Set(messageTypes));
  });

  it.each(samples.map((m, i) => [`${i} ${m.type}`, m] as const))('%s', (_name, m) => {
    const frame = frameOf(m);
    const result = decodeAs(frame, m.to);
    if (!result.ok) throw result.error;
    expect(result.value).toStrictEqual(raftEnvelope(cluster, m));
    expect(result.value.body).not.toBe(m);
  });

  it('hands out bytes that own their memory: plain Uint8Arrays, unchanged when the frame is reused', () => {
    const m = sampleOf('append');
    const frame = frameOf(m);
    const result = decodeAs(frame, 'n2');
    if (!result.ok) throw result.error;
    const body = result.value.body as Extract<Message, { type: 'append' }>;
    frame.fill(0); // a transport reusing its receive buffer
    const first = body.entries[0] as Entry;
    expect(Object.getPrototypeOf(first.data)).toBe(Uint8Array.prototype);
    expect(first.data.buffer).not.toBe(frame.buffer);
    expect(first.data).toStrictEqual(allBytes);
  });

  it('writes frames that own their ArrayBuffer (safe to transfer to a worker)', () => {
    for (const m of samples) {
      const frame = frameOf(m);
      expect(Object.getPrototypeOf(frame)).toBe(Uint8Array.prototype);
      expect(frame.byteOffset).toBe(0);
      expect(frame.buffer.byteLength).toBe(frame.byteLength);
    }
  });

  it('writes plain msgpack maps that a generic msgpack decoder reads', () => {
    const m = sampleOf('append');
    const frame = frameOf(m);
    expect(frame[0]).toBe(0x86); // fixmap of 6: the envelope
    const generic: unknown = new Unpackr({ useRecords: false }).unpack(frame);
    expect(structuredClone(generic)).toEqual(structuredClone(raftEnvelope(cluster, m)));
  });

  it('writes the golden frame of docs/protocol.md byte for byte', () => {
    const frame = encodeFrame(raftEnvelope('c', { type: 'heartbeat', from: 'n1', to: 'n2', term: 2, commit: 1, round: 3 }));
    const golden =
      '86 a1 76 01 a6 66 61 6d 69 6c 79 a4 72 61 66 74 a7 63 6c 75 73 74 65 72 a1 63 a4 66 72 6f 6d a2 6e 31 a2 74 6f a2 6e 32 ' +
      'a4 62 6f 64 79 86 a4 74 79 70 65 a9 68 65 61 72 74 62 65 61 74 a4 66 72 6f 6d a2 6e 31 a2 74 6f a2 6e 32 a4 74 65 72 6d 02 ' +
      'a6 63 6f 6d 6d 69 74 01 a5 72 6f 75 6e 64 03';
    expect([...frame].map((b) => b.toString(16).padStart(2, '0')).join(' ')).toBe(golden);
  });

  it('reads keys in any order and integers in any msgpack width (other encoders)', () => {
    const m = sampleOf('heartbeat');
    const u64 = (n: number): Raw => new Raw(Uint8Array.of(0xcf, 0, 0, 0, 0, 0, 0, 0, n));
    const i32 = (n: number): Raw => new Raw(Uint8Array.of(0xd2, 0, 0, 0, n));
    const body = new Pairs([
      ['round', i32(9)],
      ['commit', new Raw(Uint8Array.of(0xcd, 0, 14))],
      ['term', u64(5)],
      ['to', 'n2'],
      ['from', 'n1'],
      ['type', 'heartbeat'],
    ]);
    const frame = mp(new Pairs([['body', body], ['to', 'n2'], ['from', 'n1'], ['cluster', cluster], ['family', 'raft'], ['v', u64(1)]]));
    const result = decodeAs(frame, 'n2');
    if (!result.ok) throw result.error;
    expect(result.value.body).toStrictEqual(m);
  });

  it('decodes a replayed frame again, as an equal but distinct message (replay protection is the secure link layer)', () => {
    const frame = frameOf(sampleOf('vote'));
    const a = decodeAs(frame, 'n2');
    const b = decodeAs(frame, 'n2');
    expect(a).toStrictEqual(b);
    if (a.ok && b.ok) expect(a.value.body).not.toBe(b.value.body);
  });
});

// ---- hostile input ----------------------------------------------------------------------------

describe('hostile input: bytes that are not a frame', () => {
  it.each<[string, number[], string | null]>([
    ['empty', [], null],
    ['the never-used byte', [0xc1], null],
    ['an unfinished map header', [0xde, 0x00], null],
    ['a map that claims 2^32 - 1 pairs', [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x76, 0x01], null],
    ['an array that claims 2^32 - 1 items', [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01], null],
    ['a str32 that claims 4 GiB', [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], null],
    ['JSON text', [...new TextEncoder().encode('{"v":1,"family":"raft"}')], null],
    ['random bytes', [0x9a, 0x13, 0xf7, 0x00, 0xee, 0x41, 0x8c, 0xd9, 0x02], null],
    ['one nil (msgpack, but not a frame)', [0xc0], 'frame'],
    ['the integer 1 (msgpack, but not a frame)', [0x01], 'frame'],
  ])('%s: MALFORMED', (_name, bytes, field) => {
    expectRejected(Uint8Array.from(bytes), 'MALFORMED', field);
  });

  it('a value that is not a Uint8Array: MALFORMED', () => {
    expectRejected(new ArrayBuffer(8) as unknown as Uint8Array, 'MALFORMED', null);
    expectRejected('frame' as unknown as Uint8Array, 'MALFORMED', null);
  });

  it('every message type cut at every byte: MALFORMED', () => {
    let cuts = 0;
    for (const m of samples) {
      const frame = frameOf(m);
      for (let cut = 0; cut < frame.byteLength; cut++) {
        expectRejected(frame.subarray(0, cut), 'MALFORMED', null, m.to);
        cuts++;
      }
    }
    expect(cuts).toBeGreaterThan(2000);
  });

  it('a valid frame followed by trailing bytes: MALFORMED', () => {
    const frame = frameOf(sampleOf('heartbeat'));
    expectRejected(concat([frame, Uint8Array.of(0x00)]), 'MALFORMED', null);
    expectRejected(concat([frame, frame]), 'MALFORMED', null);
  });

  it.each<[string, unknown]>([
    ['a Date (timestamp extension)', new Date(0)],
    ['undefined (msgpackr extension 0)', undefined],
    ['a typed array extension', new Float64Array([1.5])],
    ['a Set extension', new Set([1])],
    ['an Error extension', new Error('x')],
    ['a RegExp extension', /a+/],
  ])('msgpack extension types: %s in the body: MALFORMED', (_name, value) => {
    const packr = new Packr({ useRecords: false, moreTypes: true, structuredClone: true });
    const frame = tamper(sampleOf('heartbeat'), (_env, body) => {
      body['round'] = new Raw(new Uint8Array(packr.pack(value)));
    });
    expect(expectRejected(frame, 'MALFORMED', null).message).toMatch(/extension/);
  });

  it('msgpackr records (in-band structure definitions): MALFORMED', () => {
    const env = wireOf(sampleOf('heartbeat'));
    const frame = new Uint8Array(new Packr({ useRecords: true }).pack(env));
    expect(expectRejected(frame, 'MALFORMED', null).message).toMatch(/extension/);
  });

  it('a key twice in one map (decoders disagree on which wins): MALFORMED', () => {
    const m = sampleOf('vote-response');
    const body = new Pairs([...Object.entries(m), ['reject', true]]);
    const frame = mp(new Pairs([...Object.entries(wireOf(m)).filter(([k]) => k !== 'body'), ['body', body]]));
    expect(expectRejected(frame, 'MALFORMED', null).message).toMatch(/twice/);
    const envTwice = mp(new Pairs([['v', 1], ...Object.entries(wireOf(m)).filter(([k]) => k !== 'v'), ['v', 1]]));
    expect(expectRejected(envTwice, 'MALFORMED', null).message).toMatch(/twice/);
  });

  it('a map key that is not a string: MALFORMED', () => {
    const frame = tamper(sampleOf('heartbeat'), (_env, body) => {
      body['round'] = new Raw(mp(new Pairs([[1, 2]])));
    });
    expect(expectRejected(frame, 'MALFORMED', null).message).toMatch(/keys must be strings/);
  });

  it('a map of more than 16 keys: MALFORMED', () => {
    const frame = tamper(sampleOf('heartbeat'), (env) => {
      for (let i = 0; i < 11; i++) env[`x${i}`] = i;
    });
    expectRejected(frame, 'MALFORMED', null);
  });

  it('nesting deeper than 8, and 100,000 deep: MALFORMED, no stack overflow', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 8; i++) nested = [nested];
    const frame = tamper(sampleOf('heartbeat'), (_env, body) => {
      body['round'] = nested;
    });
    expect(expectRejected(frame, 'MALFORMED', null).message).toMatch(/deeper/);
    const deep = new Uint8Array(100_001).fill(0x91);
    deep[100_000] = 0x01;
    expectRejected(deep, 'MALFORMED', null);
  });

  it.each<[string, number[]]>([
    ['a stray continuation byte', [0x80]],
    ['0xff', [0xff]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['a surrogate half (WTF-8)', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
  ])('a string that is not UTF-8 (%s): MALFORMED', (_name, bytes) => {
    const str = new Raw(concat([Uint8Array.of(0xa0 | (bytes.length + 1), 0x6e), Uint8Array.from(bytes)]));
    const frame = tamper(sampleOf('heartbeat'), (env) => {
      env['cluster'] = str;
    });
    expect(expectRejected(frame, 'MALFORMED', null).message).toMatch(/UTF-8/);
  });

  it('a "__proto__" key cannot reach a prototype: an unexpected field', () => {
    const m = sampleOf('heartbeat');
    const body = new Pairs([...Object.entries(m), ['__proto__', { polluted: true }]]);
    const frame = mp(new Pairs([...Object.entries(wireOf(m)).filter(([k]) => k !== 'body'), ['body', body]]));
    expectRejected(frame, 'INVALID_MESSAGE', 'body');
    expect(({} as Mut)['polluted']).toBeUndefined();
  });
});

describe('hostile input: the envelope', () => {
  const m = sampleOf('heartbeat');

  it.each<[string, unknown]>([
    ['an array', [1, 'raft']],
    ['a string', 'raft'],
    ['an integer', 1],
    ['nil', null],
    ['bytes', new Uint8Array(4)],
  ])('a frame that is %s, not a map: MALFORMED', (_name, value) => {
    expectRejected(mp(value), 'MALFORMED', 'frame');
  });

  it('the version is checked first: missing or not an integer is MALFORMED, another integer BAD_VERSION', () => {
    expectRejected(tamper(m, (env) => delete env['v']), 'MALFORMED', 'v');
    expectRejected(tamper(m, (env) => (env['v'] = '1')), 'MALFORMED', 'v');
    expectRejected(tamper(m, (env) => (env['v'] = 1.5)), 'MALFORMED', 'v');
    expectRejected(tamper(m, (env) => (env['v'] = 2)), 'BAD_VERSION', 'v');
    expectRejected(tamper(m, (env) => (env['v'] = 0)), 'BAD_VERSION', 'v');
    // A future version may change every other field: still BAD_VERSION, not MALFORMED.
    expectRejected(mp({ v: 2, anything: ['else'] }), 'BAD_VERSION', 'v');
  });

  it('a field missing or extra: MALFORMED', () => {
    for (const key of ['family', 'cluster', 'from', 'to', 'body']) {
      expectRejected(
        tamper(m, (env) => delete env[key]),
        'MALFORMED',
        key,
      );
    }
    expectRejected(
      tamper(m, (env) => (env['seq'] = 1)),
      'MALFORMED',
      'frame',
    );
  });

  it('a family not in protocol v1: MALFORMED; one not implemented yet: UNSUPPORTED_FAMILY', () => {
    expectRejected(tamper(m, (env) => (env['family'] = 'xyz')), 'MALFORMED', 'family');
    expectRejected(tamper(m, (env) => (env['family'] = 1)), 'MALFORMED', 'family');
    for (const family of ['gossip', 'bft', 'client']) {
      expectRejected(tamper(m, (env) => (env['family'] = family)), 'UNSUPPORTED_FAMILY', 'family');
    }
  });

  it.each<[string, unknown]>([
    ['empty', ''],
    ['longer than 128 characters', 'c'.repeat(129)],
    ['129 astral characters', '😀'.repeat(129)],
    ['not a string', 7],
    ['nil', null],
    ['with a newline', 'a\nb'],
    ['with NUL', 'a\u0000b'],
    ['with a C1 control', 'a\u0085b'],
    ['with a bidi override', 'a\u202eb'],
    ['with a byte order mark', '\ufeffa'],
  ])('a cluster name %s: MALFORMED', (_name, value) => {
    expectRejected(tamper(m, (env) => (env['cluster'] = value)), 'MALFORMED', 'cluster');
  });

  it('accepts names at the limits: 128 bytes of UTF-8 and 128 characters, astral ones counted once', () => {
    for (const name of ['c'.repeat(128), '😀'.repeat(32), 'nœud-ß 東京']) {
      const frame = encodeFrame({ ...raftEnvelope(name, m) });
      expect(decodeFrame(frame, { cluster: name, self: 'n2' }).ok).toBe(true);
    }
    // 32 astral characters are 128 bytes but 32 characters.
    const limits = resolveCodecLimits({ clusterCharsMax: 32 });
    expect(decodeFrame(encodeFrame(raftEnvelope('😀'.repeat(32), m), { limits }), { cluster: '😀'.repeat(32), self: 'n2' }, { limits }).ok).toBe(true);
    // One byte more than clusterBytesMax, in fewer than 128 characters.
    expectRejected(tamper(m, (env) => (env['cluster'] = `${'😀'.repeat(32)}c`)), 'MALFORMED', 'cluster');
  });

  it('a sender or recipient id that is not a printable name, or a frame to oneself: MALFORMED', () => {
    expectRejected(tamper(m, (env) => (env['from'] = '')), 'MALFORMED', 'from');
    expectRejected(tamper(m, (env) => (env['from'] = 'n'.repeat(129))), 'MALFORMED', 'from');
    expectRejected(tamper(m, (env) => (env['to'] = 5)), 'MALFORMED', 'to');
    expectRejected(tamper(m, (env) => (env['to'] = 'n2\u0007')), 'MALFORMED', 'to');
    expectRejected(tamper(m, (env) => (env['from'] = 'n2')), 'MALFORMED', 'to');
  });

  it('a frame for another cluster: WRONG_CLUSTER (checked before the recipient)', () => {
    const frame = frameOf(m);
    const result = decodeFrame(frame, { cluster: 'other', self: 'n2' });
    expect(result.ok || result.error.code).toBe('WRONG_CLUSTER');
    expect(result.ok || result.error.field).toBe('cluster');
    const both = decodeFrame(frame, { cluster: 'other', self: 'n9' });
    expect(both.ok || both.error.code).toBe('WRONG_CLUSTER');
  });

  it('a frame for another node: WRONG_RECIPIENT', () => {
    expectRejected(frameOf(m), 'WRONG_RECIPIENT', 'to', 'n3');
  });

  it('a frame above frameBytesMax: FRAME_TOO_LARGE, before any parsing', () => {
    expectRejected(new Uint8Array(codecLimitsDefault.frameBytesMax + 1), 'FRAME_TOO_LARGE', null);
    const frame = frameOf(sampleOf('append'));
    const exact = resolveCodecLimits({ frameBytesMax: frame.byteLength });
    expect(decodeAs(frame, 'n2', { limits: exact }).ok).toBe(true);
    const below = resolveCodecLimits({ frameBytesMax: frame.byteLength - 1 });
    expectRejected(frame, 'FRAME_TOO_LARGE', null, 'n2', { limits: below });
  });
});

describe('hostile input: the Raft body', () => {
  it('a body that is not a map, has no type, or a type that is not a string: INVALID_MESSAGE', () => {
    const m = sampleOf('heartbeat');
    expectRejected(tamper(m, (env) => (env['body'] = [1])), 'INVALID_MESSAGE', 'body');
    expectRejected(tamper(m, (env) => (env['body'] = null)), 'INVALID_MESSAGE', 'body');
    expectRejected(tamper(m, (_env, body) => delete body['type']), 'INVALID_MESSAGE', 'body.type');
    expectRejected(tamper(m, (_env, body) => (body['type'] = 3)), 'INVALID_MESSAGE', 'body.type');
  });

  it('a type this node does not know: UNKNOWN_TYPE', () => {
    const m = sampleOf('heartbeat');
    for (const type of ['install-snapshot', 'Heartbeat', '', 'x'.repeat(1000)]) {
      expectRejected(tamper(m, (_env, body) => (body['type'] = type)), 'UNKNOWN_TYPE', 'body.type');
    }
  });

  it('every field of every message type, missing: INVALID_MESSAGE naming it', () => {
    let checked = 0;
    for (const m of samples) {
      for (const key of Object.keys(m).filter((k) => k !== 'type')) {
        expectRejected(tamper(m, (_env, body) => delete body[key]), 'INVALID_MESSAGE', `body.${key}`, m.to);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('an extra field in any message: INVALID_MESSAGE', () => {
    for (const m of samples) {
      expectRejected(tamper(m, (_env, body) => (body['extra'] = 1)), 'INVALID_MESSAGE', 'body', m.to);
    }
  });

  const notAnInteger = ['3', 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300, null, true, [], {}, new Uint8Array(1)];
  const notABoolean = [0, 1, 'true', null, [], new Uint8Array(0)];
  const notAName = [5, '', null, 'n'.repeat(129), 'a\u0000b', [], new Uint8Array(2)];
  const notBytes = ['abc', [1, 2], null, 5, {}];

  /** Values that break each field (some need the message: a term may not exceed the message's). */
  function badValues(m: Message, key: string): readonly unknown[] {
    switch (key) {
      case 'from':
      case 'to':
      case 'transferee':
      case 'node':
        return notAName;
      case 'reject':
      case 'transfer':
      case 'lease':
      case 'done':
        return notABoolean;
      case 'term':
        return [...notAnInteger, -1, m.term === 0 ? 1 : 0];
      case 'requestId':
        return notAnInteger; // any safe integer is a request id, negatives too
      case 'prevTerm':
      case 'hintTerm':
      case 'lastTerm':
        return [...notAnInteger, -1, m.term + 1];
      case 'index':
        return [...notAnInteger, m.type === 'read-index-response' ? -2 : -1];
      case 'data':
        return m.type === 'propose' ? [...notBytes.filter((v) => !Array.isArray(v)), [5], ['abc']] : notBytes;
      case 'entries':
        return [null, 5, 'x', {}, [5], [null]];
      case 'meta':
        return [null, 5, [], {}];
      default:
        return [...notAnInteger, -1];
    }
  }

  it('every field of every message type, with values of the wrong type or range: INVALID_MESSAGE naming it', () => {
    let checked = 0;
    for (const m of samples) {
      for (const key of Object.keys(m).filter((k) => k !== 'type')) {
        for (const bad of badValues(m, key)) {
          const frame = tamper(m, (_env, body) => (body[key] = bad));
          expectRejected(frame, 'INVALID_MESSAGE', new RegExp(`^body\\.${key}(\\W|$)`), m.to);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(700);
  });

  it('integers beyond 2^53 - 1 in 64-bit msgpack formats: INVALID_MESSAGE', () => {
    const m = sampleOf('heartbeat');
    const uint64 = new Raw(Uint8Array.of(0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0)); // 2^53
    const int64 = new Raw(Uint8Array.of(0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0)); // -2^53
    const max = new Raw(Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); // 2^64 - 1
    for (const big of [uint64, int64, max]) {
      expectRejected(tamper(m, (_env, body) => (body['commit'] = big)), 'INVALID_MESSAGE', 'body.commit');
    }
    // 2^53 - 1 is a safe integer, but above indexMax (2^48): refused too; 2^48 itself passes.
    const safe = new Raw(Uint8Array.of(0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); // 2^53 - 1
    expectRejected(tamper(m, (_env, body) => (body['commit'] = safe)), 'INVALID_MESSAGE', 'body.commit');
    const ceiling = new Raw(Uint8Array.of(0xcf, 0x00, 0x01, 0, 0, 0, 0, 0, 0)); // 2^48
    expect(decodeAs(tamper(m, (_env, body) => (body['commit'] = ceiling)), 'n2').ok).toBe(true);
  });

  it('term 0 only on forwarded requests and the read answer, and never on them a term', () => {
    for (const m of samples) {
      const wrong = m.term === 0 ? 3 : 0;
      expectRejected(tamper(m, (_env, body) => (body['term'] = wrong)), 'INVALID_MESSAGE', 'body.term', m.to);
    }
  });

  it('a body speaking for another sender or recipient than its envelope: INVALID_MESSAGE', () => {
    const m = sampleOf('vote');
    expectRejected(tamper(m, (_env, body) => (body['from'] = 'n1')), 'INVALID_MESSAGE', 'body.from');
    expectRejected(tamper(m, (env) => (env['from'] = 'n1')), 'INVALID_MESSAGE', 'body.from');
    expectRejected(tamper(m, (_env, body) => (body['to'] = 'n1')), 'INVALID_MESSAGE', 'body.to');
  });
});

describe('hostile input: entries, configurations, snapshot chunks', () => {
  const append = sampleOf('append');
  const entry = (env: Mut, i: number): Mut => at((env['body'] as Mut)['entries'], i);

  it.each<[string, (body: Mut) => void, string]>([
    ['a gap', (b) => (at(b['entries'], 2)['index'] = 14), 'body.entries[2].index'],
    ['an index twice', (b) => (at(b['entries'], 1)['index'] = 11), 'body.entries[1].index'],
    ['entries that do not follow prevIndex', (b) => (b['prevIndex'] = 9), 'body.entries[0].index'],
    ['an entry index of 0', (b) => (at(b['entries'], 0)['index'] = 0), 'body.entries[0].index'],
  ])('non-contiguous entries (%s): INVALID_MESSAGE', (_name, edit, field) => {
    expectRejected(
      tamper(append, (_env, body) => edit(body)),
      'INVALID_MESSAGE',
      field,
    );
  });

  it.each<[string, (body: Mut) => void, string]>([
    ['a term that decreases', (b) => (at(b['entries'], 2)['term'] = 4), 'body.entries[2].term'],
    ['a term below prevTerm', (b) => (b['prevTerm'] = 5), 'body.entries[0].term'],
    ['a term beyond the message term', (b) => (at(b['entries'], 3)['term'] = 6), 'body.entries[3].term'],
    ['a term of 0', (b) => (at(b['entries'], 0)['term'] = 0), 'body.entries[0].term'],
  ])('entry terms out of order (%s): INVALID_MESSAGE', (_name, edit, field) => {
    expectRejected(
      tamper(append, (_env, body) => edit(body)),
      'INVALID_MESSAGE',
      field,
    );
  });

  it('entries of an unknown kind, or with the config field wrong: INVALID_MESSAGE', () => {
    expectRejected(tamper(append, (env) => (entry(env, 0)['kind'] = 'snapshot')), 'INVALID_MESSAGE', 'body.entries[0].kind');
    expectRejected(tamper(append, (env) => delete entry(env, 0)['kind']), 'INVALID_MESSAGE', 'body.entries[0].kind');
    expectRejected(tamper(append, (env) => delete entry(env, 2)['config']), 'INVALID_MESSAGE', 'body.entries[2].config');
    expectRejected(tamper(append, (env) => (entry(env, 0)['config'] = conf)), 'INVALID_MESSAGE', 'body.entries[0]');
    expectRejected(tamper(append, (env) => (entry(env, 1)['data'] = 'x')), 'INVALID_MESSAGE', 'body.entries[1].data');
    expectRejected(tamper(append, (env) => (entry(env, 1)['extra'] = 1)), 'INVALID_MESSAGE', 'body.entries[1]');
  });

  it.each<[string, unknown, string]>([
    ['not a map', ['n1'], 'body.entries[2].config'],
    ['without learners', { voters: ['n1'] }, 'body.entries[2].config.learners'],
    ['with an extra field', { voters: ['n1'], learners: [], witnesses: [] }, 'body.entries[2].config'],
    ['voters not an array', { voters: 'n1', learners: [] }, 'body.entries[2].config.voters'],
    ['a member that is not a name', { voters: ['n1', 7], learners: [] }, 'body.entries[2].config.voters[1]'],
    ['unsorted voters', { voters: ['n2', 'n1'], learners: [] }, 'body.entries[2].config.voters[1]'],
    ['a voter twice', { voters: ['n1', 'n1'], learners: [] }, 'body.entries[2].config.voters[1]'],
    ['unsorted learners', { voters: ['n1'], learners: ['n5', 'n4'] }, 'body.entries[2].config.learners[1]'],
    ['a voter who is also a learner', { voters: ['n1', 'n2'], learners: ['n2'] }, 'body.entries[2].config.learners[0]'],
  ])('a config entry with a configuration %s: INVALID_MESSAGE', (_name, config, field) => {
    expectRejected(
      tamper(append, (env) => (entry(env, 2)['config'] = config)),
      'INVALID_MESSAGE',
      field,
    );
  });

  it('more members than confMembersMax, more entries than entriesPerFrameMax: INVALID_MESSAGE; at the limit: accepted', () => {
    const frame = frameOf(append);
    const tight = resolveCodecLimits({ entriesPerFrameMax: 4, confMembersMax: 4 });
    expect(decodeAs(frame, 'n2', { limits: tight }).ok).toBe(true);
    expectRejected(frame, 'INVALID_MESSAGE', 'body.entries', 'n2', { limits: resolveCodecLimits({ entriesPerFrameMax: 3 }) });
    expectRejected(frame, 'INVALID_MESSAGE', 'body.entries[2].config', 'n2', { limits: resolveCodecLimits({ confMembersMax: 3 }) });
    const propose = frameOf(sampleOf('propose'));
    expectRejected(propose, 'INVALID_MESSAGE', 'body.data', 'n1', { limits: resolveCodecLimits({ entriesPerFrameMax: 2 }) });
  });

  it('a node id longer than idCharsMax in the body: INVALID_MESSAGE; in the envelope: MALFORMED', () => {
    const limits = resolveCodecLimits({ idCharsMax: 2 });
    const longIds = tamper(sampleOf('transfer-leader'), (_env, body) => (body['transferee'] = 'n33'));
    expectRejected(longIds, 'INVALID_MESSAGE', 'body.transferee', 'n1', { limits });
    expect(decodeAs(frameOf(sampleOf('heartbeat')), 'n2', { limits }).ok).toBe(true);
    const longFrom = tamper(sampleOf('heartbeat'), (env, body) => (env['from'] = body['from'] = 'n11'));
    expectRejected(longFrom, 'MALFORMED', 'from', 'n2', { limits });
    const longMember = tamper(sampleOf('append'), (env) => (entry(env, 2)['config'] = { voters: ['n1', 'n333'], learners: [] }));
    expectRejected(longMember, 'INVALID_MESSAGE', 'body.entries[2].config.voters[1]', 'n2', { limits: resolveCodecLimits({ idCharsMax: 3 }) });
  });

  const snapshot = sampleOf('snapshot');

  it('a snapshot chunk beyond snapshotChunkBytesMax or ending beyond snapshotBytesMax: INVALID_MESSAGE', () => {
    const frame = frameOf(snapshot);
    expect(decodeAs(frame, 'n4', { limits: resolveCodecLimits({ snapshotChunkBytesMax: 256 }) }).ok).toBe(true);
    expectRejected(frame, 'INVALID_MESSAGE', 'body.data', 'n4', { limits: resolveCodecLimits({ snapshotChunkBytesMax: 255 }) });
    expect(decodeAs(frame, 'n4', { limits: resolveCodecLimits({ snapshotBytesMax: 65_792 }) }).ok).toBe(true);
    expectRejected(frame, 'INVALID_MESSAGE', 'body.offset', 'n4', { limits: resolveCodecLimits({ snapshotBytesMax: 65_791 }) });
    const response = frameOf(sampleOf('snapshot-response'));
    expectRejected(response, 'INVALID_MESSAGE', 'body.received', 'n1', { limits: resolveCodecLimits({ snapshotBytesMax: 1000 }) });
  });

  it.each<[string, (meta: Mut) => void, string]>([
    ['index 0', (meta) => (meta['index'] = 0), 'body.meta.index'],
    ['term 0', (meta) => (meta['term'] = 0), 'body.meta.term'],
    ['a term beyond the message term', (meta) => (meta['term'] = 6), 'body.meta.term'],
    ['no configuration', (meta) => delete meta['config'], 'body.meta.config'],
    ['an unsorted configuration', (meta) => (meta['config'] = { voters: ['n3', 'n1'], learners: [] }), 'body.meta.config.voters[1]'],
    ['an extra field', (meta) => (meta['size'] = 10), 'body.meta'],
  ])('snapshot metadata with %s: INVALID_MESSAGE', (_name, edit, field) => {
    expectRejected(
      tamper(snapshot, (_env, body) => edit(body['meta'] as Mut)),
      'INVALID_MESSAGE',
      field,
      'n4',
    );
  });
});

// ---- encoding ---------------------------------------------------------------------------------

describe('encoding checks our own frames by the receiver rules', () => {
  it('refuses, with the code a receiver would give, what a peer would drop', () => {
    const heartbeat = sampleOf('heartbeat');
    const cases: [Envelope, CodecErrorCode, string][] = [
      [{ ...raftEnvelope(cluster, heartbeat), from: 'n9' }, 'INVALID_MESSAGE', 'body.from'],
      [raftEnvelope('', heartbeat), 'MALFORMED', 'cluster'],
      [raftEnvelope(cluster, { ...heartbeat, term: 1.5 }), 'INVALID_MESSAGE', 'body.term'],
      [raftEnvelope(cluster, { ...heartbeat, extra: 1 } as unknown as Message), 'INVALID_MESSAGE', 'body'],
      [raftEnvelope(cluster, { ...sampleOf('propose'), term: 2 }), 'INVALID_MESSAGE', 'body.term'],
      [{ ...raftEnvelope(cluster, heartbeat), family: 'gossip' } as unknown as Envelope, 'UNSUPPORTED_FAMILY', 'family'],
    ];
    const append = sampleOf('append') as Extract<Message, { type: 'append' }>;
    const gap = { ...append, entries: [append.entries[0] as Entry, append.entries[2] as Entry] };
    cases.push([raftEnvelope(cluster, gap), 'INVALID_MESSAGE', 'body.entries[1].index']);
    for (const [envelope, code, field] of cases) {
      const result = tryEncodeFrame(envelope);
      expect(result.ok || { code: result.error.code, field: result.error.field }).toEqual({ code, field });
      expect(() => encodeFrame(envelope)).toThrow(CodecError);
    }
  });

  it('refuses a frame above frameBytesMax: FRAME_TOO_LARGE', () => {
    const m = sampleOf('snapshot');
    const size = frameOf(m).byteLength;
    expect(tryEncodeFrame(raftEnvelope(cluster, m), { limits: resolveCodecLimits({ frameBytesMax: size }) }).ok).toBe(true);
    const result = tryEncodeFrame(raftEnvelope(cluster, m), { limits: resolveCodecLimits({ frameBytesMax: size - 1 }) });
    expect(result.ok || result.error.code).toBe('FRAME_TOO_LARGE');
  });

  it('resolveCodecLimits refuses limits that are not positive integers', () => {
    expect(resolveCodecLimits()).toEqual(codecLimitsDefault);
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => resolveCodecLimits({ idCharsMax: bad })).toThrow(/idCharsMax/);
    }
  });
});

// ---- fuzz -------------------------------------------------------------------------------------

/** Checks written apart from the codec's validators: what "well formed" means to the core. */
function assertWellFormed(env: Envelope, self: string, frame: Uint8Array): void {
  expect(env.v).toBe(1);
  expect(env.family).toBe('raft');
  expect(env.cluster).toBe(cluster);
  expect(env.to).toBe(self);
  expect(env.from).not.toBe(self);
  const m = env.body;
  expect(m.from).toBe(env.from);
  expect(m.to).toBe(env.to);
  expect(messageTypes).toContain(m.type);
  const forwarded = m.type === 'propose' || m.type === 'read-index' || m.type === 'read-index-response' || m.type === 'transfer-leader' || m.type === 'join';
  expect(forwarded ? m.term === 0 : m.term >= 1).toBe(true);
  if (m.type === 'append') {
    m.entries.forEach((e, i) => {
      expect(e.index).toBe(m.prevIndex + 1 + i);
      expect(e.term).toBeLessThanOrEqual(m.term);
      expect(e.term).toBeGreaterThanOrEqual(i === 0 ? m.prevTerm : (m.entries[i - 1] as Entry).term);
      expect(e.kind === 'config').toBe(e.config !== undefined);
    });
  }
  // Every value is plain: safe integers, booleans, strings, fresh bytes, plain objects and arrays.
  const walk = (v: unknown): void => {
    if (typeof v === 'number') expect(Number.isSafeInteger(v)).toBe(true);
    else if (typeof v === 'string' || typeof v === 'boolean') return;
    else if (v instanceof Uint8Array) {
      expect(Object.getPrototypeOf(v)).toBe(Uint8Array.prototype);
      expect(v.buffer).not.toBe(frame.buffer);
    } else if (Array.isArray(v)) v.forEach(walk);
    else {
      expect(isPlainObject(v)).toBe(true);
      Object.values(v as Mut).forEach(walk);
    }
  };
  walk(env);
  // What was accepted can be sent on unchanged.
  const again = tryEncodeFrame(env);
  if (!again.ok) throw again.error;
}

const interestingBytes = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

function mutateBytes(prng: Prng, frame: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  let out: Uint8Array = frame.slice();
  const ops = 1 + prng.nextInt(3);
  for (let op = 0; op < ops; op++) {
    const n = out.byteLength;
    const pos = n === 0 ? 0 : prng.nextInt(n);
    switch (prng.nextInt(7)) {
      case 0: // flip bits
        if (n > 0) out[pos] = (out[pos] as number) ^ (1 << prng.nextInt(8));
        break;
      case 1: // overwrite with a msgpack-meaningful byte
        if (n > 0) out[pos] = interestingBytes[prng.nextInt(interestingBytes.length)] as number;
        break;
      case 2: // overwrite with a random byte
        if (n > 0) out[pos] = prng.nextInt(256);
        break;
      case 3: // truncate
        out = out.slice(0, pos);
        break;
      case 4: {
        // insert random bytes
        const extra = Uint8Array.from({ length: 1 + prng.nextInt(8) }, () => prng.nextInt(256));
        out = concat([out.subarray(0, pos), extra, out.subarray(pos)]);
        break;
      }
      case 5: {
        // delete a range
        const end = Math.min(n, pos + 1 + prng.nextInt(16));
        out = concat([out.subarray(0, pos), out.subarray(end)]);
        break;
      }
      default: {
        // splice in a slice of another valid frame
        const other = others[prng.nextInt(others.length)] as Uint8Array;
        const from = prng.nextInt(other.byteLength);
        const piece = other.subarray(from, Math.min(other.byteLength, from + 1 + prng.nextInt(32)));
        const end = Math.min(n, pos + prng.nextInt(32));
        out = concat([out.subarray(0, pos), piece, out.subarray(end)]);
      }
    }
  }
  return out;
}

function randomValue(prng: Prng, depth = 0): unknown {
  const ints = [0, 1, -1, 2, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, -(2 ** 53)];
  switch (prng.nextInt(depth > 1 ? 8 : 10)) {
    case 0:
      return ints[prng.nextInt(ints.length)];
    case 1:
      return prng.nextInt(1000);
    case 2:
      return [0.5, NaN, Infinity, -0, 1e21][prng.nextInt(5)];
    case 3:
      return ['', 'n1', 'n2', 'n3', 'normal', 'config', 'append', 'x'.repeat(129), '\u0000'][prng.nextInt(9)];
    case 4:
      return prng.nextInt(2) === 0;
    case 5:
      return null;
    case 6:
      return Uint8Array.from({ length: prng.nextInt(5) }, () => prng.nextInt(256));
    case 7:
      return prng.nextInt(2) === 0 ? { voters: ['n1'], learners: [] } : { index: 1, term: 1, kind: 'empty', data: empty };
    case 8:
      return Array.from({ length: prng.nextInt(3) }, () => randomValue(prng, depth + 1));
    default:
      return { [['index', 'term', 'x'][prng.nextInt(3)] as string]: randomValue(prng, depth + 1) };
  }
}

/** Replace, delete or add one value somewhere in the decoded frame, most often in its body. */
function mutateValue(prng: Prng, env: Mut): void {
  let node: unknown = prng.nextInt(10) === 0 ? env : env['body'];
  for (let depth = 0; depth < 6; depth++) {
    const keys = Array.isArray(node) ? node.map((_, i) => i) : isPlainObject(node) ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const key = keys[prng.nextInt(keys.length)] as string | number;
    const child: unknown = (node as Record<string | number, unknown>)[key];
    const descend = (Array.isArray(child) || isPlainObject(child)) && prng.nextInt(4) !== 0;
    if (descend) {
      node = child;
      continue;
    }
    const target = node as Record<string | number, unknown>;
    const op = prng.nextInt(6);
    if (op === 0 && !Array.isArray(node)) delete target[key];
    else if (op === 1 && !Array.isArray(node)) target[`k${prng.nextInt(3)}`] = randomValue(prng);
    else if (op === 2 && typeof child === 'number') target[key] = child + [1, -1][prng.nextInt(2)]!;
    else target[key] = randomValue(prng);
    return;
  }
}

describe('fuzz', () => {
  const frames = samples.map((m) => frameOf(m));

  it('20,000 byte mutations of valid frames: decodeFrame never throws; what it accepts is well formed', () => {
    const prng = createPrng(0xc0dec);
    const metrics = createCodecMetrics();
    const outcomes = new Map<string, number>();
    const iterations = 20_000;
    for (let i = 0; i < iterations; i++) {
      const k = prng.nextInt(samples.length);
      const m = samples[k] as Message;
      const mutated = mutateBytes(prng, frames[k] as Uint8Array, frames);
      const result = decodeFrame(mutated, { cluster, self: m.to }, { metrics });
      if (result.ok) assertWellFormed(result.value, m.to, mutated);
      else {
        expect(result.error).toBeInstanceOf(CodecError);
        expect(codecErrorCodes).toContain(result.error.code);
        expect(result.error.message.length).toBeGreaterThan(0);
      }
      const key = result.ok ? 'accepted' : result.error.code;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.log('byte fuzz outcomes:', Object.fromEntries(outcomes));
    expect(metrics.framesDecoded + metrics.framesDropped).toBe(iterations);
    expect(Object.values(metrics.droppedByCode).reduce((a, b) => a + b, 0)).toBe(metrics.framesDropped);
    // The mutations reach past the msgpack layer: some frames survive, some reach the validators.
    expect(outcomes.get('accepted') ?? 0).toBeGreaterThan(100);
    expect(outcomes.get('INVALID_MESSAGE') ?? 0).toBeGreaterThan(100);
  });

  it('10,000 mutations of decoded values, re-encoded as msgpack: never throws; what it accepts is well formed', () => {
    const prng = createPrng(0xbad5eed);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const m = samples[prng.nextInt(samples.length)] as Message;
      const env = wireOf(m);
      const edits = 1 + prng.nextInt(2);
      for (let e = 0; e < edits; e++) mutateValue(prng, env);
      const frame = mp(env);
      const result = decodeFrame(frame, { cluster, self: m.to });
      if (result.ok) assertWellFormed(result.value, m.to, frame);
      else expect(codecErrorCodes).toContain(result.error.code);
      const key = result.ok ? 'accepted' : result.error.code;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.log('value fuzz outcomes:', Object.fromEntries(outcomes));
    expect(outcomes.get('INVALID_MESSAGE') ?? 0).toBeGreaterThan(1000);
    expect(outcomes.get('accepted') ?? 0).toBeGreaterThan(100);
  });

  it('a valid frame still decodes after the decoder has seen garbage (no state left behind)', () => {
    const prng = createPrng(7);
    for (let i = 0; i < 200; i++) {
      decodeFrame(Uint8Array.from({ length: prng.nextInt(64) }, () => prng.nextInt(256)), { cluster, self: 'n2' });
      const result = decodeAs(frames[0] as Uint8Array, 'n2');
      expect(result.ok).toBe(true);
    }
  });
});

// ---- metrics and performance ------------------------------------------------------------------

describe('metrics', () => {
  it('counts frames decoded and frames dropped by code', () => {
    const metrics = createCodecMetrics();
    const heartbeat = frameOf(sampleOf('heartbeat'));
    for (let i = 0; i < 3; i++) decodeAs(heartbeat, 'n2', { metrics });
    decodeAs(Uint8Array.of(0xc1), 'n2', { metrics });
    decodeAs(new Uint8Array(0), 'n2', { metrics });
    decodeFrame(heartbeat, { cluster: 'other', self: 'n2' }, { metrics });
    decodeAs(heartbeat, 'n3', { metrics });
    decodeAs(heartbeat, 'n2'); // no metrics passed: not counted
    expect(metrics.framesDecoded).toBe(3);
    expect(metrics.framesDropped).toBe(4);
    expect(metrics.droppedByCode).toEqual({
      FRAME_TOO_LARGE: 0,
      MALFORMED: 2,
      TOO_MANY_VALUES: 0,
      BAD_VERSION: 0,
      WRONG_CLUSTER: 1,
      WRONG_RECIPIENT: 1,
      UNSUPPORTED_FAMILY: 0,
      UNKNOWN_TYPE: 0,
      INVALID_MESSAGE: 0,
    });
  });
});

describe('performance (logged, never asserted)', () => {
  it('encode + decode of an append with 256 small entries', () => {
    const entries: Entry[] = Array.from({ length: 256 }, (_, i) => ({
      index: 1001 + i,
      term: 7,
      kind: 'normal',
      data: Uint8Array.from({ length: 32 }, (_, j) => (i + j) & 0xff),
    }));
    const m: Message = { type: 'append', from: 'n1', to: 'n2', term: 7, prevIndex: 1000, prevTerm: 7, commit: 1000, entries };
    const envelope = raftEnvelope(cluster, m);
    const run = (n: number): number => {
      const start = performance.now();
      for (let i = 0; i < n; i++) {
        const result = decodeAs(encodeFrame(envelope), 'n2');
        if (!result.ok) throw result.error;
      }
      return (performance.now() - start) / n;
    };
    run(50); // warm up
    const ms = run(300);
    const size = encodeFrame(envelope).byteLength;
    console.log(`append of 256 entries x 32 bytes: ${size} bytes, encode + decode ${(ms * 1000).toFixed(0)} us (${((256 / ms) * 1000).toFixed(0)} entries/s)`);
  });
});
