/**
 * (b) Three tabs of one browser context, linked by BroadcastChannel and each logging to its own
 * IndexedDB database, elect exactly one leader and replicate 1,000 writes identically.
 *
 * The writes come from all three tabs at once (followers forward to the leader). Every write
 * must be acknowledged; then every replica must have applied the same index and hold the same
 * state (equal digests of the state machine's snapshot bytes), and each must hold every written
 * value. Election safety is checked on the role events every tab recorded: no term ever had two
 * leaders.
 */
import { expect, test, type Cluster } from '../src/playwright/index.ts';

async function expectOneLeaderPerTerm(c: Cluster): Promise<void> {
  const leadersByTerm = new Map<number, Set<string>>();
  for (const i of c.alive) {
    for (const e of await c.events(i)) {
      if (e.type !== 'role' || e.role !== 'leader') continue;
      const set = leadersByTerm.get(e.term) ?? new Set<string>();
      set.add(c.ids[i] as string);
      leadersByTerm.set(e.term, set);
    }
  }
  expect(leadersByTerm.size).toBeGreaterThan(0);
  for (const [term, leaders] of leadersByTerm) expect([...leaders], `leaders of term ${term}`).toHaveLength(1);
}

test('3 tabs over BroadcastChannel elect one leader and replicate 1,000 writes identically', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast' });
  expect(new Set(c.ids).size).toBe(3);
  await c.waitForLeader();
  const statuses = await c.statuses();
  expect([...statuses.values()].filter((s) => s.role === 'leader')).toHaveLength(1);

  const total = 1_000;
  const share = Math.ceil(total / 3);
  const reports = await Promise.all(
    [0, 1, 2].map((i) => c.writeMany(i, { prefix: 'key', from: i * share, count: Math.min(share, total - i * share), concurrency: 16 })),
  );
  const acked = reports.flatMap((r) => r.acked);
  expect(reports.flatMap((r) => r.failed)).toEqual([]);
  expect(new Set(acked).size).toBe(total);

  const converged = await c.waitForConvergence({ minApplied: total });
  for (const i of c.alive) expect(await c.digest(i)).toEqual(converged);

  const keys = Array.from({ length: total }, (_, j) => `key${j}`);
  for (const i of c.alive) {
    const values = await c.readMany(i, keys, 'local');
    for (let j = 0; j < total; j++) expect(values[`key${j}`], `key${j} on node ${i}`).toBe(`v${j}`);
  }
  // One leader that every tab follows, and no term ever had two.
  await c.waitForLeader();
  await expectOneLeaderPerTerm(c);
});
