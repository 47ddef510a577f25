/**
 * CPU profiles for the browser benchmark (`BENCH_PROFILE=throughput|latency npm run bench --
 * browser`): V8's sampling profiler in a page's dedicated worker (where a node runs), over the
 * Chrome DevTools Protocol. The profile is written as a `.cpuprofile` file
 * (open it in Chrome DevTools) to the system temp directory, and the functions with the most
 * self time are printed. A measuring aid, never part of a figure: profiling slows the code down.
 *
 * Workers are reached through the page's CDP session with `Target.setAutoAttach` in the
 * non-flattened mode (`Target.sendMessageToTarget`), because Playwright opens CDP sessions for
 * pages and frames only.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from '@playwright/test';

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
}

const samplingIntervalUs = 100;
const topFunctions = 25;

function report(label: string, profile: Profile): void {
  const file = join(tmpdir(), `peerquorum-${label}-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const self = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + n.hitCount);
    total += n.hitCount;
  }
  console.log(`profile ${label}: ${total} samples of ${samplingIntervalUs} us, written to ${file}`);
  for (const [f, count] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, topFunctions)) {
    console.log(`  ${((100 * count) / total).toFixed(1)}% ${f}`);
  }
}

/** Profile the page's main thread (the comlink client, the harness); call the answer to stop and report. */
export async function profilePage(page: Page, label: string): Promise<() => Promise<void>> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await cdp.send('Profiler.start');
  return async () => {
    const r = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
    report(`${label}-page`, r.profile);
    await cdp.detach();
  };
}

/** Profile the page's dedicated worker(s); call the answer to stop and report. */
export async function profileWorkers(page: Page, label: string): Promise<() => Promise<void>> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const sessions: string[] = [];
  const waiting = new Map<number, (result: unknown) => void>();
  let nextId = 1;
  cdp.on('Target.receivedMessageFromTarget', (e: { message: string }) => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown; error?: unknown };
    if (m.id === undefined) return;
    waiting.get(m.id)?.(m.result ?? m.error);
    waiting.delete(m.id);
  });
  const send = (sessionId: string, method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  const attached = new Promise<void>((resolve) => {
    cdp.on('Target.attachedToTarget', (e: { sessionId: string; targetInfo: { type: string } }) => {
      if (e.targetInfo.type !== 'worker') return;
      sessions.push(e.sessionId);
      resolve();
    });
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await attached;
  for (const s of sessions) {
    await send(s, 'Profiler.enable');
    await send(s, 'Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await send(s, 'Profiler.start');
  }
  return async () => {
    for (const [k, s] of sessions.entries()) {
      const r = (await send(s, 'Profiler.stop')) as { profile: Profile };
      report(`${label}-worker${k}`, r.profile);
    }
    await cdp.detach();
  };
}
