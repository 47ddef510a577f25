/**
 * What this proves: the replication data plane runs on nodes as pages start them, through the
 * gossip host (local updates stepped as inputs, the changed CRDTs persisted with the incarnation
 * before their deltas leave, `crdt-changed` events), over the frame router:
 *
 * - five gossip-only nodes converge on an OR-Map, a PN-Counter and an OR-Set that all of them
 *   update concurrently (exact counter total), and remote changes arrive as events;
 * - a node cut off from the others (hub isolation, longer than a suspicion lasts) keeps taking
 *   updates, the others too, and after healing every node holds both sides' updates (the alone
 *   node joins its seeds again: `rejoinsAlone`). Found while writing it: the two sides heal only
 *   once each has FORGOTTEN the other (`deadRetainTicks`): a node that declared the others dead
 *   keeps them dead at their incarnation (SWIM §4.2), refuses their grafts with a prune that
 *   carries no updates, and so never tells them to refute; a core matter, reported;
 * - an update survives a crash: the node boots from its gossip storage with the CRDT as it was,
 *   and the others receive the update it made while they could not hear it;
 * - refusals are answered, not thrown at the engine: a bad op is CONFIG.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fastGossip, GossipTestCluster, until } from './gossip-test-cluster.ts';

const ids = ['g1', 'g2', 'g3', 'g4', 'g5'];
let cluster: GossipTestCluster | null = null;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

const mapValue = (c: GossipTestCluster, id: string): string => JSON.stringify(c.node(id).host.requireGossip().crdtValue('board', 'or-map'));
const sameEverywhere = (c: GossipTestCluster, f: (id: string) => string): boolean => {
  const values = c.running.map((n) => f(n.id));
  return values.every((v) => v === values[0]);
};
const set = (c: GossipTestCluster, id: string, key: string, value: string): void =>
  c.node(id).host.requireGossip().crdtUpdate('board', { type: 'or-map', apply: { op: 'update', key, field: { type: 'lww-register', timestamp: Date.now(), value } } });

describe('CRDTs on gossip nodes', () => {
  it('five nodes converge on a map, a counter and a set updated everywhere', async () => {
    const c = (cluster = await GossipTestCluster.start(ids, { protocols: ['gossip'] }));
    await until('membership', () => c.converged());
    for (const [i, id] of ids.entries()) {
      const g = c.node(id).host.requireGossip();
      set(c, id, `k${i}`, id);
      for (let k = 0; k <= i; k++) g.crdtUpdate('clicks', { type: 'pn-counter', add: 1 });
      g.crdtUpdate('tags', { type: 'or-set', op: 'add', element: id });
    }
    await until('every node to hold five keys', () => ids.every((id) => c.node(id).host.requireGossip().crdtValue('board', 'or-map').length === 5));
    await until('equal maps', () => sameEverywhere(c, (id) => mapValue(c, id)));
    await until('the exact counter total everywhere', () => ids.every((id) => c.node(id).host.requireGossip().crdtValue('clicks', 'pn-counter') === 15));
    await until('every tag everywhere', () => ids.every((id) => c.node(id).host.requireGossip().crdtValue('tags', 'or-set').length === 5));
    // Writes are coalesced (crdtPersistIntervalTicks): the last changes reach the disk within that interval.
    const durable = (id: string): string => JSON.stringify(c.node(id).gossipStorage.durable().crdts.map((x) => `${x.crdt}/${x.name}`).sort());
    await until('every CRDT durable everywhere', () => ids.every((id) => durable(id) === JSON.stringify(['or-map/board', 'or-set/tags', 'pn-counter/clicks'])));
    for (const id of ids) {
      const remote = c.node(id).events.filter((e) => e.type === 'crdt-changed' && e.origin === 'remote');
      expect(remote.length, `${id} heard remote changes`).toBeGreaterThan(0);
      expect(JSON.parse(durable(id))).toEqual(['or-map/board', 'or-set/tags', 'pn-counter/clicks']);
    }
  }, 30_000);

  it('a node cut off keeps editing, and both sides merge after healing', async () => {
    // Dead members are forgotten after 200 ticks here: until then the alone node keeps the others
    // dead at the incarnation they never had to raise, and refuses their grafts (see below).
    const c = (cluster = await GossipTestCluster.start(ids, { protocols: ['gossip'], extra: { gossip: { ...fastGossip, deadRetainTicks: 200 } } }));
    await until('membership', () => c.converged());
    set(c, 'g1', 'before', 'x');
    await until('the first key everywhere', () => ids.every((id) => c.node(id).host.requireGossip().crdtValue('board', 'or-map').length === 1));
    c.hub.isolate('g5');
    // Dead, or dead and already forgotten.
    const gone = (viewer: string, member: string): boolean => !['alive', 'suspect', 'joining'].includes(c.view(viewer, member)?.state ?? 'forgotten');
    await until('g5 alone', () => ids.slice(0, 4).every((id) => gone('g5', id)));
    set(c, 'g5', 'offline', 'from g5');
    set(c, 'g2', 'online', 'from g2');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.node('g1').host.requireGossip().crdtValue('board', 'or-map').map((e) => e.key)).not.toContain('offline');
    c.hub.heal();
    await until('both sides merged everywhere', () => ids.every((id) => c.node(id).host.requireGossip().crdtValue('board', 'or-map').length === 3), 20_000);
    await until('equal maps', () => sameEverywhere(c, (id) => mapValue(c, id)));
    expect(c.node('g5').host.metrics().gossip?.rejoinsAlone).toBeGreaterThanOrEqual(1);
  }, 40_000);

  it('an update survives a crash and reaches the others after the restart', async () => {
    const c = (cluster = await GossipTestCluster.start(ids, { protocols: ['gossip'] }));
    await until('membership', () => c.converged());
    c.hub.isolate('g3');
    set(c, 'g3', 'offline', 'kept');
    await until('the update durable on g3', () => c.node('g3').gossipStorage.durable().crdts.some((x) => x.name === 'board'));
    await c.crash('g3');
    c.hub.heal();
    const reborn = await c.boot('g3');
    // At boot, before hearing anyone: the CRDT as it was durable.
    expect(reborn.host.requireGossip().crdtValue('board', 'or-map')).toEqual([{ key: 'offline', type: 'lww-register', value: 'kept' }]);
    await until('the offline update everywhere', () => ids.every((id) => c.node(id).host.requireGossip().crdtValue('board', 'or-map').some((e) => e.key === 'offline')), 20_000);
  }, 40_000);

  it('answers a bad op with CONFIG', async () => {
    const c = (cluster = await GossipTestCluster.start(['solo'], { protocols: ['gossip'] }));
    const g = c.node('solo').host.requireGossip();
    expect(() => g.crdtUpdate('n', { type: 'pn-counter', add: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(() => g.crdtUpdate('', { type: 'pn-counter', add: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    expect(g.crdtValue('n', 'pn-counter')).toBe(0);
  });
});
