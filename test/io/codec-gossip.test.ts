/**
 * The `gossip` body codec (src/io/codec-gossip.ts): every message type of the core round-trips
 * through msgpack unchanged; a peer's body is refused with the codec's codes (UNKNOWN_TYPE for a
 * newer peer's type or update kind, INVALID_MESSAGE naming the field for the rest, including the
 * core validator's incarnation and array bounds and the wire's id byte limit), a body whose
 * `from` or `to` is not the envelope's is refused, and garbage bytes never throw. The data
 * plane's messages carry real encoded states (every CRDT type, a nested OR-Map at the deepest
 * nesting) and Merkle messages unchanged, within the profile's depth; a state holding a map, an
 * unknown CRDT type, too many values of state, a state nested too deep and 4 MiB of empty maps
 * are refused with their codes before the engine sees them.
 */
import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import type { GossipMessage } from '../../src/core/gossip/messages.ts';
import { incarnationMax } from '../../src/core/gossip/limits.ts';
import { createPrng } from '../../src/core/prng.ts';
import { decodeGossipBody, encodeGossipBody, tryEncodeGossipBody } from '../../src/io/codec-gossip.ts';
import { crdtTypes } from '../../src/core/crdt/crdt-types.ts';
import { encodeMerkleMessage } from '../../src/core/crdt/merkle-messages.ts';
import { orMapApply, orMapEmpty, type OrMapOp } from '../../src/core/crdt/or-map.ts';
import { orSetAdd, orSetEmpty } from '../../src/core/crdt/or-set.ts';
import { dataValuesPerMessageMax } from '../../src/core/gossip/limits.ts';
import { codecLimitsDefault } from '../../src/io/codec-limits.ts';

const ctx = { from: 'b', to: 'a' };
const suspect = { kind: 'suspect', member: 'c', incarnation: 3, by: 'd' } as const;

const samples: GossipMessage[] = [
  { type: 'ping', from: 'b', to: 'a', seq: 1, mesh: true, updates: [suspect, { kind: 'alive', member: 'e', incarnation: 1 }] },
  { type: 'ack', from: 'b', to: 'a', seq: 2, updates: [{ kind: 'left', member: 'f', incarnation: 9 }] },
  { type: 'ping-req', from: 'b', to: 'a', seq: 3, target: 'c', updates: [] },
  { type: 'nack', from: 'b', to: 'a', seq: 3, target: 'c' },
  { type: 'push', from: 'b', to: 'a', updates: [{ kind: 'dead', member: 'c', incarnation: 4, by: 'b' }] },
  { type: 'join', from: 'b', to: 'a', incarnation: 7 },
  { type: 'sync', from: 'b', to: 'a', wantReply: true, members: [{ member: 'b', incarnation: 7, state: 'alive' }, { member: 'c', incarnation: 2, state: 'suspect' }] },
  { type: 'graft', from: 'b', to: 'a' },
  { type: 'prune', from: 'b', to: 'a' },
  { type: 'leave', from: 'b', to: 'a', incarnation: 7 },
];

function ok<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(String(r.error));
  return r.value;
}

/** A map of a map of a map (nestingDepthMax) holding a set: the deepest state there is. */
const deepOp: OrMapOp = {
  op: 'update',
  key: 'a',
  field: { type: 'or-map', apply: { op: 'update', key: 'b', field: { type: 'or-map', apply: { op: 'update', key: 'c', field: { type: 'or-set', op: 'add', element: 'x' } } } } },
};
const deepMap = crdtTypes['or-map'].encode(ok(orMapApply(orMapEmpty(), 'b', deepOp)));
const aSet = crdtTypes['or-set'].encode(ok(orSetAdd(orSetEmpty(), 'b', 'x')));

