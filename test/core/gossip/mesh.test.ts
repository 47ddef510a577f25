/**
 * The bounded-degree mesh (gossipsub v1.1's D, D_lo, D_hi). On the class: the heartbeat grafts
 * up to D below D_lo, prunes down to D above D_hi, drops members no longer live, and a pruned
 * peer is not grafted again during its backoff; a graft is refused at D_hi. On a swarm of 100
 * nodes (deterministic network, 2% loss): every node's degree is within [D_lo, D_hi], the mesh
 * becomes symmetric (a graft lost on the way is repaired by the next ping's mesh flag), each node
 * wants links to about D peers rather than 99, every probe and push goes
 * to a peer the sender asked a link to, and after 20 nodes crash the survivors' degrees come back
 * within [D_lo, D_hi]. With `probeBeyondMesh`, probes also reach members outside the mesh.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/core/prng.ts';
import { Mesh } from '../../../src/core/gossip/mesh.ts';
import { GossipNetwork } from './gossip-network.ts';

const degrees = { target: 3, low: 2, high: 5, backoffTicks: 10 };
const ids = (n: number): Set<string> => new Set(Array.from({ length: n }, (_, i) => `p${i}`));

describe('mesh (gossipsub v1.1)', () => {
  it('grafts up to D below D_lo, and drops members no longer live', () => {
    const mesh = new Mesh(degrees);
    const prng = createPrng(1);
    const first = mesh.heartbeat(ids(10), 0, prng);
    expect(first.graft).toHaveLength(3);
    expect(mesh.size).toBe(3);
    const gone = mesh.list()[0] as string;
    const live = ids(10);
    live.delete(gone);
    const second = mesh.heartbeat(live, 1, prng);
    expect(second.dropped).toEqual([gone]);
    // 2 left, not below D_lo: nothing grafted.
    expect(second.graft).toEqual([]);
  });

  it('accepts grafts above D_hi (up to 2·D_hi), and the heartbeat prunes back to D', () => {
    const mesh = new Mesh(degrees);
    for (const id of ids(12)) expect(mesh.acceptGraft(id, 0)).toBe(Number(id.slice(1)) < 2 * degrees.high);
    expect(mesh.size).toBe(2 * degrees.high);
    const r = mesh.heartbeat(ids(12), 1, createPrng(2));
    expect(r.prune).toHaveLength(2 * degrees.high - degrees.target);
    expect(mesh.size).toBe(degrees.target);
    // The pruned are backed off: their grafts are refused until the backoff ends.
    const pruned = r.prune[0] as string;
    expect(mesh.acceptGraft(pruned, 5)).toBe(false);
    expect(mesh.acceptGraft(pruned, 1 + degrees.backoffTicks)).toBe(true);
  });

  it('never grafts a peer it backs off from', () => {
    const mesh = new Mesh({ target: 2, low: 2, high: 4, backoffTicks: 10 });
    mesh.acceptGraft('a', 0);
    mesh.remove('a', 0);
    const r = mesh.heartbeat(new Set(['a', 'b']), 1, createPrng(3));
    expect(r.graft).toEqual(['b']);
  });
});

describe('mesh in a swarm of 100', () => {
  it('keeps every degree within [D_lo, D_hi], symmetric, with about D links per node, and recovers from 20 crashes', () => {
    const net = GossipNetwork.bootstrap(100, { seed: 4, loss: 0.02 }, (i) => [`n${Math.floor(i / 3)}`, 'n0']);
    expect(net.runUntil(() => net.allAlive(), 3000)).toBeGreaterThanOrEqual(0);
    const cfg = net.node('n0').config();
    // Grafts in flight or lost leave one-sided links for a moment; pings' mesh flags repair them.
    const symmetric = (): boolean => net.running().every((id) => net.node(id).mesh().every((peer) => net.node(peer).mesh().includes(id)));
    const check = (): void => {
      expect(net.runUntil(symmetric, 500)).toBeGreaterThanOrEqual(0);
      for (const id of net.running()) {
        const mesh = net.node(id).mesh();
        expect(mesh.length).toBeGreaterThanOrEqual(cfg.meshDegreeLow);
        expect(mesh.length).toBeLessThanOrEqual(cfg.meshDegreeHigh);
        const links = net.links.get(id) ?? [];
        expect(links.length).toBeLessThanOrEqual(2 * cfg.meshDegreeHigh + 1 + cfg.indirectProbesK + cfg.relaysPendingMax);
      }
    };
    check();
    const meanLinks = net.running().reduce((sum, id) => sum + (net.links.get(id)?.length ?? 0), 0) / 100;
    expect(meanLinks).toBeLessThan(2 * cfg.meshDegreeTarget);
    // Probes, relayed probes and pushes only ever go where the sender asked for a link.
    const from = net.sent.length;
    net.run(300);
    const unlinked = net.sent.slice(from).filter((s) => (s.m.type === 'ping' || s.m.type === 'ping-req' || s.m.type === 'push') && !s.linked);
    expect(unlinked).toEqual([]);
    for (let i = 10; i < 30; i++) net.crashed.add(`n${i}`);
    const live = net.running();
    expect(net.runUntil(() => live.every((v) => [...Array(20)].every((_, k) => net.stateOf(v, `n${10 + k}`) === 'dead')), 1000)).toBeGreaterThanOrEqual(0);
    net.run(3 * cfg.meshHeartbeatTicks);
    check();
  });

  it('with probeBeyondMesh (links are cheap), probes reach members outside the mesh too', () => {
    const net = GossipNetwork.bootstrap(30, { seed: 8, config: { probeBeyondMesh: true } });
    expect(net.runUntil(() => net.allAlive(), 400)).toBeGreaterThanOrEqual(0);
    const from = net.sent.length;
    net.run(400);
    const targets = new Set(net.sent.slice(from).filter((s) => s.m.type === 'ping' && s.m.from === 'n3' && !s.m.mesh).map((s) => s.m.to));
    expect(targets.size).toBeGreaterThan(5);
    // Each is asked for as a link while its probe runs.
    expect(net.sent.slice(from).filter((s) => s.m.type === 'ping' && !s.linked)).toEqual([]);
  });
});
