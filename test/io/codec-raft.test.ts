/**
 * What this proves about the `raft` family's body codec (src/io/codec-raft.ts) inside a v2
 * envelope, and the limits every peer-controlled quantity is held to (docs/protocol.md §5, §7):
 *
 * - Every Raft message type of the core goes through encodeRaftBody -> envelope (unauthenticated
 *   and sealed) -> decodeEnvelope -> decodeFamilyBody and comes back unchanged, as a fresh object
 *   sharing no memory with the frame; families without a codec are UNSUPPORTED_FAMILY, and a
 *   Raft body under the `gossip` family is refused by the gossip codec, not taken as Raft.
 * - A body whose `from` or `to` differs from its envelope's is refused (INVALID_MESSAGE): a peer
 *   must not speak for another.
 * - The term ceiling: a term of 2^53 - 1 (which used to stop nodes at their next election) and
 *   `termMax + 1` are refused in every term field, `indexMax + 1` in every index field, and
 *   the ceilings themselves pass; our own encoder refuses them too.
 * - The other bounds: entry data and proposed commands above `entryDataBytesMax`, proposals
 *   above `entriesPerFrameMax`, ids above `nodeIdBytesMax`; a full append at `entriesPerFrameMax`
 *   passes with the default `valuesPerFrameMax`, which `resolveCodecLimits` keeps above the floor.
 * - The pre-scan: a 4 MiB frame of empty maps (and nested variants, nils, empty strings, empty
 *   bins) is refused as TOO_MANY_VALUES before msgpackr builds anything; nesting past
 *   `msgpackDepthMax` and declared lengths beyond the bytes left are MALFORMED. The time and heap
 *   the 4 MiB frame costs are logged, never asserted.
 *
 * Runs on msgpackr's pure-JS path, which browsers take (as the other codec-*.test.ts files do).
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import { Packr } from 'msgpackr';
import { ConfigError } from '../../src/core/raft/errors.ts';
import { messageTypes, type Message } from '../../src/core/raft/messages.ts';
import type { ConfState, Entry } from '../../src/core/raft/types.ts';
import { CodecError, type CodecErrorCode } from '../../src/io/codec-error.ts';
import { codecLimitsDefault, indexMax, resolveCodecLimits, termMax, valuesPerFrameFloor, type CodecLimits } from '../../src/io/codec-limits.ts';
import { checkMsgpackProfile, msgpackDepthMax } from '../../src/io/codec-profile.ts';
import { decodeRaftBody, encodeRaftBody, tryEncodeRaftBody } from '../../src/io/codec-raft.ts';
import { authTagBytes, decodeEnvelope, encodeEnvelope, protocolFamilies, sealEnvelope, type ProtocolFamily } from '../../src/io/envelope.ts';
import { createFamilyCodecs, decodeFamilyBody, type FamilyBody } from '../../src/io/family-codecs.ts';

// ---- samples: every message type ---------------------------------------------------------------

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
    ],
  },
  { type: 'append-response', from: 'n2', to: 'n1', term: 5, index: 10, reject: true, hintIndex: 7, hintTerm: 3 },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 5, commit: 14, round: 9 },
  { type: 'heartbeat-response', from: 'n2', to: 'n1', term: 5, round: 9 },
  { type: 'vote', from: 'n3', to: 'n2', term: 6, lastIndex: 14, lastTerm: 5, transfer: true },
  { type: 'pre-vote', from: 'n3', to: 'n2', term: 7, lastIndex: 14, lastTerm: 5, transfer: false },
  { type: 'vote-response', from: 'n2', to: 'n3', term: 6, reject: false },
  { type: 'pre-vote-response', from: 'n2', to: 'n3', term: 7, reject: true },
  { type: 'timeout-now', from: 'n1', to: 'n3', term: 5 },
  { type: 'propose', from: 'n2', to: 'n1', term: 0, data: [allBytes, empty] },
  { type: 'read-index', from: 'n2', to: 'n1', term: 0, requestId: -7, lease: true },
  { type: 'read-index-response', from: 'n1', to: 'n2', term: 0, requestId: Number.MAX_SAFE_INTEGER, index: -1 },
  { type: 'transfer-leader', from: 'n2', to: 'n1', term: 0, transferee: 'n3' },
  { type: 'join', from: 'n2', to: 'n1', term: 0, node: 'tab-x7' },
  { type: 'snapshot', from: 'n1', to: 'n4', term: 5, meta: { index: 100, term: 4, config: conf }, offset: 65_536, data: allBytes, done: false, commit: 100 },
  { type: 'snapshot-response', from: 'n4', to: 'n1', term: 5, index: 100, received: 65_792, done: true },
];

const sampleOf = <T extends Message['type']>(type: T): Extract<Message, { type: T }> => samples.find((m) => m.type === type) as Extract<Message, { type: T }>;

const codecs = createFamilyCodecs();
const fakeTag = (bytes: Uint8Array): Uint8Array => Uint8Array.from({ length: authTagBytes }, (_, i) => (bytes.byteLength + i) & 0xff);

/** A v2 frame around raw body bytes, routed as `m` is (or as given). */
function frameAround(body: Uint8Array, from = 'n1', to = 'n2', family: ProtocolFamily = 'raft'): Uint8Array {
  return encodeEnvelope({ family, cluster, from, to, seq: 0 }, body);
}

