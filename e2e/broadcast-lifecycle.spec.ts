/**
 * The two browser-lifecycle mechanisms of DESIGN.md §6, each seen doing its job (not timed):
 *
 * - `pagehide`: a leader whose tab is closed hands leadership over first. The evidence is in
 *   the new leader's role events: it went straight from follower to candidate, as a node told
 *   to campaign by TimeoutNow does (dissertation §3.10); an election after a timeout, or after
 *   the oracle below, starts with a pre-vote (pre-candidate). The oracle is off here and the
 *   election timeout long, so that nothing else races the hand-over.
 * - The Web Locks oracle: when a leader's tab crashes (no handler runs), the browser grants its
 *   liveness lock to the followers waiting on it, and they report the leader gone to their
 *   drivers (`leaderGoneSignals`). A new leader follows.
 */
import { expect, test, type Cluster } from '../src/playwright/index.ts';

async function eventCounts(c: Cluster, among: readonly number[]): Promise<Map<number, number>> {
  return new Map(await Promise.all(among.map(async (i) => [i, (await c.events(i)).length] as const)));
}

test('a leader whose tab is closed hands leadership over on pagehide', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast', livenessOracle: false, raft: { electionTimeoutTicks: 100 } });
  const leader = await c.waitForLeader();
  await c.writeMany(leader, { prefix: 'k', count: 10 });
  const survivors = c.alive.filter((i) => i !== leader);
  const seen = await eventCounts(c, survivors);

  await c.kill(leader);
  const next = await c.waitForLeader({ among: survivors });
  const roles = (await c.events(next)).slice(seen.get(next)).flatMap((e) => (e.type === 'role' ? [e.role] : []));
  expect(roles).toContain('candidate');
  expect(roles).not.toContain('pre-candidate');
  await c.write(next, 'after', 'ok');
});

test('followers learn from Web Locks that a crashed leader is gone', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast', raft: { electionTimeoutTicks: 100 } });
  const leader = await c.waitForLeader();
  await c.writeMany(leader, { prefix: 'k', count: 10 });
  const survivors = c.alive.filter((i) => i !== leader);
  for (const i of survivors) expect((await c.metrics(i)).leaderGoneSignals).toBe(0);

  await c.kill(leader, { crash: true });
  await c.until('the oracle to report the leader gone', async () => {
    const signals = await Promise.all(survivors.map(async (i) => (await c.metrics(i)).leaderGoneSignals));
    return signals.some((n) => n > 0) ? true : undefined;
  });
  const next = await c.waitForLeader({ among: survivors });
  await c.write(next, 'after', 'ok');
});
