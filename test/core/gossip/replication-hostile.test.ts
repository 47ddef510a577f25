/**
 * Hostile data-plane input: the validator refuses malformed data messages with typed codes
 * (unknown CRDT types, maps, NaN or undefined inside a state, states nested too deep, more values
 * than a message may hold, a million deltas, 4 MiB of empty maps, overlong names, TTLs and
 * exchange numbers out of range), and the engine never throws on them. Well-formed messages with
 * absurd states (unsafe and duplicate counts, 2,000 replicas, dots outside their context, a state
 * of another type) are refused by the registry's decode, counted by reason, and change nothing;
 * strangers' data is counted and ignored; a peer's states never grow the store past `crdtsMax`;
 * Merkle requests past our bounds, past the answer budget, garbage and unasked-for answers are
 * counted. Local updates the CRDTs cannot take are typed refusals. A seeded fuzzer of 5,000
 * random data messages leaves the node within every bound.
 */
import { describe, expect, it } from 'vitest';
import { encodeMerkleMessage } from '../../../src/core/crdt/merkle-messages.ts';
import { dataValuesPerMessageMax } from '../../../src/core/gossip/limits.ts';
import type { GossipInput } from '../../../src/core/gossip/local-input.ts';
import { readGossipMessage, type GossipRefusalCode } from '../../../src/core/gossip/validate-gossip.ts';
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import { Solo } from './solo.ts';

const push = (deltas: unknown): Record<string, unknown> => ({ type: 'crdt-push', from: 'b', to: 'a', deltas });
const delta = (state: unknown, crdt = 'g-counter', name = 'n', ttl = 3): Record<string, unknown> => ({ name, crdt, ttl, state });
let tooDeep: unknown = [];
for (let i = 0; i < 6; i++) tooDeep = [tooDeep];

const cases: [string, unknown, GossipRefusalCode][] = [
  ['an unknown CRDT type', push([delta([], 'hyper-log-log')]), 'UNKNOWN_TYPE'],
  ['a CRDT type that is not a string', push([delta([], 7 as unknown as string)]), 'BAD_FIELDS'],
  ['a map as a state', push([delta({ b: 1 })]), 'BAD_VALUE'],
  ['a map inside a state', push([delta(['b', { valueOf: 1 }])]), 'BAD_VALUE'],
  ['undefined inside a state (a sparse array)', push([delta(new Array(3))]), 'BAD_VALUE'],
  ['NaN inside a state', push([delta(['b', Number.NaN])]), 'BAD_VALUE'],
  ['Infinity inside a state', push([delta(['b', Number.POSITIVE_INFINITY])]), 'BAD_VALUE'],
  ['a BigInt inside a state', push([delta(['b', 10n])]), 'BAD_VALUE'],
  ['a string longer than any register holds', push([delta(['x'.repeat(70_000)])]), 'BAD_VALUE'],
  ['a state nested six arrays deep', push([delta(tooDeep)]), 'BAD_VALUE'],
  ['more values of state than a message holds', push([delta(new Array(dataValuesPerMessageMax).fill(1)), delta([1])]), 'TOO_MANY_ITEMS'],
  ['a state of 4 Mi empty maps (refused on its length, unwalked)', push([delta(new Array(4 * 1024 * 1024).fill({}))]), 'TOO_MANY_ITEMS'],
  ['4 Mi empty maps as deltas', push(new Array(4 * 1024 * 1024).fill({})), 'TOO_MANY_ITEMS'],
  ['a million deltas', push(new Array(1_000_000)), 'TOO_MANY_ITEMS'],
  ['a delta missing its TTL', push([{ name: 'n', crdt: 'or-set', state: [] }]), 'BAD_FIELDS'],
  ['a delta with an extra field', push([{ ...delta([]), admin: true }]), 'BAD_FIELDS'],
  ['a TTL of 17 hops', push([delta([], 'or-set', 'n', 17)]), 'OUT_OF_RANGE'],
  ['a negative TTL', push([delta([], 'or-set', 'n', -1)]), 'OUT_OF_RANGE'],
  ['an empty name', push([delta([], 'or-set', '')]), 'BAD_VALUE'],
  ['a name of 1,001 bytes', push([delta([], 'or-set', 'n'.repeat(1001))]), 'BAD_VALUE'],
  ['a name with a lone surrogate', push([delta([], 'or-set', 'a\ud800')]), 'BAD_VALUE'],
  ['deltas that are not a list', push({ 0: delta([]) }), 'BAD_VALUE'],
  ['exchange 0', { type: 'crdt-merkle', from: 'b', to: 'a', exchange: 0, message: [0, 0, [0]] }, 'OUT_OF_RANGE'],
  ['exchange 2^53', { type: 'crdt-states', from: 'b', to: 'a', exchange: 2 ** 53, states: [], want: [] }, 'OUT_OF_RANGE'],
  ['2,000 names wanted', { type: 'crdt-states', from: 'b', to: 'a', exchange: 1, states: [], want: new Array(2000).fill({ name: 'n', crdt: 'or-set' }) }, 'TOO_MANY_ITEMS'],
  ['a Merkle message that is a map', { type: 'crdt-merkle', from: 'b', to: 'a', exchange: 1, message: { type: 'hashes' } }, 'BAD_VALUE'],
];

