/**
 * A new tab joins a running cluster as a learner and is promoted (DESIGN.md §6, dissertation
 * §4.2.1).
 *
 * Three tabs of one browser run the cluster's three ids; a fourth tab finds every id taken, so
 * it takes a new id and asks the members to add it. It must appear as a learner, copy the log
 * (everything written before it came), be promoted to voter once it keeps up, and then take part
 * like any member: its writes commit, and it converges with the others. Reloaded, it keeps its
 * id and its place in the configuration (it asks no more).
 */
import { expect, test } from '../src/playwright/index.ts';

test('a fourth tab joins as a learner, catches up, is promoted, and survives a reload', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast' });
  const leader = await c.waitForLeader();
  const before = await c.writeMany(leader, { prefix: 'before-', count: 50 });
  expect(before.failed).toEqual([]);

  const joiner = await c.join();
  const id = c.ids[joiner] as string;
  expect(c.initialIds).not.toContain(id);

  // Added as a learner first (it may already be promoted when we look: then it is a voter).
  await c.until('the new tab is a member', async () => {
    const s = await c.status(leader);
    return s.learners.includes(id) || s.voters.includes(id) ? true : undefined;
  });
  // Promoted once it has kept up.
  await c.until('the new tab is a voter everywhere', async () => {
    const all = await c.statuses();
    return [...all.values()].every((s) => s.voters.includes(id) && !s.learners.includes(id)) ? true : undefined;
  });

  // It holds what was written before it came, and its own writes commit.
  await c.waitForConvergence();
  const values = await c.readMany(joiner, before.acked, 'linearizable');
  for (const k of before.acked) expect(values[k]).toBe(`v${k.slice('before-'.length)}`);
  await c.write(joiner, 'from-joiner', 'yes');
  await c.waitForConvergence();
  expect(await c.read(leader, 'from-joiner')).toBe('yes');

  // Reloaded, it is the same member, from its own log.
  const after = await c.reload(joiner);
  expect(after.id).toBe(id);
  expect(after.voters).toContain(id);
  await c.write(joiner, 'after-reload', 'yes');
  await c.waitForConvergence();
  expect((await c.status(leader)).voters).toHaveLength(4);
});
