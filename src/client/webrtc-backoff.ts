/**
 * Capped exponential backoff with jitter, for reconnecting to the PeerServer and redialing peers.
 * The delay for attempt n is drawn uniformly from [base/2, base] where base = min(maxMs,
 * initialMs * 2^n): doubling spreads retries out, the cap keeps recovery prompt once the server is
 * back, and the jitter keeps a cluster whose members all lost the server at the same moment from
 * reconnecting in lockstep ("equal jitter", as in the AWS architecture blog's analysis).
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const backoffDefault: BackoffOptions = Object.freeze({ initialMs: 250, maxMs: 5000 });

/** `random` returns a number in [0, 1). */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const base = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  return Math.round(base / 2 + (random() * base) / 2);
}
