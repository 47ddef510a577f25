/**
 * The replication data plane converges (issue 12, "Replicated data without order"): on the
 * deterministic gossip network of 5 and 25 nodes, with loss and delay, random concurrent updates
 * of every CRDT type (counters, registers, an OR-Set, a nested OR-Map) made at random nodes end
 * with every node holding the same states (equal Merkle roots and values) within a bound of
 * ticks after the updates stop, and the counters hold exactly the sum of every increment made
 * (nothing lost, nothing counted twice). A partitioned group keeps editing and both sides
 * converge after the heal; a node restarted from what its Readies persisted keeps the edits it
 * made offline and merges them. Pushes alone (no anti-entropy) spread a delta to most of a
 * 25-node swarm within a few ticks, and anti-entropy to the rest; a Ready persists the changed
 * CRDTs and lets data messages leave before that write (a node's life is durable since its
 * join; replica-lives.test.ts proves why that is safe); a node boots from what it persisted.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/core/prng.ts';
import { converged, snapshot, Workload } from './crdt-workload.ts';
import { GossipNetwork, type NetworkOptions, type Options } from './gossip-network.ts';

/** Anti-entropy on the tests' fast timescale (a probe period is 10 ticks). */
const data: Options = { antiEntropyIntervalTicks: 40, antiEntropyTimeoutTicks: 30 };

function swarm(count: number, options: NetworkOptions): GossipNetwork {
  const net = GossipNetwork.bootstrap(count, { ...options, config: { ...data, ...options.config } });
  expect(net.runUntil(() => net.allAlive(), 3000)).toBeGreaterThanOrEqual(0);
  return net;
}

/** `count` random updates, one every `everyTicks` ticks at a random running node. */
function edit(net: GossipNetwork, work: Workload, count: number, everyTicks: number, seed: number, ids: readonly string[] = net.running()): void {
  const prng = createPrng(seed);
  for (let i = 0; i < count; i++) {
    const id = ids[prng.nextInt(ids.length)] as string;
    work.update(net.node(id), net.now);
    net.flush(id);
    net.run(everyTicks);
  }
}

function expectTotals(net: GossipNetwork, work: Workload): void {
  for (const id of net.running()) {
    const node = net.node(id);
    expect(node.crdtValue('hits', 'g-counter')).toBe(work.totals.get('hits') ?? 0);
    expect(node.crdtValue('balance', 'pn-counter')).toBe(work.totals.get('balance') ?? 0);
  }
}

