/**
 * A WebRTC node that goes down and is opened again IN PLACE rejoins, every time. Three browser
 * contexts (separate storage, like three browsers), each running a node in a worker with an
 * IndexedDB log, linked by PeerJS data channels through the local PeerServer on 127.0.0.1.
 *
 * It proves: a node whose page is crashed (CDP `Page.crash`: no handler runs) or closed (`pagehide`
 * runs: a leader hands over), and which is then opened again in a new page of the same context
 * (same node id, same PeerJS id, same IndexedDB), boots from its log, gets its links back, catches
 * up (its applied index and state digest equal the others') and commits new writes with the
 * others. A follower and then the leader go down in turn, for three rounds, so node ids are
 * reused at the PeerServer and redialed by their peers several times over.
 *
 * Of each pair of nodes the lower PeerJS id dials (n0 dials n1 and n2, n1 dials n2). The case
 * that used to fail is a restart of the ACCEPTING side of a link: the dead page had sent its
 * dialer nothing, so the dialer kept a connection it thought open while the restarted node
 * waited to be dialed, and that link never came back (src/client/webrtc-links.ts, "Knocking").
 * Round 1's follower is never n0 (see below), so every run restarts an accepting side.
 *
 * Every wait is on a condition; the timeouts only stop a hang.
 */
import { expect, test, type Cluster, type ClusterOptions } from '../src/playwright/index.ts';
import { signaling } from './config.ts';

const webrtc = { size: 3, transport: 'webrtc', storage: 'indexeddb', signaling, iceServers: [], waitTimeoutMs: 60_000 } as const satisfies ClusterOptions;

const rounds = 3;

/** Every live node's links to every other live node are open (the transport's handshake done). */
async function waitForMesh(c: Cluster): Promise<void> {
  await c.until('every link open', async () => {
    const statuses = await c.statuses();
    for (const [i, s] of statuses) {
      for (const j of statuses.keys()) if (j !== i && s.links[c.ids[j] as string] !== 'open') return undefined;
    }
    return true;
  });
}

/**
 * Take node `i` down (crash or close), let the other two commit without it, open it again in
 * place, and require it to catch up and take part in new commits.
 */
async function downAndBack(c: Cluster, i: number, crash: boolean, tag: string): Promise<void> {
  const id = c.ids[i] as string;
  const before = await c.status(i);
  await c.kill(i, { crash });

  // The two others commit without it (electing a new leader first if it led).
  const survivors = c.alive;
  const leader = await c.waitForLeader({ among: survivors });
  const meanwhile = await c.writeMany(leader, { prefix: `${tag}-down-`, count: 10 });
  expect(meanwhile.failed).toEqual([]);

  // Open it again in place: same context, same id, same IndexedDB.
  const booted = await c.restart(i);
  expect(booted.id).toBe(id);
  expect(booted.boot.lastIndex, 'what it had committed was on disk').toBeGreaterThanOrEqual(before.commit);

  // It gets its links back and follows the cluster's one leader.
  await waitForMesh(c);
  const next = await c.waitForLeader();

  // It catches up on what it missed, and new writes (from it too) commit on all three.
  const after = await c.writeMany(next, { prefix: `${tag}-up-`, count: 10 });
  expect(after.failed).toEqual([]);
  await c.write(i, `${tag}-from`, id);
  const target = (await c.status(next)).commit;
  const converged = await c.waitForConvergence({ minApplied: target });
  expect((await c.digest(i)).applied).toBe(converged.applied);
  const values = await c.readMany(i, [...meanwhile.acked, ...after.acked, `${tag}-from`], 'local');
  for (const k of meanwhile.acked) expect(values[k]).toBe(`v${k.slice(`${tag}-down-`.length)}`);
  for (const k of after.acked) expect(values[k]).toBe(`v${k.slice(`${tag}-up-`.length)}`);
  expect(values[`${tag}-from`]).toBe(id);
}

for (const crash of [true, false]) {
  const how = crash ? 'crashed' : 'closed';
  test(`over WebRTC, a node ${how} and reopened in place rejoins and catches up, round after round`, async ({ cluster }) => {
    test.setTimeout(360_000);
    const c = await cluster(webrtc);
    const first = await c.waitForLeader();
    const initial = await c.writeMany(first, { prefix: 'init-', count: 20 });
    expect(initial.failed).toEqual([]);
    await c.waitForConvergence({ minApplied: 20 });

    for (let round = 0; round < rounds; round++) {
      const leader = await c.waitForLeader();
      // Alternate between the two followers (in id order), so that restarts spread over the
      // node ids; the second of them is never n0, so odd rounds restart an accepting side.
      const followers = c.alive.filter((j) => j !== leader);
      const follower = followers[round % followers.length] as number;
      await downAndBack(c, follower, crash, `r${round}f`);
      await downAndBack(c, await c.waitForLeader(), crash, `r${round}l`);
    }

    // Nothing acknowledged was lost across all the restarts.
    const leader = await c.waitForLeader();
    const values = await c.readMany(leader, initial.acked, 'linearizable');
    for (const k of initial.acked) expect(values[k]).toBe(`v${k.slice('init-'.length)}`);
  });
}
