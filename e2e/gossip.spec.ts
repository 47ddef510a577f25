/**
 * What this proves, in real Chromium, of gossip-only nodes (`createNode({ protocols: ['gossip'] })`,
 * a node per page in a worker, driven through the public API by e2e/pages/gossip-harness.ts):
 *
 * - over WebRTC, five browser contexts (the local PeerServer, IndexedDB, a cluster secret):
 *   every node lists the four others alive (`node.members`); a CRDT map that each node writes
 *   one key of converges everywhere (`node.crdt('board', 'map')`), remote changes arriving as
 *   events; a context cut off from the others (the partition test hook on both sides, shorter
 *   than a suspicion, so nobody is declared dead) keeps writing while the others write too, and
 *   after healing every node holds both sides' keys (deltas lost in the partition are repaired
 *   by Merkle anti-entropy, every 100 ticks here);
 * - over BroadcastChannel, three tabs of one browser: presence converges; a tab cut off from the
 *   others writes a key, is reloaded (its node boots from IndexedDB: the offline edit is there
 *   before it hears anyone), and the others then receive it.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import type { GossipHarness } from './pages/gossip-harness.ts';
import { signaling } from './config.ts';

type Harness = GossipHarness;
type Answer<K extends keyof Harness> = Awaited<ReturnType<Harness[K]>> extends { ok: true; value: infer V } | { ok: false } ? V : never;

const secret = 'the e2e gossip secret, 32 bytes.';
const gossip = { antiEntropyIntervalTicks: 100 };

/** Call the harness in `page`; a failure throws with its code. */
async function call<K extends keyof Harness>(page: Page, method: K, ...args: Parameters<Harness[K]>): Promise<Answer<K>> {
  const r = await page.evaluate(([m, a]) => (window as unknown as { gossipHarness: Record<string, (...x: unknown[]) => Promise<unknown>> }).gossipHarness[m]?.(...a), [method, args] as const);
  const result = r as { ok: true; value: Answer<K> } | { ok: false; error: { code: string; message: string } };
  if (!result.ok) throw new Error(`${method}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function openPage(browser: Browser, shared: Awaited<ReturnType<Browser['newContext']>> | null): Promise<Page> {
  const context = shared ?? (await browser.newContext());
  const page = await context.newPage();
  await page.goto('/gossip-harness.html');
  await page.waitForFunction(() => 'gossipHarness' in window);
  return page;
}

/** Until every node lists every other alive (and itself alive). */
async function presence(pages: readonly Page[], ids: readonly string[]): Promise<void> {
  await expect
    .poll(
      async () => {
        const views = await Promise.all(pages.map((p) => call(p, 'members')));
        return views.every((v) => ids.every((id) => v.find((m) => m.id === id)?.state === 'alive'));
      },
      { timeout: 60_000, message: 'every node to see every other alive' },
    )
    .toBe(true);
}

/** Until every page's board holds exactly `keys` (sorted), and the same value everywhere. */
async function boards(pages: readonly Page[], keys: readonly string[], timeout = 60_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const all = await Promise.all(pages.map((p) => call(p, 'board')));
        const same = all.every((b) => JSON.stringify(b) === JSON.stringify(all[0]));
        return same ? (all[0] ?? []).map((e) => e.key).sort() : 'different';
      },
      { timeout, message: `every board to hold ${keys.join(', ')}` },
    )
    .toEqual([...keys].sort());
}

test('five contexts over WebRTC: presence and a map converge; a partitioned context merges after healing', async ({ browser }) => {
  test.setTimeout(240_000);
  const cluster = `gossip-webrtc-${Date.now()}`;
  const ids = ['n0', 'n1', 'n2', 'n3', 'n4'];
  const pages = await Promise.all(ids.map(() => openPage(browser, null)));
  await Promise.all(pages.map((p, i) => call(p, 'start', { cluster, id: ids[i] as string, peers: ids, transport: 'webrtc', signaling, iceServers: [], secret, gossip })));
  await presence(pages, ids);
  const members = await call(pages[0] as Page, 'members');
  expect(members[0]).toMatchObject({ id: 'n0', self: true, state: 'alive' });
  for (const m of members.slice(1)) expect(m.incarnation).toBeGreaterThanOrEqual(1);

  await Promise.all(pages.map((p, i) => call(p, 'set', `k${i}`, ids[i] as string)));
  await boards(pages, ['k0', 'k1', 'k2', 'k3', 'k4']);
  for (const p of pages) expect(await call(p, 'remoteChanges')).toBeGreaterThan(0);

  // n4 is cut off, both ways; both sides keep writing.
  const cut = pages[4] as Page;
  const rest = pages.slice(0, 4);
  await call(cut, 'block', ids.slice(0, 4));
  await Promise.all(rest.map((p) => call(p, 'block', ['n4'])));
  await call(cut, 'set', 'cut', 'written while cut off');
  await call(pages[1] as Page, 'set', 'main', 'written by the majority');
  await boards(rest, ['k0', 'k1', 'k2', 'k3', 'k4', 'main']);
  expect((await call(cut, 'board')).map((e) => e.key)).not.toContain('main');
  await Promise.all(pages.map((p) => call(p, 'unblock')));
  await boards(pages, ['cut', 'k0', 'k1', 'k2', 'k3', 'k4', 'main']);
  for (const p of pages) expect((await call(p, 'members')).every((m) => m.state === 'alive')).toBe(true);
  await Promise.all(pages.map((p) => call(p, 'close')));
});

test('tabs over BroadcastChannel: presence converges; an offline edit survives a reload and merges', async ({ browser }) => {
  test.setTimeout(180_000);
  const cluster = `gossip-tabs-${Date.now()}`;
  const ids = ['t0', 't1', 't2'];
  const context = await browser.newContext();
  const pages = await Promise.all(ids.map(() => openPage(browser, context)));
  const start = (p: Page, id: string): Promise<string> => call(p, 'start', { cluster, id, peers: ids, transport: 'broadcast', gossip });
  await Promise.all(pages.map((p, i) => start(p, ids[i] as string)));
  await presence(pages, ids);
  await call(pages[0] as Page, 'set', 'shared', 'before');
  await boards(pages, ['shared']);

  // t2 goes offline (its links cut), edits, and is reloaded before it could tell anyone.
  const offline = pages[2] as Page;
  await call(offline, 'block', ['t0', 't1']);
  await call(offline, 'set', 'offline', 'edited offline');
  expect((await call(pages[0] as Page, 'board')).map((e) => e.key)).not.toContain('offline');
  await offline.reload();
  await offline.waitForFunction(() => 'gossipHarness' in window);
  await start(offline, 't2');
  // Booted from IndexedDB: the offline edit is there at once.
  expect((await call(offline, 'board')).map((e) => e.key).sort()).toEqual(['offline', 'shared']);
  await boards(pages, ['offline', 'shared']);
  await presence(pages, ids);
  await Promise.all(pages.map((p) => call(p, 'close')));
});
