/**
 * (d) A reloaded tab recovers its node from IndexedDB and rejoins.
 *
 * The tab keeps its node id in sessionStorage, so after a reload it runs the same node; the
 * node boots from its database: the term, the vote and the log it had written before the
 * reload (`status().boot` is what storage gave at boot, before any message arrived). It then
 * rejoins: it catches up on what was written meanwhile and converges with the others. First a
 * follower is reloaded, then the leader (whose `pagehide` hands leadership over first).
 */
import { expect, test, type Cluster } from '../src/playwright/index.ts';

async function reloadAndCheck(c: Cluster, i: number, round: number): Promise<void> {
  await c.waitForConvergence();
  const before = await c.status(i);
  expect(before.term).toBeGreaterThan(0);
  const after = await c.reload(i);
  expect(after.id, 'the node id survives the reload (sessionStorage)').toBe(before.id);
  // The term may have moved on before the tab went (a leader hands over on pagehide, and may
  // vote for its successor first), never back; in the same term, the vote is the same.
  expect(after.boot.term).toBeGreaterThanOrEqual(before.term);
  if (after.boot.term === before.term) expect(after.boot.vote).toBe(before.vote);
  // Every entry it had committed was in its log on disk.
  expect(after.boot.lastIndex).toBeGreaterThanOrEqual(before.commit);

  // Rejoin: writes made elsewhere reach it, and it can write itself.
  const leader = await c.waitForLeader();
  const other = c.alive.find((j) => j !== i) as number;
  const report = await c.writeMany(other, { prefix: `r${round}-`, count: 20 });
  expect(report.failed).toEqual([]);
  await c.write(i, `from-${round}`, 'reloaded');
  await c.waitForConvergence();
  const values = await c.readMany(i, [...report.acked, `from-${round}`], 'linearizable');
  for (const k of report.acked) expect(values[k]).toBe(`v${k.slice(`r${round}-`.length)}`);
  expect(values[`from-${round}`]).toBe('reloaded');
  expect(c.alive).toContain(leader);
}

test('a reloaded tab recovers term, vote and log from IndexedDB and rejoins', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast' });
  const leader = await c.waitForLeader();
  const report = await c.writeMany(leader, { prefix: 'k', count: 50 });
  expect(report.failed).toEqual([]);

  const follower = (leader + 1) % 3;
  await reloadAndCheck(c, follower, 1);
  const leaderNow = await c.waitForLeader();
  await reloadAndCheck(c, leaderNow, 2);

  // Everything written before the reloads is still there, on every node.
  for (const i of c.alive) {
    const values = await c.readMany(i, report.acked, 'linearizable');
    for (const k of report.acked) expect(values[k]).toBe(`v${k.slice(1)}`);
  }
});
