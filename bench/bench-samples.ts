/**
 * What a benchmark hands back to bench/run.ts besides its printed figures: the raw samples of
 * its run, from which run.ts draws the chart in docs/bench/<name>.svg (bench/chart.ts). One small
 * shape for every benchmark, so that one renderer draws them all; a series names whose figures
 * they are ("peerquorum", "Yjs", "broadcast-channel"), so ours and a peer's from the same run
 * sit side by side in one panel.
 */

/** Throughput over the run: one point per interval. */
export interface ThroughputPoint {
  readonly series: string;
  /** Seconds since the measure started (the end of the interval). */
  readonly tSec: number;
  /** Operations completed per second over the interval ending at `tSec`. */
  readonly perSec: number;
}

/** One latency sample (a command, an update, a call): drawn as a distribution (CDF). */
export interface LatencySample {
  readonly series: string;
  readonly ms: number;
}

/** One failover trial: the time from the kill until the system answered again. */
export interface FailoverTrial {
  readonly series: string;
  readonly trial: number;
  readonly ms: number;
}

export interface BenchSamples {
  /** The chart's title: what ran, with its main options. */
  readonly title: string;
  readonly throughput?: readonly ThroughputPoint[];
  /** The unit of `throughput` ("commands/s", "calls/s"). */
  readonly throughputUnit?: string;
  readonly latency?: readonly LatencySample[];
  /** What `latency` measures ("propose to apply", "update to visible on every peer"). */
  readonly latencyLabel?: string;
  readonly failover?: readonly FailoverTrial[];
  /** What `failover` measures ("leader tab closed until a new commit"). */
  readonly failoverLabel?: string;
}

/** Latencies can be millions: keep at most `max` of them, evenly spaced in sorted order. */
export function thinSorted(sortedMs: ArrayLike<number>, max: number): number[] {
  const n = sortedMs.length;
  if (n <= max) return Array.from(sortedMs);
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(sortedMs[Math.floor((i * (n - 1)) / (max - 1))] as number);
  return out;
}

/**
 * Throughput over a span from the completion times of its operations: the operations that
 * completed in each `intervalMs` from `startMs` (one point per interval, every interval of
 * `spanMs`, idle ones at zero).
 */
export function timelineOfCompletions(series: string, endsMs: readonly number[], startMs: number, spanMs: number, intervalMs: number): ThroughputPoint[] {
  const counts = new Array<number>(Math.max(1, Math.ceil(spanMs / intervalMs))).fill(0);
  for (const end of endsMs) {
    const k = Math.max(0, Math.min(counts.length - 1, Math.floor((end - startMs) / intervalMs)));
    counts[k] = (counts[k] as number) + 1;
  }
  return counts.map((n, k) => ({ series, tSec: ((k + 1) * intervalMs) / 1000, perSec: (n * 1000) / intervalMs }));
}
