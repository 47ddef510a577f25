/**
 * Merkle anti-entropy in the engine (anti-entropy.ts): it repairs nodes that missed pushes
 * (push disabled, or a node deaf for a while under push), and what it sends grows with the
 * number of differing CRDTs, not with how many are held. Two nodes boot from the same 2,000
 * persisted CRDTs with push off; k = 1, 10, 100 of them then change at one node only, and every
 * anti-entropy message sent until both hold the same states is encoded by the real codec and
 * counted: the bytes grow with k (and are far below the 2,000 states), and k changes cost about
 * the same whether 200 or 2,000 CRDTs are held. Two nodes already equal exchange one request
 * and one answer per interval and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { crdtTypes } from '../../../src/core/crdt/crdt-types.ts';
import { gCounterEmpty, gCounterIncrement } from '../../../src/core/crdt/g-counter.ts';
import type { PersistedCrdt } from '../../../src/core/gossip/crdt-store.ts';
import { encodeGossipBody } from '../../../src/io/codec-gossip.ts';
import { converged } from './crdt-workload.ts';
import { GossipNetwork, type Options } from './gossip-network.ts';

/** Anti-entropy alone, on the tests' timescale. */
const pullOnly: Options = { deltaFanout: 0, antiEntropyIntervalTicks: 40, antiEntropyTimeoutTicks: 30 };

/** `count` G-Counters `c0`.., each counted up by a replica `seed` to a different value. */
function persisted(count: number): Map<string, PersistedCrdt> {
  const disk = new Map<string, PersistedCrdt>();
  for (let i = 0; i < count; i++) {
    const r = gCounterIncrement(gCounterEmpty(), 'seed', 1 + i);
    if (!r.ok) throw new Error(r.error.message);
    disk.set(`g-counter/c${i}`, { name: `c${i}`, crdt: 'g-counter', state: crdtTypes['g-counter'].encode(r.value) });
  }
  return disk;
}

/** Nodes booted from the same persisted CRDTs, joined and with equal stores. */
function twins(ids: readonly string[], held: number, config: Options, seed = 1): GossipNetwork {
  const net = new GossipNetwork({ seed, config });
  const disk = persisted(held);
  for (const id of ids) {
    net.crdtDisk.set(id, new Map(disk));
    net.add(id);
  }
  net.join(ids[0] as string, []);
  for (const id of ids.slice(1)) net.join(id, [ids[0] as string]);
  expect(net.runUntil(() => net.allAlive() && ids.every((id) => net.node(id).mesh().length === ids.length - 1), 500)).toBeGreaterThanOrEqual(0);
  expect(converged(net)).toBe(true);
  return net;
}

/** Bytes of the anti-entropy messages (encoded bodies) handed to the network from `from` on. */
function antiEntropyBytes(net: GossipNetwork, from: number): { messages: number; bytes: number } {
  let bytes = 0;
  let messages = 0;
  for (const s of net.sent.slice(from)) {
    if (s.m.type !== 'crdt-merkle' && s.m.type !== 'crdt-states') continue;
    messages++;
    bytes += encodeGossipBody(s.m).byteLength;
  }
  return { messages, bytes };
}

/** Change `k` of the held CRDTs at `id` only, then run until all nodes agree; the anti-entropy traffic it took. */
function repair(net: GossipNetwork, id: string, k: number, held: number): { ticks: number; messages: number; bytes: number } {
  const from = net.sent.length;
  for (let i = 0; i < k; i++) {
    // Spread over the store: every (held/k)th counter.
    const r = net.node(id).step({ local: 'crdt-update', name: `c${Math.floor((i * held) / k)}`, op: { type: 'g-counter', add: 7 } });
    expect(r.ok).toBe(true);
  }
  net.flush(id);
  const ticks = net.runUntil(() => converged(net), 2000);
  return { ticks, ...antiEntropyBytes(net, from) };
}

