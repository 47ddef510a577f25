/**
 * Joining: every member learns every other one after joining through a seed. Proved on the
 * deterministic network (gossip-network.ts): 8 nodes all through one seed, then 40 nodes through
 * a few seeds each under 5% loss and 1-3 ticks of delay, for several seeds of the network; each
 * must see all others alive within a bound of probe periods. Also: a node with no seeds is alive
 * at once, a joiner stays `joining` until a seed answers, and join retries reach a seed that
 * starts late.
 */
import { describe, expect, it } from 'vitest';
import { GossipNetwork } from './gossip-network.ts';

/** Round trips of up to 6 ticks, relayed ones up to 12: a longer period and probe timeout. */
const slowLinks = { probeIntervalTicks: 20, probeTimeoutTicks: 7 };

describe('gossip join', () => {
  it('a node with no seeds is the first member, alive at once', () => {
    const net = new GossipNetwork();
    net.add('a');
    net.join('a', []);
    expect(net.node('a').status().state).toBe('alive');
    expect(net.node('a').status().incarnation).toBe(1);
  });

  it('8 nodes joining through one seed all learn each other', () => {
    const net = GossipNetwork.bootstrap(8);
    const ticks = net.runUntil(() => net.allAlive(), 300);
    expect(ticks).toBeGreaterThanOrEqual(0);
    for (const id of net.running()) expect(net.node(id).status().state).toBe('alive');
  });

  it.each([1, 2, 3])('40 nodes through a few seeds, loss 0.05, delay 1-3 (seed %i) converge within 15 periods', (seed) => {
    const net = GossipNetwork.bootstrap(40, { seed, loss: 0.05, delayMin: 1, delayMax: 3, config: slowLinks }, (i) => [`n${Math.floor(i / 2)}`, 'n0']);
    const ticks = net.runUntil(() => net.allAlive(), 300);
    expect(ticks).toBeGreaterThanOrEqual(0);
  });

  it('a joiner stays joining until a seed answers, and retries', () => {
    const net = new GossipNetwork();
    net.add('a');
    net.add('b');
    net.join('b', ['a']); // a has not joined anything yet: it takes part in nothing
    net.run(15);
    expect(net.node('b').status().state).toBe('joining');
    net.join('a', []);
    const ticks = net.runUntil(() => net.allAlive(), 50);
    expect(ticks).toBeGreaterThanOrEqual(0);
    expect(net.node('b').status().state).toBe('alive');
  });
});
