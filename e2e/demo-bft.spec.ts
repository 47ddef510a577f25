/**
 * The demo's Byzantine view (demo/bft.html, demo/bft-node.ts), driven through its test ids in
 * Chromium: the opener's "Open a BFT cluster" opens 4 tabs over BroadcastChannel, a PBFT cluster
 * (N = 4, F = 1). Every tab shows view 0 with n1 primary; a write proposed in one tab brings
 * every tab to the same seq and state digest ("agree"). Then the primary's tab is switched to
 * `silent` with its switch: the other three show a new view with another primary, n1 among the
 * suspected, and after writes proposed in two of them they still agree (the verdict and the
 * digests each tab shows for itself), at a higher seq.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Page } from '@playwright/test';
import { demoBaseUrl } from './config.ts';

const ids = ['n1', 'n2', 'n3', 'n4'];

async function propose(page: Page, key: string, value: string): Promise<void> {
  await page.getByTestId('bft-key').fill(key);
  await page.getByTestId('bft-value').fill(value);
  await page.getByTestId('bft-propose').click();
  await expect(page.getByTestId('bft-notice')).toContainText(`${key} = ${value} executed`, { timeout: 60_000 });
}

/** The tab's own state as it shows it: `<digest prefix> @ <seq>`. */
async function state(page: Page): Promise<string> {
  return (await page.getByTestId('bft-state').textContent()) ?? '';
}

async function agreeing(pages: readonly Page[], seqAtLeast: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const states = await Promise.all(pages.map(state));
        const seq = Number(states[0]?.split(' @ ')[1] ?? -1);
        return seq >= seqAtLeast && states.every((s) => s === states[0]);
      },
      { timeout: 60_000, message: `every tab at one seq >= ${seqAtLeast} with one state digest` },
    )
    .toBe(true);
  for (const p of pages) await expect(p.getByTestId('bft-agreement')).toHaveText('agree', { timeout: 30_000 });
}

test('the demo BFT view: 4 tabs agree; the primary tab goes silent, the others change view and keep agreeing', async ({ page: opener, context }) => {
  test.setTimeout(240_000);
  await opener.goto(`${demoBaseUrl}/`);
  await opener.getByTestId('transport').selectOption('broadcast');
  const tabs: Page[] = [];
  context.on('page', (p) => {
    if (p !== opener) tabs.push(p);
  });
  await opener.getByTestId('open-bft-cluster').click();
  await expect.poll(() => tabs.length).toBe(4);
  const byId = new Map<string, Page>();
  for (const t of tabs) {
    await expect(t.getByTestId('bft-node-id')).toHaveText(/^n\d$/);
    byId.set((await t.getByTestId('bft-node-id').textContent()) ?? '', t);
  }
  expect([...byId.keys()].sort()).toEqual(ids);
  const [n1, n2, n3, n4] = ids.map((id) => byId.get(id) as Page) as [Page, Page, Page, Page];
  for (const t of tabs) {
    await expect(t.getByTestId('bft-view')).toHaveText('0', { timeout: 60_000 });
    await expect(t.getByTestId('bft-primary')).toHaveText('n1');
    await expect(t.getByTestId('bft-byzantine')).toBeEnabled();
  }

  await propose(n2, 'colour', 'blue');
  await agreeing(tabs, 1);

  // The primary's tab lies: it goes silent.
  await n1.getByTestId('bft-byzantine').selectOption('silent');
  await expect(n1.locator('[data-testid="bft-tab-row"][data-node="n1"]').getByTestId('bft-tab-mode')).toHaveText('silent');
  const honest = [n2, n3, n4];
  const before = Number((await state(n2)).split(' @ ')[1]);
  await Promise.all([propose(n3, 'shape', 'round'), propose(n4, 'size', 'large')]);
  for (const t of honest) {
    await expect.poll(async () => Number(await t.getByTestId('bft-view').textContent().then((v) => (v ?? '0').split(' ')[0])), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    await expect(t.getByTestId('bft-primary')).not.toHaveText('n1');
    await expect(t.getByTestId('bft-suspected')).toContainText('n1');
  }
  await agreeing(honest, before + 1);
  for (const t of honest) await expect(t.getByTestId('bft-kv-item').filter({ hasText: 'shape = round' })).toHaveCount(1, { timeout: 30_000 });
});
