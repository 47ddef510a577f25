/**
 * What this proves: the gossip engine runs on a node as pages start it (`NodeHost.start` with
 * `protocols: ['gossip']`), over the frame router and an in-memory hub, with no Raft at all:
 *
 * - five gossip-only nodes, started with no voters, converge: each lists the four others alive
 *   (`members()`), and their membership events reached the host's listeners;
 * - a node that crashes (no goodbye) is declared dead by every other node (SWIM §4.2 suspicion
 *   timing out), and a node that stops gracefully is marked left by all without suspicion;
 * - the own incarnation is persisted before it is claimed: a node restarted from its storage
 *   joins with a higher incarnation than its last life announced, and is alive again for all;
 * - a gossip-only node answers Raft calls with CONFIG and shows zero Raft fields in its status.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GossipTestCluster, until } from './gossip-test-cluster.ts';

const ids = ['g1', 'g2', 'g3', 'g4', 'g5'];
let cluster: GossipTestCluster | null = null;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

describe('a gossip-only cluster of five', () => {
  it('converges on membership, with events', async () => {
    const c = (cluster = await GossipTestCluster.start(ids, { protocols: ['gossip'] }));
    await until('every node to see the four others alive', () => c.converged());
    for (const id of ids) {
      const members = c.node(id).host.members();
      expect(members[0]).toMatchObject({ id, self: true, state: 'alive' });
      expect(members.slice(1).map((m) => m.id)).toEqual(ids.filter((x) => x !== id));
      const seen = new Set(c.node(id).events.flatMap((e) => (e.type === 'member-changed' && e.state === 'alive' ? [e.member] : [])));
      for (const other of ids) expect(seen.has(other), `${id} heard ${other} become alive`).toBe(true);
      const status = c.node(id).host.status();
      expect(status.protocols).toEqual(['gossip']);
      expect(status.gossip?.members.alive).toBe(4);
      expect(status.voters).toEqual([]);
      const metrics = c.node(id).host.metrics();
      expect(metrics.gossip?.messagesReceived).toBeGreaterThan(0);
      expect(metrics.router.framesAccepted).toBeGreaterThan(0);
    }
  }, 30_000);

  it('declares a crashed node dead on every node, and a stopped one left', async () => {
    const c = (cluster = await GossipTestCluster.start(ids, { protocols: ['gossip'] }));
    await until('convergence', () => c.converged());
    await c.crash('g3');
    const others = ids.filter((id) => id !== 'g3');
    await until('every node to declare g3 dead', () => others.every((id) => c.view(id, 'g3')?.state === 'dead'));
    for (const id of others) {
      const changes = c.node(id).events.filter((e) => e.type === 'member-changed' && e.member === 'g3').map((e) => (e.type === 'member-changed' ? e.state : ''));
      expect(changes.at(-1)).toBe('dead');
    }
    const rest = others.filter((id) => id !== 'g5');
    const seenBefore = new Map(rest.map((id) => [id, c.node(id).events.length]));
    await c.stop('g5');
    await until('every node to mark g5 left', () => rest.every((id) => c.view(id, 'g5')?.state === 'left'));
    // Left on its word, not suspected first.
    for (const id of rest) {
      const since = c.node(id).events.slice(seenBefore.get(id));
      const g5 = since.flatMap((e) => (e.type === 'member-changed' && e.member === 'g5' ? [e.state] : []));
      expect(g5).toEqual(['left']);
    }
  }, 30_000);

  it('a restarted node rejoins above the incarnation it persisted', async () => {
    const c = (cluster = await GossipTestCluster.start(ids, { protocols: ['gossip'] }));
    await until('convergence', () => c.converged());
    const before = c.node('g2').gossipStorage.durable().incarnation;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(c.node('g2').host.status().gossip?.incarnation).toBe(before);
    await c.crash('g2');
    await until('g2 dead for all', () => ids.filter((id) => id !== 'g2').every((id) => c.view(id, 'g2')?.state === 'dead'));
    await c.boot('g2');
    await until('g2 alive again for all', () => c.converged());
    const after = c.node('g2').gossipStorage.durable().incarnation;
    expect(after).toBeGreaterThan(before);
    for (const id of ids.filter((x) => x !== 'g2')) expect(c.view(id, 'g2')?.incarnation).toBe(after);
  }, 30_000);

  it('has no Raft: Raft calls answer CONFIG', async () => {
    const c = (cluster = await GossipTestCluster.start(['solo'], { protocols: ['gossip'] }));
    const host = c.node('solo').host;
    expect(host.raft).toBeNull();
    await expect(host.propose(new Uint8Array(1))).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(host.read('local', 'k')).rejects.toMatchObject({ code: 'CONFIG' });
    const s = host.status();
    expect({ role: s.role, term: s.term, leader: s.leader, commit: s.commit }).toEqual({ role: 'follower', term: 0, leader: null, commit: 0 });
    // Alone, it is the first member: alive at once.
    expect(host.members()).toEqual([expect.objectContaining({ id: 'solo', state: 'alive', self: true })]);
  });
});
