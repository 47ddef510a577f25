/**
 * The stale-read trap (dissertation §6.4; Jepsen's stale reads): a leader is cut off from its
 * peers (not from clients), sometimes also asleep (a throttled tab), long enough for the others
 * to elect a new leader and commit writes; two readers are pinned to it, reading (ReadIndex or
 * lease) one read after another, while the other clients are steered away from it and write
 * hard. A leader that answers without confirming its leadership, or on an expired lease, serves
 * them the old state.
 *
 * Timing (dissertation §6.2): a leader checks that a quorum answered every election timeout of
 * its own clock, counted from when it took office, and steps down at the first check that finds
 * too few. Cut off right after a check, it believes in itself the longest (two periods) while
 * the others elect a new leader after about one: the trap waits for that moment.
 */
import type { NodeId } from '../core/raft/types.ts';
import { chance, sample, type Distribution } from './distributions.ts';
import { gapUs, type AimedHost, type AimedProgram } from './aimed-host.ts';
import type { SimNode } from './sim-node.ts';

/** Readers a run keeps for the trap (they issue nothing otherwise). */
export const trapReadersMax = 2;

export interface StaleLeaderMix {
  readonly ratePerS: number;
  /** How long the leader stays cut off from its peers (when not asleep). */
  readonly isolation: Distribution;
  /** `both`: one reader reads through ReadIndex, the other through the lease. */
  readonly readMode: 'index' | 'lease' | 'both';
  /**
   * Probability that the leader is also asleep for between 1.3 and 1.9 check periods: the
   * others elect a new leader meanwhile (after about 1.2), its catch-up ticks do not yet depose
   * it (that takes 2), and the reads queued at it are what it handles first on waking.
   */
  readonly pauseProbability: number;
}

export class StaleReadTrap implements AimedProgram {
  private active = false;
  private endUs = 0;
  private readonly heals = new Set<() => void>();
  /** When each node last took office as leader, and in which term. */
  private readonly offices = new Map<NodeId, { readonly term: number; readonly atUs: number }>();

  constructor(
    private readonly host: AimedHost,
    private readonly mix: StaleLeaderMix,
  ) {}

  start(endUs: number): void {
    this.active = true;
    this.endUs = endUs;
    this.schedule();
  }

  stop(): void {
    this.active = false;
    this.host.endExperiment();
    for (const heal of this.heals) heal();
    this.heals.clear();
  }

  onLeader(node: SimNode, term: number): void {
    this.offices.set(node.id, { term, atUs: this.host.scheduler.nowUs });
  }

  onLeaderCommit(): void {}

  private live(): boolean {
    return this.active && this.host.scheduler.nowUs < this.endUs;
  }

  private schedule(): void {
    this.host.scheduler.after(gapUs(this.host.prng, this.mix.ratePerS), () => {
      if (this.live()) this.spring();
    });
  }

  /**
   * Begin an experiment (the cluster calms down), wait for a leader, then for the moment just
   * after its check-quorum.
   */
  private spring(): void {
    const { scheduler, prng } = this.host;
    if (!this.host.beginExperiment()) {
      scheduler.after(50_000 + prng.nextInt(100_000), () => {
        if (this.live()) this.spring();
      });
      return;
    }
    this.awaitLeader(100);
  }

  private awaitLeader(triesLeft: number): void {
    if (!this.active) return;
    const { scheduler, prng } = this.host;
    const leader = this.host.nodes().find((n) => n.up && !n.paused && n.isLeader());
    const office = leader === undefined ? undefined : this.offices.get(leader.id);
    if (leader === undefined || office === undefined || leader.status()?.term !== office.term || !this.host.calm()) {
      if (triesLeft <= 0 || !this.live()) {
        this.end();
        return;
      }
      scheduler.after(10_000, () => this.awaitLeader(triesLeft - 1));
      return;
    }
    const stillLeads = (): boolean => leader.up && !leader.paused && leader.isLeader() && leader.status()?.term === office.term;
    const periodUs = this.host.electionTimeoutTicks * leader.tickUs;
    const waitUs = periodUs - ((scheduler.nowUs - office.atUs) % periodUs) + prng.nextInt(Math.round(1.5 * leader.tickUs));
    scheduler.after(waitUs, () => {
      if (this.live() && stillLeads() && this.host.calm()) this.set(leader, periodUs);
      else this.end();
    });
  }

  /** The experiment is over: the random faults resume, and the next trap is scheduled. */
  private end(): void {
    this.host.endExperiment();
    if (this.live()) this.schedule();
  }

  private set(leader: SimNode, periodUs: number): void {
    const { scheduler, prng, peerNet } = this.host;
    this.host.stats.staleLeaderTraps++;
    let durationUs: number;
    let readersFromUs = 0;
    let how: string;
    if (chance(prng, this.mix.pauseProbability)) {
      const sleepUs = Math.round(periodUs * (1.3 + 0.6 * prng.nextFloat()));
      durationUs = sleepUs + 20_000 + prng.nextInt(100_000);
      // The readers call just before it wakes, after the others had time to elect and commit.
      readersFromUs = Math.max(0, sleepUs - prng.nextInt(5000));
      this.host.pauseFor(leader, sleepUs, durationUs);
      how = `asleep for ${Math.round(sleepUs / 1000)}ms`;
    } else {
      durationUs = sample(prng, this.mix.isolation);
      const cut = peerNet.isolate(
        leader.id,
        this.host.nodes().map((n) => n.id),
      );
      const heal = (): void => peerNet.heal(cut);
      this.heals.add(heal);
      scheduler.after(durationUs, () => {
        heal();
        this.heals.delete(heal);
      });
      how = `cut off from its peers for ${Math.round(durationUs / 1000)}ms`;
    }
    this.host.note(`stale-read trap: ${leader.id} (leader) ${how}, readers there (${this.mix.readMode})`);
    const untilUs = scheduler.nowUs + durationUs;
    // The writers go elsewhere, as behind a load balancer whose health check failed.
    for (const c of this.host.clients.regular) c.steerAwayFrom(leader.id, untilUs);
    scheduler.after(readersFromUs, () => {
      // With both modes, each reader keeps to one: a ReadIndex read rightly waits at a deposed
      // leader, and a reader stuck on it would read nothing else there.
      this.host.clients.readers.forEach((c, i) => {
        const mode = this.mix.readMode === 'both' ? (i % 2 === 0 ? 'lease' : 'index') : this.mix.readMode;
        c.pin(leader.id, untilUs, mode);
      });
    });
    scheduler.after(durationUs, () => this.end());
  }
}
