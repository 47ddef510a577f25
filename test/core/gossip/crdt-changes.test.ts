/**
 * What this proves: the per-update work of the data plane is in proportion to the change, and
 * durability still holds (replication.ts):
 *   - `crdt-changed` events carry what changed (crdt-change.ts): an OR-Map's touched fields with
 *     their values now and the fields removed, an OR-Set's elements added and removed, a
 *     counter's new value; local and remote alike; a delta that brings nothing raises no event.
 *   - A LOCAL change is written with its own Ready, never coalesced (merges from peers are, by
 *     `crdtPersistIntervalTicks`; not checked here); with 0, every Ready writes.
 *   - A node with no mesh neighbour (offline: its delta reached no one) writes every local change
 *     with the next Ready.
 */
import { describe, expect, it } from 'vitest';
import { crdtTypes } from '../../../src/core/crdt/crdt-types.ts';
import { createPrng } from '../../../src/core/prng.ts';
import type { CrdtChangedEvent } from '../../../src/core/gossip/events.ts';
import { GossipNode } from '../../../src/core/gossip/gossip-node.ts';
import type { GossipReady } from '../../../src/core/gossip/ready.ts';
import { fastTimings, GossipNetwork, type Options } from './gossip-network.ts';

function swarm(count: number, config: Options = {}): GossipNetwork {
  const net = GossipNetwork.bootstrap(count, { seed: 11, config });
  expect(net.runUntil(() => net.allAlive(), 3000)).toBeGreaterThanOrEqual(0);
  return net;
}

const set = (key: string, value: string, timestamp = 1) =>
  ({ local: 'crdt-update', name: 'board', op: { type: 'or-map', apply: { op: 'update', key, field: { type: 'lww-register', timestamp, value } } } }) as const;

function changes(rd: GossipReady): CrdtChangedEvent[] {
  return rd.events.filter((e): e is CrdtChangedEvent => e.kind === 'crdt-changed');
}

function take(node: GossipNode): GossipReady {
  const rd = node.ready();
  node.advance();
  return rd;
}

describe('crdt-changed events carry the change', () => {
  it('a map reports the fields touched with their values, and removed fields; a receiver hears the same', () => {
    const net = swarm(3);
    const node = net.node('n0');
    for (let i = 0; i < 20; i++) node.step(set(`k${i}`, `v${i}`));
    net.flush('n0');
    expect(net.runUntil(() => net.running().every((id) => net.node(id).crdtValue('board', 'or-map').length === 20), 500)).toBeGreaterThanOrEqual(0);
    const heardBefore = (net.events.get('n1') ?? []).length;
    node.step(set('k3', 'new', 2));
    node.step({ local: 'crdt-update', name: 'board', op: { type: 'or-map', apply: { op: 'remove', key: 'k7' } } });
    const expected = { kind: 'fields', updated: [{ key: 'k3', type: 'lww-register', value: 'new' }], removed: [{ key: 'k7', type: 'lww-register' }] };
    const logged = (net.events.get('n0') ?? []).length;
    net.flush('n0');
    const mine = (net.events.get('n0') ?? []).slice(logged).map((x) => x.e);
    expect(mine).toEqual([{ kind: 'crdt-changed', name: 'board', crdt: 'or-map', origin: 'local', change: expected }]);
    expect(net.runUntil(() => net.node('n1').crdtValue('board', 'or-map').length === 19, 500)).toBeGreaterThanOrEqual(0);
    net.run(20);
    // Every event n1 raised since: the one change, once (the same delta again, or anti-entropy's state, is no news).
    const heard = (net.events.get('n1') ?? []).slice(heardBefore).map((x) => x.e).filter((e) => e.kind === 'crdt-changed');
    expect(heard).toEqual([{ kind: 'crdt-changed', name: 'board', crdt: 'or-map', origin: 'remote', change: expected }]);
  });

  it('a set reports elements added and removed; a counter its new value', () => {
    const net = swarm(2);
    const node = net.node('n0');
    node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element: 'a' } });
    node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element: 'b' } });
    node.step({ local: 'crdt-update', name: 'hits', op: { type: 'pn-counter', add: 5 } });
    take(node);
    node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'remove', element: 'a' } });
    node.step({ local: 'crdt-update', name: 'tags', op: { type: 'or-set', op: 'add', element: 'c' } });
    node.step({ local: 'crdt-update', name: 'hits', op: { type: 'pn-counter', add: -2 } });
    expect(changes(take(node)).map((e) => e.change)).toEqual([
      { kind: 'elements', added: ['c'], removed: ['a'] },
      { kind: 'value', value: 3 },
    ]);
  });
});

describe('persistence is coalesced', () => {
  it('a local change is written with its own Ready, never coalesced, and its data leaves before the write', () => {
    // An edit must survive a reload: nothing tells us its push arrived (e2e/gossip.spec.ts lost
    // an offline edit across a reload while local changes were coalesced too).
    const net = swarm(3, { crdtPersistIntervalTicks: 50 });
    const node = net.node('n0');
    for (const [key, value] of [['a', '1'], ['b', '2'], ['c', '3']] as const) {
      node.step(set(key, value));
      const rd = take(node);
      expect(rd.crdts.map((c) => c.name)).toEqual(['board']);
      expect(rd.messagesBeforeWrite.some((m) => m.type === 'crdt-push')).toBe(true);
      const state = crdtTypes['or-map'].decode(rd.crdts[0]?.state);
      expect(state.ok && crdtTypes['or-map'].value(state.value).map((e) => e.key)).toContain(key);
    }
  });

  it('with crdtPersistIntervalTicks 0 every Ready writes', () => {
    const net = swarm(2, { crdtPersistIntervalTicks: 0 });
    const node = net.node('n0');
    for (const key of ['a', 'b', 'c']) {
      node.step(set(key, key));
      expect(take(node).crdts.map((c) => c.name)).toEqual(['board']);
    }
  });

  it('offline (no mesh neighbour), every local change is written with the next Ready', () => {
    const node = new GossipNode({ ...fastTimings, id: 'solo', prng: createPrng(3), crdtPersistIntervalTicks: 50 });
    for (const key of ['a', 'b', 'c']) {
      node.step(set(key, key));
      expect(take(node).crdts.map((c) => c.name)).toEqual(['board']);
    }
  });
});
