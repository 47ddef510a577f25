/**
 * What this proves about the bytes of a `raft` body (src/io/codec-raft.ts, docs/protocol.md §5),
 * beyond the round trip of every type through the envelope (codec-raft.test.ts):
 *
 * - The awkward values come back unchanged: all 256 byte values, empty bytes, an empty append,
 *   bytes that read as msgpack extension tokens outside a bin, an empty last snapshot chunk,
 *   request ids of -7 and 2^53 - 1.
 * - Decoded bytes own their memory (plain Uint8Arrays, unchanged when the transport reuses the
 *   frame); encoded bodies own their ArrayBuffer (safe to transfer to a worker).
 * - Bodies are plain msgpack maps a generic decoder reads, and our decoder reads what other
 *   encoders write: keys in any order, integers in any msgpack width.
 * - A replayed body decodes again as an equal but distinct message.
 * - The file runs on msgpackr's pure-JS path, the one browsers take (unless asked otherwise);
 *   the cost of an append of 256 entries is logged, never asserted.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  // Before msgpackr loads. MSGPACKR_NATIVE_ACCELERATION_DISABLED=false runs the file on the
  // native add-on instead, where it is installed.
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import { Unpackr, isNativeAccelerationEnabled } from 'msgpackr';
import type { Message } from '../../src/core/raft/messages.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { allBytes, bodyOf, decodeAs, mp, Pairs, Raw, sampleOf, samples } from './raft-body-samples.ts';

describe('round trip of the awkward values', () => {
  it('runs on the pure-JS msgpackr path (unless asked otherwise)', () => {
    const pureJs = process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED']?.toLowerCase() === 'true';
    console.log(`msgpackr path: ${isNativeAccelerationEnabled ? 'native add-on' : 'pure JS'}`);
    if (pureJs) expect(isNativeAccelerationEnabled).toBe(false);
  });

  it.each(samples.map((m, i) => [`${i} ${m.type}`, m] as const))('%s', (_name, m) => {
    const result = decodeAs(bodyOf(m), m);
    if (!result.ok) throw result.error;
    expect(result.value).toStrictEqual(m);
    expect(result.value).not.toBe(m);
  });
});

describe('memory', () => {
  it('hands out bytes that own their memory: plain Uint8Arrays, unchanged when the frame is reused', () => {
    const body = bodyOf(sampleOf('append'));
    const result = decodeAs(body);
    if (!result.ok) throw result.error;
    const m = result.value as Extract<Message, { type: 'append' }>;
    body.fill(0); // a transport reusing its receive buffer
    const first = m.entries[0] as Entry;
    expect(Object.getPrototypeOf(first.data)).toBe(Uint8Array.prototype);
    expect(first.data.buffer).not.toBe(body.buffer);
    expect(first.data).toStrictEqual(allBytes);
  });

  it('writes bodies that own their ArrayBuffer (safe to transfer to a worker)', () => {
    for (const m of samples) {
      const body = bodyOf(m);
      expect(Object.getPrototypeOf(body)).toBe(Uint8Array.prototype);
      expect(body.byteOffset).toBe(0);
      expect(body.buffer.byteLength).toBe(body.byteLength);
    }
  });
});

describe('other msgpack implementations', () => {
  it('writes plain msgpack maps that a generic msgpack decoder reads', () => {
    const m = sampleOf('append');
    const body = bodyOf(m);
    expect(body[0]).toBe(0x88); // fixmap of 8: the append's fields
    const generic: unknown = new Unpackr({ useRecords: false }).unpack(body);
    expect(structuredClone(generic)).toEqual(structuredClone(m));
  });

  it('reads keys in any order and integers in any msgpack width (other encoders)', () => {
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
    const result = decodeAs(mp(body));
    if (!result.ok) throw result.error;
    expect(result.value).toStrictEqual(sampleOf('heartbeat'));
  });
});

describe('replay', () => {
  it('decodes a replayed body again, as an equal but distinct message (replay protection is the link guard)', () => {
    const vote = sampleOf('vote');
    const body = bodyOf(vote);
    const a = decodeAs(body, vote);
    const b = decodeAs(body, vote);
    expect(a).toStrictEqual(b);
    if (a.ok && b.ok) expect(a.value).not.toBe(b.value);
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
    const run = (n: number): number => {
      const start = performance.now();
      for (let i = 0; i < n; i++) {
        const result = decodeAs(bodyOf(m));
        if (!result.ok) throw result.error;
      }
      return (performance.now() - start) / n;
    };
    run(50); // warm up
    const ms = run(300);
    const size = bodyOf(m).byteLength;
    console.log(`append of 256 entries x 32 bytes: ${size} bytes of body, encode + decode ${(ms * 1000).toFixed(0)} us (${((256 / ms) * 1000).toFixed(0)} entries/s)`);
  });
});
