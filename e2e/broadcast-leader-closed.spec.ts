/**
 * (c) The leader's tab goes away while a follower keeps writing: a new leader is elected among
 * the two tabs left, it commits, and no acknowledged write is lost.
 *
 * Twice: once closed as a user closes a tab (`pagehide` runs, and the leader hands leadership
 * to its most up-to-date follower), once crashed (its renderer killed: no handler runs, and the
 * followers learn it from the Web Locks oracle or their election timeout). A follower writes
 * through it all, four writes at a time; the writes in flight when the leader went may fail
 * (their outcome is unknown) but every acknowledged one must be readable, linearizably, from
 * both tabs left. Correctness only: nothing here is timed.
 */
import { expect, test } from '../src/playwright/index.ts';

for (const crash of [false, true]) {
  test(`a new leader commits and no acknowledged write is lost when the leader's tab is ${crash ? 'crashed' : 'closed'}`, async ({ cluster }) => {
    const c = await cluster({ size: 3, transport: 'broadcast' });
    const leader = await c.waitForLeader();
    const oldTerm = (await c.status(leader)).term;
    const writer = (leader + 1) % 3;
    const survivors = [0, 1, 2].filter((i) => i !== leader);

    await c.startWriting(writer, { prefix: 'w', concurrency: 4 });
    // Let the writes get going: some are committed before the leader goes.
    const startCommit = (await c.status(writer)).commit;
    await c.until('writes to commit', async () => ((await c.status(writer)).commit >= startCommit + 20 ? true : undefined));
    await c.kill(leader, { crash });

    const next = await c.waitForLeader({ among: survivors });
    expect(next).not.toBe(leader);
    expect((await c.status(next)).term).toBeGreaterThan(oldTerm);
    // The new leader commits: a write through it, and through the other survivor.
    for (const i of survivors) await c.write(i, `after-${i}`, 'ok');
    // And the writer keeps going under the new leader.
    const afterCommit = (await c.status(writer)).commit;
    await c.until('writes under the new leader', async () => ((await c.status(writer)).commit >= afterCommit + 20 ? true : undefined));
    const report = await c.stopWriting(writer);
    expect(report.acked.length).toBeGreaterThan(0);

    const expected = new Map<string, string>([...report.acked.map((k) => [k, `v${k.slice(1)}`] as const), ...survivors.map((i) => [`after-${i}`, 'ok'] as const)]);
    const keys = [...expected.keys()];
    for (const i of survivors) {
      const values = await c.readMany(i, keys, 'linearizable');
      const lost = keys.filter((k) => values[k] !== expected.get(k));
      expect(lost, `acknowledged writes missing on node ${i}`).toEqual([]);
    }
    await c.waitForConvergence({ among: survivors });
  });
}