describe('replication: every CRDT type converges', () => {
  it.each([
    [5, 1],
    [5, 2],
    [25, 1],
    [25, 2],
  ])('%i nodes (seed %i), loss 0.05, delay 1-3: 300 random concurrent updates converge within 400 ticks', (count, seed) => {
    const net = swarm(count, { seed, loss: 0.05, delayMin: 1, delayMax: 3 });
    const work = new Workload(createPrng(seed * 31));
    edit(net, work, 300, 1, seed);
    const ticks = net.runUntil(() => converged(net), 400);
    expect(ticks).toBeGreaterThanOrEqual(0);
    expectTotals(net, work);
  });

  it.each([3, 4, 5])('push alone, flooding the mesh (the default), takes one update to all 25 nodes within 15 ticks, each node pushing it once per mesh link at most (seed %i)', (seed) => {
    const net = swarm(25, { seed, config: { antiEntropyIntervalTicks: 100_000 } });
    const before = net.sent.length;
    const r = net.node('n7').step({ local: 'crdt-update', name: 'hits', op: { type: 'g-counter', add: 2 } });
    expect(r.ok).toBe(true);
    net.flush('n7');
    net.run(15);
    const reached = net.running().filter((id) => net.node(id).crdtValue('hits', 'g-counter') === 2);
    expect(reached).toHaveLength(25);
    const pushes = net.sent.slice(before).filter((s) => s.m.type === 'crdt-push');
    const pairs = new Set(pushes.map((s) => `${s.m.from}>${s.m.to}`));
    // No link carried the update twice, and no node sent it back to the node it came from first.
    expect(pairs.size).toBe(pushes.length);
    expect(pushes.every((s) => s.linked)).toBe(true);
    expect(net.node('n0').status().counters.antiEntropyStarted).toBe(0);
  });

  it.each([3, 4, 5])("push alone with the seed design's fanout 3, TTL 5, takes one update to at least 20 of 25 nodes within 15 ticks, each node forwarding it at most 3 times (seed %i)", (seed) => {
    const net = swarm(25, { seed, config: { antiEntropyIntervalTicks: 100_000, deltaFanout: 3 } });
    const before = net.sent.length;
    const r = net.node('n7').step({ local: 'crdt-update', name: 'hits', op: { type: 'g-counter', add: 2 } });
    expect(r.ok).toBe(true);
    net.flush('n7');
    net.run(15);
    const reached = net.running().filter((id) => net.node(id).crdtValue('hits', 'g-counter') === 2);
    expect(reached.length).toBeGreaterThanOrEqual(20);
    const pushes = net.sent.slice(before).filter((s) => s.m.type === 'crdt-push');
    const bySender = new Map<string, number>();
    for (const s of pushes) bySender.set(s.m.from, (bySender.get(s.m.from) ?? 0) + 1);
    expect(Math.max(...bySender.values())).toBeLessThanOrEqual(3);
    // Pushes go over mesh links only.
    expect(pushes.every((s) => s.linked)).toBe(true);
    expect(net.node('n0').status().counters.antiEntropyStarted).toBe(0);
  });

  it('batching pushes over deltaFlushTicks (1, 10, 30) cuts messages per update (25 nodes, 100 updates over 200 ticks)', () => {
    const cost = [1, 10, 30].map((deltaFlushTicks) => {
      const net = swarm(25, { seed: 9, loss: 0.02, delayMin: 1, delayMax: 3, config: { deltaFlushTicks } });
      const work = new Workload(createPrng(99));
      const from = net.sent.length;
      edit(net, work, 100, 2, 10);
      const ticks = net.runUntil(() => converged(net), 400);
      const pushes = net.sent.slice(from).filter((s) => s.m.type === 'crdt-push').length;
      return { deltaFlushTicks, ticks, pushesPerUpdate: pushes / 100, converged: converged(net) };
    });
    console.log(JSON.stringify({ nodes: 25, updates: 100, cost }));
    for (const c of cost) expect(c.converged).toBe(true);
    const [each, ten, thirty] = cost as [(typeof cost)[0], (typeof cost)[0], (typeof cost)[0]];
    expect(ten.pushesPerUpdate).toBeLessThan(each.pushesPerUpdate);
    expect(thirty.pushesPerUpdate).toBeLessThan(ten.pushesPerUpdate);
  });

  it('anti-entropy completes what push missed: with fanout 1 and TTL 1 one update still reaches all 25 nodes', () => {
    const net = swarm(25, { seed: 6, config: { deltaFanout: 1, deltaTtlHops: 1 } });
    net.node('n7').step({ local: 'crdt-update', name: 'hits', op: { type: 'g-counter', add: 2 } });
    net.flush('n7');
    const ticks = net.runUntil(() => net.running().every((id) => net.node(id).crdtValue('hits', 'g-counter') === 2), 1000);
    expect(ticks).toBeGreaterThanOrEqual(0);
  });
});

describe('replication: partitions and restarts', () => {
  // The partition is shorter than the suspicion timeout: each side holds the other suspect, not
  // dead. (A partition long enough for both sides to declare each other dead and forget them
  // splits the membership view itself, which no data-plane mechanism can heal.)
  it('a partitioned group keeps editing; both sides converge after the heal', () => {
    const net = swarm(10, { seed: 4, loss: 0.02, delayMin: 1, delayMax: 2, config: { suspicionMinTicks: 2000, suspicionMaxTicks: 4000 } });
    const left = net.running().slice(0, 4);
    const right = net.running().slice(4);
    for (const a of left) for (const b of right) net.cut(a, b);
    const work = new Workload(createPrng(44));
    // Both sides edit concurrently, each within itself.
    edit(net, work, 60, 2, 5, left);
    edit(net, work, 60, 2, 6, right);
    expect(net.runUntil(() => converged(net, left) && converged(net, right), 400)).toBeGreaterThanOrEqual(0);
    expect(snapshot(net.node(left[0] as string))).not.toBe(snapshot(net.node(right[0] as string)));
    net.heal();
    const ticks = net.runUntil(() => converged(net), 600);
    expect(ticks).toBeGreaterThanOrEqual(0);
    expectTotals(net, work);
  });

  it('a node restarted from its persisted CRDTs keeps the edits it made offline and merges them', () => {
    const net = swarm(5, { seed: 5, loss: 0.02 });
    const work = new Workload(createPrng(55));
    edit(net, work, 40, 1, 7);
    expect(net.runUntil(() => converged(net), 400)).toBeGreaterThanOrEqual(0);
    // n3 goes offline (hears and says nothing) and edits; then its page reloads (a crash: memory lost).
    net.deaf.add('n3');
    net.muted.add('n3');
    edit(net, work, 30, 1, 8, ['n3']);
    edit(net, work, 30, 1, 9, ['n0', 'n1', 'n2', 'n4']);
    const offline = snapshot(net.node('n3'));
    net.crashed.add('n3');
    net.heal();
    net.run(50);
    const restarted = net.restart('n3', ['n0']);
    // Booted from disk alone: what it held when it went down, offline edits included.
    expect(snapshot(restarted)).toBe(offline);
    expect(net.runUntil(() => converged(net), 1500)).toBeGreaterThanOrEqual(0);
    expectTotals(net, work);
  });
});

