/**
 * What this proves about `decodeRaftBody` (src/io/codec-raft.ts) under seeded fuzzing:
 *
 * - 20,000 byte mutations of valid bodies (bit flips, msgpack-meaningful bytes, truncation,
 *   insertion, deletion, splices of other bodies) and 10,000 mutations of decoded values
 *   re-encoded as msgpack never make it throw; every refusal carries a known code and a message.
 * - Every body it accepts is well formed by checks written apart from the codec's validators
 *   (routing, term 0 only where the core expects it, contiguous entries, plain values, bytes that
 *   share no memory with the input), and can be sent on unchanged by our own encoder.
 * - The decoder keeps no state: a valid body still decodes after garbage.
 *
 * The mutations reach past the msgpack layer (some bodies survive, some reach the field
 * validators); the outcome counts are logged.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import { createPrng, type Prng } from '../../src/core/prng.ts';
import { messageTypes, type Message } from '../../src/core/raft/messages.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { CodecError, codecErrorCodes } from '../../src/io/codec-error.ts';
import { tryEncodeRaftBody } from '../../src/io/codec-raft.ts';
import { bodyOf, concat, decodeAs, empty, isPlainObject, mp, samples, wireOf, type Mut, type Route } from './raft-body-samples.ts';

/** Checks written apart from the codec's validators: what "well formed" means to the core. */
function assertWellFormed(m: Message, route: Route, input: Uint8Array): void {
  expect(m.from).toBe(route.from);
  expect(m.to).toBe(route.to);
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
      expect(v.buffer).not.toBe(input.buffer);
    } else if (Array.isArray(v)) v.forEach(walk);
    else {
      expect(isPlainObject(v)).toBe(true);
      Object.values(v as Mut).forEach(walk);
    }
  };
  walk(m);
  // What was accepted can be sent on unchanged.
  const again = tryEncodeRaftBody(m);
  if (!again.ok) throw again.error;
}

const interestingBytes = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

function mutateBytes(prng: Prng, body: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  let out: Uint8Array = body.slice();
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
        // splice in a slice of another valid body
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

/** Replace, delete or add one value somewhere in the decoded body. */
function mutateValue(prng: Prng, body: Mut): void {
  let node: unknown = body;
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
  const bodies = samples.map((m) => bodyOf(m));

  it('20,000 byte mutations of valid bodies: decodeRaftBody never throws; what it accepts is well formed', () => {
    const prng = createPrng(0xc0dec);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const k = prng.nextInt(samples.length);
      const m = samples[k] as Message;
      const mutated = mutateBytes(prng, bodies[k] as Uint8Array, bodies);
      const result = decodeAs(mutated, m);
      if (result.ok) assertWellFormed(result.value, m, mutated);
      else {
        expect(result.error).toBeInstanceOf(CodecError);
        expect(codecErrorCodes).toContain(result.error.code);
        expect(result.error.message.length).toBeGreaterThan(0);
      }
      const key = result.ok ? 'accepted' : result.error.code;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.log('byte fuzz outcomes:', Object.fromEntries(outcomes));
    expect(outcomes.get('accepted') ?? 0).toBeGreaterThan(100);
    expect(outcomes.get('INVALID_MESSAGE') ?? 0).toBeGreaterThan(100);
  });

  it('10,000 mutations of decoded values, re-encoded as msgpack: never throws; what it accepts is well formed', () => {
    const prng = createPrng(0xbad5eed);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const m = samples[prng.nextInt(samples.length)] as Message;
      const value = wireOf(m);
      const edits = 1 + prng.nextInt(2);
      for (let e = 0; e < edits; e++) mutateValue(prng, value);
      const body = mp(value);
      const result = decodeAs(body, m);
      if (result.ok) assertWellFormed(result.value, m, body);
      else expect(codecErrorCodes).toContain(result.error.code);
      const key = result.ok ? 'accepted' : result.error.code;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.log('value fuzz outcomes:', Object.fromEntries(outcomes));
    expect(outcomes.get('INVALID_MESSAGE') ?? 0).toBeGreaterThan(1000);
    expect(outcomes.get('accepted') ?? 0).toBeGreaterThan(100);
  });

  it('a valid body still decodes after the decoder has seen garbage (no state left behind)', () => {
    const prng = createPrng(7);
    for (let i = 0; i < 200; i++) {
      decodeAs(Uint8Array.from({ length: prng.nextInt(64) }, () => prng.nextInt(256)));
      expect(decodeAs(bodies[0] as Uint8Array).ok).toBe(true);
    }
  });
});
