/**
 * What this proves, in real Chromium (two tabs of one browser over BroadcastChannel, IndexedDB,
 * a node per tab in a worker, a cluster secret): each node has an identity key, and its peers
 * learn it from its hellos.
 *
 * - Each tab's `status().identity` names its own fingerprint (32 hex characters) and, once the
 *   hellos have gone both ways, the other node's fingerprint, equal to the one that node reports.
 * - The key is persistent: after a reload the tab's node reports the same fingerprint (the pair
 *   was kept in IndexedDB, not made again), the other node still holds that fingerprint for it,
 *   refused none of its hellos as `hello-identity-changed`, and the two still commit together.
 * - Without a secret (the second test) no hello is sent: `identity.peers` stays empty.
 */
import { expect, test, type Cluster } from '../src/playwright/index.ts';

const secret = 'the e2e cluster secret, 32 bytes';

/** Wait until node i's status names node j's fingerprint, and answer it. */
async function untilKnown(c: Cluster, i: number, j: number): Promise<string> {
  const id = (await c.status(j)).id;
  return c.until(`node ${i} to learn node ${j}'s key`, async () => (await c.status(i)).identity.peers[id]);
}

test('two tabs with a secret show each other’s fingerprints, and a reloaded tab keeps its own', async ({ cluster }) => {
  const c = await cluster({ size: 2, transport: 'broadcast', secret });
  const leader = await c.waitForLeader();
  await c.write(leader, 'before', 'reload');

  const [s0, s1] = [await c.status(0), await c.status(1)];
  expect(s0.authenticated).toBe(true);
  expect(s0.identity.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  expect(s1.identity.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  expect(s0.identity.fingerprint).not.toBe(s1.identity.fingerprint);
  expect(await untilKnown(c, 0, 1)).toBe(s1.identity.fingerprint);
  expect(await untilKnown(c, 1, 0)).toBe(s0.identity.fingerprint);
  // A node's status names only its peers, never itself.
  expect(Object.keys((await c.status(0)).identity.peers)).toEqual([s1.id]);

  const reloaded = await c.reload(1);
  expect(reloaded.id).toBe(s1.id);
  expect(reloaded.identity.fingerprint, 'the fingerprint survives the reload').toBe(s1.identity.fingerprint);

  // The reloaded node's new life brings the same key: its peer takes its hellos again.
  await c.write(await c.waitForLeader(), 'after', 'reload');
  await c.waitForConvergence();
  expect(await untilKnown(c, 1, 0)).toBe(s0.identity.fingerprint);
  expect((await c.status(0)).identity.peers[s1.id]).toBe(s1.identity.fingerprint);
  expect((await c.metrics(0)).router.dropped['hello-identity-changed'] ?? 0).toBe(0);
  expect(await c.read(1, 'before', 'linearizable')).toBe('reload');
});

test('without a secret, keys are not published', async ({ cluster }) => {
  const c = await cluster({ size: 2, transport: 'broadcast' });
  await c.write(await c.waitForLeader(), 'k', 'v');
  await c.waitForConvergence();
  for (const i of [0, 1]) {
    const s = await c.status(i);
    expect(s.authenticated).toBe(false);
    expect(s.identity.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(s.identity.peers).toEqual({});
  }
});
