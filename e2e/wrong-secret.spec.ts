/**
 * What this proves, over WebRTC in real Chromium (three browser contexts, the local PeerServer,
 * IndexedDB logs, a node per page in a worker): a cluster secret keeps out pages that do not have
 * it, while the cluster keeps committing.
 *
 * With a secret, the cluster commits writes; then a follower's page is closed and, while the
 * leader keeps writing, pages in browser contexts of their own try to take part:
 *   - an impostor with a WRONG secret under the closed member's id (the PeerServer gives an id to
 *     one page at a time, so it can only take a member's while that one is down), which links
 *     with the members over WebRTC;
 *   - an outsider with a wrong secret under a new id, which asks to join (the members do not even
 *     take its WebRTC links: they link with the ids they were given);
 *   - an impostor with NO secret under the member's id.
 * None becomes a member or a leader, none holds a single entry of the log, their writes fail;
 * the members' routers count the impostors' frames as refused (`hello-bad-tag`/`bad-tag` for
 * the wrong secret, `unauthenticated` for none; the impostor without a secret refuses the
 * members' tagged frames as `unexpected-tag`); every write the leader made meanwhile was
 * acknowledged; then the real member comes back, the cluster writes again and converges, and
 * no member holds a stranger's write.
 *
 * The control (the second test): the same impostor without a secret against a cluster WITHOUT
 * one is taken for the member and receives the log, which the assertions of the first test would
 * catch. Every wait is on a condition; the timeouts only stop a hang.
 */
import { ClusterNodeError, expect, test, type Cluster, type ClusterOptions, type Stranger } from '../src/playwright/index.ts';
import { signaling } from './config.ts';

const secret = 'the e2e cluster secret, 32 bytes';
const wrongSecret = 'not the cluster secret, 32 bytes';
const webrtc = { size: 3, transport: 'webrtc', signaling, iceServers: [], waitTimeoutMs: 60_000 } as const satisfies ClusterOptions;

/** The members' router refusals of `causes`, summed over the nodes `among`. */
async function refused(c: Cluster, among: readonly number[], causes: readonly string[]): Promise<number> {
  let total = 0;
  for (const i of among) {
    const dropped = (await c.metrics(i)).router.dropped;
    for (const cause of causes) total += dropped[cause] ?? 0;
  }
  return total;
}

/** Wait until the members `among` have refused more frames of `causes` than `baseline`. */
async function untilRefused(c: Cluster, among: readonly number[], causes: readonly string[], baseline: number): Promise<void> {
  await c.until(`the members to refuse frames as ${causes.join(' or ')}`, async () => ((await refused(c, among, causes)) > baseline ? true : undefined));
}

/** A stranger's write fails, and it holds nothing of the log and leads nothing. */
async function expectShutOut(s: Stranger, c: Cluster): Promise<void> {
  const failure = await s.write('evil', s.id).then(
    () => null,
    (e: unknown) => e,
  );
  expect(failure, `the write of ${s.id}`).toBeInstanceOf(ClusterNodeError);
  expect(['TIMEOUT', 'NOT_LEADER', 'PROPOSAL_DROPPED']).toContain((failure as ClusterNodeError).code);
  const status = await s.status();
  expect(status.role).not.toBe('leader');
  // It never heard a leader: no frame of a member ever passed its checks (the control test
  // shows an impostor following the leader when the cluster has no secret).
  expect(status.leader).toBeNull();
  expect(status.lastIndex, `entries held by the stranger ${s.id}`).toBe(0);
  expect(status.commit).toBe(0);
  for (const i of c.alive) {
    const m = await c.status(i);
    expect(m.voters).toEqual(['n0', 'n1', 'n2']);
    expect(m.learners).toEqual([]);
    expect(m.leader).not.toBe(s.id);
  }
}