/** Envelope, then the family's body codec: what a receiver does (minus the tag check). */
function receive(frame: Uint8Array, self: string, limits: CodecLimits = codecLimitsDefault): ReturnType<typeof decodeFamilyBody> {
  const envelope = decodeEnvelope(frame, limits, { cluster, self });
  if (!envelope.ok) return envelope;
  return decodeFamilyBody(limits === codecLimitsDefault ? codecs : createFamilyCodecs(limits), envelope.value);
}

function expectRefused(frame: Uint8Array, self: string, code: CodecErrorCode, field: string | null, limits?: CodecLimits): CodecError {
  const result = receive(frame, self, limits);
  if (result.ok) throw new Error(`expected ${code} at ${String(field)}, but the frame was accepted`);
  expect(result.error).toBeInstanceOf(CodecError);
  expect(result.error.code, result.error.message).toBe(code);
  expect(result.error.field, result.error.message).toBe(field);
  return result.error;
}

/** A body of whatever `value` is, as plain msgpack (no validation: for hostile bodies). */
const rawPackr = new Packr({ useRecords: false, variableMapSize: true });
const mp = (value: unknown): Uint8Array => new Uint8Array(rawPackr.pack(value));

/** `m` as a frame, with `edit` applied to its fields first (no validation). */
function tampered(m: Message, edit: (body: Record<string, unknown>) => void): Uint8Array {
  const body = structuredClone(m) as unknown as Record<string, unknown>;
  edit(body);
  return frameAround(mp(body), m.from, m.to);
}

// ---- round trips -----------------------------------------------------------------------------

