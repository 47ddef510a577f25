/**
 * What this proves about the rolling window behind commit latency and apply rate (node health):
 * percentiles are nearest-rank over the samples inside the time window only, the ring keeps at
 * most `samplesMax` samples (the oldest overwritten), an empty window answers null rather than
 * 0, and a counter's rate is its growth per second between the oldest and newest readings in
 * the window. Times are made up: the window never reads a clock.
 */
import { describe, expect, it } from 'vitest';
import { RollingWindow } from '../../../src/core/health/rolling-window.ts';

describe('percentiles', () => {
  it('are nearest-rank over the samples', () => {
    const w = new RollingWindow({ samplesMax: 1000, windowMs: 60_000 });
    for (let v = 1; v <= 100; v++) w.add(v, v);
    expect(w.percentile(0.5, 100)).toBe(50);
    expect(w.percentile(0.99, 100)).toBe(99);
    expect(w.percentile(1, 100)).toBe(100);
    expect(w.percentile(0, 100)).toBe(1);
  });

  it('ignore samples older than the window', () => {
    const w = new RollingWindow({ samplesMax: 100, windowMs: 1000 });
    w.add(0, 5000);
    w.add(1500, 10);
    w.add(1600, 20);
    expect(w.percentile(0.99, 1600)).toBe(20);
    expect(w.count(1600)).toBe(2);
    expect(w.percentile(0.5, 10_000)).toBeNull();
  });

  it('keep only the newest samplesMax samples', () => {
    const w = new RollingWindow({ samplesMax: 3, windowMs: 1e9 });
    for (const v of [100, 200, 1, 2, 3]) w.add(v, v);
    expect(w.recent(10).map((s) => s.value)).toEqual([1, 2, 3]);
    expect(w.percentile(1, 10)).toBe(3);
  });

  it('refuse a quantile outside 0..1 (a bug of ours)', () => {
    expect(() => new RollingWindow({ samplesMax: 1, windowMs: 1 }).percentile(1.5, 0)).toThrow(/quantile/);
  });
});

describe('rates', () => {
  it('are the growth per second between the oldest and newest readings inside the window', () => {
    const w = new RollingWindow({ samplesMax: 100, windowMs: 10_000 });
    w.add(0, 0);
    w.add(1000, 50);
    w.add(2000, 300);
    expect(w.ratePerSec(2000)).toBe(150);
    // At 11,500 only the reading at 2,000 is inside: no rate.
    expect(w.ratePerSec(11_500)).toBeNull();
  });

  it('is null with one reading', () => {
    const w = new RollingWindow({ samplesMax: 10, windowMs: 10_000 });
    w.add(5, 7);
    expect(w.ratePerSec(5)).toBeNull();
  });
});
