/**
 * Leader churn (Raft paper §5.4.2 and Figure 8; the MIT 6.5840 Figure 8 tests): during a few
 * windows of the safety phase, each new leader is struck soon after it takes office, while it is
 * still replicating its predecessors' entries beside its own: often first cut off from all but
 * a minority of its peers (what it appends then reaches only them: partial replication), then
 * crashed, and restarted after a short downtime; or struck right after its commit index first
 * moves in its term (public status). Leadership changes over and over with overlapping partial
 * replication, so logs diverge across terms and each new leader must sort out entries of earlier
 * terms.
 */
import { chance, sample, shuffled, type Distribution } from './distributions.ts';
import type { AimedHost, AimedProgram } from './aimed-host.ts';
import { cutOff } from './aimed-host.ts';
import type { SimNode } from './sim-node.ts';
import type { NodeId } from '../core/raft/types.ts';

export interface ChurnMix {
  /** Windows of the safety phase with churn: [start, end) in virtual microseconds. */
  readonly windows: readonly (readonly [number, number])[];
  /** Probability that a new leader is struck. */
  readonly strikeProbability: number;
  /** How long after taking office it is struck. */
  readonly strikeAfter: Distribution;
  /**
   * Probability that a leader is struck right after its commit index first moves in its term:
   * the moment Figure 8 is about. A correct leader's first commit is its own entry; one that
   * counted an earlier term's entry dies having told the world it was committed.
   */
  readonly strikeOnFirstCommitProbability: number;
  /** Probability that it is first cut off from all but a minority of its peers. */
  readonly partialProbability: number;
  /** How long the cut lasts before the crash. */
  readonly partialFor: Distribution;
  readonly downtime: Distribution;
}

interface Office {
  readonly term: number;
  readonly commit: number;
  firstCommitSeen: boolean;
}

export class LeaderChurn implements AimedProgram {
  private active = false;
  private readonly heals = new Set<() => void>();
  private readonly offices = new Map<NodeId, Office>();

  constructor(
    private readonly host: AimedHost,
    private readonly mix: ChurnMix,
  ) {}

  start(): void {
    this.active = true;
  }

  stop(): void {
    this.active = false;
    for (const heal of this.heals) heal();
    this.heals.clear();
  }

  private inWindow(): boolean {
    const now = this.host.scheduler.nowUs;
    return this.active && this.mix.windows.some(([a, b]) => now >= a && now < b);
  }

  onLeader(node: SimNode, term: number): void {
    this.offices.set(node.id, { term, commit: node.status()?.commit ?? 0, firstCommitSeen: false });
    if (!this.inWindow()) return;
    const { prng, scheduler } = this.host;
    if (!chance(prng, this.mix.strikeProbability)) return;
    const still = (): boolean => this.active && node.up && node.isLeader() && node.status()?.term === term;
    scheduler.after(sample(prng, this.mix.strikeAfter), () => {
      if (!still()) return;
      this.host.stats.leadersStruck++;
      if (!chance(prng, this.mix.partialProbability)) {
        this.crash(node, 'soon after it took office');
        return;
      }
      // Partial replication: the leader keeps a minority of its peers (with itself, short of a
      // majority), so what it appends now reaches only them; then it dies.
      const others = this.host.nodes().filter((n) => n !== node);
      const kept = shuffled(prng, others).slice(0, Math.max(0, Math.floor(others.length / 2) - 1));
      const heal = cutOff(this.host, [node.id, ...kept.map((n) => n.id)]);
      this.heals.add(heal);
      this.host.stats.partialCuts++;
      this.host.note(`churn: ${node.id} (leader of term ${term}) keeps only ${kept.map((n) => n.id).join(',') || 'itself'}`);
      scheduler.after(sample(prng, this.mix.partialFor), () => {
        if (still()) this.crash(node, 'after replicating to a minority');
        heal();
        this.heals.delete(heal);
      });
    });
  }

  onLeaderCommit(node: SimNode, term: number, commit: number): void {
    const office = this.offices.get(node.id);
    if (office === undefined || office.term !== term || office.firstCommitSeen || commit <= office.commit) return;
    office.firstCommitSeen = true;
    if (!this.inWindow() || !chance(this.host.prng, this.mix.strikeOnFirstCommitProbability)) return;
    this.host.stats.leadersStruck++;
    this.crash(node, `right after its first commit (index ${commit})`);
  }

  private crash(node: SimNode, how: string): void {
    if (!this.host.canCrash()) return;
    this.host.crash(node, `(churn) ${how}`, sample(this.host.prng, this.mix.downtime));
  }
}
