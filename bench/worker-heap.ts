/**
 * The heap of a page's dedicated worker (where a node runs) while a measure runs, for the
 * browser benchmark's `workerHeapUsedBytesMax` (issue 16 item 6).
 *
 * Chromium answers `Runtime.getHeapUsage` (the V8 heap's used and total bytes) on the worker's
 * own CDP target; `performance.memory` is not exposed in workers and
 * `measureUserAgentSpecificMemory` needs a cross-origin-isolated page, so CDP it is. Playwright
 * opens CDP sessions for pages only, so the worker is reached as bench/cpu-profile.ts does:
 * `Target.setAutoAttach` on the page's session, non-flattened, and messages through
 * `Target.sendMessageToTarget`.
 *
 * The heap is sampled every `intervalMs`: the peak is the largest SAMPLE, so it can miss a peak
 * shorter than the interval (the heap is fullest just before a collection). The sampling costs
 * the worker one small CDP command per interval.
 */
import type { CDPSession, Page } from '@playwright/test';
import { performance } from 'node:perf_hooks';

export interface WorkerHeapReport {
  /** The largest used-heap sample of the worker (bytes); null when no sample came back. */
  readonly usedBytesMax: number | null;
  /** Every sample: seconds since the watch started, used bytes. */
  readonly samples: readonly { readonly tSec: number; readonly usedBytes: number }[];
}

/** Start sampling the heap of the page's worker; call the answer to stop and read the samples. */
export async function watchWorkerHeap(page: Page, intervalMs = 25): Promise<() => Promise<WorkerHeapReport>> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const waiting = new Map<number, (result: unknown) => void>();
  let nextId = 1;
  let sessionId: string | null = null;
  cdp.on('Target.receivedMessageFromTarget', (e: { message: string }) => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown };
    if (m.id === undefined) return;
    waiting.get(m.id)?.(m.result ?? null);
    waiting.delete(m.id);
  });
  const attached = new Promise<void>((resolve) => {
    cdp.on('Target.attachedToTarget', (e: { sessionId: string; targetInfo: { type: string } }) => {
      if (e.targetInfo.type !== 'worker' || sessionId !== null) return;
      sessionId = e.sessionId;
      resolve();
    });
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await attached;
  const heapUsage = (): Promise<{ usedSize: number } | null> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve as (r: unknown) => void);
      void cdp.send('Target.sendMessageToTarget', { sessionId: sessionId as string, message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }) }).catch(() => resolve(null));
    });
  const samples: { tSec: number; usedBytes: number }[] = [];
  const t0 = performance.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const usage = await heapUsage();
      if (usage !== null) samples.push({ tSec: (performance.now() - t0) / 1000, usedBytes: usage.usedSize });
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await cdp.detach().catch(() => undefined);
    const usedBytesMax = samples.length === 0 ? null : Math.max(...samples.map((s) => s.usedBytes));
    return { usedBytesMax, samples };
  };
}