test('with a secret, pages with a wrong secret or none never join, lead or write; the members refuse their frames and keep committing', async ({ cluster }) => {
  test.setTimeout(300_000);
  const c = await cluster({ ...webrtc, secret, proposalTimeoutMs: 5_000 });
  const leader = await c.waitForLeader();
  for (const i of c.alive) expect((await c.status(i)).authenticated).toBe(true);
  const before = await c.writeMany(leader, { prefix: 'before', count: 20 });
  expect(before.failed).toEqual([]);
  await c.waitForConvergence({ minApplied: 20 });

  const victim = [0, 1, 2].find((i) => i !== leader) as number;
  const victimId = c.ids[victim] as string;
  const members = [0, 1, 2].filter((i) => i !== victim);
  await c.kill(victim);
  await c.startWriting(leader, { prefix: 'during', concurrency: 2 });

  // A wrong secret: under the closed member's id, and under a new id.
  const wrongCauses = ['hello-bad-tag', 'bad-tag'];
  const wrongBaseline = await refused(c, members, wrongCauses);
  const impostor = await c.startStranger({ id: victimId, secret: wrongSecret, proposalTimeoutMs: 3_000 });
  const joiner = await c.startStranger({ id: 'n3', secret: wrongSecret, proposalTimeoutMs: 3_000 });
  expect((await impostor.status()).authenticated).toBe(true);
  await untilRefused(c, members, wrongCauses, wrongBaseline);
  await expectShutOut(impostor, c);
  await expectShutOut(joiner, c);
  expect((await joiner.status()).voters).toEqual([]);
  // It refuses the members' frames too: tagged under keys of a secret it does not have, for
  // epochs it could never learn (their hellos fail its check).
  const impostorDropped = (await impostor.metrics()).router.dropped;
  expect((impostorDropped['unknown-epoch'] ?? 0) + (impostorDropped['bad-tag'] ?? 0) + (impostorDropped['hello-bad-tag'] ?? 0)).toBeGreaterThan(0);
  await impostor.close();
  await joiner.close();

  // No secret at all, under the member's id: its frames carry no tag.
  const bareBaseline = await refused(c, members, ['unauthenticated']);
  const bare = await c.startStranger({ id: victimId, proposalTimeoutMs: 3_000 });
  expect((await bare.status()).authenticated).toBe(false);
  await untilRefused(c, members, ['unauthenticated'], bareBaseline);
  await expectShutOut(bare, c);
  expect((await bare.metrics()).router.dropped['unexpected-tag'] ?? 0).toBeGreaterThan(0);
  await bare.close();

  // The leader was never disturbed: every write it made meanwhile was acknowledged.
  const during = await c.stopWriting(leader);
  expect(during.failed).toEqual([]);
  expect(during.acked.length).toBeGreaterThan(0);

  // The real member comes back: the cluster writes again and converges without a stranger's write.
  await c.restart(victim);
  const now = await c.waitForLeader();
  await c.write(now, 'after', 'yes');
  await c.waitForConvergence();
  const probe = ['evil', 'after', ...before.acked.slice(-3), ...during.acked.slice(-3)];
  for (const i of [0, 1, 2]) {
    const values = await c.readMany(i, probe, 'linearizable');
    expect(values.evil, `evil on node ${i}`).toBeNull();
    expect(values.after).toBe('yes');
    for (const k of [...before.acked.slice(-3), ...during.acked.slice(-3)]) expect(values[k]).toBe(`v${k.replace(/^\D+/, '')}`);
  }
});

test('the control: without a secret, an impostor under a closed member id is taken for it', async ({ cluster }) => {
  test.setTimeout(180_000);
  const c = await cluster({ ...webrtc, proposalTimeoutMs: 5_000 });
  const leader = await c.waitForLeader();
  expect((await c.status(leader)).authenticated).toBe(false);
  const before = await c.writeMany(leader, { prefix: 'before', count: 20 });
  expect(before.failed).toEqual([]);
  await c.waitForConvergence({ minApplied: 20 });
  const victim = [0, 1, 2].find((i) => i !== leader) as number;
  const members = [0, 1, 2].filter((i) => i !== victim);
  await c.kill(victim);

  // What the first test asserts never happens: the impostor follows the leader, and the members
  // take its frames without refusing one. (It does not get the log: the leader believes the
  // member still holds what it acknowledged before it closed, and takes the empty log's
  // rejections for stale ones. A member whose storage was wiped meets the same.)
  const impostor = await c.startStranger({ id: c.ids[victim] as string });
  const leaderId = c.ids[leader] as string;
  await c.until('the impostor to follow the leader', async () => ((await impostor.status()).leader === leaderId ? true : undefined));
  expect((await impostor.status()).term).toBe((await c.status(leader)).term);
  // It talks to the members on open links, and they refuse none of it.
  const droppedBefore = await Promise.all(members.map(async (i) => (await c.metrics(i)).router.framesDropped));
  const sentBefore = (await impostor.metrics()).router.framesOut;
  await c.until('the impostor to send a hundred frames more', async () => ((await impostor.metrics()).router.framesOut > sentBefore + 100 ? true : undefined));
  expect(Object.values((await impostor.status()).links)).toEqual(['open', 'open']);
  expect(await Promise.all(members.map(async (i) => (await c.metrics(i)).router.framesDropped))).toEqual(droppedBefore);
});
