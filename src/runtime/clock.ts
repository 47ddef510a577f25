/**
 * The runtime's view of time: a monotonic clock and timers. The driver takes one so that tests
 * can drive it; the default uses `performance.now()` and `setTimeout`, which exist in browsers,
 * workers and Node.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Run `fn` after `ms`; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    return () => clearTimeout(handle);
  },
};
