/**
 * Shared by the tests of the `raft` body codec (codec-raft-*.test.ts, codec-hostile-bodies.test.ts,
 * and others): a sample of every Raft message type with the awkward values (all 256
 * byte values, empty bytes, a config entry, bytes that read as msgpack extension tokens outside a
 * bin, negative and maximal request ids), a small msgpack writer that can write what our encoder
 * never would (a key twice, raw tokens, any value), and the check that a body is refused with a
 * given code at a given field.
 *
 * The test files set MSGPACKR_NATIVE_ACCELERATION_DISABLED themselves, in `vi.hoisted`, before
 * this module (and msgpackr) loads.
 */
import { Packr } from 'msgpackr';
import { expect } from 'vitest';
import type { Message } from '../../src/core/raft/messages.ts';
import type { ConfState, NodeId } from '../../src/core/raft/types.ts';
import { CodecError, type CodecErrorCode } from '../../src/io/codec-error.ts';
import type { CodecLimits } from '../../src/io/codec-limits.ts';
import { decodeRaftBody, encodeRaftBody } from '../../src/io/codec-raft.ts';

// ---- samples: every message type, with the awkward values ---------------------------------

export const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
export const empty = new Uint8Array(0);
export const conf: ConfState = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };

export const samples: readonly Message[] = [
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

/** The first sample of `type`. */
export const sampleOf = <T extends Message['type']>(type: T): Extract<Message, { type: T }> =>
  samples.find((m) => m.type === type) as Extract<Message, { type: T }>;

/** Who the envelope says sent a body to whom (a message routes as its own `from` and `to`). */
export interface Route {
  readonly from: NodeId;
  readonly to: NodeId;
}

/** The route of the heartbeat and append samples. */
export const n1ToN2: Route = { from: 'n1', to: 'n2' };

/** Decode `body` as a body the envelope routed along `route`. */
export function decodeAs(body: Uint8Array, route: Route = n1ToN2, limits?: CodecLimits): ReturnType<typeof decodeRaftBody> {
  return decodeRaftBody(body, limits === undefined ? { from: route.from, to: route.to } : { from: route.from, to: route.to, limits });
}

/** `m` encoded by our own encoder. */
export const bodyOf = (m: Message, limits?: CodecLimits): Uint8Array => encodeRaftBody(m, limits);

/**
 * Decoding `body` (routed along `route`) fails with `code` at `field` (a path, a pattern for
 * paths, or null for the body as a whole), and the message names the field.
 */
export function expectRejected(body: Uint8Array, code: CodecErrorCode, field: string | RegExp | null, route: Route = n1ToN2, limits?: CodecLimits): CodecError {
  const result = decodeAs(body, route, limits);
  if (result.ok) throw new Error(`expected ${code} at ${String(field)}, but the body was accepted`);
  const error = result.error;
  expect(error).toBeInstanceOf(CodecError);
  expect(error.code, error.message).toBe(code);
  if (field instanceof RegExp) expect(error.field ?? '', error.message).toMatch(field);
  else expect(error.field, error.message).toBe(field);
  if (error.field !== null) expect(error.message).toContain(error.field);
  return error;
}

// ---- a tiny msgpack writer for hostile bodies (duplicate keys, raw tokens, any value) ---------

/** Bytes inserted verbatim where a value goes. */
export class Raw {
  constructor(readonly bytes: Uint8Array) {}
}

/** A map written pair by pair, so that a key may repeat. */
export class Pairs {
  constructor(readonly pairs: readonly (readonly [unknown, unknown])[]) {}
}

export type Mut = Record<string, unknown>;

const rawPackr = new Packr({ useRecords: false, variableMapSize: true });

export function concat(parts: readonly Uint8Array[]): Uint8Array {
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

export function isPlainObject(v: unknown): v is Mut {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** `value` as msgpack, with no validation: `Raw` verbatim, `Pairs` in order, repeats kept. */
export function mp(value: unknown): Uint8Array {
  if (value instanceof Raw) return value.bytes;
  if (value instanceof Pairs) return concat([header(value.pairs.length, 0x80, 0xde, 0xdf), ...value.pairs.flatMap(([k, v]) => [mp(k), mp(v)])]);
  if (Array.isArray(value)) return concat([header(value.length, 0x90, 0xdc, 0xdd), ...value.map(mp)]);
  if (isPlainObject(value)) return mp(new Pairs(Object.entries(value)));
  return new Uint8Array(rawPackr.pack(value));
}

/** `m` as plain values (a deep copy), for editing before it is written. */
export function wireOf(m: Message): Mut {
  return structuredClone(m) as unknown as Mut;
}

/** The body of `m` with `edit` applied to its fields first, written with no validation. */
export function tamper(m: Message, edit: (body: Mut) => void): Uint8Array {
  const body = wireOf(m);
  edit(body);
  return mp(body);
}

/** Element `i` of a list of maps, for editing. */
export const at = (list: unknown, i: number): Mut => (list as Mut[])[i] as Mut;
