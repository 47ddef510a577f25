/**
 * What this proves about the simulated network (src/sim/network.ts) and its clock
 * (src/sim/scheduler.ts): events run in time order and, at equal times, in the order they were
 * scheduled; the same seed gives the identical delivery trace, and another seed a different one;
 * loss and duplication happen at about their configured rates; random delays reorder messages;
 * a symmetric partition blocks both directions, a one-way cut only one, a message in flight when
 * its link is cut is dropped on arrival, and healing one cut leaves overlapping ones in place;
 * a link never holds more than its bound of queued messages.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { Network, type NetworkOptions } from '../../src/sim/network.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';

interface Delivery {
  readonly timeUs: number;
  readonly from: string;
  readonly to: string;
  readonly payload: number;
}

function setup(seed: number, options: Partial<NetworkOptions> = {}) {
  const scheduler = new Scheduler();
  const delivered: Delivery[] = [];
  const net = new Network<number>(
    scheduler,
    createPrng(seed),
    {
      lossRate: 0,
      duplicateRate: 0,
      delay: { kind: 'uniform', minUs: 100, maxUs: 5000 },
      queuedPerLinkMax: 1_000_000,
      recordTrace: true,
      ...options,
    },
    (from, to, payload) => delivered.push({ timeUs: scheduler.nowUs, from, to, payload }),
  );
  return { scheduler, net, delivered };
}

/** A fixed traffic pattern: 3 endpoints sending to each other every 100us. */
function traffic(seed: number, options: Partial<NetworkOptions>) {
  const s = setup(seed, options);
  const ids = ['a', 'b', 'c'];
  let n = 0;
  for (let t = 0; t < 200; t++) {
    s.scheduler.at(t * 100, () => {
      for (const from of ids) for (const to of ids) if (from !== to) s.net.send(from, to, n++);
    });
  }
  s.scheduler.runUntil(10_000_000);
  return s;
}

describe('Scheduler', () => {
  it('runs events in time order, and in scheduling order at equal times', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(20, () => seen.push('t20'));
    s.at(10, () => seen.push('t10-first'));
    s.at(10, () => {
      seen.push('t10-second');
      s.after(0, () => seen.push('t10-nested'));
    });
    s.at(30, () => seen.push('t30'));
    expect(s.runUntil(25)).toBe(true);
    expect(seen).toEqual(['t10-first', 't10-second', 't10-nested', 't20']);
    expect(s.nowUs).toBe(25);
    expect(() => s.at(24, () => undefined)).toThrow();
    expect(s.runUntil(100, 0)).toBe(false); // the event budget stops a runaway loop
    s.runUntil(100);
    expect(seen.at(-1)).toBe('t30');
  });
});

describe('Network', () => {
  const faulty: Partial<NetworkOptions> = {
    lossRate: 0.1,
    duplicateRate: 0.05,
    delay: { kind: 'mixture', parts: [{ weight: 0.9, dist: { kind: 'uniform', minUs: 50, maxUs: 2000 } }, { weight: 0.1, dist: { kind: 'exponential', minUs: 5000, meanUs: 20_000, maxUs: 100_000 } }] },
  };

  it('gives the identical delivery trace for the same seed, and another for another seed', () => {
    const a = traffic(42, faulty);
    const b = traffic(42, faulty);
    const c = traffic(43, faulty);
    expect(a.net.trace.length).toBeGreaterThan(1000);
    expect(b.net.trace).toEqual(a.net.trace);
    expect(b.delivered).toEqual(a.delivered);
    expect(b.net.stats).toEqual(a.net.stats);
    expect(c.delivered).not.toEqual(a.delivered);
  });

  it('loses, duplicates and reorders messages at about the configured rates', () => {
    const { net, delivered } = traffic(7, faulty);
    const sent = net.stats.sent;
    expect(sent).toBe(1200);
    expect(net.stats.lost / sent).toBeGreaterThan(0.06);
    expect(net.stats.lost / sent).toBeLessThan(0.14);
    expect(net.stats.duplicated).toBeGreaterThan(20);
    expect(net.stats.delivered).toBe(sent - net.stats.lost + net.stats.duplicated);
    // Reordering: on one link, some message arrives after one sent later.
    const ab = delivered.filter((d) => d.from === 'a' && d.to === 'b').map((d) => d.payload);
    expect(ab.some((p, i) => i > 0 && p < (ab[i - 1] as number))).toBe(true);
    // Duplicates are real second deliveries of the same payload.
    const counts = new Map<number, number>();
    for (const d of delivered) counts.set(d.payload, (counts.get(d.payload) ?? 0) + 1);
    expect([...counts.values()].filter((c) => c === 2).length).toBe(net.stats.duplicated);
  });

  it('blocks both directions of a partition, one direction of a one-way cut, and heals cuts one by one', () => {
    const { scheduler, net, delivered } = setup(1);
    const both = net.partition(['a'], ['b', 'c']);
    const oneWay = net.blockOneWay(['b'], ['c']);
    for (const [from, to] of [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a'], ['b', 'c'], ['c', 'b']] as const) net.send(from, to, 0);
    scheduler.runUntil(1_000_000);
    expect(delivered.map((d) => `${d.from}>${d.to}`)).toEqual(['c>b']);
    // Overlapping cuts: healing the partition leaves the one-way cut b -> c in place.
    const overlap = net.isolate('c', ['a', 'b', 'c']);
    net.heal(both);
    net.heal(both); // healing twice is a no-op
    expect(net.isBlocked('a', 'b')).toBe(false);
    expect(net.isBlocked('b', 'c')).toBe(true);
    net.heal(overlap);
    expect(net.isBlocked('b', 'c')).toBe(true);
    expect(net.isBlocked('c', 'b')).toBe(false);
    net.heal(oneWay);
    expect(net.isBlocked('b', 'c')).toBe(false);
    expect(net.blockedLinkCount).toBe(0);
  });

  it('drops a message whose link is cut while it is in flight', () => {
    const { scheduler, net, delivered } = setup(1, { delay: { kind: 'constant', us: 1000 } });
    net.send('a', 'b', 1);
    scheduler.runUntil(500);
    net.partition(['a'], ['b']);
    scheduler.runUntil(5000);
    expect(delivered).toEqual([]);
    expect(net.stats.cut).toBe(1);
  });

  it('bounds the messages queued on one link', () => {
    const { scheduler, net, delivered } = setup(1, { queuedPerLinkMax: 3, delay: { kind: 'constant', us: 1000 } });
    for (let i = 0; i < 5; i++) net.send('a', 'b', i);
    net.send('a', 'c', 99); // another link has its own bound
    scheduler.runUntil(2000);
    expect(delivered.map((d) => d.payload)).toEqual([0, 1, 2, 99]);
    expect(net.stats.overflowed).toBe(2);
    net.send('a', 'b', 5); // the queue drained
    scheduler.runUntil(4000);
    expect(delivered.at(-1)?.payload).toBe(5);
  });
});