const dataSamples: GossipMessage[] = [
  {
    type: 'crdt-push',
    from: 'b',
    to: 'a',
    deltas: [
      { name: 'board', crdt: 'or-map', ttl: 5, state: deepMap },
      { name: 'tags', crdt: 'or-set', ttl: 1, state: aSet },
      { name: 'hits', crdt: 'g-counter', ttl: 4, state: ['b', 3] },
      { name: 'title', crdt: 'lww-register', ttl: 2, state: [17, 'b', 1.5] },
    ],
  },
  { type: 'crdt-merkle', from: 'b', to: 'a', exchange: 9, message: encodeMerkleMessage({ type: 'hashes', level: 0, nodes: [0], hashes: Array.from({ length: 16 }, (_, i) => i * 2 ** 40) }) },
  { type: 'crdt-merkle', from: 'b', to: 'a', exchange: 9, message: encodeMerkleMessage({ type: 'leaves', leaves: [3], entries: [[3, 'or-set/tags', 12345]], unanswered: [7] }) },
  { type: 'crdt-states', from: 'b', to: 'a', exchange: 1, states: [{ name: 'board', crdt: 'or-map', state: deepMap }], want: [{ name: 'tags', crdt: 'or-set' }] },
];

describe('gossip body codec: the data plane', () => {
  it.each(dataSamples.map((m, i) => [`${m.type} #${i}`, m] as const))('%s round-trips', (_name, m) => {
    expect(decodeGossipBody(encodeGossipBody(m), ctx)).toEqual({ ok: true, value: m });
  });

  const push = (state: unknown, crdt = 'or-set'): unknown => ({ type: 'crdt-push', from: 'b', to: 'a', deltas: [{ name: 'n', crdt, ttl: 3, state }] });
  let nested: unknown = [1];
  for (let i = 0; i < 6; i++) nested = [nested];
  it.each([
    ['an unknown CRDT type', push([], 'hyper-log-log'), 'UNKNOWN_TYPE', 'body.deltas[0].crdt'],
    ['a map inside a state', push([{ admin: true }]), 'INVALID_MESSAGE', 'body.deltas[0].state[0]'],
    ['a TTL above deltaTtlHopsMax', { type: 'crdt-push', from: 'b', to: 'a', deltas: [{ name: 'n', crdt: 'or-set', ttl: 17, state: [] }] }, 'INVALID_MESSAGE', 'body.deltas[0].ttl'],
    ['an empty name', { type: 'crdt-states', from: 'b', to: 'a', exchange: 1, states: [], want: [{ name: '', crdt: 'or-set' }] }, 'INVALID_MESSAGE', 'body.want[0].name'],
    ['exchange 0', { type: 'crdt-merkle', from: 'b', to: 'a', exchange: 0, message: [0, 0, [0]] }, 'INVALID_MESSAGE', 'body.exchange'],
    ['more values of state than dataValuesPerMessageMax', push(new Array(dataValuesPerMessageMax + 1).fill(0)), 'INVALID_MESSAGE', 'body.deltas[0].state'],
    ['a state nested past the profile', push(nested), 'MALFORMED', null],
  ])('refuses %s', (_name, value, code, field) => {
    const decoded = decodeGossipBody(pack(value), ctx);
    expect(decoded.ok ? null : [decoded.error.code, decoded.error.field]).toEqual([code, field]);
  });

  it('refuses 4 MiB of empty maps as a state before building them', () => {
    const bytes = new Uint8Array(4 * 1024 * 1024 - 64);
    const head = pack(push([]));
    bytes.set(head.subarray(0, head.length - 1));
    // The state's array claims every remaining byte as an element, each an empty map (0x80).
    const at = head.length - 1;
    bytes[at] = 0xdd;
    new DataView(bytes.buffer).setUint32(at + 1, bytes.length - at - 5);
    bytes.fill(0x80, at + 5);
    const decoded = decodeGossipBody(bytes, ctx);
    expect(decoded.ok ? null : decoded.error.code).toBe('TOO_MANY_VALUES');
    expect(codecLimitsDefault.valuesPerFrameMax).toBeLessThan(bytes.length);
  });
});

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