describe('round trips through envelope and body codec', () => {
  it('the samples cover every message type of the core', () => {
    expect(new Set(samples.map((m) => m.type))).toEqual(new Set(messageTypes));
  });

  it.each(samples.map((m) => [m.type, m] as const))('%s, unauthenticated and sealed, comes back unchanged and fresh', (_type, m) => {
    const body = encodeRaftBody(m);
    for (const frame of [frameAround(body, m.from, m.to), sealEnvelope({ family: 'raft', cluster, from: m.from, to: m.to, seq: 9 }, body, fakeTag)]) {
      const result = receive(frame, m.to);
      if (!result.ok) throw result.error;
      expect(result.value.family).toBe('raft');
      expect(result.value.message).toStrictEqual(m);
      const walk = (v: unknown): void => {
        if (v instanceof Uint8Array) expect(v.buffer).not.toBe(frame.buffer);
        else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
      };
      walk(result.value.message);
    }
  });

  it('the example frame of docs/protocol-example.md (protocol.md §11), byte for byte', () => {
    const m: Message = { type: 'heartbeat', from: 'n1', to: 'n2', term: 2, commit: 1, round: 3 };
    const frame = encodeEnvelope({ family: 'raft', cluster: 'c', from: 'n1', to: 'n2', seq: 0 }, encodeRaftBody(m));
    const hex = [
      '02 01 00 01 63 02 6e 31 02 6e 32 00 00 00 00 00 00 00 00 00 00 00 33',
      '86 a4 74 79 70 65 a9 68 65 61 72 74 62 65 61 74 a4 66 72 6f 6d a2 6e 31 a2 74 6f a2 6e 32',
      'a4 74 65 72 6d 02 a6 63 6f 6d 6d 69 74 01 a5 72 6f 75 6e 64 03 00',
    ].join(' ');
    expect(Array.from(frame, (b) => b.toString(16).padStart(2, '0')).join(' ')).toBe(hex);
    expect(frame.byteLength).toBe(75);
    const envelope = decodeEnvelope(frame, codecLimitsDefault, { cluster: 'c', self: 'n2' });
    expect(envelope.ok && envelope.value.authenticated.byteLength).toBe(74);
    const wrong = decodeEnvelope(frame, codecLimitsDefault, { cluster: 'c', self: 'n3' });
    expect(wrong.ok || wrong.error.code).toBe('WRONG_RECIPIENT');
  });

  it('the body alone is plain msgpack of the message, no envelope inside', () => {
    const m = sampleOf('heartbeat');
    expect(encodeRaftBody(m)).toEqual(mp({ type: 'heartbeat', from: 'n1', to: 'n2', term: 5, commit: 14, round: 9 }));
  });

  it('families without a codec: UNSUPPORTED_FAMILY, after the envelope is accepted', () => {
    const body = encodeRaftBody(sampleOf('heartbeat'));
    const coded = ['raft', 'gossip', 'bft'];
    expect(protocolFamilies.filter((f) => coded.includes(f))).toEqual(coded);
    for (const family of protocolFamilies.filter((f) => !coded.includes(f))) {
      expectRefused(frameAround(body, 'n1', 'n2', family), 'n2', 'UNSUPPORTED_FAMILY', 'family');
    }
    // The gossip family has its codec: a Raft body there is refused by it, not read as Raft.
    expectRefused(frameAround(body, 'n1', 'n2', 'gossip'), 'n2', 'UNKNOWN_TYPE', 'body.type');
    expectRefused(frameAround(body, 'n1', 'n2', 'bft'), 'n2', 'UNKNOWN_TYPE', 'body.type');
  });

  it('the family body carries its family for a router to switch on', () => {
    const result = receive(frameAround(encodeRaftBody(sampleOf('vote')), 'n3', 'n2'), 'n2');
    const route = (b: FamilyBody): string => {
      switch (b.family) {
        case 'raft':
          return b.message.type;
        case 'gossip':
          return `gossip ${b.message.type}`;
        case 'bft':
          return `bft ${b.message.type}`;
      }
    };
    expect(result.ok && route(result.value)).toBe('vote');
  });
});

// ---- a peer speaks only for itself ------------------------------------------------------------

describe('sender and recipient', () => {
  it('a body whose from or to differs from the envelope: INVALID_MESSAGE', () => {
    const m = sampleOf('vote'); // n3 -> n2
    const body = encodeRaftBody(m);
    expectRefused(frameAround(body, 'n1', 'n2'), 'n2', 'INVALID_MESSAGE', 'body.from');
    expectRefused(frameAround(body, 'n3', 'n4'), 'n4', 'INVALID_MESSAGE', 'body.to');
    const direct = decodeRaftBody(body, { from: 'n3', to: 'n1' });
    expect(direct.ok || [direct.error.code, direct.error.field]).toEqual(['INVALID_MESSAGE', 'body.to']);
  });
});