describe('anti-entropy', () => {
  it('two equal nodes exchange one request and one answer per interval each, nothing more', () => {
    const net = twins(['n0', 'n1'], 2000, pullOnly);
    const from = net.sent.length;
    net.run(400);
    const { messages, bytes } = antiEntropyBytes(net, from);
    // 400 ticks = 10 intervals, two initiators: 20 exchanges of 2 messages.
    expect(messages).toBeLessThanOrEqual(2 * 2 * 11);
    expect(bytes / messages).toBeLessThan(200);
    expect(net.node('n0').status().counters.antiEntropyNamesDiffering).toBe(0);
  });

  it('repairs with push disabled: the bytes grow with the differing CRDTs (1, 10, 100 of 2,000), not with the 2,000', () => {
    const costs = [1, 10, 100].map((k) => {
      const net = twins(['n0', 'n1'], 2000, pullOnly);
      const cost = repair(net, 'n1', k, 2000);
      expect(cost.ticks).toBeGreaterThanOrEqual(0);
      expect(net.node('n0').crdtValue('c0', 'g-counter')).toBe(1 + 7);
      return cost;
    });
    const full = [...persisted(2000).values()].reduce((sum, p) => sum + encodeGossipBody({ type: 'crdt-states', from: 'n1', to: 'n0', exchange: 1, states: [p], want: [] }).byteLength, 0);
    console.log(JSON.stringify({ held: 2000, differing: [1, 10, 100], bytes: costs.map((c) => c.bytes), messages: costs.map((c) => c.messages), ticks: costs.map((c) => c.ticks), fullStatesBytes: full }));
    const [one, ten, hundred] = costs as [(typeof costs)[0], (typeof costs)[0], (typeof costs)[0]];
    expect(one.bytes).toBeLessThan(ten.bytes);
    expect(ten.bytes).toBeLessThan(hundred.bytes);
    // Per differing CRDT: a few hundred bytes of hashes (16 per level of the path) and its state.
    expect(hundred.bytes / 100).toBeLessThan(1200);
    expect(hundred.bytes).toBeLessThan(full / 2);
  });

  it('keeps at most antiEntropyRequestsInFlightMax requests of an exchange in flight', () => {
    const net = twins(['n0', 'n1'], 2000, { ...pullOnly, antiEntropyRequestsInFlightMax: 1 });
    const from = net.sent.length;
    expect(repair(net, 'n1', 300, 2000).ticks).toBeGreaterThanOrEqual(0);
    const outstanding = new Map<string, number>();
    let most = 0;
    for (const { m } of net.sent.slice(from)) {
      if (m.type !== 'crdt-merkle' || !Array.isArray(m.message)) continue;
      const tag = m.message[0];
      // Requests (tags 0, 2) count up at their asker; answers (1, 3) count down at the one they answer.
      const asker = tag === 0 || tag === 2 ? m.from : m.to;
      const n = (outstanding.get(asker) ?? 0) + (tag === 0 || tag === 2 ? 1 : -1);
      outstanding.set(asker, n);
      most = Math.max(most, n);
    }
    expect(most).toBe(1);
  });

  it('the cost of 10 differing CRDTs hardly depends on how many are held (200 or 2,000)', () => {
    const small = repair(twins(['n0', 'n1'], 200, pullOnly), 'n1', 10, 200);
    const large = repair(twins(['n0', 'n1'], 2000, pullOnly), 'n1', 10, 2000);
    expect(small.ticks).toBeGreaterThanOrEqual(0);
    expect(large.ticks).toBeGreaterThanOrEqual(0);
    expect(large.bytes).toBeLessThan(small.bytes * 1.5);
  });

  it('repairs a node that was deaf to pushes: 5 nodes with push on, one misses 50 updates, anti-entropy fills it in', () => {
    const net = twins(['n0', 'n1', 'n2', 'n3', 'n4'], 100, { antiEntropyIntervalTicks: 40, antiEntropyTimeoutTicks: 30, suspicionMinTicks: 2000, suspicionMaxTicks: 4000 });
    net.deaf.add('n4');
    for (let i = 0; i < 50; i++) {
      const id = `n${i % 4}`;
      net.node(id).step({ local: 'crdt-update', name: `c${i}`, op: { type: 'g-counter', add: 1 } });
      net.flush(id);
      net.run(1);
    }
    net.run(20);
    expect(converged(net, ['n0', 'n1', 'n2', 'n3'])).toBe(true);
    expect(converged(net)).toBe(false);
    const before = net.node('n4').status().counters;
    net.heal();
    expect(net.runUntil(() => converged(net), 400)).toBeGreaterThanOrEqual(0);
    const after = net.node('n4').status().counters;
    expect(after.statesMerged - before.statesMerged).toBeGreaterThanOrEqual(50);
  });
});