describe('the validator refuses malformed data messages', () => {
  it.each(cases)('%s', (_name, value, code) => {
    const r = readGossipMessage(value);
    expect(r.ok ? null : r.error.code).toBe(code);
  });

  it('refuses and counts them in the engine, which never throws and changes nothing', () => {
    const solo = new Solo(['s', 'b']);
    for (const [, value, code] of cases) {
      const before = solo.node.status().counters.refused[code];
      expect(solo.node.step(value as GossipInput)).toEqual({ ok: true, value: { kind: 'dropped', code } });
      expect(solo.node.status().counters.refused[code]).toBe(before + 1);
    }
    expect(solo.node.crdtNames()).toEqual([]);
  });
});

describe('the engine refuses absurd states by decode, counted by reason', () => {
  const absurd: [string, string, unknown, string][] = [
    ['a count of 2^53', 'g-counter', ['b', 2 ** 53], 'integer'],
    ['a replica twice', 'g-counter', ['b', 1, 'b', 2], 'duplicate'],
    ['2,000 replicas in one counter', 'g-counter', Array.from({ length: 2000 }, (_, i) => [`r${String(i).padStart(5, '0')}`, 1]).flat(), 'too-many'],
    ['a dot outside its context', 'or-set', [['b'], ['x', 1, 0, 5], [], []], 'inconsistent'],
    ['an OR-Set state sent as a G-Counter', 'g-counter', [['b'], ['x', 1, 0, 5], [0, 5], []], 'shape'],
    ['a register holding a list', 'lww-register', [1, 'b', ['x']], 'value'],
  ];

  it.each(absurd)('%s', (_name, crdt, state, reason) => {
    const solo = new Solo(['s', 'b']);
    expect(() => solo.node.step(push([delta(state, crdt)]) as GossipInput)).not.toThrow();
    solo.drain();
    const c = solo.node.status().counters;
    expect(c.crdtRefused[reason as keyof typeof c.crdtRefused]).toBe(1);
    expect(solo.node.crdtNames()).toEqual([]);
    expect(solo.sent.some((m) => m.type === 'crdt-push')).toBe(false);
  });

  it('a valid delta beside a refused one in the same push still merges', () => {
    const solo = new Solo(['s', 'b']);
    solo.node.step(push([delta(['b', 2 ** 53]), delta(['b', 4], 'g-counter', 'ok')]) as GossipInput);
    expect(solo.node.crdtValue('ok', 'g-counter')).toBe(4);
    expect(solo.node.status().counters.crdtRefused.integer).toBe(1);
  });

  it("ignores a stranger's data, and data sent to another node", () => {
    const solo = new Solo(['s', 'b']);
    solo.node.step({ type: 'crdt-push', from: 'evil', to: 'a', deltas: [{ name: 'n', crdt: 'g-counter', ttl: 5, state: ['evil', 9] }] });
    solo.node.step({ type: 'crdt-push', from: 'b', to: 'c', deltas: [{ name: 'n', crdt: 'g-counter', ttl: 5, state: ['b', 9] }] });
    const c = solo.node.status().counters;
    expect(c.messagesFromNonMembers).toBe(1);
    expect(c.messagesMisrouted).toBe(1);
    expect(solo.node.crdtNames()).toEqual([]);
  });

  it("never holds more than crdtsMax CRDTs, however many a peer's states name", () => {
    const solo = new Solo(['s', 'b'], { crdtsMax: 10 });
    const deltas = Array.from({ length: 100 }, (_, i) => delta(['b', 1], 'g-counter', `n${i}`));
    solo.node.step(push(deltas) as GossipInput);
    expect(solo.node.status().crdts).toBe(10);
    expect(solo.node.status().counters.crdtsRefused).toBe(90);
    // A local update of a new CRDT is refused too; one of a held CRDT is taken.
    expect(solo.node.step({ local: 'crdt-update', name: 'mine', op: { type: 'g-counter', add: 1 } })).toMatchObject({ ok: false, error: { reason: 'crdts-full', code: 'TOO_LARGE' } });
    expect(solo.node.step({ local: 'crdt-update', name: 'n0', op: { type: 'g-counter', add: 1 } }).ok).toBe(true);
  });

  it('drops a duplicate delta unread, and forwards a delta only while it is news', () => {
    const solo = new Solo(['s', 'b', 'c', 'd']);
    solo.tick(30);
    const d = delta(['b', 3], 'g-counter', 'n', 5);
    solo.node.step(push([d]) as GossipInput);
    solo.node.step(push([d]) as GossipInput);
    // Another delta, but one the state already covers (b's count 2 is below its 3): stale, not forwarded.
    solo.node.step(push([{ ...d, state: ['b', 2] }]) as GossipInput);
    solo.tick(1);
    const c = solo.node.status().counters;
    expect(c.deltasDuplicate).toBe(1);
    expect(c.statesMerged).toBe(1);
    expect(c.statesStale).toBe(1);
    const forwards = solo.sent.filter((m) => m.type === 'crdt-push');
    expect(forwards.length).toBeGreaterThan(0);
    for (const m of forwards) if (m.type === 'crdt-push') expect(m.deltas).toEqual([{ ...d, ttl: 4 }]);
    expect(forwards.some((m) => m.to === 'b')).toBe(false);
  });
});

