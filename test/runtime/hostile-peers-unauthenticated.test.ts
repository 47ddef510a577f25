/**
 * What this proves: the attacks of hostile-peers.test.ts, run against the same cluster of three
 * drivers WITHOUT a cluster secret (the unauthenticated mode the README warns about), SUCCEED
 * where the secret is what stops them: (a) a forged append under the leader's name is committed,
 * (b) a term + 1 heartbeat moves the followers' terms, (c) an outsider's join makes it a learner,
 * (d) a forged acknowledgement makes the leader report a write no follower holds, (e) proposes
 * under a member's name add entries. So the assertions of the secret runs can fail. Where another
 * wall holds even here (a non-member's append or propose: the core's membership guard; absurd
 * terms and the 4 MiB frame: the codec's limits), the test shows that wall's counter instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { termMax } from '../../src/core/raft/limits.ts';
import { encodeRaftBody } from '../../src/io/codec-raft.ts';
import { TestCluster, captured, counter, droppedSince, emptyMapsFrame, enc, forgedAnywhere, forgedAppend, frameOf, heartbeatBody, testTimeoutMs, until, stopClusters } from './hostile-cluster.ts';

afterEach(stopClusters);

describe('the same attacks WITHOUT a secret (the unauthenticated mode): the assertions above can fail', () => {
  it(
    "a. the forged append under the leader's name is committed by the follower, which then keeps it against the leader's own entry",
    async () => {
      const c = await TestCluster.start(null);
      const leader = await c.waitLeader();
      await leader.driver.propose(enc('w1'));
      await c.converged();
      const [f] = c.followers(leader);
      const at = f.driver.status().lastIndex + 1;
      f.tap.inject(leader.id, frameOf(leader.id, f.id, forgedAppend(leader.id, f, 'forged'), null));
      await until('the follower to apply the forged entry', () => f.applied.get(at)?.data === 'forged');
      // The leader writes its own entry at that index, in the same term: the follower takes it
      // for the one it holds (same index and term), and the replicas have diverged for good.
      await leader.driver.propose(enc('w2'));
      await until('the leader to apply w2', () => leader.applied.has(at));
      expect(leader.applied.get(at)?.data).toContain('w2');
      expect(f.applied.get(at)?.data).toBe('forged');

      // A non-member's append is refused by the core itself (not the leader it follows): the
      // core's wall, which holds without a secret (test/core/hostile-peers.test.ts).
      const notFromLeader = counter(f, 'messagesNotFromLeader') + counter(f, 'messagesFromNonMembers');
      c.outsider('mallory').send(f.id, frameOf('mallory', f.id, forgedAppend('mallory', f, 'forged by mallory'), null));
      await until('the core to refuse it', () => counter(f, 'messagesNotFromLeader') + counter(f, 'messagesFromNonMembers') > notFromLeader);
      expect(forgedAnywhere(c, 'forged by mallory')).toEqual([]);
    },
    testTimeoutMs,
  );

  it(
    "b. a heartbeat of term + 1 under the leader's name moves the followers' term; absurd terms are refused by the codec",
    async () => {
      const c = await TestCluster.start(null);
      const leader = await c.waitLeader();
      const term = leader.driver.term();
      const befores = new Map(c.running.map((m) => [m.id, { ...m.router.metrics.dropped }]));
      for (const f of c.followers(leader)) {
        for (const t of [termMax + 1, 2 ** 53 - 1, term + 1]) f.tap.inject(leader.id, frameOf(leader.id, f.id, heartbeatBody(leader.id, f.id, t, f.driver.commitIndex()), null));
      }
      for (const f of c.followers(leader)) {
        await until(`${f.id} to take the forged term`, () => f.driver.term() > term);
        expect(droppedSince(f, befores.get(f.id) ?? {})).toEqual({ INVALID_MESSAGE: 2 });
      }
      for (const m of c.running) expect(m.driver.term()).toBeLessThan(termMax);
    },
    testTimeoutMs,
  );

  it(
    "c. an outsider's join adds it as a learner",
    async () => {
      const c = await TestCluster.start(null);
      const leader = await c.waitLeader();
      const mallory = c.outsider('mallory');
      const join = frameOf('mallory', leader.id, encodeRaftBody({ type: 'join', from: 'mallory', to: leader.id, term: 0, node: 'mallory' }), null);
      // Asked again every 100 ms, as a joining node does: a leader drops a join that meets its
      // first entry of the term still uncommitted.
      let askedAtMs = 0;
      await until('mallory to be a learner', () => {
        if (Date.now() - askedAtMs >= 100) {
          mallory.send(leader.id, join);
          askedAtMs = Date.now();
        }
        return leader.driver.status().config.learners.includes('mallory');
      });
      expect(leader.strangeSteps.length).toBeGreaterThan(0);
      expect(new Set(leader.strangeSteps.map((m) => m.type))).toEqual(new Set(['join']));
    },
    testTimeoutMs,
  );

  it(
    "d. with both followers stopped, a forged acknowledgement under a follower's id makes the leader report the write committed",
    async () => {
      const c = await TestCluster.start(null);
      const leader = await c.waitLeader();
      await leader.driver.propose(enc('w1'));
      await c.converged();
      const [f1, f2] = c.followers(leader);
      await c.stop(f1.id);
      await c.stop(f2.id);
      leader.tap.sent.length = 0;
      let committed = false;
      const write = leader.driver.propose(enc('x')).then(() => (committed = true));
      // The leader has sent x to f1 (into the void): an acknowledgement of it is within what it sent.
      let xIndex = 0;
      await until('the append of x to f1', () => {
        const last = captured(leader, f1.id, (m) => m.type === 'append' && m.entries.length > 0).at(-1)?.message;
        if (last?.type !== 'append') return false;
        xIndex = last.entries.at(-1)?.index ?? 0;
        return true;
      });
      const asF1 = c.outsider(f1.id);
      asF1.send(leader.id, frameOf(f1.id, leader.id, encodeRaftBody({ type: 'append-response', from: f1.id, to: leader.id, term: leader.driver.term(), index: xIndex, reject: false, hintIndex: 0, hintTerm: 0 }), null));
      await write;
      expect(committed).toBe(true);
      // No follower holds it.
      for (const f of [f1, f2]) expect(f.storage.durable().entries.some((e) => e.index === xIndex)).toBe(false);
    },
    testTimeoutMs,
  );

  it(
    "e. forty proposes under a member's name add forty entries; a non-member's are refused by the core",
    async () => {
      const c = await TestCluster.start(null);
      const leader = await c.waitLeader();
      await leader.driver.propose(enc('w1'));
      await c.converged();
      const [f] = c.followers(leader);
      const lastIndex = leader.driver.status().lastIndex;
      const fromNonMembers = counter(leader, 'messagesFromNonMembers');
      const mallory = c.outsider('mallory');
      for (let i = 0; i < 40; i++) {
        mallory.send(leader.id, frameOf('mallory', leader.id, encodeRaftBody({ type: 'propose', from: 'mallory', to: leader.id, term: 0, data: [enc(`mallory's ${i}`)] }), null));
        leader.tap.inject(f.id, frameOf(f.id, leader.id, encodeRaftBody({ type: 'propose', from: f.id, to: leader.id, term: 0, data: [enc(`evil as ${f.id} ${i}`)] }), null));
      }
      await until('forty entries', () => leader.driver.status().lastIndex >= lastIndex + 40);
      await until('the core to refuse the non-member', () => counter(leader, 'messagesFromNonMembers') === fromNonMembers + 40);
      await c.converged(lastIndex + 40);
      expect(forgedAnywhere(c, `evil as ${f.id}`)).toHaveLength(3 * 40);
      expect(forgedAnywhere(c, "mallory's")).toEqual([]);
    },
    testTimeoutMs,
  );

  it(
    'f. the 4 MiB frame of empty maps is refused by the codec before msgpackr builds it (TOO_MANY_VALUES)',
    async () => {
      // The codec's pre-scan is the wall here with or without a secret; it is what keeps the heap
      // small (msgpackr used to build 4 million objects, about 256 MiB, from one such frame).
      const c = await TestCluster.start(null);
      const leader = await c.waitLeader();
      const [f] = c.followers(leader);
      const before = { ...f.router.metrics.dropped };
      const heapBefore = process.memoryUsage().heapUsed;
      const mallory = c.outsider('mallory');
      for (let i = 0; i < 4; i++) mallory.send(f.id, emptyMapsFrame('mallory', f.id, null));
      await until('the frames to be refused', () => droppedSince(f, before).TOO_MANY_VALUES === 4);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    },
    testTimeoutMs,
  );
});
