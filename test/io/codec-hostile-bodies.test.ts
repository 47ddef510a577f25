/**
 * What this proves about `decodeRaftBody` (src/io/codec-raft.ts) given bytes that are not a
 * well-formed body, before any field is read (docs/protocol.md §2 "Body encoding"):
 *
 * - Garbage, bytes that are not a Uint8Array, a valid body of every type cut at every byte, and
 *   a valid body followed by trailing bytes are refused as MALFORMED, never thrown; msgpack that
 *   is valid but not a map (nil, an integer) is INVALID_MESSAGE at `body`.
 * - msgpack outside the profile is MALFORMED: extension types and msgpackr records, a key twice
 *   in one map, a key that is not a string, a map of more than 16 keys, nesting deeper than
 *   `msgpackDepthMax` (100,000 deep without a stack overflow), strings that are not UTF-8.
 * - A "__proto__" key is an unexpected field and reaches no prototype.
 *
 * The 4 MiB bodies, the value count and declared lengths beyond the bytes are codec-raft.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import { Packr } from 'msgpackr';
import { bodyOf, concat, expectRejected, mp, Pairs, Raw, sampleOf, samples, tamper, wireOf, type Mut } from './raft-body-samples.ts';

describe('bytes that are not a body', () => {
  it.each<[string, number[]]>([
    ['empty', []],
    ['the never-used byte', [0xc1]],
    ['an unfinished map header', [0xde, 0x00]],
    ['a map that claims 2^32 - 1 pairs', [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa4, 0x74, 0x79, 0x70, 0x65, 0x01]],
    ['an array that claims 2^32 - 1 items', [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['a str32 that claims 4 GiB', [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]],
    ['JSON text', [...new TextEncoder().encode('{"type":"heartbeat"}')]],
    ['random bytes', [0x9a, 0x13, 0xf7, 0x00, 0xee, 0x41, 0x8c, 0xd9, 0x02]],
  ])('%s: MALFORMED', (_name, bytes) => {
    expectRejected(Uint8Array.from(bytes), 'MALFORMED', null);
  });

  it.each<[string, number[]]>([
    ['one nil', [0xc0]],
    ['the integer 1', [0x01]],
    ['an empty array', [0x90]],
  ])('%s (msgpack, but not a message): INVALID_MESSAGE at body', (_name, bytes) => {
    expectRejected(Uint8Array.from(bytes), 'INVALID_MESSAGE', 'body');
  });

  it('a value that is not a Uint8Array: MALFORMED', () => {
    expectRejected(new ArrayBuffer(8) as unknown as Uint8Array, 'MALFORMED', 'body');
    expectRejected('body' as unknown as Uint8Array, 'MALFORMED', 'body');
  });

  it('every message type cut at every byte: MALFORMED', () => {
    let cuts = 0;
    for (const m of samples) {
      const body = bodyOf(m);
      for (let cut = 0; cut < body.byteLength; cut++) {
        expectRejected(body.subarray(0, cut), 'MALFORMED', null, m);
        cuts++;
      }
    }
    expect(cuts).toBeGreaterThan(1500);
  });

  it('a valid body followed by trailing bytes: MALFORMED', () => {
    const body = bodyOf(sampleOf('heartbeat'));
    expect(expectRejected(concat([body, Uint8Array.of(0x00)]), 'MALFORMED', null).message).toMatch(/trailing/);
    expectRejected(concat([body, body]), 'MALFORMED', null);
  });
});

describe('msgpack outside the profile', () => {
  it.each<[string, unknown]>([
    ['a Date (timestamp extension)', new Date(0)],
    ['undefined (msgpackr extension 0)', undefined],
    ['a typed array extension', new Float64Array([1.5])],
    ['a Set extension', new Set([1])],
    ['an Error extension', new Error('x')],
    ['a RegExp extension', /a+/],
  ])('extension types: %s in the body: MALFORMED', (_name, value) => {
    const packr = new Packr({ useRecords: false, moreTypes: true, structuredClone: true });
    const body = tamper(sampleOf('heartbeat'), (b) => {
      b['round'] = new Raw(new Uint8Array(packr.pack(value)));
    });
    expect(expectRejected(body, 'MALFORMED', null).message).toMatch(/extension/);
  });

  it('msgpackr records (in-band structure definitions): MALFORMED', () => {
    const body = new Uint8Array(new Packr({ useRecords: true }).pack(wireOf(sampleOf('heartbeat'))));
    expect(expectRejected(body, 'MALFORMED', null).message).toMatch(/extension/);
  });

  it('a key twice in one map (decoders disagree on which wins): MALFORMED', () => {
    const m = sampleOf('vote-response');
    const body = mp(new Pairs([...Object.entries(m), ['reject', true]]));
    expect(expectRejected(body, 'MALFORMED', null, m).message).toMatch(/twice/);
    const typeTwice = mp(new Pairs([['type', 'vote-response'], ...Object.entries(m)]));
    expect(expectRejected(typeTwice, 'MALFORMED', null, m).message).toMatch(/twice/);
  });

  it('a map key that is not a string: MALFORMED', () => {
    const body = tamper(sampleOf('heartbeat'), (b) => {
      b['round'] = new Raw(mp(new Pairs([[1, 2]])));
    });
    expect(expectRejected(body, 'MALFORMED', null).message).toMatch(/keys must be strings/);
  });

  it('a map of more than 16 keys: MALFORMED', () => {
    const body = tamper(sampleOf('heartbeat'), (b) => {
      for (let i = 0; i < 11; i++) b[`x${i}`] = i;
    });
    expectRejected(body, 'MALFORMED', null);
  });

  it('nesting deeper than 8, and 100,000 deep: MALFORMED, no stack overflow', () => {
    let nested: unknown = 1;
    for (let i = 0; i < 8; i++) nested = [nested];
    const body = tamper(sampleOf('heartbeat'), (b) => {
      b['round'] = nested;
    });
    expect(expectRejected(body, 'MALFORMED', null).message).toMatch(/deeper/);
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
    const body = tamper(sampleOf('heartbeat'), (b) => {
      b['from'] = str;
    });
    expect(expectRejected(body, 'MALFORMED', null).message).toMatch(/UTF-8/);
  });

  it('a "__proto__" key cannot reach a prototype: an unexpected field', () => {
    const m = sampleOf('heartbeat');
    const body = mp(new Pairs([...Object.entries(m), ['__proto__', { polluted: true }]]));
    expectRejected(body, 'INVALID_MESSAGE', 'body');
    expect(({} as Mut)['polluted']).toBeUndefined();
  });
});
