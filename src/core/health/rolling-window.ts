/**
 * A bounded window of timed samples (node health, src/runtime/node-health.ts): commit latencies
 * for their p50 and p99, and counter readings for a rate. Pure: the caller passes the time, so
 * the runtime samples on its own clock and tests on a made-up one.
 *
 * Two bounds, both kept: the newest `samplesMax` samples (memory), and only those younger than
 * `windowMs` at the time asked (a percentile of a quiet hour ago says nothing about now). A ring
 * buffer: adding is O(1); a percentile copies and sorts at most `samplesMax` numbers, which the
 * runtime does once per sampling interval, not per commit.
 */
import { assert } from '../assert.ts';

export interface RollingWindowOptions {
  /** Samples kept at most (the oldest is overwritten). */
  readonly samplesMax: number;
  /** Samples older than this, at the time asked, are ignored. */
  readonly windowMs: number;
}

export class RollingWindow {
  private readonly atMs: number[] = [];
  private readonly values: number[] = [];
  /** Where the next sample goes once the ring is full. */
  private next = 0;

  constructor(private readonly options: RollingWindowOptions) {
    assert(Number.isSafeInteger(options.samplesMax) && options.samplesMax > 0, 'samplesMax must be a positive integer');
    assert(options.windowMs > 0, 'windowMs must be positive');
  }

  add(atMs: number, value: number): void {
    assert(Number.isFinite(value), 'a sample must be a finite number');
    if (this.values.length < this.options.samplesMax) {
      this.atMs.push(atMs);
      this.values.push(value);
      return;
    }
    this.atMs[this.next] = atMs;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.options.samplesMax;
  }

  /** The samples inside the window at `nowMs`, oldest first. */
  recent(nowMs: number): { readonly atMs: number; readonly value: number }[] {
    const out: { atMs: number; value: number }[] = [];
    const n = this.values.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const at = this.atMs[i] as number;
      if (nowMs - at <= this.options.windowMs) out.push({ atMs: at, value: this.values[i] as number });
    }
    return out;
  }

  /** How many samples are inside the window at `nowMs`. */
  count(nowMs: number): number {
    return this.recent(nowMs).length;
  }

  /**
   * The `q` quantile (0..1, nearest rank) of the samples inside the window, or null when there
   * are none: "no commits lately" is not a latency of 0.
   */
  percentile(q: number, nowMs: number): number | null {
    assert(q >= 0 && q <= 1, 'a quantile is between 0 and 1');
    const values = this.recent(nowMs)
      .map((s) => s.value)
      .sort((a, b) => a - b);
    if (values.length === 0) return null;
    const rank = Math.max(1, Math.ceil(q * values.length));
    return values[rank - 1] as number;
  }

  /**
   * Per second, how much a counter read into this window grew between its oldest and newest
   * readings inside the window; null with fewer than two readings or no time between them.
   */
  ratePerSec(nowMs: number): number | null {
    const s = this.recent(nowMs);
    const first = s[0];
    const last = s[s.length - 1];
    if (first === undefined || last === undefined || last.atMs <= first.atMs) return null;
    return ((last.value - first.value) * 1000) / (last.atMs - first.atMs);
  }
}
