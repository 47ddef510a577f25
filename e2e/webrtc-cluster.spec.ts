/**
 * (a) and (e) over WebRTC: three browser contexts (separate storage, like three browsers), each
 * running a node in a worker with an IndexedDB log, linked by PeerJS data channels through the
 * local PeerServer on 127.0.0.1 with no ICE servers (loopback only).
 *
 * (a) They elect exactly one leader and replicate 1,000 writes, proposed from all three nodes at
 *     once, identically: every write is acknowledged, every replica applies the same index and
 *     holds the same state (equal digests) and every written value, and the role events every
 *     node recorded show no term with two leaders.
 * (e) The leader is cut off from the other two (its links blocked through the test hook, on both
 *     sides): the majority elects a new leader in a later term and commits; the old leader,
 *     alone, cannot commit (its write fails, its commit index does not move) nor serve a
 *     linearizable read; after healing, every node converges on the majority's history.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { ClusterNodeError, expect, test, type Cluster, type ClusterOptions } from '../src/playwright/index.ts';
import { signaling } from './config.ts';

const webrtc = { size: 3, transport: 'webrtc', signaling, iceServers: [], waitTimeoutMs: 60_000 } as const satisfies ClusterOptions;

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

test('3 browser contexts over WebRTC elect one leader and replicate 1,000 writes identically', async ({ cluster }) => {
  test.setTimeout(180_000);
  const c = await cluster(webrtc);
  expect(c.ids).toEqual(['n0', 'n1', 'n2']);
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
  // One leader that every node follows, and no term ever had two.
  await c.waitForLeader();
  await expectOneLeaderPerTerm(c);
});

test('over WebRTC, a partitioned leader cannot commit; the majority elects and commits; all converge after healing', async ({ cluster }) => {
  test.setTimeout(180_000);
  // Proposals and reads on the cut-off node fail after 3 s instead of the default 10 s.
  const c = await cluster({ ...webrtc, proposalTimeoutMs: 3_000 });
  const old = await c.waitForLeader();
  const before = await c.writeMany(old, { prefix: 'pre', count: 20 });
  expect(before.failed).toEqual([]);
  // Every node holds the writes made before the cut.
  await c.waitForConvergence({ minApplied: 20 });
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
  const leader = await c.waitForLeader();
  await c.write(leader, 'healed', 'yes');
  await c.waitForConvergence();
  for (const i of [0, 1, 2]) {
    const values = await c.readMany(i, [...before.acked, ...majority.map((j) => `majority-${j}`), 'healed'], 'linearizable');
    for (const k of before.acked) expect(values[k]).toBe(`v${k.slice(3)}`);
    for (const j of majority) expect(values[`majority-${j}`]).toBe('yes');
    expect(values.healed).toBe('yes');
  }
  const minorityValues = await Promise.all([0, 1, 2].map((i) => c.read(i, 'minority', 'linearizable')));
  expect(new Set(minorityValues).size).toBe(1);
  await expectOneLeaderPerTerm(c);
});
