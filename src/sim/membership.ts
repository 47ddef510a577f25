/**
 * Membership under faults (`--membership`): an operator that changes the cluster during the
 * safety phase, one server at a time (dissertation §4.1), on top of the engine's own autopilot
 * (automatic promotion of caught-up learners, automatic removal of long-unreachable voters).
 *
 * Every so often (a Poisson process of `changesPerS`) it asks the current leader for one of:
 *   - add a learner: a NEW node id (a new tab) boots with `voters: []` and learns the
 *     configuration from the leader's log; or a node created earlier whose add never committed;
 *   - promote a learner (also done by the autopilot when the seed turns it on);
 *   - remove a voter, or the leader itself (it keeps leading until the change commits, then
 *     steps down, §4.2.2), or a learner.
 * Bounds: never more than `membersMax` members (voters and learners), never fewer than
 * `votersMin` voters (the engine's `minVoters` bounds the autopilot the same way). The leader's
 * configuration (the latest in its log, committed or not) decides; the engine refuses a change
 * while another is uncommitted.
 *
 * It also follows the COMMITTED configuration, from the configuration entries the nodes apply
 * (every replica applies the same ones, so the first report of an index is the one): that is
 * the cluster's directory for clients, the member set the liveness phase requires to converge,
 * and where promotions and removals are counted. A removed member leaves for good after a while
 * (it retires: a tab closed), or lingers, running with a stale configuration, to the end of the
 * run (removed servers must not disrupt the cluster, §4.2.3); either way it is no longer counted.
 * Removed ids are never added again: a new member is a new id.
 */
import type { Prng } from '../core/prng.ts';
import type { ConfChange } from '../core/raft/conf-change.ts';
import type { ConfState, Entry, NodeId } from '../core/raft/types.ts';
import { chance, pick, pickWeighted, sample, type Distribution } from './distributions.ts';
import type { Violation } from './checkers/violation.ts';
import { pushViolation } from './checkers/violation.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimNode } from './sim-node.ts';

export interface MembershipMix {
  /** Operator changes per second of the safety phase. */
  readonly changesPerS: number;
  readonly weights: {
    readonly add: number;
    readonly promote: number;
    readonly removeVoter: number;
    readonly removeLeader: number;
    readonly removeLearner: number;
  };
  readonly membersMax: number;
  readonly votersMin: number;
  /** A removed member retires after `retireDelay` with this probability; else it lingers. */
  readonly retireProbability: number;
  readonly retireDelay: Distribution;
  /** Nodes ever created, a bound on adds of new ids. */
  readonly nodesMax: number;
}

export interface MembershipStats {
  /** Changes the operator proposed and the leader accepted. */
  proposed: number;
  /** Committed configuration changes, by kind (operator and autopilot together). */
  learnersAdded: number;
  promotions: number;
  removals: number;
  /** Of the promotions and removals: those the operator did not propose (the engine's autopilot). */
  automaticPromotions: number;
  automaticRemovals: number;
  /** Removals of the node that was leader when the operator proposed them. */
  leaderRemovals: number;
  retired: number;
}

/** What the membership driver needs from the run. */
export interface MembershipHost {
  /** Every node created so far. */
  nodes(): readonly SimNode[];
  /** Create a node with a new id that joins (boots with `voters: []`), and start it. */
  createJoiningNode(id: NodeId): SimNode;
}

export class Membership {
  private active = false;
  private endUs = 0;
  private committed: { index: number; config: ConfState };
  private readonly removed = new Set<NodeId>();
  /** `type:node` of the operator's accepted proposals, to tell its changes from the autopilot's. */
  private readonly proposedChanges = new Set<string>();
  private readonly leaderRemovalProposals = new Set<NodeId>();
  readonly stats: MembershipStats = {
    proposed: 0,
    learnersAdded: 0,
    promotions: 0,
    removals: 0,
    automaticPromotions: 0,
    automaticRemovals: 0,
    leaderRemovals: 0,
    retired: 0,
  };
  readonly log: string[] = [];
  /** Committed configurations outside the bounds (the engine's `minVoters`, the operator's maximum). */
  readonly violations: Violation[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly mix: MembershipMix,
    private readonly host: MembershipHost,
    initial: ConfState,
  ) {
    this.committed = { index: 0, config: initial };
  }

  /** Change the membership until `endUs`. */
  start(endUs: number): void {
    this.active = true;
    this.endUs = endUs;
    this.scheduleNext();
  }

  stop(): void {
    this.active = false;
  }

  /** The committed configuration (the latest one any node applied). */
  committedConfig(): ConfState {
    return this.committed.config;
  }

  /** Members of the committed configuration that are still around: where clients go. */
  directory(): NodeId[] {
    const { voters, learners } = this.committed.config;
    const retired = new Set(this.host.nodes().filter((n) => n.retired).map((n) => n.id));
    const ids = [...voters, ...learners].filter((id) => !retired.has(id));
    return ids.length > 0 ? ids : this.host.nodes().filter((n) => !n.retired).map((n) => n.id);
  }