describe('anti-entropy refuses what is past its bounds', () => {
  const merkle = (message: unknown, exchange = 1): GossipInput => ({ type: 'crdt-merkle', from: 'b', to: 'a', exchange, message }) as GossipInput;

  it('answers at most antiEntropyAnswersPerIntervalMax requests, and refuses requests larger than its own', () => {
    const solo = new Solo(['s', 'b'], { antiEntropyAnswersPerIntervalMax: 5 });
    solo.node.step({ local: 'crdt-update', name: 'n', op: { type: 'g-counter', add: 1 } });
    solo.drain();
    const sentBefore = solo.sent.length;
    for (let i = 0; i < 20; i++) solo.node.step(merkle(encodeMerkleMessage({ type: 'hashes-request', level: 0, nodes: [0] }), i + 1));
    solo.node.step(merkle(encodeMerkleMessage({ type: 'hashes-request', level: 3, nodes: Array.from({ length: 1024 }, (_, i) => i) })));
    solo.drain();
    const answers = solo.sent.slice(sentBefore).filter((m) => m.type === 'crdt-merkle');
    const c = solo.node.status().counters;
    expect(answers.length).toBeLessThanOrEqual(5);
    expect(c.antiEntropyAnswersRefused).toBeGreaterThanOrEqual(15);
    expect(c.antiEntropyRefused).toBeGreaterThanOrEqual(0);
  });

  it('answers a flood of wanted names within the answer budget and the message bounds', () => {
    const solo = new Solo(['s', 'b'], { antiEntropyAnswersPerIntervalMax: 3, dataMessageBytesMax: 4096 });
    for (let i = 0; i < 300; i++) solo.node.step({ local: 'crdt-update', name: `n${i}`, op: { type: 'lww-register', timestamp: 1, value: 'v'.repeat(100) } });
    solo.drain();
    const sentBefore = solo.sent.length;
    const want = Array.from({ length: 300 }, (_, i) => ({ name: `n${i}`, crdt: 'lww-register' }));
    for (let i = 0; i < 10; i++) solo.node.step({ type: 'crdt-states', from: 'b', to: 'a', exchange: i + 1, states: [], want } as GossipInput);
    solo.drain();
    const answers = solo.sent.slice(sentBefore).filter((m) => m.type === 'crdt-states');
    expect(answers.length).toBe(3);
    for (const m of answers) if (m.type === 'crdt-states') expect(JSON.stringify(m.states).length).toBeLessThan(4096);
    expect(solo.node.status().counters.antiEntropyAnswersRefused).toBeGreaterThanOrEqual(9);
  });

  it('counts garbage Merkle messages, requests that do not fit the tree, and answers to nothing', () => {
    const solo = new Solo(['s', 'b']);
    solo.node.step(merkle([9, 9, 9]));
    solo.node.step(merkle(encodeMerkleMessage({ type: 'hashes-request', level: 7, nodes: [0] })));
    solo.node.step(merkle(encodeMerkleMessage({ type: 'hashes', level: 0, nodes: [0], hashes: new Array(16).fill(1) })));
    const c = solo.node.status().counters;
    expect(c.antiEntropyRefused).toBe(2);
    expect(c.antiEntropyUnexpected).toBe(1);
  });
});

