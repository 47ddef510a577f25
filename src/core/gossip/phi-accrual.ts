/**
 * The phi accrual failure detector (Hayashibara, Défago, Yared, Katayama 2004), for one member.
 * Instead of a yes/no timeout it says how sure we are that the member is gone: with the
 * inter-arrival times of its messages modelled as a normal distribution,
 *
 *   phi(t) = -log10(1 - CDF(t)),   t = ticks since its last arrival,
 *
 * so phi = 1 means a 10% chance that a live member would be this late, phi = 8 one in 10^8.
 * A host picks its own threshold by what a wrong guess costs (the runtime uses phi suspicion of
 * a Raft leader to forget it early; a wrong guess costs one election).
 *
 * CDF: the LOGISTIC approximation of the normal CDF, as Akka's detector uses it:
 * Φ(y) ≈ 1 / (1 + exp(-y·(1.5976 + 0.070566·y²))) (Bowling et al. 2009, error below 1.4e-4).
 * Why not the exact normal: ES2022 has no erf, a series of our own would need care in the tail,
 * which is exactly where phi lives; the logistic form is monotone, cheap, and (written in log
 * space below) stays finite however late the member is, where 1 - CDF underflows to 0 and
 * -log10(0) would be Infinity.
 *
 * Arrivals are counted in ticks, so intervals are whole numbers: a member heard exactly every
 * 5 ticks has a variance of 0, and phi would jump from 0 to infinity one tick late. The standard
 * deviation has a floor (`minStdDevTicks`, Akka's min-std-deviation), and an acceptable pause
 * (Akka's acceptable-heartbeat-pause) may be added to the mean. The running sums hold integers
 * only, so they are exact and the detector is deterministic.
 */
import { assert } from '../assert.ts';

export interface PhiAccrualOptions {
  /** Inter-arrival samples kept: a sliding window, oldest dropped first. */
  readonly arrivalWindowMax: number;
  /** Intervals needed before phi says anything (one short interval then a pause is no rhythm yet). */
  readonly samplesMin: number;
  readonly minStdDevTicks: number;
  readonly acceptablePauseTicks: number;
}

export class PhiAccrual {
  /** The last `arrivalWindowMax` intervals, a ring (sized lazily up to the bound). */
  private readonly intervals: number[] = [];
  private next = 0;
  private sumTicks = 0;
  private sumSquares = 0;
  private lastArrivalTick: number | null = null;

  constructor(private readonly options: PhiAccrualOptions) {
    assert(options.arrivalWindowMax >= 1, 'arrivalWindowMax must be positive');
    assert(options.minStdDevTicks > 0, 'minStdDevTicks must be positive');
  }

  /** Something arrived from the member at `nowTick` (an ack, a ping, any message). */
  arrived(nowTick: number): void {
    const last = this.lastArrivalTick;
    this.lastArrivalTick = nowTick;
    if (last === null) return;
    const interval = nowTick - last;
    // Several messages in one tick are one arrival: a burst is not a shorter heartbeat.
    if (interval <= 0) {
      this.lastArrivalTick = last;
      return;
    }
    if (this.intervals.length < this.options.arrivalWindowMax) {
      this.intervals.push(interval);
    } else {
      const old = this.intervals[this.next] as number;
      this.sumTicks -= old;
      this.sumSquares -= old * old;
      this.intervals[this.next] = interval;
      this.next = (this.next + 1) % this.options.arrivalWindowMax;
    }
    this.sumTicks += interval;
    this.sumSquares += interval * interval;
  }

  /** Samples in the window. */
  get samples(): number {
    return this.intervals.length;
  }

  /** Tick of the last arrival, or null before the first. */
  get lastArrival(): number | null {
    return this.lastArrivalTick;
  }

  /** The mean inter-arrival time in ticks (0 before two arrivals). */
  meanTicks(): number {
    return this.intervals.length === 0 ? 0 : this.sumTicks / this.intervals.length;
  }

  /**
   * Phi at `nowTick`. 0 until there are `samplesMin` intervals: with little history there is no
   * rhythm to break, and a member just learned of must not look dead (Akka seeds its window with
   * a guessed first interval instead; we would rather say nothing than guess).
   */
  phi(nowTick: number): number {
    const n = this.intervals.length;
    if (n === 0 || n < this.options.samplesMin || this.lastArrivalTick === null) return 0;
    const mean = this.sumTicks / n;
    const variance = Math.max(0, this.sumSquares / n - mean * mean);
    const stdDev = Math.max(Math.sqrt(variance), this.options.minStdDevTicks);
    return phiOf(nowTick - this.lastArrivalTick, mean + this.options.acceptablePauseTicks, stdDev);
  }
}

/**
 * -log10(1 - Φ((t - mean) / stdDev)) with the logistic Φ above. Let a = y·(1.5976 + 0.070566·y²);
 * then 1 - Φ = e/(1 + e) with e = exp(-a), and phi = log10(1 + e) + a/ln 10: for a >= 0 that
 * is a/ln 10 + log1p(exp(-a))/ln 10 (no overflow, no underflow to -log10(0)); for a < 0 it is
 * log1p(exp(a))/ln 10, near 0 for an early arrival.
 */
export function phiOf(sinceLastTicks: number, meanTicks: number, stdDevTicks: number): number {
  const y = (sinceLastTicks - meanTicks) / stdDevTicks;
  const a = y * (1.5976 + 0.070566 * y * y);
  if (a >= 0) return (a + Math.log1p(Math.exp(-a))) / Math.LN10;
  return Math.log1p(Math.exp(a)) / Math.LN10;
}
