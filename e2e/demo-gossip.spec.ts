/**
 * The demo's gossip view (demo/gossip-view.ts), driven through its test ids in Chromium: the
 * opener opens a cluster of 3 tabs over BroadcastChannel, each running Raft and gossip
 * (`protocols: ['raft', 'gossip']`). Every tab's membership table lists n1, n2 and n3 alive, each
 * with an incarnation of at least 1, itself marked as this tab; a note added in one tab and a
 * cheer in another show in every tab (an OR-Map and a PN-Counter, merged by gossip). A tab cut
 * off by the Partition control keeps taking notes (shown at once, and nowhere else), while
 * another tab adds one too; after Heal every tab holds both notes. The Raft board is not touched
 * here: e2e/demo.spec.ts drives it with gossip running beside it.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Page } from '@playwright/test';
import { demoBaseUrl } from './config.ts';

const ids = ['n1', 'n2', 'n3'];

async function nodeIdOf(page: Page): Promise<string> {
  await expect(page.getByTestId('node-id')).toHaveText(/^n\d$/);
  return (await page.getByTestId('node-id').textContent()) ?? '';
}

/** Each row of the tab's membership table: member id (as the row names it) and state. */
async function memberStates(page: Page): Promise<Record<string, string>> {
  const rows = page.getByTestId('member-row');
  const states: Record<string, string> = {};
  for (const row of await rows.all()) {
    const id = (await row.getAttribute('data-member')) ?? '?';
    states[id] = (await row.getByTestId('member-state').textContent()) ?? '';
  }
  return states;
}

async function notes(page: Page): Promise<string[]> {
  return (await page.getByTestId('note').getByTestId('note-text').allTextContents()).sort();
}

async function addNote(page: Page, text: string): Promise<void> {
  await page.getByTestId('notes-input').fill(text);
  await page.getByTestId('notes-add').click();
  // A CRDT update is local: the tab's own board shows it at once, partitioned or not.
  await expect(page.getByTestId('note').filter({ hasText: text })).toHaveCount(1);
}

test('the demo gossip view: every tab lists every node alive, and CRDT notes and cheers merge, across a partition too', async ({ page: opener, context }) => {
  test.setTimeout(180_000);
  await opener.goto(`${demoBaseUrl}/`);
  await opener.getByTestId('cluster-size').selectOption('3');
  await opener.getByTestId('transport').selectOption('broadcast');
  const tabs: Page[] = [];
  context.on('page', (p) => {
    if (p !== opener) tabs.push(p);
  });
  await opener.getByTestId('open-cluster').click();
  await expect.poll(() => tabs.length).toBe(3);
  const tabIds = await Promise.all(tabs.map(nodeIdOf));
  expect([...tabIds].sort()).toEqual(ids);

  // Presence: every tab's table lists the three nodes alive.
  for (const t of tabs) {
    await expect.poll(() => memberStates(t), { timeout: 60_000, message: 'every member alive in the table' }).toEqual({ n1: 'alive', n2: 'alive', n3: 'alive' });
  }
  for (const [i, t] of tabs.entries()) {
    await expect(t.locator(`[data-testid="member-row"][data-member="${tabIds[i]}"]`).getByTestId('member-id')).toHaveText(`${tabIds[i]} (this tab)`);
    for (const inc of await t.getByTestId('member-incarnation').allTextContents()) expect(Number(inc)).toBeGreaterThanOrEqual(1);
  }
  const [a, b, c] = tabs as [Page, Page, Page];

  // A note from one tab and a cheer from another reach every tab.
  await addNote(a, 'hello from gossip');
  await b.getByTestId('cheers-up').click();
  for (const t of tabs) {
    await expect.poll(() => notes(t)).toEqual(['hello from gossip']);
    await expect(t.getByTestId('cheers-value')).toHaveText('1');
  }

  // Partition one tab: it keeps editing on its own, and merges after healing.
  await c.getByTestId('partition-node').click();
  await expect(c.getByTestId('gossip-offline')).toBeVisible();
  await addNote(c, 'written while partitioned');
  await addNote(a, 'written on the other side');
  await expect.poll(() => notes(c)).toEqual(['hello from gossip', 'written while partitioned']);
  await expect.poll(() => notes(a)).toEqual(['hello from gossip', 'written on the other side']);
  await c.getByTestId('heal-node').click();
  await expect(c.getByTestId('gossip-offline')).toBeHidden();
  const merged = ['hello from gossip', 'written on the other side', 'written while partitioned'];
  for (const t of tabs) await expect.poll(() => notes(t), { timeout: 60_000, message: 'both sides of the partition in every tab' }).toEqual(merged);
  for (const t of tabs) {
    await expect.poll(() => memberStates(t), { timeout: 60_000, message: 'every member alive again' }).toEqual({ n1: 'alive', n2: 'alive', n3: 'alive' });
  }
});
