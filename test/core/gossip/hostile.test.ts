/**
 * Hostile input: the validator refuses every malformed message with a typed code (unknown types
 * and kinds, missing and extra fields, wrong types, unsafe integers, incarnations above
 * `incarnationMax`, seqs above `seqMax`, overlong arrays, bad ids, contradictions), and the engine
 * never throws on it, answers `dropped` and counts it per code. Well-formed but hostile messages
 * are counted too: strangers' messages, incarnation jumps (about others and about ourselves),
 * floods of new ids against `membersMax`, of ping-reqs against `relaysPendingMax`, of suspecters
 * against k, of joins against `syncRepliesPerPeriodMax`. A seeded fuzzer of 20,000 random
 * inputs leaves every structure within its bound.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import { incarnationJumpMax, incarnationMax, seqMax } from '../../../src/core/gossip/limits.ts';
import type { GossipInput } from '../../../src/core/gossip/local-input.ts';
import { readGossipMessage, type GossipRefusalCode } from '../../../src/core/gossip/validate-gossip.ts';
import { Solo } from './solo.ts';

const ping = { type: 'ping', from: 'b', to: 'a', seq: 1, mesh: false, updates: [] };
const alive = { kind: 'alive', member: 'c', incarnation: 1 };

const cases: [string, unknown, GossipRefusalCode][] = [
  ['null', null, 'NOT_A_MAP'],
  ['an array', [ping], 'NOT_A_MAP'],
  ['a class instance', new Date(0), 'NOT_A_MAP'],
  ['no type', { from: 'b', to: 'a' }, 'BAD_FIELDS'],
  ['an unknown type', { ...ping, type: 'hello' }, 'UNKNOWN_TYPE'],
  ['an unknown update kind', { ...ping, updates: [{ ...alive, kind: 'zombie' }] }, 'UNKNOWN_TYPE'],
  ['a missing field', { type: 'ping', from: 'b', to: 'a', seq: 1, updates: [] }, 'BAD_FIELDS'],
  ['an extra field', { ...ping, admin: true }, 'BAD_FIELDS'],
  ['a string seq', { ...ping, seq: '1' }, 'BAD_VALUE'],
  ['a float seq', { ...ping, seq: 1.5 }, 'BAD_VALUE'],
  ['seq 0', { ...ping, seq: 0 }, 'OUT_OF_RANGE'],
  ['a negative seq', { ...ping, seq: -1 }, 'OUT_OF_RANGE'],
  ['seq above seqMax', { ...ping, seq: seqMax + 1 }, 'OUT_OF_RANGE'],
  ['an unsafe integer', { ...ping, seq: 2 ** 60 }, 'OUT_OF_RANGE'],
  ['NaN', { ...ping, seq: Number.NaN }, 'BAD_VALUE'],
  ['incarnation 2^53 - 1', { ...ping, updates: [{ ...alive, incarnation: Number.MAX_SAFE_INTEGER }] }, 'OUT_OF_RANGE'],
  ['incarnation above incarnationMax', { type: 'join', from: 'b', to: 'a', incarnation: incarnationMax + 1 }, 'OUT_OF_RANGE'],
  ['65 updates', { ...ping, updates: Array.from({ length: 65 }, () => alive) }, 'TOO_MANY_ITEMS'],
  ['a million updates', { ...ping, updates: new Array(1_000_000) }, 'TOO_MANY_ITEMS'],
  ['513 sync entries', { type: 'sync', from: 'b', to: 'a', wantReply: false, members: Array.from({ length: 513 }, (_, i) => ({ member: `m${i}`, incarnation: 1, state: 'alive' })) }, 'TOO_MANY_ITEMS'],
  ['an empty id', { ...ping, from: '' }, 'BAD_ID'],
  ['an id of 129 units', { ...ping, from: 'x'.repeat(129) }, 'BAD_ID'],
  ['a control character in an id', { ...ping, from: 'b\n' }, 'BAD_ID'],
  ['a bidi override in an id', { ...ping, updates: [{ ...alive, member: 'c\u202e' }] }, 'BAD_ID'],
  ['a lone surrogate in an id', { ...ping, from: 'b\ud800' }, 'BAD_ID'],
  ['a number for an id', { ...ping, to: 7 }, 'BAD_ID'],
  ['a non-boolean mesh flag', { ...ping, mesh: 1 }, 'BAD_VALUE'],
  ['a ping-req for its own sender', { type: 'ping-req', from: 'b', to: 'a', seq: 1, target: 'b', updates: [] }, 'INCONSISTENT'],
  ['a sync naming a member twice', { type: 'sync', from: 'b', to: 'a', wantReply: false, members: [{ member: 'c', incarnation: 1, state: 'alive' }, { member: 'c', incarnation: 2, state: 'alive' }] }, 'INCONSISTENT'],
  ['a suspect update without its suspecter', { ...ping, updates: [{ kind: 'suspect', member: 'c', incarnation: 1 }] }, 'BAD_FIELDS'],
];

describe('validator and engine refuse malformed messages', () => {
  it.each(cases)('%s -> %s', (_name, input, code) => {
    const read = readGossipMessage(input);
    expect(read.ok ? 'accepted' : read.error.code).toBe(code);
    const solo = new Solo(['s', 'b']);
    expect(solo.node.step(input as GossipInput)).toEqual({ ok: true, value: { kind: 'dropped', code } });
    expect(solo.node.status().counters.refused[code]).toBe(1);
  });

  it('rebuilds what it accepts: no extra reference to the input survives', () => {
    const input = { ...ping, updates: [{ ...alive }] };
    const read = readGossipMessage(input);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value).toEqual(input);
    expect(read.value).not.toBe(input);
    expect(read.value.type === 'ping' ? read.value.updates[0] : null).not.toBe(input.updates[0]);
  });
});

describe('engine bounds against well-formed hostile messages', () => {
  it('counts messages from strangers and lets them change nothing', () => {
    const solo = new Solo(['s', 'b']);
    const before = solo.node.status().members.length;
    solo.node.step({ type: 'push', from: 'evil', to: 'a', updates: [{ kind: 'dead', member: 'b', incarnation: 1, by: 'evil' }] });
    solo.node.step({ type: 'graft', from: 'evil', to: 'a' });
    solo.node.step({ type: 'leave', from: 'evil', to: 'a', incarnation: 1 });
    solo.node.step({ type: 'ping-req', from: 'evil', to: 'a', seq: 1, target: 'b', updates: [] });
    const s = solo.node.status();
    expect(s.counters.messagesFromNonMembers).toBe(4);
    expect(s.members.length).toBe(before);
    expect(solo.member('b')?.state).toBe('alive');
    expect(s.mesh).not.toContain('evil');
    // A stranger's ping is acknowledged without news, and asked for its list.
    solo.node.step({ type: 'ping', from: 'evil', to: 'a', seq: 9, mesh: true, updates: [{ kind: 'dead', member: 'b', incarnation: 1, by: 'evil' }] });
    solo.drain();
    expect(solo.member('b')?.state).toBe('alive');
    expect(solo.sent.filter((m) => m.to === 'evil').map((m) => m.type)).toEqual(['ack', 'sync']);
  });

  it('refuses an incarnation jump about another member, and about itself', () => {
    const solo = new Solo(['s', 'b']);
    solo.push('s', [{ kind: 'suspect', member: 'b', incarnation: 1 + incarnationJumpMax + 1, by: 's' }]);
    expect(solo.member('b')).toMatchObject({ state: 'alive', incarnation: 1 });
    solo.push('s', [{ kind: 'suspect', member: 'a', incarnation: incarnationMax, by: 's' }]);
    expect(solo.node.status().incarnation).toBe(1);
    expect(solo.node.status().counters.incarnationJumpsRefused).toBe(2);
    // A jump within the bound (a former life's incarnation) is refuted above it.
    solo.push('s', [{ kind: 'suspect', member: 'a', incarnation: 5, by: 's' }]);
    expect(solo.node.status().incarnation).toBe(6);
  });

  it('keeps at most membersMax members, however many a sync names', () => {
    const solo = new Solo(['s'], { membersMax: 50 });
    for (let round = 0; round < 5; round++) {
      const members = Array.from({ length: 500 }, (_, i) => ({ member: `x${round}-${i}`, incarnation: 1, state: 'alive' as const }));
      solo.node.step({ type: 'sync', from: 's', to: 'a', members, wantReply: false });
    }
    const s = solo.node.status();
    expect(s.members.length).toBe(50);
    expect(s.counters.membersRefused).toBe(5 * 500 - 49);
  });

  it('runs at most relaysPendingMax relays, and answers at most syncRepliesPerPeriodMax joins a period', () => {
    const peers = ['s', ...Array.from({ length: 40 }, (_, i) => `p${i}`)];
    const solo = new Solo(peers, { relaysPendingMax: 4, syncRepliesPerPeriodMax: 3 });
    for (let i = 0; i < 20; i++) solo.node.step({ type: 'ping-req', from: 's', to: 'a', seq: i + 1, target: `p${i}`, updates: [] });
    expect(solo.node.status().counters.relaysRefused).toBe(16);
    for (let i = 0; i < 10; i++) solo.node.step({ type: 'join', from: `j${i}`, to: 'a', incarnation: 1 });
    solo.drain();
    expect(solo.sent.filter((m) => m.type === 'sync').length).toBe(3);
    expect(solo.node.status().counters.syncsRefused).toBe(7);
  });

  it('a thousand suspecters count as k confirmations', () => {
    const peers = ['s', 'b', ...Array.from({ length: 100 }, (_, i) => `p${i}`)];
    const solo = new Solo(peers, { suspicionConfirmationsK: 3 });
    for (let i = 0; i < 1000; i++) solo.push('s', [{ kind: 'suspect', member: 'b', incarnation: 1, by: `p${i % 100}` }]);
    expect(solo.member('b')?.confirmations).toBe(3);
  });
});

describe('fuzz', () => {
  it('20,000 random inputs: no throw, every structure within its bound', () => {
    const prng = createPrng(7);
    const peers = ['s', 'b', 'c', 'd'];
    const solo = new Solo(peers, { membersMax: 64, broadcastQueueMax: 32, relaysPendingMax: 4, outboxMessagesMax: 256, eventsPendingMax: 256 });
    for (let i = 0; i < 20_000; i++) {
      expect(() => solo.node.step(randomInput(prng) as GossipInput)).not.toThrow();
      if (i % 50 === 0) solo.node.tick();
      if (i % 500 === 0) solo.drain();
    }
    const s = solo.node.status();
    expect(s.members.length).toBeLessThanOrEqual(64);
    expect(s.queued).toBeLessThanOrEqual(32);
    const rd = solo.node.hasReady() ? solo.node.ready() : null;
    expect(rd?.messages.length ?? 0).toBeLessThanOrEqual(256);
    expect(rd?.events.length ?? 0).toBeLessThanOrEqual(256);
  });
});

const ids = ['a', 'b', 'c', 's', 'x', '', 'evil', 'd'];
const types = ['ping', 'ack', 'ping-req', 'nack', 'push', 'join', 'sync', 'graft', 'prune', 'leave', 'zzz'];
const kinds = ['alive', 'suspect', 'dead', 'left', 'zombie'];

function pick<T>(prng: Prng, xs: readonly T[]): T {
  return xs[prng.nextInt(xs.length)] as T;
}

function randomNumber(prng: Prng): unknown {
  return pick(prng, [0, 1, 2, 3, 7, -1, 1.5, 2 ** 48, 2 ** 53, Number.NaN, '1', null, prng.nextInt(10)]);
}

function randomUpdate(prng: Prng): unknown {
  const u: Record<string, unknown> = { kind: pick(prng, kinds), member: pick(prng, ids), incarnation: randomNumber(prng) };
  if (prng.nextInt(2) === 0) u['by'] = pick(prng, ids);
  return u;
}

function randomInput(prng: Prng): unknown {
  const m: Record<string, unknown> = { type: pick(prng, types), from: pick(prng, ids), to: prng.nextInt(4) === 0 ? pick(prng, ids) : 'a' };
  for (const key of ['seq', 'incarnation']) if (prng.nextInt(2) === 0) m[key] = randomNumber(prng);
  if (prng.nextInt(2) === 0) m['target'] = pick(prng, ids);
  if (prng.nextInt(2) === 0) m['mesh'] = prng.nextInt(3) === 0 ? 1 : true;
  if (prng.nextInt(2) === 0) m['wantReply'] = prng.nextInt(2) === 0;
  if (prng.nextInt(2) === 0) m['updates'] = Array.from({ length: prng.nextInt(6) }, () => randomUpdate(prng));
  if (prng.nextInt(3) === 0) {
    m['members'] = Array.from({ length: prng.nextInt(6) }, () => ({ member: `${pick(prng, ids)}${prng.nextInt(1000)}`, incarnation: randomNumber(prng), suspect: prng.nextInt(2) === 0 }));
  }
  return m;
}
