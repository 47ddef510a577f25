/**
 * What this proves: a gossip node may send a CRDT update's delta BEFORE the write that makes it
 * durable (gossip-node.ts, "a replica id per life"), because every life of a node mints under a
 * replica id of its own. On the deterministic gossip network, a node sends a delta and crashes
 * inside its write (the delta reached its peers, its disk never held it), restarts from the
 * older disk and updates again: its new life has another replica id, no dot or counter entry is
 * minted twice, and every node converges to every update (the set holds the lost add and the
 * new one; the counter holds the exact sum: a reused entry would hide increments under a max).
 * And a life's first update makes its number durable before any data of the life leaves.
 */
import { describe, expect, it } from 'vitest';
import { GossipNode, replicaOfLife } from '../../../src/core/gossip/gossip-node.ts';
import { createPrng } from '../../../src/core/prng.ts';
import { GossipNetwork } from './gossip-network.ts';

const data = { antiEntropyIntervalTicks: 40, antiEntropyTimeoutTicks: 30 };

function swarm(): GossipNetwork {
  const net = GossipNetwork.bootstrap(3, { seed: 11, config: data });
  expect(net.runUntil(() => net.allAlive(), 3000)).toBeGreaterThanOrEqual(0);
  return net;
}

function add(node: GossipNode, element: string, hits: number): void {
  expect(node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element } }).ok).toBe(true);
  expect(node.step({ local: 'crdt-update', name: 'hits', op: { type: 'g-counter', add: hits } }).ok).toBe(true);
}

describe('replica lives: data before the write, no dot minted twice', () => {
  it('a delta sent ahead of a write lost in a crash: the restarted life mints under a new id, and all converge to every update', () => {
    const net = swarm();
    const first = net.node('n1');
    const firstReplica = first.replicaId();
    add(first, 'a', 5);
    net.flush('n1');
    net.run(10);
    // Life 1 sends b's delta (+7) before its write, and crashes inside the write.
    add(first, 'b', 7);
    net.crashInWrite('n1');
    net.run(10);
    for (const id of ['n0', 'n2']) {
      expect(net.node(id).crdtValue('tags', 'or-set')).toEqual(['a', 'b']);
      expect(net.node(id).crdtValue('hits', 'g-counter')).toBe(12);
    }
    // Life 2 boots from the disk of life 1, which never held b.
    const second = net.restart('n1', ['n0']);
    expect(second.replicaId()).not.toBe(firstReplica);
    expect(second.crdtValue('tags', 'or-set')).toEqual(['a']);
    expect(second.crdtValue('hits', 'g-counter')).toBe(5);
    // It adds c (+11) at once: under life 1's id these would be dot (n1, 2) and entry 5 + 11,
    // both already "seen" by the peers holding b's dot (n1, 2) and entry 12.
    add(second, 'c', 11);
    net.flush('n1');
    const ticks = net.runUntil(
      () => ['n0', 'n1', 'n2'].every((id) => net.node(id).crdtValue('hits', 'g-counter') === 23 && net.node(id).crdtValue('tags', 'or-set').length === 3),
      2000,
    );
    expect(ticks).toBeGreaterThanOrEqual(0);
    for (const id of ['n0', 'n1', 'n2']) {
      expect(net.node(id).crdtValue('tags', 'or-set')).toEqual(['a', 'b', 'c']);
      expect(net.node(id).crdtValue('hits', 'g-counter')).toBe(23);
    }
    expect(net.node('n0').crdtRootHash()).toBe(net.node('n1').crdtRootHash());
  });

  it('a life is numbered one above the incarnation booted from; its first update makes that number durable before its data', () => {
    expect(replicaOfLife('n1', 1)).toBe('n1');
    expect(replicaOfLife('n1', 4)).not.toBe(replicaOfLife('n1', 5));
    const node = new GossipNode({ id: 'n1', prng: createPrng(3) }, { incarnation: 3 });
    expect(node.replicaId()).toBe(replicaOfLife('n1', 4));
    // Offline, not joined: the update alone asks for the life's number on disk.
    add(node, 'x', 1);
    const rd = node.ready();
    expect(rd.incarnation).toBe(4);
    expect(rd.mustPersist).toBe(true);
    node.advance();
    // The join announces that same incarnation (nothing new to persist for the life).
    node.step({ local: 'join', seeds: ['n0'] });
    expect(node.ready().incarnation).toBe(null);
  });
});