describe('replication: the Ready', () => {
  it('persists the changed CRDTs whole, sends their data before the write (the life is durable since the join); reports one event per CRDT', () => {
    const net = swarm(3, { seed: 6 });
    const node = net.node('n1');
    node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element: 'x' } });
    node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element: 'y' } });
    node.step({ local: 'crdt-update', name: 'hits', op: { type: 'g-counter', add: 3 } });
    expect(node.hasReady()).toBe(true);
    const rd = node.ready();
    expect(rd.mustPersist).toBe(true);
    expect(rd.crdts.map((c) => `${c.crdt}/${c.name}`).sort()).toEqual(['g-counter/hits', 'or-set/tags']);
    const pushes = rd.messages.filter((m) => m.type === 'crdt-push');
    expect(pushes.length).toBeGreaterThan(0);
    // A lost write loses nothing a restart could mint again: the next life has a replica id of its own (gossip-node.ts).
    expect(rd.messagesBeforeWrite.filter((m) => m.type === 'crdt-push')).toEqual(pushes);
    expect(rd.messagesAfterWrite).toEqual([]);
    // The two adds to `tags` left as one delta (a delta group) per neighbour.
    for (const p of pushes) if (p.type === 'crdt-push') expect(p.deltas.filter((d) => d.name === 'tags')).toHaveLength(1);
    const changed = rd.events.filter((e) => e.kind === 'crdt-changed');
    expect(changed).toEqual([
      { kind: 'crdt-changed', name: 'tags', crdt: 'or-set', origin: 'local', change: { kind: 'elements', added: ['x', 'y'], removed: [] } },
      { kind: 'crdt-changed', name: 'hits', crdt: 'g-counter', origin: 'local', change: { kind: 'value', value: 3 } },
    ]);
    node.advance();
  });

  it('crdt-open holds an empty CRDT: nothing to persist or send, its value empty, opened once', () => {
    const net = swarm(2, { seed: 10 });
    const node = net.node('n0');
    expect(node.step({ local: 'crdt-open', name: 'draft', crdt: 'lww-register' })).toEqual({ ok: true, value: { kind: 'accepted' } });
    expect(node.step({ local: 'crdt-open', name: 'draft', crdt: 'lww-register' })).toEqual({ ok: true, value: { kind: 'unchanged' } });
    expect(node.hasReady()).toBe(false);
    expect(node.crdtValue('draft', 'lww-register')).toBeUndefined();
    expect(node.crdtNames()).toEqual([{ name: 'draft', crdt: 'lww-register' }]);
    // Empty is absent: the Merkle roots of the two nodes still agree.
    expect(node.crdtRootHash()).toBe(net.node('n1').crdtRootHash());
  });

  it('a Ready persisting only merges from peers lets the forwards leave at once', () => {
    const net = swarm(4, { seed: 7 });
    const node = net.node('n1');
    const from = node.mesh()[0] as string;
    node.step({ type: 'crdt-push', from, to: 'n1', deltas: [{ name: 'hits', crdt: 'g-counter', ttl: 5, state: [from, 4] }] });
    node.tick();
    const rd = node.ready();
    expect(rd.crdts).toEqual([{ name: 'hits', crdt: 'g-counter', state: [from, 4] }]);
    expect(rd.mustPersist).toBe(true);
    expect(rd.events.filter((e) => e.kind === 'crdt-changed')).toEqual([{ kind: 'crdt-changed', name: 'hits', crdt: 'g-counter', origin: 'remote', change: { kind: 'value', value: 4 } }]);
    const forwards = rd.messagesBeforeWrite.filter((m) => m.type === 'crdt-push');
    expect(forwards.length).toBeGreaterThan(0);
    expect(rd.messagesAfterWrite).toEqual([]);
    node.advance();
  });

  it('boots from persisted CRDTs: values, the Merkle root, and no Ready to persist them again', () => {
    const net = swarm(2, { seed: 8 });
    net.node('n0').step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element: 'x' } });
    net.node('n0').step({ local: 'crdt-update', name: 'board', op: { type: 'or-map', apply: { op: 'update', key: 'k', field: { type: 'mv-register', value: 1 } } } });
    net.flush('n0');
    const root = net.node('n0').crdtRootHash();
    net.crashed.add('n0');
    const node = net.add('n0');
    expect(node.crdtRootHash()).toBe(root);
    expect(node.crdtValue('tags', 'or-set')).toEqual(['x']);
    expect(node.crdtValue('board', 'or-map')).toEqual([{ key: 'k', type: 'mv-register', value: [1] }]);
    expect(node.hasReady()).toBe(false);
  });
});
