/**
 * The demo (demo/, what `npm start` serves), driven as a person would, through its test ids: the
 * opener opens a cluster of 3 tabs over BroadcastChannel; they elect one leader; items added
 * from two tabs, one marked done and one moved, show in every tab in the same order; the
 * leader's tab is closed and the two tabs left agree on a new leader within a few seconds, with
 * the board intact and still writable; a reloaded tab comes back from its IndexedDB log and
 * catches up with what was committed meanwhile. "Open one more tab" then revives the closed
 * leader's id from its log, and once every id runs, opens a tab that joins as a learner under a
 * new id, is promoted, and writes. The opener's cards follow all of it.
 *
 * The same run saves screenshots (each tab, the opener, and the three tabs side by side) under
 * the test's output directory; with PEERQUORUM_DEMO_SCREENSHOT=<file> it also writes the
 * side-by-side one there (how docs/demo.png is made). Nothing is timed except the bound on the
 * new leader, which is a polling timeout, not a measurement.
 */
import { writeFileSync } from 'node:fs';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { demoBaseUrl } from './config.ts';

/** How long the tabs left may take to agree on a new leader after the leader's tab closes. */
const newLeaderTimeoutMs = 3_000;

const roles = ['leader', 'follower', 'candidate', 'learner'];

async function nodeIdOf(page: Page): Promise<string> {
  await expect(page.getByTestId('node-id')).toHaveText(/^n\d$/);
  return (await page.getByTestId('node-id').textContent()) ?? '';
}

/** Role, leader and term as each tab shows them. */
async function shown(pages: readonly Page[]): Promise<{ id: string; role: string; leader: string; term: string }[]> {
  return Promise.all(
    pages.map(async (p) => ({
      id: (await p.getByTestId('node-id').textContent()) ?? '',
      role: (await p.getByTestId('role').textContent()) ?? '',
      leader: (await p.getByTestId('leader').textContent()) ?? '',
      term: (await p.getByTestId('term').textContent()) ?? '',
    })),
  );
}

/** The leader's id once every tab of `pages` shows the same one leader in the same term, else null. */
async function agreedLeader(pages: readonly Page[]): Promise<string | null> {
  const views = await shown(pages);
  const leaders = views.filter((v) => v.role === 'leader');
  const leader = leaders[0];
  if (leaders.length !== 1 || leader === undefined) return null;
  const agreed = views.every((v) => v.leader === leader.id && v.term === leader.term && (v.id === leader.id || v.role === 'follower'));
  return agreed ? leader.id : null;
}

async function boardTexts(page: Page): Promise<string[]> {
  return page.getByTestId('board-item').getByTestId('board-item-text').allTextContents();
}

async function addItem(page: Page, text: string): Promise<void> {
  await page.getByTestId('board-input').fill(text);
  await page.getByTestId('board-add').click();
  // Committed and applied once the tab's own board, read from its replica, shows it.
  await expect(page.getByTestId('board-item').filter({ hasText: text })).toHaveCount(1);
}

async function expectBoards(pages: readonly Page[], texts: readonly string[]): Promise<void> {
  for (const p of pages) await expect.poll(() => boardTexts(p)).toEqual(texts);
}

/** The three tabs' screenshots side by side, rendered in a page of the same browser. */
async function sideBySide(context: BrowserContext, shots: readonly Buffer[]): Promise<Buffer> {
  const page = await context.newPage();
  // Three 632 px images, 8 px apart, in 8 px of padding: 1928 px; the height follows the images.
  await page.setViewportSize({ width: 1928, height: 200 });
  const images = shots.map((s) => `<img src="data:image/png;base64,${s.toString('base64')}">`).join('');
  await page.setContent(
    `<style>body{margin:0;background:#c9ced8;display:flex;align-items:flex-start;gap:8px;padding:8px;width:max-content}img{width:632px;border-radius:6px;box-shadow:0 1px 4px #0004}</style>${images}`,
  );
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  const shot = await page.screenshot({ fullPage: true });
  await page.close();
  return shot;
}

