/**
 * Lifeguard's Local Health Multiplier (§IV-A): the score is clamped to 0..healthScoreMax and
 * stretches timeouts by score + 1; it RISES when this node's probes go unanswered and no relay
 * even nacks (the evidence that the problem is here, not there), and when it must refute a
 * suspicion of itself; it FALLS again with acknowledged probes. Proved on the class, on one
 * engine, and on the deterministic network with one node made deaf (it sends, hears nothing):
 * its score climbs to the maximum, its probe period stretches accordingly, and once it hears
 * again the score returns to 0.
 */
import { describe, expect, it } from 'vitest';
import { LocalHealth } from '../../../src/core/gossip/local-health.ts';
import { GossipNetwork } from './gossip-network.ts';
import { Solo } from './solo.ts';

describe('local health (Lifeguard §IV-A)', () => {
  it('clamps to 0..max and scales timeouts by score + 1', () => {
    const h = new LocalHealth(8);
    h.apply(-3);
    expect(h.score).toBe(0);
    expect(h.scale(10)).toBe(10);
    h.apply(3);
    expect(h.scale(10)).toBe(40);
    h.apply(100);
    expect(h.score).toBe(8);
    expect(h.scale(10)).toBe(90);
  });

  it('refuting a suspicion of ourselves raises it', () => {
    const solo = new Solo(['s', 'b', 'c']);
    solo.push('b', [{ kind: 'suspect', member: 'a', incarnation: 1, by: 'b' }]);
    expect(solo.node.status().healthScore).toBe(1);
    expect(solo.node.status().incarnation).toBe(2);
  });

  it('a deaf node scores itself down to the maximum, probes less often, and recovers once it hears again', () => {
    const net = GossipNetwork.bootstrap(12, { seed: 3 }, () => ['n0'], );
    expect(net.runUntil(() => net.allAlive(), 400)).toBeGreaterThanOrEqual(0);
    net.run(50);
    expect(net.node('n5').status().healthScore).toBe(0);
    net.deaf.add('n5');
    const max = net.node('n5').config().healthScoreMax;
    expect(net.runUntil(() => net.node('n5').status().healthScore === max, 600)).toBeGreaterThanOrEqual(0);
    // At the maximum, one period lasts (max + 1) base periods: count its pings over a window.
    const from = net.sent.length;
    const window = 10 * (max + 1) * 4;
    net.run(window);
    const pings = net.sent.slice(from).filter((s) => s.m.from === 'n5' && s.m.type === 'ping').length;
    expect(pings).toBeLessThanOrEqual(5);
    expect(pings).toBeGreaterThanOrEqual(3);
    net.heal();
    expect(net.runUntil(() => net.node('n5').status().healthScore === 0, 2000)).toBeGreaterThanOrEqual(0);
  });
});
