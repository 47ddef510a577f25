/**
 * The simulator's clock and event queue: virtual time in integer microseconds, events ordered by
 * (time, insertion order). Two events at the same microsecond run in the order they were
 * scheduled, so a run is a pure function of its seed.
 *
 * Nothing is ever cancelled: a handler that may have become moot checks a generation number it
 * captured when it was scheduled (a node's incarnation, a client's request id).
 */
import { assert } from '../core/assert.ts';

export type EventHandler = () => void;

export class Scheduler {
  /** Virtual now, in microseconds. */
  private nowUsValue = 0;
  private seq = 0;
  /** A binary min-heap in three parallel arrays (time, sequence, handler). */
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly handlers: EventHandler[] = [];
  eventsRun = 0;

  get nowUs(): number {
    return this.nowUsValue;
  }

  get pending(): number {
    return this.times.length;
  }

  /** Run `handler` at virtual time `timeUs` (an integer, not in the past). */
  at(timeUs: number, handler: EventHandler): void {
    assert(Number.isSafeInteger(timeUs), `event time must be an integer, got ${timeUs}`);
    assert(timeUs >= this.nowUsValue, `event at ${timeUs} is before now ${this.nowUsValue}`);
    this.times.push(timeUs);
    this.seqs.push(this.seq++);
    this.handlers.push(handler);
    this.siftUp(this.times.length - 1);
  }

  after(delayUs: number, handler: EventHandler): void {
    this.at(this.nowUsValue + Math.max(0, Math.round(delayUs)), handler);
  }

  /**
   * Run every event up to and including `timeUs`, then set the clock to `timeUs`. Stops early
   * (and returns false) after `eventsMax` events, a bound against a runaway feedback loop.
   */
  runUntil(timeUs: number, eventsMax = Number.MAX_SAFE_INTEGER): boolean {
    let budget = eventsMax;
    while (this.times.length > 0 && (this.times[0] as number) <= timeUs) {
      if (budget-- <= 0) return false;
      this.runNext();
    }
    if (timeUs > this.nowUsValue) this.nowUsValue = timeUs;
    return true;
  }

  private runNext(): void {
    const time = this.times[0] as number;
    const handler = this.handlers[0] as EventHandler;
    const last = this.times.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.seqs.pop();
    this.handlers.pop();
    if (this.times.length > 0) this.siftDown(0);
    this.nowUsValue = time;
    this.eventsRun++;
    handler();
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i] as number;
    const tj = this.times[j] as number;
    return ti < tj || (ti === tj && (this.seqs[i] as number) < (this.seqs[j] as number));
  }

  private swap(i: number, j: number): void {
    const t = this.times[i] as number;
    this.times[i] = this.times[j] as number;
    this.times[j] = t;
    const s = this.seqs[i] as number;
    this.seqs[i] = this.seqs[j] as number;
    this.seqs[j] = s;
    const h = this.handlers[i] as EventHandler;
    this.handlers[i] = this.handlers[j] as EventHandler;
    this.handlers[j] = h;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    const n = this.times.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
