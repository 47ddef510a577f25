/**
 * Node health in real Chromium (issue 14 item 6): three tabs over BroadcastChannel each report
 * lifecycle `active` in `status().health` and a `lifecycle` event saying so; after writes the
 * leader reports commit latency percentiles and a follower lag for each follower; a follower
 * cut off while the leader writes makes the leader raise `follower-silent` and
 * `replication-lag` about it (in its status and as `alert` events), and healing clears both
 * (`alert-cleared`, no alert left). Thresholds are the test's own rules, sampled every 100 ms.
 */
import { expect, test } from '../src/playwright/index.ts';

const health = {
  sampleIntervalMs: 100,
  rules: [
    { name: 'follower-silent', metric: 'followerSilenceTicks', raiseAbove: 50, clearBelow: 10 },
    { name: 'replication-lag', metric: 'replicationLagEntries', raiseAbove: 20, clearBelow: 5 },
  ],
} as const;

test('tabs report lifecycle and metrics; a partitioned follower raises alerts on the leader, cleared on heal', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast', health });
  const leader = await c.waitForLeader();
  await c.until('every tab active', async () => {
    const all = await c.statuses();
    return [...all.values()].every((s) => s.health?.lifecycle === 'active') ? true : undefined;
  });
  for (const i of [0, 1, 2]) {
    const events = await c.events(i);
    expect(events.some((e) => e.type === 'lifecycle' && e.state === 'active')).toBe(true);
  }

  const writes = await c.writeMany(leader, { prefix: 'w', count: 20 });
  expect(writes.failed).toEqual([]);
  const metrics = await c.until('the leader to measure its writes and followers', async () => {
    const m = (await c.status(leader)).health?.metrics;
    return m !== undefined && m.commitLatencySamples > 0 && Object.keys(m.replicationLagEntries).length === 2 ? m : undefined;
  });
  expect(metrics.commitLatencyP50Ms).not.toBeNull();
  expect(metrics.commitLatencyP99Ms as number).toBeGreaterThanOrEqual(metrics.commitLatencyP50Ms as number);

  const cut = leader === 0 ? 1 : 0;
  const cutId = (await c.status(cut)).id;
  await c.partition(cut);
  expect((await c.writeMany(leader, { prefix: 'cut', count: 40 })).failed).toEqual([]);
  const raised = await c.until('both alerts about the cut follower', async () => {
    const alerts = (await c.status(leader)).health?.alerts ?? [];
    const about = alerts.filter((a) => a.subject === cutId).map((a) => a.rule).sort();
    return about.length === 2 ? about : undefined;
  });
  expect(raised).toEqual(['follower-silent', 'replication-lag']);
  expect((await c.events(leader)).some((e) => e.type === 'alert' && e.alert.subject === cutId)).toBe(true);

  await c.heal();
  await c.until('the alerts cleared', async () => ((await c.status(leader)).health?.alerts.length === 0 ? true : undefined));
  const cleared = (await c.events(leader)).flatMap((e) => (e.type === 'alert-cleared' && e.alert.subject === cutId ? [e.alert.rule] : []));
  expect(new Set(cleared)).toEqual(new Set(['follower-silent', 'replication-lag']));
});