// ---- the term and index ceilings ------------------------------------------------------------------

describe('term and index ceilings', () => {
  const heartbeat = sampleOf('heartbeat');

  it('term 2^53 - 1 and termMax + 1: INVALID_MESSAGE; termMax: accepted', () => {
    expectRefused(tampered(heartbeat, (b) => (b['term'] = 2 ** 53 - 1)), 'n2', 'INVALID_MESSAGE', 'body.term');
    expectRefused(tampered(heartbeat, (b) => (b['term'] = termMax + 1)), 'n2', 'INVALID_MESSAGE', 'body.term');
    const atCeiling = receive(tampered(heartbeat, (b) => (b['term'] = termMax)), 'n2');
    expect(atCeiling.ok && atCeiling.value.family === 'raft' && atCeiling.value.message.term).toBe(termMax);
    const own = tryEncodeRaftBody({ ...heartbeat, term: 2 ** 53 - 1 });
    expect(own.ok || [own.error.code, own.error.field]).toEqual(['INVALID_MESSAGE', 'body.term']);
  });

  /** Messages at the ceilings everywhere: every term termMax, every index indexMax (entries end there). */
  const top: readonly Message[] = [
    {
      type: 'append',
      from: 'n1',
      to: 'n2',
      term: termMax,
      prevIndex: indexMax - 1,
      prevTerm: termMax,
      commit: indexMax,
      entries: [{ index: indexMax, term: termMax, kind: 'normal', data: empty }],
    },
    { type: 'append-response', from: 'n2', to: 'n1', term: termMax, index: indexMax, reject: true, hintIndex: indexMax, hintTerm: termMax },
    { type: 'heartbeat', from: 'n1', to: 'n2', term: termMax, commit: indexMax, round: 2 ** 48 },
    { type: 'heartbeat-response', from: 'n2', to: 'n1', term: termMax, round: 2 ** 48 },
    { type: 'vote', from: 'n3', to: 'n2', term: termMax, lastIndex: indexMax, lastTerm: termMax, transfer: false },
    { type: 'read-index-response', from: 'n1', to: 'n2', term: 0, requestId: 1, index: indexMax },
    { type: 'snapshot', from: 'n1', to: 'n4', term: termMax, meta: { index: indexMax, term: termMax, config: conf }, offset: 0, data: empty, done: true, commit: indexMax },
    { type: 'snapshot-response', from: 'n4', to: 'n1', term: termMax, index: indexMax, received: 0, done: true },
  ];

  /** Paths of the term and index fields of a message (entries and meta included). */
  function ceilingFields(m: Message): [path: string, max: number][] {
    const terms = ['term', 'prevTerm', 'hintTerm', 'lastTerm'];
    const indices = ['prevIndex', 'commit', 'index', 'hintIndex', 'lastIndex'];
    const out: [string, number][] = [];
    for (const key of Object.keys(m)) {
      if (terms.includes(key) && m.term !== 0) out.push([key, termMax]);
      if (indices.includes(key)) out.push([key, indexMax]);
      if (key === 'round') out.push([key, 2 ** 48]);
    }
    if (m.type === 'append') out.push(['entries.0.index', indexMax], ['entries.0.term', termMax]);
    if (m.type === 'snapshot') out.push(['meta.index', indexMax], ['meta.term', termMax]);
    return out;
  }

  it('every message at the ceilings is accepted', () => {
    for (const m of top) {
      const result = receive(frameAround(encodeRaftBody(m), m.from, m.to), m.to);
      if (!result.ok) throw result.error;
      expect(result.value.message).toStrictEqual(m);
    }
  });

  it('one above the ceiling in any term, index or round field: INVALID_MESSAGE naming it', () => {
    let checked = 0;
    for (const m of top) {
      for (const [path, max] of ceilingFields(m)) {
        const frame = tampered(m, (b) => {
          const keys = path.split('.');
          let target = b;
          for (const k of keys.slice(0, -1)) target = target[k] as Record<string, unknown>;
          target[keys.at(-1) as string] = max + 1;
        });
        const field = `body.${path.replace(/\.(\d+)\./, '[$1].')}`;
        const result = receive(frame, m.to);
        expect(result.ok || [result.error.code, result.error.field], `${m.type} ${path}`).toEqual(['INVALID_MESSAGE', field]);
        checked++;
      }
    }
    expect(checked).toBe(25);
  });
});

