/**
 * What this proves: two followers that pre-campaign at the same moment (their pre-votes cross)
 * do not split the vote. The leader is down, so the two survivors need each other; before the
 * rule in election.ts (`stepsBackFor`) each granted the other's pre-vote, both became
 * candidates of the same term, voted for themselves, and no one led until another election
 * timeout. Now the rival ranked lower (by log, then id) grants and steps back, the other wins at
 * once, in the very next term. Both pre-candidates' Readies are taken before any message is
 * delivered, so the pre-votes really cross. And a rival's pre-vote dropped by a node still in
 * its lease does not leave both waiting: the one that campaigns later still gets a grant.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/raft/messages.ts';
import type { RaftNode } from '../../src/core/raft/raft-node.ts';
import { Cluster, text } from './hostile-cluster.ts';

/**
 * Both nodes give up their lease on the leader (as after an election timeout without it, or on
 * a failure oracle's word) and campaign; their Readies are taken first, then every message is
 * delivered.
 */
function crossCampaigns(c: Cluster, a: RaftNode, b: RaftNode): void {
  for (const n of [a, b]) n.step({ local: 'forget-leader', leader: '1' });
  a.campaign();
  b.campaign();
  const sent: Message[] = [];
  for (const n of [a, b]) {
    const rd = n.ready();
    n.advance();
    sent.push(...rd.messages);
  }
  expect(sent.filter((m) => m.type === 'pre-vote').length).toBeGreaterThanOrEqual(2);
  for (const m of sent) c.deliver(m);
  c.stabilize();
}

describe('rival pre-candidates', () => {
  it('with equal logs, the lower id leads in the next term and the other follows it', () => {
    const c = new Cluster(['1', '2', '3']);
    const term = c.elect('1').status().term;
    c.node('1').propose(text('x'));
    c.stabilize();
    c.down.add('1');
    crossCampaigns(c, c.node('2'), c.node('3'));
    expect(c.node('2').status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(c.node('3').status()).toMatchObject({ role: 'follower', leader: '2', term: term + 1 });
  });

  it('the more up-to-date log wins whatever the ids', () => {
    const c = new Cluster(['1', '2', '3']);
    const term = c.elect('1').status().term;
    c.down.add('2');
    c.node('1').propose(text('only 1 and 3 hold this'));
    c.stabilize();
    c.down.delete('2');
    c.down.add('1');
    crossCampaigns(c, c.node('2'), c.node('3'));
    expect(c.node('3').status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(c.node('2').status()).toMatchObject({ role: 'follower', leader: '3', term: term + 1 });
  });

  it('a pre-vote dropped by a rival still in its lease leaves neither stuck: the lower rival wins', () => {
    const c = new Cluster(['1', '2', '3']);
    const term = c.elect('1').status().term;
    c.down.add('1');
    // 2 (ranked higher) pre-campaigns first; 3 still holds its lease on 1 and drops the pre-vote.
    c.node('2').step({ local: 'forget-leader', leader: '1' });
    c.node('2').campaign();
    c.stabilize();
    expect(c.node('2').status().role).toBe('pre-candidate');
    // Then 3 pre-campaigns: 2, a pre-candidate itself, grants it and 3 goes on to lead.
    c.node('3').step({ local: 'forget-leader', leader: '1' });
    c.node('3').campaign();
    c.stabilize();
    expect(c.node('3').status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(c.node('2').status()).toMatchObject({ role: 'follower', leader: '3', term: term + 1 });
  });
});