describe('local updates the CRDTs cannot take are typed refusals', () => {
  const refusals: [string, unknown, string, string][] = [
    ['an empty name', { local: 'crdt-update', name: '', op: { type: 'g-counter', add: 1 } }, 'crdt-argument', 'CONFIG'],
    ['a name that is not a string', { local: 'crdt-update', name: 5, op: { type: 'g-counter', add: 1 } }, 'crdt-argument', 'CONFIG'],
    ['an unknown type', { local: 'crdt-update', name: 'n', op: { type: 'hll', add: 1 } }, 'crdt-argument', 'CONFIG'],
    ['an op that is not an object', { local: 'crdt-update', name: 'n', op: null }, 'crdt-argument', 'CONFIG'],
    ['an OR-Set op that is neither add, remove nor clear', { local: 'crdt-update', name: 'n', op: { type: 'or-set', op: 'explode', element: 'x' } }, 'crdt-argument', 'CONFIG'],
    ['an OR-Map update without a field', { local: 'crdt-update', name: 'n', op: { type: 'or-map', apply: { op: 'update', key: 'k' } } }, 'crdt-argument', 'CONFIG'],
    ['a G-Counter decrement', { local: 'crdt-update', name: 'n', op: { type: 'g-counter', add: -1 } }, 'crdt-argument', 'CONFIG'],
    ['an increment past countMax', { local: 'crdt-update', name: 'n', op: { type: 'g-counter', add: 2 ** 41 } }, 'crdt-argument', 'TOO_LARGE'],
    ['a NaN timestamp', { local: 'crdt-update', name: 'n', op: { type: 'lww-register', timestamp: Number.NaN, value: 1 } }, 'crdt-argument', 'CONFIG'],
    ['an unknown type to open', { local: 'crdt-open', name: 'n', crdt: 'hll' }, 'crdt-argument', 'CONFIG'],
  ];

  it.each(refusals)('%s', (_name, input, reason, code) => {
    const solo = new Solo([]);
    const r = solo.node.step(input as GossipInput);
    expect(r.ok ? null : [r.error.reason, r.error.code]).toEqual([reason, code]);
    expect(solo.node.crdtNames()).toEqual([]);
  });

  /** Booted from a persisted OR-Set of `count` elements (its encoding written directly: building it by adds costs O(n²)). */
  function bigSet(count: number, elementBytes: number, crdtStateBytesMax: number): Solo {
    const store: (string | number)[] = [];
    for (let i = 0; i < count; i++) store.push(element(i, elementBytes), 1, 0, i + 1);
    const state = [['a'], store, [0, count], []];
    return new Solo([], { crdtStateBytesMax }, 'a', 0, [{ name: 'big', crdt: 'or-set', state }]);
  }
  const element = (i: number, bytes: number): string => `${i}`.padStart(bytes, 'x');

  it.each([
    // 8,170 elements of four values each are 32,680 values, 88 below stateValuesMax.
    ['stateValuesMax (elements of 6 bytes)', 8170, 6, 1024 * 1024],
    // 70 elements of 900 bytes are about 63,500 bytes, 2 KiB below crdtStateBytesMax.
    ['crdtStateBytesMax (elements of 900 bytes)', 70, 900, 64 * 1024],
  ])('refuses an update that would make a state past %s, keeping the state before it', (_name, count, elementBytes, crdtStateBytesMax) => {
    const solo = bigSet(count, elementBytes, crdtStateBytesMax);
    expect(solo.node.crdtValue('big', 'or-set')).toHaveLength(count);
    let refusal = null;
    let taken = 0;
    for (let i = count; i < count + 100 && refusal === null; i++) {
      const r = solo.node.step({ local: 'crdt-update', name: 'big', op: { type: 'or-set', op: 'add', element: element(i, elementBytes) } });
      if (r.ok) taken++;
      else refusal = r.error;
    }
    expect(refusal).toMatchObject({ reason: 'crdt-too-large', code: 'TOO_LARGE' });
    expect(taken).toBeGreaterThan(0);
    solo.drain();
    expect(solo.node.crdtValue('big', 'or-set')).toHaveLength(count + taken);
    // What was persisted is within the bound.
    const last = solo.readies.flatMap((rd) => rd.crdts).filter((c) => c.name === 'big').at(-1);
    expect(JSON.stringify(last?.state).length).toBeLessThan(crdtStateBytesMax * 1.1);
  });
});

