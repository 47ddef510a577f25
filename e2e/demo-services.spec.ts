/**
 * The demo's coordination view (demo/services.html, demo/services-view.ts), driven through its
 * test ids in Chromium: three tabs of one browser over BroadcastChannel, each a node of
 * `createNode({ machine: 'services' })`.
 *
 * - A tool call from one tab answers `completed`, and every tab's audit log (fed by a watch)
 *   shows that call's requested, started and completed records.
 * - Agents registered in two tabs; a task submitted from the third goes to the first agent
 *   (least-used, ties to the earlier id), which holds it; that agent's tab closes; the task
 *   moves to the other tab's agent (its lease ran out in replicated time) and is done there,
 *   as both remaining tabs show.
 * - Configuration set from two tabs (compare-and-set on the version shown), then rolled back to
 *   version 1: every tab shows version 3 with version 1's content.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Page } from '@playwright/test';
import { demoBaseUrl } from './config.ts';

function task(page: Page): ReturnType<Page['getByTestId']> {
  return page.getByTestId('task-item').first();
}

test('the coordination view: tool calls in the audit log, a task moving off a closed agent tab, config set and rolled back', async ({ context }) => {
  test.setTimeout(180_000);
  const cluster = `coord-e2e-${Date.now().toString(36)}`;
  const tabs: Page[] = [];
  for (const id of ['s1', 's2', 's3']) {
    const p = await context.newPage();
    await p.goto(`${demoBaseUrl}/services.html?cluster=${cluster}&id=${id}&transport=broadcast`);
    tabs.push(p);
  }
  for (const [i, t] of tabs.entries()) {
    await expect(t.getByTestId('svc-node-id')).toHaveText(`s${i + 1}`, { timeout: 60_000 });
    await expect(t.getByTestId('tool-call')).toBeEnabled({ timeout: 60_000 });
  }
  const [a, b, c] = tabs as [Page, Page, Page];

  // A tool call: its committed outcome here, its audit trail in every tab.
  await a.getByTestId('tool-args').fill('hello');
  await a.getByTestId('tool-call').click();
  await expect(a.getByTestId('tool-result')).toHaveText(/^completed: .*"text":"hello"/, { timeout: 60_000 });
  for (const t of tabs) {
    const records = t.getByTestId('audit-log').getByTestId('audit-record');
    for (const event of ['requested', 'started', 'completed']) await expect(records.and(t.locator(`[data-event="${event}"]`))).toHaveCount(1, { timeout: 30_000 });
  }

  // Agents in two tabs; a task held by the first; its tab closes; the task moves.
  await b.getByTestId('agent-id').fill('agent-b');
  await b.getByTestId('agent-work-ms').fill('600000');
  await b.getByTestId('agent-register').click();
  await expect(b.getByTestId('agent-item').and(b.locator('[data-agent="agent-b"]'))).toHaveCount(1, { timeout: 30_000 });
  await c.getByTestId('agent-id').fill('agent-c');
  await c.getByTestId('agent-work-ms').fill('200');
  await c.getByTestId('agent-register').click();
  for (const t of tabs) await expect(t.getByTestId('agent-item')).toHaveCount(2, { timeout: 30_000 });
  await a.getByTestId('task-lease-ms').fill('1500');
  await a.getByTestId('task-submit').click();
  for (const t of tabs) {
    await expect(task(t)).toHaveAttribute('data-agent', 'agent-b', { timeout: 30_000 });
    await expect(task(t)).toHaveAttribute('data-state', 'assigned');
  }
  await b.close();
  for (const t of [a, c]) {
    await expect(task(t)).toHaveAttribute('data-agent', 'agent-c', { timeout: 60_000 });
    await expect(task(t)).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
    await expect(task(t)).toContainText('"doneBy":"agent-c"');
  }

  // Configuration: two versions from two tabs, then a rollback to the first.
  await a.getByTestId('config-value').fill('{"model":"small"}');
  await a.getByTestId('config-set').click();
  for (const t of [a, c]) await expect(t.getByTestId('config-version')).toHaveText('1', { timeout: 30_000 });
  await c.getByTestId('config-value').fill('{"model":"large"}');
  await c.getByTestId('config-set').click();
  for (const t of [a, c]) await expect(t.getByTestId('config-version')).toHaveText('2', { timeout: 30_000 });
  await expect(a.getByTestId('config-rollback')).toBeEnabled();
  await a.getByTestId('config-rollback-to').selectOption('1');
  await a.getByTestId('config-rollback').click();
  for (const t of [a, c]) {
    await expect(t.getByTestId('config-version')).toHaveText('3', { timeout: 30_000 });
    await expect(t.getByTestId('config-current')).toHaveText('{"model":"small"}');
  }
  await expect(a.getByTestId('svc-error')).toBeHidden();
});
