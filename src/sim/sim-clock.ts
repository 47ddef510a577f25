/**
 * A simulated node's clock (the runtime's `Clock`, src/runtime/clock.ts), in virtual time: it
 * runs at the node's own rate (clock drift) and can be paused, as a throttled tab's timers are.
 *
 * - `now()`: milliseconds of this node's clock: virtual time divided by its rate.
 * - `after(ms, fn)`: `fn` runs once `ms` of this node's clock have passed. A timer due while
 *   the clock is paused waits, and runs at `resume()`, in due order; the driver then measures
 *   how long it really was away (`now()` kept running) and catches up the ticks it missed.
 * - `stop()`: every timer is void (a crash: the node's memory, its timers included, is gone).
 *
 * The sabotage `no-tick-catch-up` (sim-node-sabotage.ts) stops `now()` while paused: the driver
 * then believes no time passed, as a driver that counted timer firings instead of measuring
 * elapsed time would.
 */
import type { Clock } from '../runtime/clock.ts';
import type { Scheduler } from './scheduler.ts';

interface Timer {
  readonly dueUs: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class SimClock implements Clock {
  private paused = false;
  private stopped = false;
  private readonly waiting: Timer[] = [];
  /** With `frozenWhilePaused`: virtual time spent paused, which `now()` leaves out. */
  private pausedUs = 0;
  private pausedAtUs = 0;

  constructor(
    private readonly scheduler: Scheduler,
    /** How much slower than virtual time this clock runs (1 + drift). */
    private readonly rate: number,
    private readonly frozenWhilePaused = false,
  ) {}

  now(): number {
    let us = this.scheduler.nowUs - this.pausedUs;
    if (this.frozenWhilePaused && this.paused) us -= this.scheduler.nowUs - this.pausedAtUs;
    return us / 1000 / this.rate;
  }

  after(ms: number, fn: () => void): () => void {
    const timer: Timer = { dueUs: this.scheduler.nowUs + Math.max(1, Math.round(ms * 1000 * this.rate)), fn, cancelled: false };
    this.scheduler.at(timer.dueUs, () => this.fire(timer));
    return () => {
      timer.cancelled = true;
    };
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAtUs = this.scheduler.nowUs;
  }

  /** Run the timers that fell due while paused, in due order. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.frozenWhilePaused) this.pausedUs += this.scheduler.nowUs - this.pausedAtUs;
    const due = this.waiting.splice(0).sort((a, b) => a.dueUs - b.dueUs);
    for (const t of due) this.fire(t);
  }

  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }

  private fire(timer: Timer): void {
    if (this.stopped || timer.cancelled) return;
    if (this.paused) {
      this.waiting.push(timer);
      return;
    }
    timer.cancelled = true;
    timer.fn();
  }
}