// ---- the other bounds -------------------------------------------------------------------------------

describe('bounds on what a peer can make a node hold', () => {
  it('entry data and proposed commands above entryDataBytesMax: INVALID_MESSAGE; at it: accepted', () => {
    const limits = resolveCodecLimits({ entryDataBytesMax: 256 });
    const append = sampleOf('append'); // entry 0 carries 256 bytes
    expect(receive(frameAround(encodeRaftBody(append, limits)), 'n2', limits).ok).toBe(true);
    const over = { ...append, entries: [{ ...(append.entries[0] as Entry), data: new Uint8Array(257) }, ...append.entries.slice(1)] };
    expectRefused(frameAround(mp(over)), 'n2', 'INVALID_MESSAGE', 'body.entries[0].data', limits);
    const propose = { ...sampleOf('propose'), data: [new Uint8Array(257)] };
    expectRefused(frameAround(mp(propose), 'n2', 'n1'), 'n1', 'INVALID_MESSAGE', 'body.data[0]', limits);
    // The default bound: a 2 MiB entry is refused (the core's default maxCommandBytes is 1 MiB).
    const huge = { ...append, entries: [{ index: 11, term: 4, kind: 'normal', data: new Uint8Array(2 * 1024 * 1024) }] };
    expectRefused(frameAround(mp(huge)), 'n2', 'INVALID_MESSAGE', 'body.entries[0].data');
  });

  it('a propose of more commands than entriesPerFrameMax: INVALID_MESSAGE', () => {
    const propose = { ...sampleOf('propose'), data: Array.from({ length: codecLimitsDefault.entriesPerFrameMax + 1 }, () => empty) };
    expectRefused(frameAround(mp(propose), 'n2', 'n1'), 'n1', 'INVALID_MESSAGE', 'body.data');
  });

  it('node ids in the body above nodeIdBytesMax: INVALID_MESSAGE', () => {
    const transfer = sampleOf('transfer-leader');
    expectRefused(tampered(transfer, (b) => (b['transferee'] = 'x'.repeat(65))), 'n1', 'INVALID_MESSAGE', 'body.transferee');
    expectRefused(tampered(sampleOf('join'), (b) => (b['node'] = '東'.repeat(22))), 'n1', 'INVALID_MESSAGE', 'body.node');
    expect(receive(tampered(transfer, (b) => (b['transferee'] = 'x'.repeat(64))), 'n1').ok).toBe(true);
  });

  it('a full append (entriesPerFrameMax entries) is far inside valuesPerFrameMax', () => {
    const n = codecLimitsDefault.entriesPerFrameMax;
    const entries: Entry[] = Array.from({ length: n }, (_, i) => ({ index: 1 + i, term: 1, kind: 'normal', data: Uint8Array.of(i & 0xff) }));
    const m: Message = { type: 'append', from: 'n1', to: 'n2', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries };
    const result = receive(frameAround(encodeRaftBody(m)), 'n2');
    expect(result.ok).toBe(true);
    expect(9 * n + 15).toBeLessThan(codecLimitsDefault.valuesPerFrameMax / 1.5);
  });

  it('resolveCodecLimits keeps valuesPerFrameMax above its floor and names within one length byte', () => {
    expect(valuesPerFrameFloor(codecLimitsDefault)).toBeLessThanOrEqual(codecLimitsDefault.valuesPerFrameMax);
    const more = resolveCodecLimits({ entriesPerFrameMax: 16_384 });
    expect(more.valuesPerFrameMax).toBe(valuesPerFrameFloor(more));
    expect(() => resolveCodecLimits({ valuesPerFrameMax: 1000 })).toThrow(ConfigError);
    expect(() => resolveCodecLimits({ nodeIdBytesMax: 256 })).toThrow(/nodeIdBytesMax/);
    expect(() => resolveCodecLimits({ clusterBytesMax: 0 })).toThrow(/clusterBytesMax/);
    expect(() => resolveCodecLimits({ frameBytesMax: 2 ** 32 })).toThrow(/frameBytesMax/);
  });

  it('our own encoder refuses a body its receivers would count as too many values', () => {
    const limits = resolveCodecLimits({ entriesPerFrameMax: 8, confMembersMax: 8, valuesPerFrameMax: valuesPerFrameFloor({ entriesPerFrameMax: 8, confMembersMax: 8 }) });
    const wide: ConfState = { voters: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], learners: [] };
    const entries: Entry[] = Array.from({ length: 8 }, (_, i) => ({ index: 1 + i, term: 1, kind: 'config', data: empty, config: wide }));
    const result = tryEncodeRaftBody({ type: 'append', from: 'n1', to: 'n2', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries }, limits);
    expect(result.ok || result.error.code).toBe('TOO_MANY_VALUES');
  });
});

