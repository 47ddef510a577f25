/**
 * The phi accrual failure detector (Hayashibara et al. 2004, logistic CDF as Akka): phi is about
 * log10(2) at the mean interval, rises monotonically as arrivals stop, stays finite however long
 * the silence, ignores several arrivals in one tick, keeps at most `arrivalWindowMax` samples,
 * and is 0 with no history. On the deterministic network, phi of a crashed neighbour rises past
 * the threshold and a `member-phi` event says so, before SWIM has declared it dead.
 */
import { describe, expect, it } from 'vitest';
import { PhiAccrual, phiOf } from '../../../src/core/gossip/phi-accrual.ts';
import { GossipNetwork } from './gossip-network.ts';

const options = { arrivalWindowMax: 10, samplesMin: 1, minStdDevTicks: 1, acceptablePauseTicks: 0 };

describe('phi accrual detector', () => {
  it('is 0 with no history, and log10(2) at the mean', () => {
    const d = new PhiAccrual(options);
    expect(d.phi(100)).toBe(0);
    d.arrived(0);
    expect(d.phi(100)).toBe(0);
    d.arrived(10);
    expect(d.phi(20)).toBeCloseTo(Math.log10(2), 6);
  });

  it('rises monotonically as arrivals stop, and stays finite', () => {
    const d = new PhiAccrual(options);
    for (let t = 0; t <= 200; t += 10) d.arrived(t);
    let last = -1;
    for (let t = 201; t < 260; t++) {
      const phi = d.phi(t);
      expect(phi).toBeGreaterThan(last);
      last = phi;
    }
    expect(d.phi(215)).toBeLessThan(8);
    expect(d.phi(230)).toBeGreaterThan(8);
    expect(Number.isFinite(d.phi(1e12))).toBe(true);
    expect(Number.isFinite(phiOf(-1e12, 10, 1))).toBe(true);
  });

  it('takes several arrivals in one tick as one, and keeps at most arrivalWindowMax samples', () => {
    const d = new PhiAccrual(options);
    for (let t = 0; t < 1000; t += 5) {
      d.arrived(t);
      d.arrived(t);
    }
    expect(d.samples).toBe(10);
    expect(d.meanTicks()).toBe(5);
  });

  it('a jittery member needs a longer silence than a regular one to reach the same phi', () => {
    const regular = new PhiAccrual(options);
    const jittery = new PhiAccrual(options);
    let last = 0;
    for (let i = 0; i <= 10; i++) {
      regular.arrived(i * 10);
      jittery.arrived(last);
      if (i < 10) last += i % 2 === 0 ? 4 : 16;
    }
    expect(jittery.meanTicks()).toBe(regular.meanTicks());
    expect(jittery.phi(last + 25)).toBeLessThan(regular.phi(100 + 25));
  });

  it('in a swarm, phi of a crashed neighbour rises past the threshold from SWIM traffic alone, with an event', () => {
    // Long suspicions: phi's event is about live members, and must come while SWIM still waits.
    const net = GossipNetwork.bootstrap(10, { seed: 2, config: { suspicionMinTicks: 400, suspicionMaxTicks: 800 } });
    expect(net.runUntil(() => net.allAlive(), 400)).toBeGreaterThanOrEqual(0);
    net.run(300);
    const watcher = net.node('n1');
    const victim = watcher.status().mesh[0] as string;
    const threshold = watcher.config().phiThreshold;
    expect(watcher.phi(victim)).toBeLessThan(threshold);
    net.crashed.add(victim);
    const start = net.now;
    expect(net.runUntil(() => watcher.phi(victim) >= threshold, 400)).toBeGreaterThanOrEqual(0);
    net.run(1);
    expect(net.stateOf('n1', victim)).not.toBe('dead');
    const phiEvent = net.events.get('n1')?.find((x) => x.tick >= start && x.e.kind === 'member-phi' && x.e.member === victim && x.e.suspected);
    expect(phiEvent).toBeDefined();
  });

  it('fed the Raft leader\'s heartbeats (local "heard"), phi crosses within a few ticks of a crash, long before SWIM suspects', () => {
    const net = GossipNetwork.bootstrap(10, { seed: 2 });
    expect(net.runUntil(() => net.allAlive(), 400)).toBeGreaterThanOrEqual(0);
    const watcher = net.node('n1');
    // The "leader" n4 heartbeats every 2 ticks on its link to n1.
    for (let i = 0; i < 50; i++) {
      net.run(2);
      expect(watcher.step({ local: 'heard', member: 'n4' })).toEqual({ ok: true, value: { kind: 'accepted' } });
    }
    const threshold = watcher.config().phiThreshold;
    expect(watcher.phi('n4')).toBeLessThan(1);
    net.crashed.add('n4');
    const ticks = net.runUntil(() => watcher.phi('n4') >= threshold, 100);
    expect(ticks).toBeGreaterThanOrEqual(0);
    // Mean 2 ticks, deviation floored at phiMinStdDevTicks (2): phi 8 is about 5.3 deviations late.
    expect(ticks).toBeLessThanOrEqual(15);
    expect(net.stateOf('n1', 'n4')).toBe('alive');
    // A stranger's heartbeat is no arrival of anybody's.
    expect(watcher.step({ local: 'heard', member: 'nobody' })).toEqual({ ok: true, value: { kind: 'unchanged' } });
  });
});
