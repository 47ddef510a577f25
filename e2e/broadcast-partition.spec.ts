/**
 * (e) The leader is cut off from the other two tabs (its links blocked through the test hook,
 * on both sides): the majority elects a new leader and commits; the old leader, alone, cannot
 * commit anything, nor serve a linearizable read; after healing, every node converges on the
 * majority's history.
 */
import { ClusterNodeError, expect, test } from '../src/playwright/index.ts';

test('a partitioned leader cannot commit; the majority elects and commits; all converge after healing', async ({ cluster }) => {
  // Proposals and reads on the cut-off node fail after 3 s instead of the default 10 s.
  const c = await cluster({ size: 3, transport: 'broadcast', proposalTimeoutMs: 3_000 });
  const old = await c.waitForLeader();
  const before = await c.writeMany(old, { prefix: 'pre', count: 20 });
  expect(before.failed).toEqual([]);
  const oldTerm = (await c.status(old)).term;
  const majority = [0, 1, 2].filter((i) => i !== old);

  await c.partition(old);
  const minorityCommit = (await c.status(old)).commit;

  // The majority elects a new leader in a later term and commits.
  const next = await c.waitForLeader({ among: majority });
  expect(majority).toContain(next);
  expect((await c.status(next)).term).toBeGreaterThan(oldTerm);
  for (const i of majority) await c.write(i, `majority-${i}`, 'yes');
  for (const i of majority) for (const j of majority) expect(await c.read(i, `majority-${j}`)).toBe('yes');

  // The minority cannot commit: its write fails (the outcome is unknown, so it is not asserted
  // absent later), its commit index does not move, it never sees the majority's writes, and it
  // does not serve a linearizable read.
  await expect(c.write(old, 'minority', 'no')).rejects.toBeInstanceOf(ClusterNodeError);
  await expect(c.read(old, 'pre0', 'linearizable')).rejects.toBeInstanceOf(ClusterNodeError);
  const stuck = await c.status(old);
  expect(stuck.commit).toBe(minorityCommit);
  expect(stuck.role).not.toBe('leader');
  expect(await c.read(old, `majority-${majority[0]}`, 'local')).toBeNull();

  // Heal: one leader again, and every node holds the same state, with the majority's writes.
  await c.heal();
  await c.waitForLeader();
  await c.write(next, 'healed', 'yes');
  await c.waitForConvergence();
  for (const i of [0, 1, 2]) {
    const values = await c.readMany(i, [...before.acked, ...majority.map((j) => `majority-${j}`), 'healed'], 'linearizable');
    for (const k of before.acked) expect(values[k]).toBe(`v${k.slice(3)}`);
    for (const j of majority) expect(values[`majority-${j}`]).toBe('yes');
    expect(values.healed).toBe('yes');
  }
  const minorityValues = await Promise.all([0, 1, 2].map((i) => c.read(i, 'minority', 'linearizable')));
  expect(new Set(minorityValues).size).toBe(1);
});