// ---- the pre-scan ----------------------------------------------------------------------------------

/** A body of `bytes` bytes: an array32 header, then `fill` repeated (truncated to fit). */
function arrayOf(bytes: number, fill: Uint8Array, count = Math.floor((bytes - 5) / fill.byteLength)): Uint8Array {
  const body = new Uint8Array(bytes);
  body[0] = 0xdd;
  new DataView(body.buffer).setUint32(1, count);
  for (let at = 5; at + fill.byteLength <= bytes; at += fill.byteLength) body.set(fill, at);
  return body;
}

/** The largest body that fits a frame of frameBytesMax from n1 to n2 in `cluster`. */
const bodyBytesMax = codecLimitsDefault.frameBytesMax - (19 + cluster.length + 2 + 2);

describe('the pre-scan bounds values, nesting and declared lengths', () => {
  it('a 4 MiB frame of empty maps: TOO_MANY_VALUES before msgpackr builds one (time and heap logged)', () => {
    const frame = frameAround(arrayOf(bodyBytesMax, Uint8Array.of(0x80)));
    expect(frame.byteLength).toBe(codecLimitsDefault.frameBytesMax);
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    const error = expectRefused(frame, 'n2', 'TOO_MANY_VALUES', null);
    const ms = performance.now() - start;
    const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(error.message).toMatch(/valuesPerFrameMax/);
    console.log(`4 MiB of empty maps: refused in ${ms.toFixed(2)} ms, heap ${heapMiB >= 0 ? '+' : ''}${heapMiB.toFixed(2)} MiB`);
  });

  it.each<[string, Uint8Array]>([
    ['fixarrays of 15 empty maps', Uint8Array.of(0x9f, ...new Array<number>(15).fill(0x80))],
    ['maps of one empty map', Uint8Array.of(0x81, 0xa1, 0x61, 0x80)],
    ['maps of one empty array', Uint8Array.of(0x81, 0xa0, 0x90)],
    ['nils', Uint8Array.of(0xc0)],
    ['empty strings', Uint8Array.of(0xa0)],
    ['empty bins', Uint8Array.of(0xc4, 0x00)],
    ['small integers', Uint8Array.of(0x01)],
  ])('a 4 MiB frame of %s: TOO_MANY_VALUES', (_what, fill) => {
    expectRefused(frameAround(arrayOf(bodyBytesMax, fill)), 'n2', 'TOO_MANY_VALUES', null);
  });

  it('an array declaring more elements than the bound is refused at its header', () => {
    const declared = arrayOf(64, Uint8Array.of(0xc0), codecLimitsDefault.valuesPerFrameMax);
    expect(checkMsgpackProfile(declared, codecLimitsDefault.valuesPerFrameMax)?.code).toBe('MALFORMED'); // 64 bytes cannot hold them
    const fits = arrayOf(codecLimitsDefault.valuesPerFrameMax + 5, Uint8Array.of(0xc0));
    const error = checkMsgpackProfile(fits, codecLimitsDefault.valuesPerFrameMax);
    expect([error?.code, error?.message]).toEqual(['TOO_MANY_VALUES', expect.stringMatching(/^msgpack byte 0:/)]);
  });

  it('exactly valuesPerFrameMax values pass the pre-scan; one more does not', () => {
    const limits = resolveCodecLimits({ entriesPerFrameMax: 4, confMembersMax: 4, valuesPerFrameMax: 200 });
    // The array itself is one value.
    expect(checkMsgpackProfile(arrayOf(5 + 199, Uint8Array.of(0xc0)), 200)).toBeNull();
    expect(checkMsgpackProfile(arrayOf(5 + 200, Uint8Array.of(0xc0)), 200)?.code).toBe('TOO_MANY_VALUES');
    // Through the codec: 199 nils pass the pre-scan, and the body is then not a message.
    expectRefused(frameAround(arrayOf(5 + 199, Uint8Array.of(0xc0))), 'n2', 'INVALID_MESSAGE', 'body', limits);
    expectRefused(frameAround(arrayOf(5 + 200, Uint8Array.of(0xc0))), 'n2', 'TOO_MANY_VALUES', null, limits);
    // Keys count too: a map of 2 keys is 5 values.
    expect(checkMsgpackProfile(mp({ a: 1, b: 2 }), 5)).toBeNull();
    expect(checkMsgpackProfile(mp({ a: 1, b: 2 }), 4)?.code).toBe('TOO_MANY_VALUES');
  });

  it('nesting deeper than msgpackDepthMax: MALFORMED, however deep (a 4 MiB frame of one-element arrays)', () => {
    const deep = new Uint8Array(bodyBytesMax).fill(0x91);
    deep[deep.byteLength - 1] = 0xc0;
    expect(expectRefused(frameAround(deep), 'n2', 'MALFORMED', null).message).toMatch(/deeper/);
    const nested = (depth: number): Uint8Array => Uint8Array.of(...new Array<number>(depth).fill(0x91), 0xc0);
    expect(checkMsgpackProfile(nested(msgpackDepthMax), 100)).toBeNull();
    expect(checkMsgpackProfile(nested(msgpackDepthMax + 1), 100)?.message).toMatch(/deeper/);
  });

  it.each<[string, Uint8Array]>([
    ['array32 of 2^32 - 1 elements', Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0)],
    ['array16 of 65,535 elements', Uint8Array.of(0xdc, 0xff, 0xff, 0xc0, 0xc0)],
    ['map32 of 2^32 - 1 keys', Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61, 0xc0)],
    ['map of 15 keys in 3 bytes', Uint8Array.of(0x8f, 0xa1, 0x61, 0xc0)],
    ['str32 of 2^32 - 1 bytes', Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)],
    ['bin32 of 2^32 - 1 bytes', Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 0x00)],
  ])('a declared length beyond the bytes left (%s): MALFORMED, nothing allocated', (_what, body) => {
    expectRefused(frameAround(body), 'n2', 'MALFORMED', null);
  });

  it('an oversized body given alone: FRAME_TOO_LARGE, not parsed', () => {
    const result = decodeRaftBody(new Uint8Array(codecLimitsDefault.frameBytesMax + 1), { from: 'n1', to: 'n2' });
    expect(result.ok || result.error.code).toBe('FRAME_TOO_LARGE');
  });
});
