/**
 * What this proves: `forget-leader` from an oracle that is never wrong (Web Locks) ignores the
 * forgotten leader's messages for the rest of its term (its frames still in flight cannot renew
 * its lease), while a suspicion that may be wrong (`suspected`, phi accrual across browsers)
 * gives up the lease but follows the leader again as soon as it speaks: a live leader wrongly
 * suspected is not cut off from that follower for its whole term, and is not deposed.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, counter } from './hostile-cluster.ts';

describe('forget-leader', () => {
  it('from a certain oracle: the leader is ignored for the rest of its term', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const follower = c.node('2');
    const term = leader.status().term;
    expect(follower.step({ local: 'forget-leader', leader: '1' })).toMatchObject({ ok: true, value: { kind: 'accepted' } });
    c.stabilize();
    const ignoredBefore = counter(follower, 'messagesIgnored');
    leader.step({ local: 'propose', data: new Uint8Array([1]) });
    c.stabilize();
    expect(follower.status().leader).toBeNull();
    expect(counter(follower, 'messagesIgnored')).toBeGreaterThan(ignoredBefore);
    expect(leader.status()).toMatchObject({ role: 'leader', term });
  });

  it('from a suspicion: the leader is followed again once it speaks, and keeps its term', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const follower = c.node('2');
    const term = leader.status().term;
    expect(follower.step({ local: 'forget-leader', leader: '1', suspected: true })).toMatchObject({ ok: true, value: { kind: 'accepted' } });
    expect(follower.status().leader).toBeNull();
    // The wrongly suspecting follower campaigns at once (rank 0): the other voter, which hears
    // the leader, refuses the pre-vote, and the leader's next append brings the follower back.
    follower.step({ local: 'campaign' });
    c.stabilize();
    leader.step({ local: 'propose', data: new Uint8Array([1]) });
    c.stabilize();
    expect(follower.status()).toMatchObject({ role: 'follower', leader: '1', term });
    expect(follower.status().commit).toBe(leader.status().commit);
    expect(leader.status()).toMatchObject({ role: 'leader', term });
  });
});
