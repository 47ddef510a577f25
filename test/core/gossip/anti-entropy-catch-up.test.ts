/**
 * Merkle anti-entropy catches up a node that is FAR behind (anti-entropy.ts): push off
 * (`deltaFanout` 0, so only anti-entropy moves data) and the default anti-entropy settings
 * (an exchange every 500 ticks, at most 64 answers per interval per responder, a tree of depth
 * 4). One node holds 1,500, 3,000 or 4,000 CRDTs and another none, or an old subset of them
 * (a third, at older values), or two full nodes and an empty one. Each case runs until every
 * Merkle root agrees, then checks the values, and counts the intervals and the anti-entropy
 * bytes (bodies encoded by the real codec) it took.
 *
 * The bounds are what a walk that continues where it stopped meets: to find N differing names
 * the walk asks about N/64 leaf batches and about as many level-3 batches, a few more above, and
 * a responder answers 64 requests per interval, so about N/2,048 intervals of walking, plus the
 * first interval (a phase up to one interval) and slack: ceil(N / 1,024) + 4. The bytes stay
 * within twice the states themselves plus 100 bytes of hashes and names per differing CRDT.
 */
import { describe, expect, it } from 'vitest';
import { crdtTypes } from '../../../src/core/crdt/crdt-types.ts';
import { gCounterEmpty, gCounterIncrement } from '../../../src/core/crdt/g-counter.ts';
import type { PersistedCrdt } from '../../../src/core/gossip/crdt-store.ts';
import { gossipDefaults } from '../../../src/core/gossip/config.ts';
import { encodeGossipBody } from '../../../src/io/codec-gossip.ts';
import { converged } from './crdt-workload.ts';
import { GossipNetwork, type Options } from './gossip-network.ts';

/** Push off; anti-entropy at its defaults (interval 500, timeout 200, 64 answers per interval). */
const pullOnly: Options = { deltaFanout: 0 };
const intervalTicks = gossipDefaults.antiEntropyIntervalTicks;

/** `count` G-Counters `c0`.., counter i counted up by replica `seed` to 1 + i + extra. */
function persisted(count: number, extra: number): Map<string, PersistedCrdt> {
  const disk = new Map<string, PersistedCrdt>();
  for (let i = 0; i < count; i++) {
    const r = gCounterIncrement(gCounterEmpty(), 'seed', 1 + i + extra);
    if (!r.ok) throw new Error(r.error.message);
    disk.set(`g-counter/c${i}`, { name: `c${i}`, crdt: 'g-counter', state: crdtTypes['g-counter'].encode(r.value) });
  }
  return disk;
}

/** Nodes booted from the given disks, joined through the first, with a full mesh. */
function swarm(disks: readonly Map<string, PersistedCrdt>[], seed = 1): GossipNetwork {
  const net = new GossipNetwork({ seed, config: pullOnly });
  const ids = disks.map((_, i) => `n${i}`);
  disks.forEach((disk, i) => {
    net.crdtDisk.set(`n${i}`, new Map(disk));
    net.add(`n${i}`);
  });
  net.join('n0', []);
  for (const id of ids.slice(1)) net.join(id, ['n0']);
  expect(net.runUntil(() => net.allAlive() && ids.every((id) => net.node(id).mesh().length === ids.length - 1), 500)).toBeGreaterThanOrEqual(0);
  return net;
}

interface CatchUp {
  readonly ticks: number;
  readonly intervals: number;
  readonly messages: number;
  readonly bytes: number;
  readonly timeouts: number;
}

/** Runs until every Merkle root agrees (or `intervalsMax` pass: ticks -1); the anti-entropy traffic it took. */
function catchUp(net: GossipNetwork, intervalsMax: number): CatchUp {
  const from = net.sent.length;
  const ids = net.running();
  const agree = (): boolean => ids.every((id) => net.node(id).crdtRootHash() === net.node(ids[0] as string).crdtRootHash());
  const ticks = net.runUntil(agree, intervalsMax * intervalTicks);
  let bytes = 0;
  let messages = 0;
  for (const s of net.sent.slice(from)) {
    if (s.m.type !== 'crdt-merkle' && s.m.type !== 'crdt-states') continue;
    messages++;
    bytes += encodeGossipBody(s.m).byteLength;
  }
  const timeouts = ids.reduce((sum, id) => sum + net.node(id).status().counters.antiEntropyTimeouts, 0);
  return { ticks, intervals: ticks < 0 ? -1 : Math.ceil(ticks / intervalTicks), messages, bytes, timeouts };
}

/** Bytes of every state of `disk` sent one per message: what the difference itself weighs. */
function statesBytes(disk: Map<string, PersistedCrdt>): number {
  let bytes = 0;
  for (const p of disk.values()) bytes += encodeGossipBody({ type: 'crdt-states', from: 'n0', to: 'n1', exchange: 1, states: [p], want: [] }).byteLength;
  return bytes;
}

function intervalsBound(differing: number): number {
  return Math.ceil(differing / 1024) + 4;
}

function bytesBound(full: Map<string, PersistedCrdt>, differing: number): number {
  return 2 * statesBytes(full) + 100 * differing;
}

describe('anti-entropy catches up a node far behind, push off', () => {
  for (const held of [1500, 3000, 4000]) {
    it(`a node holding none of ${held} CRDTs gets them all within ceil(N / 1,024) + 4 intervals`, () => {
      const full = persisted(held, 0);
      const net = swarm([full, new Map()]);
      const cost = catchUp(net, 4 * intervalsBound(held));
      console.log(JSON.stringify({ case: 'empty', held, ...cost, bound: intervalsBound(held), statesBytes: statesBytes(full) }));
      expect(cost.ticks).toBeGreaterThanOrEqual(0);
      expect(converged(net)).toBe(true);
      expect(net.node('n1').crdtValue(`c${held - 1}`, 'g-counter')).toBe(held);
      expect(cost.intervals).toBeLessThanOrEqual(intervalsBound(held));
      expect(cost.bytes).toBeLessThan(bytesBound(full, held));
    });
  }

  it('a node holding an old third of 3,000 CRDTs catches up (both sides start exchanges)', () => {
    const held = 3000;
    const full = persisted(held, 5);
    const old = persisted(held / 3, 0);
    const net = swarm([full, old]);
    const cost = catchUp(net, 4 * intervalsBound(held));
    console.log(JSON.stringify({ case: 'old-subset', held, ...cost, bound: intervalsBound(held), statesBytes: statesBytes(full) }));
    expect(cost.ticks).toBeGreaterThanOrEqual(0);
    expect(converged(net)).toBe(true);
    expect(net.node('n1').crdtValue('c0', 'g-counter')).toBe(1 + 5);
    expect(cost.intervals).toBeLessThanOrEqual(intervalsBound(held));
    expect(cost.bytes).toBeLessThan(bytesBound(full, held));
  });

  it('three nodes: two hold 3,000 CRDTs, the third none, and it catches up from both', () => {
    const held = 3000;
    const full = persisted(held, 0);
    const net = swarm([full, full, new Map()]);
    const cost = catchUp(net, 4 * intervalsBound(held));
    console.log(JSON.stringify({ case: 'three', held, ...cost, bound: intervalsBound(held), statesBytes: statesBytes(full) }));
    expect(cost.ticks).toBeGreaterThanOrEqual(0);
    expect(converged(net)).toBe(true);
    expect(cost.intervals).toBeLessThanOrEqual(intervalsBound(held));
    // Two senders may each send part of the same states: allow twice.
    expect(cost.bytes).toBeLessThan(2 * bytesBound(full, held));
  });
});
