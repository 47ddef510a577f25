/**
 * How long the WebSocket transport waits before dialling a peer again: exponential backoff with
 * jitter, bounded. Attempt 0 waits about `baseMs`, each failure doubles it up to `maxMs`, and the
 * wait is drawn uniformly from its upper half ("equal jitter"), so that nodes that lost a peer
 * at the same moment (it restarted) do not all dial it in the same millisecond, yet none waits
 * less than half the step. Randomness is an injected `Prng` (src/core/prng.ts), so a test or the
 * simulator reproduces the waits from a seed.
 */
import type { Prng } from '../../core/prng.ts';

export interface BackoffLimits {
  /** The first wait (before jitter). */
  readonly baseMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
}

export const backoffLimitsDefault: BackoffLimits = { baseMs: 100, maxMs: 10_000 };

/** Throws on limits that are our own mistake (not positive, base above max). */
export function validateBackoffLimits(limits: BackoffLimits): void {
  if (!(Number.isFinite(limits.baseMs) && limits.baseMs > 0)) throw new RangeError(`backoff baseMs must be positive, got ${limits.baseMs}`);
  if (!(Number.isFinite(limits.maxMs) && limits.maxMs >= limits.baseMs)) throw new RangeError(`backoff maxMs must be at least baseMs, got ${limits.maxMs}`);
}

/** The wait before dial number `attempt` (0 after the first loss), in [step / 2, step], step = min(maxMs, baseMs * 2^attempt). */
export function reconnectDelayMs(attempt: number, prng: Prng, limits: BackoffLimits = backoffLimitsDefault): number {
  // 2^31 already exceeds any sane maxMs; capping the exponent keeps the product finite.
  const step = Math.min(limits.maxMs, limits.baseMs * 2 ** Math.min(Math.max(0, attempt), 31));
  return step / 2 + (step / 2) * prng.nextFloat();
}
