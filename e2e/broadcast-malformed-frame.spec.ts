/**
 * (f) Malformed frames injected on a real link (BroadcastChannel, from one tab's node to
 * another's) are dropped and counted by the receiver's frame router, by cause, with no event per
 * frame (a flood of junk must not flood the page), and the receiving node keeps working: it
 * still commits writes and serves linearizable reads, and the cluster converges.
 *
 * Three frames: a byte that is no envelope version (0xc1), a well-formed v2 frame for another
 * cluster, and that frame cut short by one byte.
 */
import { encodeRaftBody } from '../src/io/codec-raft.ts';
import { encodeEnvelope } from '../src/io/envelope.ts';
import { expect, test } from '../src/playwright/index.ts';

test('a malformed frame on a link is dropped and counted, and the node keeps working', async ({ cluster }) => {
  const c = await cluster({ size: 3, transport: 'broadcast' });
  const leader = await c.waitForLeader();
  const [from, to] = [leader, (leader + 1) % 3];
  const fromId = c.ids[from] as string;
  const toId = c.ids[to] as string;
  await c.write(leader, 'before', '1');
  const base = await c.metrics(to);
  const baseErrors = (await c.events(to)).filter((e) => e.type === 'error').length;

  const heartbeat = encodeRaftBody({ type: 'heartbeat', from: fromId, to: toId, term: 1, commit: 0, round: 1 });
  const otherCluster = encodeEnvelope({ family: 'raft', cluster: `${c.name}-other`, from: fromId, to: toId, seq: 0 }, heartbeat);
  await c.injectFrame(from, to, [0xc1]);
  await c.injectFrame(from, to, otherCluster);
  await c.injectFrame(from, to, otherCluster.subarray(0, otherCluster.length - 1));

  const after = await c.until('the three frames to be dropped', async () => {
    const m = await c.metrics(to);
    return m.router.framesDropped >= base.router.framesDropped + 3 ? m : undefined;
  });
  const dropped = (cause: string): number => (after.router.dropped[cause] ?? 0) - (base.router.dropped[cause] ?? 0);
  expect(after.router.framesDropped - base.router.framesDropped).toBe(3);
  expect(dropped('BAD_VERSION')).toBe(1);
  expect(dropped('WRONG_CLUSTER')).toBe(1);
  expect(dropped('MALFORMED')).toBe(1);
  // Counted, not posted to the page one event per frame.
  expect((await c.events(to)).filter((e) => e.type === 'error').length).toBe(baseErrors);

  // The receiver keeps working: it commits through the leader and reads linearizably.
  await c.write(to, 'after', '2');
  expect(await c.read(to, 'before')).toBe('1');
  expect(await c.read(to, 'after')).toBe('2');
  await c.waitForConvergence();
});
