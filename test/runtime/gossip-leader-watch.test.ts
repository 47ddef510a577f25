/**
 * What this proves about the leader watch (src/runtime/gossip-leader-watch.ts), with a scripted
 * phi and Raft view: it tells the driver the leader is gone only when (1) this node follows a
 * leader other than itself, (2) that leader was followed for `warmupTicks` in its term, and
 * (3) phi stayed at or above the threshold over two looks at least `confirmTicks` apart; a dip
 * in between withdraws the suspicion (counted); a new term or a new leader starts over (fenced
 * by term: a suspicion of the old leader never forgets the new one); and it says so once. A
 * leader forgotten and followed again in the same term (a late message of its) is not warmed up
 * again: a second silence is suspected at once.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/raft/types.ts';
import { LeaderPhiWatch } from '../../src/runtime/gossip-leader-watch.ts';

function setup() {
  const raft = { role: 'follower' as Role, term: 1, leader: 'L' as string | null, gone: [] as string[] };
  let phi = 0;
  const watch = new LeaderPhiWatch(
    'me',
    () => phi,
    { role: () => raft.role, term: () => raft.term, leader: () => raft.leader, leaderGone: (l) => void raft.gone.push(l) },
    { thresholdPhi: 8, confirmTicks: 2, warmupTicks: 10 },
  );
  return { raft, watch, setPhi: (v: number) => (phi = v) };
}

describe('the leader watch', () => {
  it('forgets a leader whose phi stays high after the warm-up, once', () => {
    const { raft, watch, setPhi } = setup();
    watch.check(0);
    setPhi(9);
    watch.check(5); // still warming up
    expect(watch.metrics.suspicions).toBe(0);
    watch.check(10); // suspected from now
    watch.check(11); // not yet confirmTicks later
    expect(raft.gone).toEqual([]);
    watch.check(12);
    expect(raft.gone).toEqual(['L']);
    expect(watch.metrics).toEqual({ suspicions: 1, suspicionsWithdrawn: 0, leadersForgotten: 1 });
    raft.leader = null; // the driver forgot it
    watch.check(13);
    watch.check(20);
    expect(raft.gone).toEqual(['L']);
  });

  it('withdraws a suspicion when phi falls before it is confirmed', () => {
    const { raft, watch, setPhi } = setup();
    watch.check(0);
    setPhi(9);
    watch.check(10);
    setPhi(1);
    watch.check(11);
    setPhi(9);
    watch.check(12);
    expect(raft.gone).toEqual([]);
    expect(watch.metrics).toEqual({ suspicions: 2, suspicionsWithdrawn: 1, leadersForgotten: 0 });
  });

  it('starts over on a new term or leader, and ignores leaders, candidates and itself', () => {
    const { raft, watch, setPhi } = setup();
    watch.check(0);
    setPhi(9);
    watch.check(10);
    raft.term = 2; // a new term began meanwhile: the suspicion belonged to the old one
    watch.check(12);
    watch.check(14);
    expect(raft.gone).toEqual([]);
    raft.role = 'leader';
    watch.check(30);
    raft.role = 'pre-candidate';
    watch.check(31);
    raft.role = 'follower';
    raft.leader = 'me';
    watch.check(40);
    watch.check(60);
    expect(raft.gone).toEqual([]);
    raft.leader = 'M';
    watch.check(61); // followed from 61: warm-up again
    watch.check(70);
    expect(watch.metrics.suspicions).toBe(1);
    watch.check(71);
    watch.check(73);
    expect(raft.gone).toEqual(['M']);
  });

  it('suspects a leader followed again in the same term without a second warm-up', () => {
    const { raft, watch, setPhi } = setup();
    watch.check(0);
    setPhi(9);
    watch.check(10);
    watch.check(12);
    expect(raft.gone).toEqual(['L']);
    // A late heartbeat: the driver follows L again in term 1, and L falls silent again.
    watch.check(13);
    watch.check(14);
    watch.check(16);
    expect(raft.gone).toEqual(['L', 'L']);
    // In a new term the same leader is a new reign: warm-up again.
    raft.term = 2;
    watch.check(17);
    watch.check(18);
    watch.check(20);
    expect(raft.gone).toEqual(['L', 'L']);
  });
});
