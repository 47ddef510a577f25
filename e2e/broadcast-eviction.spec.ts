/**
 * A tab whose node's IndexedDB database was evicted does not come back as its old self (audit:
 * "a database the browser evicted boots empty under the same node id, so the node could vote
 * twice in one term").
 *
 * Three tabs over BroadcastChannel commit writes. In one follower's tab the node is closed and
 * its database deleted (`indexedDB.deleteDatabase('peerquorum/<cluster>/<id>')`, what the
 * browser's eviction leaves), then the tab is reloaded: it still has its old id in
 * sessionStorage, and the marker that its node had stored state. It must come back under a NEW
 * id (`status().rejoinedAfterEviction` says why), join as a learner and be promoted, catch up
 * on everything written before and while it was gone, and write. The old id must never run
 * again, so it cannot vote: its database is not even re-created (a node booting under that id
 * would create it), and the cluster keeps its leader and its term throughout. Reloaded once
 * more, the tab keeps its new id: that node's storage is intact.
 */
import { expect, test } from '../src/playwright/index.ts';

test('an evicted tab rejoins under a new id as a learner; the old id never runs again', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast' });
  const leader = await c.waitForLeader();
  const { id: leaderId, term } = await c.status(leader);
  const before = await c.writeMany(leader, { prefix: 'before-', count: 50 });
  expect(before.failed).toEqual([]);
  await c.waitForConvergence();

  const victim = (leader + 1) % 3;
  const oldId = c.ids[victim] as string;
  const oldDatabase = `peerquorum/${encodeURIComponent(c.name)}/${encodeURIComponent(oldId)}`;
  const databases = (): Promise<(string | undefined)[]> => c.page(victim).evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(await databases()).toContain(oldDatabase);

  // The node stops (its database closes), and the browser evicts the database.
  await c.invoke(victim, 'close');
  await c.page(victim).evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error ?? new Error('deleteDatabase failed'));
      }),
    oldDatabase,
  );
  expect(await databases()).not.toContain(oldDatabase);
  const during = await c.writeMany(leader, { prefix: 'during-', count: 20 });
  expect(during.failed).toEqual([]);

  // Reloaded: a new id, and why.
  const after = await c.reload(victim);
  const newId = after.id;
  expect(newId).not.toBe(oldId);
  expect(c.initialIds).not.toContain(newId);
  expect(after.rejoinedAfterEviction).toEqual({ oldId, newId });
  // The old id never ran: nothing opened (and so created) its database.
  expect(await databases()).not.toContain(oldDatabase);

  // It joins as a learner and is promoted once it keeps up.
  await c.until('the new id to be a voter everywhere', async () => {
    const all = await c.statuses();
    return [...all.values()].every((s) => s.voters.includes(newId) && !s.learners.includes(newId)) ? true : undefined;
  });
  // It holds everything written before and while it was gone, and its own writes commit.
  await c.write(victim, 'from-rejoined', 'yes');
  await c.waitForConvergence();
  const keys = [...before.acked, ...during.acked, 'from-rejoined'];
  const values = await c.readMany(victim, keys, 'linearizable');
  for (const k of [...before.acked, ...during.acked]) expect(values[k]).toBe(`v${k.slice(k.indexOf('-') + 1)}`);
  expect(values['from-rejoined']).toBe('yes');

  // The cluster kept its leader and its term: no election, no vote, from anyone.
  expect(await c.waitForLeader()).toBe(leader);
  for (const s of (await c.statuses()).values()) {
    expect(s.term).toBe(term);
    expect(s.leader).toBe(leaderId);
  }
  // The old id is a voter that never answers (until an operator or the autopilot removes it).
  expect((await c.status(leader)).voters).toContain(oldId);
  expect(await databases()).not.toContain(oldDatabase);

  // Reloaded again, the tab is its new node, from that node's own storage.
  const again = await c.reload(victim);
  expect(again.id).toBe(newId);
  expect(again.rejoinedAfterEviction).toBeUndefined();
  expect(again.boot.term).toBeGreaterThan(0);
  await c.write(victim, 'after-reload', 'yes');
  await c.waitForConvergence();
});
