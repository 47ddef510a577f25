/**
 * What the browser benchmarks (browser.ts, crdt-browser.ts, bft.ts, services.ts) share:
 * percentiles of their samples, free ports, waiting for a server they started or a condition,
 * calls into their pages, and stopping the processes they started.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Page } from '@playwright/test';

/** The `p` quantile (0..1) of `values` by the nearest-rank method; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

/** One decimal, for the JSON line. */
export const round1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);

/** Until `url` answers (any status below 500), or throw after `timeoutMs`. */
export async function waitForUrl(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** A port free on 127.0.0.1 now (the OS's choice). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Calls `window[global][method](...args)` in `page` (a bench page's API answers `{ ok, value }` or
 * `{ ok: false, error }`, the error a `{ code, message }` or a string); a failure throws with its text.
 */
export async function pageCall<T>(page: Page, global: string, method: string, ...args: unknown[]): Promise<T> {
  const r = (await page.evaluate(
    ([g, m, a]) => (window as unknown as Record<string, Record<string, (...x: unknown[]) => Promise<unknown>> | undefined>)[g]?.[m]?.(...a),
    [global, method, args] as const,
  )) as { ok: true; value: T } | { ok: false; error: { code: string; message: string } | string } | undefined;
  if (r === undefined) throw new Error(`${method}: no such call on this page`);
  if (!r.ok) throw new Error(`${method}: ${typeof r.error === 'string' ? r.error : `${r.error.code}: ${r.error.message}`}`);
  return r.value;
}

/** Polls `f` every `pollMs` until it answers a value, or throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`);
    await sleep(pollMs);
  }
}
