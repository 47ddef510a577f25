/**
 * What this proves, in real Chromium, of BFT nodes (`createNode({ protocol: 'bft' })`, a PBFT
 * replica and client per page in a worker, driven through the public API by
 * e2e/pages/bft-harness.ts): four browser contexts over WebRTC (the local PeerServer, IndexedDB,
 * a cluster secret) form N = 4, F = 1:
 *
 * - every context proposes a write; every context then reads every value alike (the read-only
 *   path: 2F + 1 matching replies); status shows view 0 and its primary;
 * - the one-shot vote reaches quorum on the proposal; a member whose page is modified to answer
 *   every vote with another value cannot change the outcome;
 * - the primary's context is closed (a crashed member): the other three change view (status
 *   names the new primary and suspects the old one) and keep committing and reading alike.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { BftHarness } from './pages/bft-harness.ts';
import { signaling } from './config.ts';

type Harness = BftHarness;
type Answer<K extends keyof Harness> = Awaited<ReturnType<Harness[K]>> extends { ok: true; value: infer V } | { ok: false } ? V : never;

const secret = 'the e2e bft secret, 32 bytes ...';

async function call<K extends keyof Harness>(page: Page, method: K, ...args: Parameters<Harness[K]>): Promise<Answer<K>> {
  const r = await page.evaluate(([m, a]) => (window as unknown as { bftHarness: Record<string, (...x: unknown[]) => Promise<unknown>> }).bftHarness[m]?.(...a), [method, args] as const);
  const result = r as { ok: true; value: Answer<K> } | { ok: false; error: { code: string; message: string } };
  if (!result.ok) throw new Error(`${method}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function openPage(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto('/bft-harness.html');
  await page.waitForFunction(() => 'bftHarness' in window);
  return page;
}

/** Until every page reads `value` at `key`. */
async function readsAlike(pages: readonly Page[], key: string, value: string): Promise<void> {
  await expect
    .poll(async () => (await Promise.all(pages.map((p) => call(p, 'read', key).catch(() => 'failed')))).every((v) => v === value), { timeout: 60_000, message: `every page to read ${key}=${value}` })
    .toBe(true);
}

test('four contexts over WebRTC: commits read alike, a vote holds against a liar, a crashed primary is replaced', async ({ browser }) => {
  test.setTimeout(300_000);
  const cluster = `bft-webrtc-${Date.now()}`;
  const ids = ['p0', 'p1', 'p2', 'p3'];
  const pages = await Promise.all(ids.map(() => openPage(browser)));
  await Promise.all(pages.map((p, i) => call(p, 'start', { cluster, id: ids[i] as string, peers: ids, transport: 'webrtc', signaling, iceServers: [], secret, proposalTimeoutMs: 30_000 })));

  await Promise.all(pages.map((p, i) => call(p, 'write', `k${i}`, `v${i}`)));
  for (let i = 0; i < 4; i++) await readsAlike(pages, `k${i}`, `v${i}`);
  const status = await call(pages[2] as Page, 'status');
  expect(status.protocols).toEqual(['bft']);
  expect(status.bft).toMatchObject({ view: 0, primary: 'p0', replicas: ids, faultsTolerated: 1 });
  expect(status.bft?.lastExecutedSeq).toBeGreaterThanOrEqual(1);

  // The one-shot vote: every member answers the proposal by default.
  expect(await call(pages[1] as Page, 'vote', { release: 'v2' }, 10_000)).toMatchObject({ outcome: 'quorum-reached', value: { release: 'v2' } });
  // p3's page is modified to lie: it answers every vote with another value. The outcome holds.
  await call(pages[3] as Page, 'lie', { release: 'evil' });
  expect(await call(pages[0] as Page, 'vote', { release: 'v3' }, 10_000)).toMatchObject({ outcome: 'quorum-reached', value: { release: 'v3' } });
  expect(await call(pages[3] as Page, 'vote', { release: 'v4' }, 10_000)).toMatchObject({ outcome: 'quorum-reached', value: { release: 'v4' } });

  // The primary's context closes without a word (a crashed member, F = 1).
  const primary = pages[0] as Page;
  await primary.context().close();
  const rest = pages.slice(1);
  await Promise.all(rest.map((p, i) => call(p, 'write', `after${i}`, 'x')));
  for (let i = 0; i < 3; i++) await readsAlike(rest, `after${i}`, 'x');
  await expect
    .poll(async () => (await Promise.all(rest.map((p) => call(p, 'status')))).every((s) => (s.bft?.view ?? 0) >= 1 && s.bft?.primary !== 'p0'), { timeout: 60_000, message: 'a new view everywhere' })
    .toBe(true);
  expect((await call(rest[0] as Page, 'status')).bft?.suspected).toContain('p0');
  await readsAlike(rest, 'k1', 'v1');
  await Promise.all(rest.map((p) => call(p, 'close')));
});