describe('fuzz', () => {
  it('5,000 random data messages: no throw, the store within its bound', () => {
    const prng = createPrng(11);
    const solo = new Solo(['s', 'b', 'c'], { crdtsMax: 32, outboxMessagesMax: 256, deltasPendingMax: 64 });
    for (let i = 0; i < 5000; i++) {
      expect(() => solo.node.step(randomDataMessage(prng) as GossipInput)).not.toThrow();
      if (i % 25 === 0) solo.node.tick();
      if (i % 200 === 0) solo.drain();
    }
    expect(solo.node.status().crdts).toBeLessThanOrEqual(32);
  });
});

function pick<T>(prng: Prng, xs: readonly T[]): T {
  return xs[prng.nextInt(xs.length)] as T;
}

const scalars: unknown[] = [0, 1, -1, 2 ** 40, 2 ** 53, 1.5, Number.NaN, 'b', 's', '', 'x', null, true];

function randomState(prng: Prng, depth: number): unknown {
  if (depth > 3 || prng.nextInt(3) === 0) return pick(prng, scalars);
  return Array.from({ length: prng.nextInt(6) }, () => randomState(prng, depth + 1));
}

function randomDataMessage(prng: Prng): unknown {
  const from = pick(prng, ['b', 's', 'c', 'evil']);
  const crdt = pick(prng, ['g-counter', 'pn-counter', 'lww-register', 'mv-register', 'or-set', 'or-map', 'zz']);
  const item = { name: `n${prng.nextInt(50)}`, crdt, ttl: prng.nextInt(7), state: randomState(prng, 0) };
  switch (prng.nextInt(3)) {
    case 0:
      return { type: 'crdt-push', from, to: 'a', deltas: [item] };
    case 1:
      return { type: 'crdt-merkle', from, to: 'a', exchange: 1 + prng.nextInt(3), message: randomState(prng, 0) };
    default:
      return { type: 'crdt-states', from, to: 'a', exchange: 1 + prng.nextInt(3), states: [{ name: item.name, crdt, state: item.state }], want: [{ name: item.name, crdt }] };
  }
}