  /** A node applied a committed configuration entry. */
  onConfigApplied(entry: Entry): void {
    if (entry.index <= this.committed.index || entry.config === undefined) return;
    const before = this.committed.config;
    const after = entry.config;
    this.committed = { index: entry.index, config: after };
    const members = after.voters.length + after.learners.length;
    if (after.voters.length < this.mix.votersMin || members > this.mix.membersMax) {
      pushViolation(this.violations, {
        property: 'membership-bounds',
        timeUs: this.scheduler.nowUs,
        detail: `committed configuration at index ${entry.index} has ${after.voters.length} voters and ${members} members (bounds: at least ${this.mix.votersMin} voters, at most ${this.mix.membersMax} members): ${JSON.stringify(after)}`,
      });
    }
    for (const id of after.learners) {
      if (!before.learners.includes(id) && !before.voters.includes(id)) {
        this.stats.learnersAdded++;
        this.note(`committed at ${entry.index}: ${id} joins as a learner`);
      }
    }
    for (const id of after.voters) {
      if (before.learners.includes(id)) {
        this.stats.promotions++;
        const manual = this.proposedChanges.delete(`promote:${id}`);
        if (!manual) this.stats.automaticPromotions++;
        this.note(`committed at ${entry.index}: ${id} promoted${manual ? '' : ' (autopilot)'}`);
      }
    }
    for (const id of [...before.voters, ...before.learners]) {
      if (after.voters.includes(id) || after.learners.includes(id)) continue;
      this.stats.removals++;
      const manual = this.proposedChanges.delete(`remove:${id}`);
      if (!manual) this.stats.automaticRemovals++;
      if (this.leaderRemovalProposals.delete(id)) this.stats.leaderRemovals++;
      this.removed.add(id);
      this.note(`committed at ${entry.index}: ${id} removed${manual ? '' : ' (autopilot)'}`);
      const node = this.host.nodes().find((n) => n.id === id);
      if (node !== undefined && chance(this.prng, this.mix.retireProbability)) {
        this.scheduler.after(sample(this.prng, this.mix.retireDelay), () => {
          if (node.retired) return;
          node.retire();
          this.stats.retired++;
          this.note(`${id} retired`);
        });
      }
    }
  }

  private scheduleNext(): void {
    if (this.mix.changesPerS <= 0) return;
    const gapUs = Math.round(-Math.log(1 - this.prng.nextFloat()) * (1_000_000 / this.mix.changesPerS));
    this.scheduler.after(gapUs, () => {
      if (!this.active || this.scheduler.nowUs >= this.endUs) return;
      this.change();
      this.scheduleNext();
    });
  }

  private change(): void {
    const leader = this.host.nodes().find((n) => n.up && !n.paused && n.isLeader());
    const conf = leader?.config() ?? null;
    if (leader === undefined || conf === null) return;
    const members = conf.voters.length + conf.learners.length;
    const w = this.mix.weights;
    type Action = 'add' | 'promote' | 'remove-voter' | 'remove-leader' | 'remove-learner';
    const actions: [Action, number][] = [];
    if (members < this.mix.membersMax) actions.push(['add', w.add]);
    if (conf.learners.length > 0) actions.push(['promote', w.promote], ['remove-learner', w.removeLearner]);
    if (conf.voters.length > this.mix.votersMin) actions.push(['remove-voter', w.removeVoter], ['remove-leader', w.removeLeader]);
    if (actions.every(([, weight]) => weight <= 0)) return;
    const action = pickWeighted(this.prng, actions);
    switch (action) {
      case 'add':
        this.add(leader, conf);
        return;
      case 'promote':
        this.propose(leader, { type: 'promote', node: pick(this.prng, conf.learners) });
        return;
      case 'remove-learner':
        this.propose(leader, { type: 'remove', node: pick(this.prng, conf.learners) });
        return;
      case 'remove-voter': {
        const others = conf.voters.filter((v) => v !== leader.id);
        if (others.length > 0) this.propose(leader, { type: 'remove', node: pick(this.prng, others) });
        return;
      }
      case 'remove-leader':
        if (conf.voters.includes(leader.id)) this.propose(leader, { type: 'remove', node: leader.id });
        return;
      default: {
        const never: never = action;
        return never;
      }
    }
  }

  /** Add a learner: a node created earlier whose add never committed, or a new one. */
  private add(leader: SimNode, conf: ConfState): void {
    const all = this.host.nodes();
    const inConf = new Set([...conf.voters, ...conf.learners]);
    const orphans = all.filter((n) => !n.retired && !inConf.has(n.id) && !this.removed.has(n.id) && !this.committedHas(n.id));
    if (orphans.length > 0) {
      this.propose(leader, { type: 'add-learner', node: pick(this.prng, orphans).id });
      return;
    }
    if (all.length >= this.mix.nodesMax) return;
    const id = `n${all.length + 1}`;
    if (this.propose(leader, { type: 'add-learner', node: id })) this.host.createJoiningNode(id);
  }

  private committedHas(id: NodeId): boolean {
    const c = this.committed.config;
    return c.voters.includes(id) || c.learners.includes(id);
  }

  private propose(leader: SimNode, change: ConfChange): boolean {
    // Noted before proposing: a change may commit before the call returns (a one-node quorum).
    const key = `${change.type}:${change.node}`;
    const leaderRemoval = change.type === 'remove' && change.node === leader.id;
    const fresh = change.type !== 'add-learner' && !this.proposedChanges.has(key);
    if (fresh) this.proposedChanges.add(key);
    if (leaderRemoval) this.leaderRemovalProposals.add(leader.id);
    if (!leader.proposeConfChange(change)) {
      if (fresh) this.proposedChanges.delete(key);
      if (leaderRemoval) this.leaderRemovalProposals.delete(leader.id);
      return false;
    }
    this.stats.proposed++;
    this.note(`${leader.id} proposes ${change.type} ${change.node}`);
    return true;
  }

  private note(what: string): void {
    if (this.log.length < 500) this.log.push(`${(this.scheduler.nowUs / 1000).toFixed(1)}ms ${what}`);
  }
}