test('the demo: a 3-tab cluster shares a board, survives the leader tab closing, a reloaded tab catches up, and a new tab joins', async ({ page: opener, context }, testInfo) => {
  await opener.goto(`${demoBaseUrl}/`);
  await opener.getByTestId('cluster-size').selectOption('3');
  await opener.getByTestId('transport').selectOption('broadcast');

  const tabs: Page[] = [];
  context.on('page', (p) => {
    if (p !== opener) tabs.push(p);
  });
  await opener.getByTestId('open-cluster').click();
  await expect.poll(() => tabs.length).toBe(3);
  const ids = await Promise.all(tabs.map(nodeIdOf));
  expect([...ids].sort()).toEqual(['n1', 'n2', 'n3']);
  for (const t of tabs) await expect(t.getByTestId('role')).toHaveText(new RegExp(`^(${roles.join('|')})$`));

  // One leader, and every tab agrees on it.
  await expect.poll(() => agreedLeader(tabs)).not.toBeNull();
  const leaderId = (await agreedLeader(tabs)) as string;
  const leaderTab = tabs[ids.indexOf(leaderId)] as Page;
  const followers = tabs.filter((t) => t !== leaderTab);
  const [first, second] = followers as [Page, Page];
  // Each tab shows its lifecycle (status().health): a voter that heard its leader and keeps up.
  for (const t of tabs) await expect(t.getByTestId('lifecycle')).toHaveText(/^active \(/);

  // Items from two tabs (a follower and the leader), then edits from a third view.
  await addItem(first, 'buy milk');
  await addItem(leaderTab, 'water the plants');
  await addItem(first, 'call Ada');
  await expectBoards(tabs, ['buy milk', 'water the plants', 'call Ada']);
  await second.getByTestId('board-item').filter({ hasText: 'water the plants' }).getByTestId('board-item-done').click();
  await second.getByTestId('board-item').filter({ hasText: 'call Ada' }).getByTestId('board-item-up').click();
  const items = ['buy milk', 'call Ada', 'water the plants'];
  await expectBoards(tabs, items);
  for (const t of tabs) await expect(t.getByTestId('board-item').filter({ hasText: 'water the plants' }).getByTestId('board-item-done')).toBeChecked();

  // The opener shows the three nodes, one of them leading.
  await expect(opener.getByTestId('node-card')).toHaveCount(3);
  await expect(opener.getByTestId('card-role').filter({ hasText: /^leader$/ })).toHaveCount(1);

  // Screenshots: each tab, the opener, and the three tabs side by side.
  const shots: Buffer[] = [];
  for (const [i, t] of tabs.entries()) {
    // Narrower than the default 1280 px, so that the three fit side by side legibly.
    await t.setViewportSize({ width: 960, height: 720 });
    const shot = await t.screenshot();
    shots.push(shot);
    writeFileSync(testInfo.outputPath(`tab-${ids[i]}.png`), shot);
  }
  await opener.screenshot({ path: testInfo.outputPath('opener.png'), fullPage: true });
  const cluster = await sideBySide(context, shots);
  writeFileSync(testInfo.outputPath('demo-3-tabs.png'), cluster);
  const docsShot = process.env.PEERQUORUM_DEMO_SCREENSHOT;
  if (docsShot !== undefined && docsShot.length > 0) writeFileSync(docsShot, cluster);

  // Close the leader's tab: the two tabs left agree on a new leader within a few seconds.
  await leaderTab.close();
  await expect.poll(() => agreedLeader(followers), { timeout: newLeaderTimeoutMs }).not.toBeNull();
  const newLeaderId = (await agreedLeader(followers)) as string;
  expect(newLeaderId).not.toBe(leaderId);
  await expectBoards(followers, items);
  await expect(opener.locator(`[data-testid="node-card"][data-node="${leaderId}"]`).getByTestId('card-role')).toHaveText(/^(closed|silent)$/);

  // The board is still writable, from either tab left.
  await addItem(first, 'after the leader left');
  const afterItems = [...items, 'after the leader left'];
  await expectBoards(followers, afterItems);
  await followers[0]?.screenshot({ path: testInfo.outputPath('after-leader-closed.png') });

  // Reload a tab: it boots from its log in IndexedDB, rejoins, and catches up.
  const reloaded = first === tabs[ids.indexOf(newLeaderId)] ? second : first;
  const other = reloaded === first ? second : first;
  const reloadedId = await nodeIdOf(reloaded);
  await reloaded.reload();
  await expect(reloaded.getByTestId('node-id')).toHaveText(reloadedId);
  await addItem(other, 'while it was away');
  const finalItems = [...afterItems, 'while it was away'];
  await expect(reloaded.getByTestId('role')).toHaveText(/^(leader|follower)$/);
  await expectBoards([reloaded, other], finalItems);
  await expect.poll(async () => (await reloaded.getByTestId('commit-index').textContent()) === (await other.getByTestId('commit-index').textContent())).toBe(true);
  await expect.poll(() => agreedLeader([reloaded, other])).not.toBeNull();
  await reloaded.screenshot({ path: testInfo.outputPath('after-reload.png') });

  // "Open one more tab": the first takes the id the closed leader left free, and comes back from
  // that node's log; the next finds every id running, joins as a learner under a new id, and is
  // promoted once it has caught up.
  const openOneMore = async (): Promise<Page> => {
    const opened = context.waitForEvent('page');
    await opener.getByTestId('open-tab').click();
    const tab = await opened;
    await tab.waitForLoadState();
    return tab;
  };
  const revived = await openOneMore();
  await expect(revived.getByTestId('node-id')).toHaveText(leaderId);
  await expectBoards([revived], finalItems);
  const joiner = await openOneMore();
  await expect(joiner.getByTestId('node-id')).not.toHaveText(/^n\d$/);
  await expect(joiner.getByTestId('role')).toHaveText(/^(learner|follower)$/);
  await expectBoards([joiner], finalItems);
  await expect(joiner.getByTestId('role')).toHaveText('follower', { timeout: 10_000 });
  await addItem(joiner, 'from the new tab');
  await expectBoards([revived, reloaded, other, joiner], [...finalItems, 'from the new tab']);
  await joiner.screenshot({ path: testInfo.outputPath('joined.png') });
});
