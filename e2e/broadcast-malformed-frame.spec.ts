/**
 * (f) Malformed frames injected on a real link (BroadcastChannel, from one tab's node to
 * another's) are dropped and counted by the receiver's codec, each reported as a typed `CODEC`
 * error event, and the receiving node keeps working: it still commits writes and serves
 * linearizable reads, and the cluster converges.
 *
 * Three frames: a byte msgpack never uses (0xc1), a well-formed frame for another cluster, and
 * that frame cut short by one byte.
 */
import { encodeFrame, raftEnvelope } from '../src/io/codec.ts';
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

  const otherCluster = encodeFrame(raftEnvelope(`${c.name}-other`, { type: 'heartbeat', from: fromId, to: toId, term: 1, commit: 0, round: 1 }));
  await c.injectFrame(from, to, [0xc1]);
  await c.injectFrame(from, to, otherCluster);
  await c.injectFrame(from, to, otherCluster.subarray(0, otherCluster.length - 1));

  const after = await c.until('the three frames to be dropped', async () => {
    const m = await c.metrics(to);
    return m.codec.framesDropped >= base.codec.framesDropped + 3 ? m : undefined;
  });
  expect(after.codec.framesDropped - base.codec.framesDropped).toBe(3);
  expect(after.codec.droppedByCode.MALFORMED - base.codec.droppedByCode.MALFORMED).toBe(2);
  expect(after.codec.droppedByCode.WRONG_CLUSTER - base.codec.droppedByCode.WRONG_CLUSTER).toBe(1);
  expect(after.driver.framesDropped - base.driver.framesDropped).toBe(3);
  const errors = (await c.events(to)).filter((e) => e.type === 'error');
  expect(errors.length - baseErrors).toBe(3);
  for (const e of errors.slice(baseErrors)) expect(e.type === 'error' && e.error.code).toBe('CODEC');

  // The receiver keeps working: it commits through the leader and reads linearizably.
  await c.write(to, 'after', '2');
  expect(await c.read(to, 'before')).toBe('1');
  expect(await c.read(to, 'after')).toBe('2');
  await c.waitForConvergence();
});
