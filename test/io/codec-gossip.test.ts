/**
 * The `gossip` body codec (src/io/codec-gossip.ts): every message type of the core round-trips
 * through msgpack unchanged; a peer's body is refused with the codec's codes (UNKNOWN_TYPE for a
 * newer peer's type or update kind, INVALID_MESSAGE naming the field for the rest, including the
 * core validator's incarnation and array bounds and the wire's id byte limit), a body whose
 * `from` or `to` is not the envelope's is refused, and garbage bytes never throw.
 */
import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import type { GossipMessage } from '../../src/core/gossip/messages.ts';
import { incarnationMax } from '../../src/core/gossip/limits.ts';
import { createPrng } from '../../src/core/prng.ts';
import { decodeGossipBody, encodeGossipBody, tryEncodeGossipBody } from '../../src/io/codec-gossip.ts';

const ctx = { from: 'b', to: 'a' };
const suspect = { kind: 'suspect', member: 'c', incarnation: 3, by: 'd' } as const;

const samples: GossipMessage[] = [
  { type: 'ping', from: 'b', to: 'a', seq: 1, mesh: true, updates: [suspect, { kind: 'alive', member: 'e', incarnation: 1 }] },
  { type: 'ack', from: 'b', to: 'a', seq: 2, updates: [{ kind: 'left', member: 'f', incarnation: 9 }] },
  { type: 'ping-req', from: 'b', to: 'a', seq: 3, target: 'c', updates: [] },
  { type: 'nack', from: 'b', to: 'a', seq: 3, target: 'c' },
  { type: 'push', from: 'b', to: 'a', updates: [{ kind: 'dead', member: 'c', incarnation: 4, by: 'b' }] },
  { type: 'join', from: 'b', to: 'a', incarnation: 7 },
  { type: 'sync', from: 'b', to: 'a', wantReply: true, members: [{ member: 'b', incarnation: 7, suspect: false }, { member: 'c', incarnation: 2, suspect: true }] },
  { type: 'graft', from: 'b', to: 'a' },
  { type: 'prune', from: 'b', to: 'a' },
  { type: 'leave', from: 'b', to: 'a', incarnation: 7 },
];

describe('gossip body codec', () => {
  it.each(samples.map((m) => [m.type, m] as const))('%s round-trips', (_type, m) => {
    const decoded = decodeGossipBody(encodeGossipBody(m), ctx);
    expect(decoded).toEqual({ ok: true, value: m });
  });

  it.each([
    ['a newer type', { type: 'hello', from: 'b', to: 'a' }, 'UNKNOWN_TYPE', 'body.type'],
    ['a newer update kind', { type: 'push', from: 'b', to: 'a', updates: [{ kind: 'zombie', member: 'c', incarnation: 1 }] }, 'UNKNOWN_TYPE', 'body.updates[0].kind'],
    ['an incarnation above incarnationMax', { type: 'join', from: 'b', to: 'a', incarnation: incarnationMax + 1 }, 'INVALID_MESSAGE', 'body.incarnation'],
    ['65 updates', { type: 'push', from: 'b', to: 'a', updates: Array.from({ length: 65 }, () => suspect) }, 'INVALID_MESSAGE', 'body.updates'],
    ['an id over nodeIdBytesMax', { type: 'push', from: 'b', to: 'a', updates: [{ ...suspect, by: 'd'.repeat(65) }] }, 'INVALID_MESSAGE', 'body.updates[0].by'],
    ['another sender inside', { type: 'graft', from: 'x', to: 'a' }, 'INVALID_MESSAGE', 'body.from'],
    ['another receiver inside', { type: 'graft', from: 'b', to: 'x' }, 'INVALID_MESSAGE', 'body.to'],
  ])('refuses %s', (_name, value, code, field) => {
    const decoded = decodeGossipBody(pack(value), ctx);
    expect(decoded.ok ? null : [decoded.error.code, decoded.error.field]).toEqual([code, field]);
  });

  it('refuses to encode what its receivers would refuse', () => {
    const bad = { type: 'join', from: 'b', to: 'a', incarnation: incarnationMax + 1 } as GossipMessage;
    expect(tryEncodeGossipBody(bad).ok).toBe(false);
    expect(() => encodeGossipBody(bad)).toThrow();
  });

  it('never throws on garbage bytes', () => {
    const prng = createPrng(3);
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(prng.nextInt(64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = prng.nextInt(256);
      expect(() => decodeGossipBody(bytes, ctx)).not.toThrow();
      expect(decodeGossipBody(bytes, ctx).ok).toBe(false);
    }
  });
});
