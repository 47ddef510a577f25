/**
 * What this proves about the simulator's membership driver (src/sim/membership.ts), against a
 * scripted leader: the operator's changes stay within the bounds (never more than 7 members,
 * never fewer than 3 voters, judged on the leader's latest configuration), it removes the leader
 * itself now and then, and it adds NEW node ids (booted to join) or re-adds a created node whose
 * add never committed, never a removed one; from the committed configuration entries it counts
 * learners added, promotions and removals, telling its own changes from the autopilot's,
 * retires removed members (or lets them linger), keeps the client directory to the committed
 * members still around, and reports a committed configuration outside the bounds.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { applyConfChange, makeConfState, type ConfChange } from '../../src/core/raft/conf-change.ts';
import type { ConfState, Entry, NodeId } from '../../src/core/raft/types.ts';
import { Membership, type MembershipMix } from '../../src/sim/membership.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';
import type { SimNode } from '../../src/sim/sim-node.ts';

const mix: MembershipMix = {
  changesPerS: 50,
  weights: { add: 4, promote: 2, removeVoter: 2, removeLeader: 1, removeLearner: 1 },
  membersMax: 7,
  votersMin: 3,
  retireProbability: 0.5,
  retireDelay: { kind: 'uniform', minUs: 0, maxUs: 1000 },
  nodesMax: 12,
};

/** A stand-in for a SimNode: the leader accepts every valid change and commits it at once. */
class FakeNode {
  up = true;
  paused = false;
  retired = false;
  leader = false;
  constructor(
    readonly id: NodeId,
    private readonly cluster: FakeCluster,
  ) {}
  isLeader(): boolean {
    return this.leader;
  }
  config(): ConfState {
    return this.cluster.conf;
  }
  proposeConfChange(change: ConfChange): boolean {
    return this.cluster.propose(this, change);
  }
  retire(): void {
    this.retired = true;
    this.up = false;
  }
}

class FakeCluster {
  conf: ConfState;
  readonly nodes: FakeNode[];
  readonly proposals: { change: ConfChange; voters: number; members: number; by: NodeId }[] = [];
  readonly membership: Membership;
  private index = 10;
  constructor(readonly scheduler: Scheduler) {
    this.nodes = ['n1', 'n2', 'n3'].map((id) => new FakeNode(id, this));
    this.conf = makeConfState(['n1', 'n2', 'n3'], []);
    (this.nodes[0] as FakeNode).leader = true;
    this.membership = new Membership(
      scheduler,
      createPrng(3),
      mix,
      {
        nodes: () => this.nodes as unknown as SimNode[],
        createJoiningNode: (id) => {
          const n = new FakeNode(id, this);
          this.nodes.push(n);
          return n as unknown as SimNode;
        },
      },
      this.conf,
    );
  }
  propose(by: FakeNode, change: ConfChange): boolean {
    const next = applyConfChange(this.conf, change);
    if ('invalid' in next) return false;
    this.proposals.push({ change, voters: next.conf.voters.length, members: next.conf.voters.length + next.conf.learners.length, by: by.id });
    this.commit(next.conf);
    if (change.type === 'remove' && change.node === by.id) {
      // The removed leader steps down; another voter leads.
      by.leader = false;
      const heir = this.nodes.find((n) => next.conf.voters.includes(n.id) && !n.retired) as FakeNode;
      heir.leader = true;
    }
    return true;
  }
  commit(conf: ConfState): void {
    this.conf = conf;
    const entry: Entry = { index: ++this.index, term: 1, kind: 'config', data: new Uint8Array(0), config: conf };
    this.membership.onConfigApplied(entry);
    this.membership.onConfigApplied(entry); // a second replica applying the same entry: counted once
  }
}

describe('membership driver', () => {
  it('keeps the operator within the bounds, removes leaders, and counts what committed', () => {
    const scheduler = new Scheduler();
    const c = new FakeCluster(scheduler);
    c.membership.start(2_000_000);
    scheduler.runUntil(3_000_000);
    expect(c.proposals.length).toBeGreaterThan(15);
    for (const p of c.proposals) {
      expect(p.voters).toBeGreaterThanOrEqual(3);
      expect(p.members).toBeLessThanOrEqual(7);
    }
    const kinds = new Set(c.proposals.map((p) => p.change.type));
    expect([...kinds].sort()).toEqual(['add-learner', 'promote', 'remove']);
    const s = c.membership.stats;
    expect(s.leaderRemovals).toBeGreaterThan(0);
    expect(s.learnersAdded).toBe(c.proposals.filter((p) => p.change.type === 'add-learner').length);
    expect(s.promotions).toBe(c.proposals.filter((p) => p.change.type === 'promote').length);
    expect(s.removals).toBe(c.proposals.filter((p) => p.change.type === 'remove').length);
    expect(s.automaticPromotions + s.automaticRemovals).toBe(0);
    expect(s.retired).toBeGreaterThan(0);
    expect(c.membership.violations).toEqual([]);
    // New members are new ids; removed ids never come back.
    const added = c.proposals.filter((p) => p.change.type === 'add-learner').map((p) => p.change.node);
    expect(new Set(added).size).toBe(added.length);
    expect(added.every((id) => !['n1', 'n2', 'n3'].includes(id))).toBe(true);
    // The directory: committed members, minus those that retired.
    const retired = new Set(c.nodes.filter((n) => n.retired).map((n) => n.id));
    expect(c.membership.directory()).toEqual([...c.conf.voters, ...c.conf.learners].filter((id) => !retired.has(id)));
  });

  it('tells the autopilot\'s changes from its own, and reports a configuration outside the bounds', () => {
    const scheduler = new Scheduler();
    const c = new FakeCluster(scheduler);
    c.commit(makeConfState(['n1', 'n2', 'n3'], ['n4']));
    c.commit(makeConfState(['n1', 'n2', 'n3', 'n4'], [])); // promoted by the engine
    c.commit(makeConfState(['n1', 'n2', 'n4'], [])); // n3 removed by the engine
    expect(c.membership.stats).toMatchObject({ learnersAdded: 1, promotions: 1, automaticPromotions: 1, removals: 1, automaticRemovals: 1 });
    expect(c.membership.committedConfig()).toEqual(makeConfState(['n1', 'n2', 'n4'], []));
    c.commit(makeConfState(['n1', 'n2'], []));
    expect(c.membership.violations.map((v) => v.property)).toEqual(['membership-bounds']);
  });

  it('re-adds a created node whose add never committed before creating another', () => {
    const scheduler = new Scheduler();
    const c = new FakeCluster(scheduler);
    // n4 was created for an add that a leader change truncated: it runs, outside the configuration.
    const orphan = new FakeNode('n4', c);
    c.nodes.push(orphan);
    c.membership.start(1_000_000);
    scheduler.runUntil(1_000_000);
    const firstAdd = c.proposals.find((p) => p.change.type === 'add-learner');
    expect(firstAdd?.change.node).toBe('n4');
  });
});
