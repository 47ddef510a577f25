/**
 * What this proves, in real Chromium, of BFT nodes with ONE Byzantine member (issue 13 item 5):
 * four browser contexts over WebRTC (the local PeerServer, IndexedDB, a cluster secret) form
 * N = 4, F = 1, and the primary's page turns on its fault injector (`node.bft.setByzantine`,
 * src/runtime/bft-fault-injector.ts) before any write:
 *
 * - an EQUIVOCATING primary (validly signed pre-prepares for different batches at one seq to
 *   different backups): the honest three change view (status view >= 1, a new primary, the old
 *   one among `suspected`), execute every write, read every value alike, and stand at the same
 *   seq with the same state digest (`status().bft.stateSeq/stateDigest`);
 * - then, in a fresh cluster, a SILENT primary (sends nothing): the same.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { BftHarness } from './pages/bft-harness.ts';
import { signaling } from './config.ts';

type Harness = BftHarness;
type Answer<K extends keyof Harness> = Awaited<ReturnType<Harness[K]>> extends { ok: true; value: infer V } | { ok: false } ? V : never;

const secret = 'the e2e bft byzantine secret, 32';
const ids = ['p0', 'p1', 'p2', 'p3'];

async function call<K extends keyof Harness>(page: Page, method: K, ...args: Parameters<Harness[K]>): Promise<Answer<K>> {
  const r = await page.evaluate(([m, a]) => (window as unknown as { bftHarness: Record<string, (...x: unknown[]) => Promise<unknown>> }).bftHarness[m]?.(...a), [method, args] as const);
  const result = r as { ok: true; value: Answer<K> } | { ok: false; error: { code: string; message: string } };
  if (!result.ok) throw new Error(`${method}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function openCluster(browser: Browser, name: string): Promise<Page[]> {
  const cluster = `${name}-${Date.now()}`;
  const pages = await Promise.all(
    ids.map(async () => {
      const page = await (await browser.newContext()).newPage();
      await page.goto('/bft-harness.html');
      await page.waitForFunction(() => 'bftHarness' in window);
      return page;
    }),
  );
  await Promise.all(pages.map((p, i) => call(p, 'start', { cluster, id: ids[i] as string, peers: ids, transport: 'webrtc', signaling, iceServers: [], secret, proposalTimeoutMs: 60_000 })));
  return pages;
}

/** Until every page reads `value` at `key`. */
async function readsAlike(pages: readonly Page[], key: string, value: string): Promise<void> {
  await expect
    .poll(async () => (await Promise.all(pages.map((p) => call(p, 'read', key).catch(() => 'failed')))).every((v) => v === value), { timeout: 60_000, message: `every page to read ${key}=${value}` })
    .toBe(true);
}

/** The primary `p0` lies with `mode`; the honest three must change view, agree and keep executing. */
async function survives(browser: Browser, mode: 'equivocate' | 'silent'): Promise<void> {
  const pages = await openCluster(browser, `bft-byz-${mode}`);
  const [liar, ...honest] = pages as [Page, ...Page[]];
  expect((await call(liar, 'status')).bft).toMatchObject({ view: 0, primary: 'p0', byzantine: 'honest' });
  await call(liar, 'setByzantine', mode);
  expect((await call(liar, 'status')).bft?.byzantine).toBe(mode);

  // Two writes per honest page at once, so that the primary's batches hold more than one request.
  await Promise.all(honest.flatMap((p, i) => [call(p, 'write', `a${i}`, `x${i}`), call(p, 'write', `b${i}`, `y${i}`)]));
  await expect
    .poll(async () => (await Promise.all(honest.map((p) => call(p, 'status')))).every((s) => (s.bft?.view ?? 0) >= 1 && s.bft?.primary !== 'p0' && s.bft?.suspected.includes('p0')), {
      timeout: 60_000,
      message: 'a new view at every honest page, p0 suspected',
    })
    .toBe(true);

  // They keep executing in the new view.
  await Promise.all(honest.map((p, i) => call(p, 'write', `after${i}`, `z${i}`)));
  for (let i = 0; i < 3; i++) {
    await readsAlike(honest, `a${i}`, `x${i}`);
    await readsAlike(honest, `b${i}`, `y${i}`);
    await readsAlike(honest, `after${i}`, `z${i}`);
  }
  // Agreement: every honest replica at one seq with one state digest.
  await expect
    .poll(
      async () => {
        const s = (await Promise.all(honest.map((p) => call(p, 'status')))).map((x) => x.bft);
        return s.every((x) => x !== null && x !== undefined && x.stateSeq >= 1 && x.stateSeq === s[0]?.stateSeq && x.stateDigest === s[0]?.stateDigest);
      },
      { timeout: 60_000, message: 'the honest replicas at one seq with one state digest' },
    )
    .toBe(true);
  await Promise.all(pages.map((p) => call(p, 'close')));
  await Promise.all(pages.map((p) => p.context().close()));
}

test('an equivocating primary over WebRTC: the honest three change view, agree and keep executing', async ({ browser }) => {
  test.setTimeout(300_000);
  await survives(browser, 'equivocate');
});

test('a silent primary over WebRTC: the honest three change view, agree and keep executing', async ({ browser }) => {
  test.setTimeout(300_000);
  await survives(browser, 'silent');
});
