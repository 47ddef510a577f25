/**
 * Failure detection (SWIM §3-§4 with Lifeguard): a crashed member is declared dead by EVERY live
 * member within a bound of probe periods, and no live member is wrongly declared dead meanwhile;
 * a member that only pauses (a throttled tab) is suspected, refutes with a higher incarnation
 * when it runs again (SWIM §4.2; Lifeguard's buddy system tells it at once, §IV-C), and is never
 * declared dead. A member that leaves is marked left everywhere, without a suspicion. Proved on
 * the deterministic network (gossip-network.ts), for several network seeds.
 */
import { describe, expect, it } from 'vitest';
import { GossipNetwork } from './gossip-network.ts';

function converged(net: GossipNetwork): void {
  expect(net.runUntil(() => net.allAlive(), 400)).toBeGreaterThanOrEqual(0);
  // Let the join's updates run out so what follows starts from a quiet swarm.
  net.run(100);
}

describe('gossip failure detection', () => {
  it.each([1, 2, 3, 4])('a crashed member is declared dead by every live member within 20 periods (seed %i)', (seed) => {
    const net = GossipNetwork.bootstrap(30, { seed, loss: 0.01 });
    converged(net);
    net.crashed.add('n7');
    const start = net.now;
    const live = net.running();
    const ticks = net.runUntil(() => live.every((v) => net.stateOf(v, 'n7') === 'dead'), 400);
    expect(ticks).toBeGreaterThanOrEqual(0);
    expect(ticks).toBeLessThanOrEqual(20 * 10);
    // Nobody else was declared dead on the way.
    const wrong = live.flatMap((id) => net.eventsAbout(id).filter((x) => x.tick > start && x.e.kind === 'member-changed' && x.e.state === 'dead'));
    expect(wrong).toEqual([]);
  });

  it.each([1, 2, 3])('a paused member is suspected, refutes when it runs again, and is never declared dead (seed %i)', (seed) => {
    const net = GossipNetwork.bootstrap(20, { seed, config: { suspicionMinTicks: 80, suspicionMaxTicks: 300 } });
    converged(net);
    const before = net.node('n3').status().incarnation;
    const start = net.now;
    net.paused.add('n3');
    // Until a live member suspects it: a few periods at most.
    const suspectedAfter = net.runUntil(() => net.running().some((v) => v !== 'n3' && net.stateOf(v, 'n3') === 'suspect'), 200);
    expect(suspectedAfter).toBeGreaterThanOrEqual(0);
    net.run(10);
    net.resume('n3');
    expect(net.runUntil(() => net.allAlive(), 200)).toBeGreaterThanOrEqual(0);
    expect(net.node('n3').status().incarnation).toBeGreaterThan(before);
    expect(net.node('n3').status().counters.refutations).toBeGreaterThan(0);
    const deaths = net.eventsAbout('n3').filter((x) => x.tick > start && x.e.kind === 'member-changed' && x.e.state === 'dead');
    expect(deaths).toEqual([]);
    // Everyone agrees on its new incarnation.
    const incarnation = net.node('n3').status().incarnation;
    for (const v of net.running()) if (v !== 'n3') expect(net.node(v).status().members.find((m) => m.id === 'n3')?.incarnation).toBe(incarnation);
  });

  it('a member that leaves is marked left by every member, never suspected', () => {
    const net = GossipNetwork.bootstrap(20, { seed: 5 });
    converged(net);
    const start = net.now;
    net.leave('n4');
    expect(net.node('n4').status().state).toBe('left');
    const live = net.running().filter((v) => v !== 'n4');
    const ticks = net.runUntil(() => live.every((v) => net.stateOf(v, 'n4') === 'left'), 100);
    expect(ticks).toBeGreaterThanOrEqual(0);
    const suspicions = net.eventsAbout('n4').filter((x) => x.tick > start && x.e.kind === 'member-changed' && (x.e.state === 'suspect' || x.e.state === 'dead'));
    expect(suspicions).toEqual([]);
  });

  it('a crashed member restarted from its disk rejoins at a higher incarnation and is alive everywhere', () => {
    const net = GossipNetwork.bootstrap(10, { seed: 6 });
    converged(net);
    net.crashed.add('n2');
    const live = net.running();
    expect(net.runUntil(() => live.every((v) => net.stateOf(v, 'n2') === 'dead'), 400)).toBeGreaterThanOrEqual(0);
    const dead = net.node('n0').status().members.find((m) => m.id === 'n2')?.incarnation ?? 0;
    net.restart('n2', ['n0']);
    expect(net.node('n2').status().incarnation).toBeGreaterThan(dead);
    expect(net.runUntil(() => net.allAlive(), 200)).toBeGreaterThanOrEqual(0);
  });
});
