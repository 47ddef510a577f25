/**
 * The faults of the services simulator, drawn from the Raft simulator's fault mix
 * (src/sim/fault-mix.ts) for the network (loss, duplication, reordering delays) and storage,
 * plus crashes, partitions and one aimed fault:
 *
 *   - crashes: a running node crashes (its writes in flight lost, its agents gone with it, the
 *     tab closed) and restarts after a downtime; at most a minority down at once, so that the
 *     services can go on;
 *   - partitions: one node cut off (agents on it keep their tasks but cannot renew their
 *     leases), or the cluster split in two, for a while;
 *   - mid-call crashes (aimed): when a tool handler begins on a node (the leader), that node
 *     crashes with `midCallCrashProbability` a few milliseconds later, before or after the
 *     handler returns but usually before `completed` commits: the new leader must take over a
 *     started call (rerun an idempotent tool, mark any other indeterminate).
 */
import type { Prng } from '../../core/prng.ts';
import { chance, describe, sample, type Distribution } from '../distributions.ts';
import type { Cut, Network } from '../network.ts';
import type { Scheduler } from '../scheduler.ts';
import type { ServicesSimNode } from './services-sim-node.ts';

export interface ServicesFaults {
  readonly crashesPerS: number;
  readonly downtime: Distribution;
  readonly partitionsPerS: number;
  readonly partitionDuration: Distribution;
  readonly midCallCrashProbability: number;
  readonly midCallDelay: Distribution;
}

const ms = 1000;

export function drawServicesFaults(prng: Prng, calm: boolean): ServicesFaults {
  return {
    crashesPerS: calm ? 0 : 0.3 + prng.nextFloat() * 1.5,
    downtime: { kind: 'uniform', minUs: 50 * ms, maxUs: (200 + prng.nextInt(1300)) * ms },
    partitionsPerS: calm ? 0 : prng.nextFloat() * 1.2,
    partitionDuration: { kind: 'uniform', minUs: 200 * ms, maxUs: (400 + prng.nextInt(1600)) * ms },
    midCallCrashProbability: calm ? 0 : 0.1 + prng.nextFloat() * 0.3,
    midCallDelay: { kind: 'uniform', minUs: 0, maxUs: 40 * ms },
  };
}

export function describeServicesFaults(f: ServicesFaults): string {
  return `crashes ${f.crashesPerS.toFixed(2)}/s down ${describe(f.downtime)}, partitions ${f.partitionsPerS.toFixed(2)}/s for ${describe(f.partitionDuration)}, mid-call crashes p=${f.midCallCrashProbability.toFixed(2)}`;
}

export interface ServicesNemesisStats {
  crashes: number;
  midCallCrashes: number;
  partitions: number;
}

export class ServicesNemesis {
  readonly stats: ServicesNemesisStats = { crashes: 0, midCallCrashes: 0, partitions: 0 };
  private active = false;
  private readonly cuts: Cut[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly net: Network<Uint8Array>,
    private readonly nodes: readonly ServicesSimNode[],
    private readonly faults: ServicesFaults,
    private readonly onRestart: (n: ServicesSimNode) => void,
  ) {}

  start(endUs: number): void {
    this.active = true;
    this.scheduler.at(endUs, () => {
      this.active = false;
    });
    this.next(this.faults.crashesPerS, () => this.crashOne());
    this.next(this.faults.partitionsPerS, () => this.partition());
  }

  /** A tool handler began on `n`: maybe crash it mid-call. */
  onToolRun(n: ServicesSimNode): void {
    if (!this.active || !chance(this.prng, this.faults.midCallCrashProbability)) return;
    this.scheduler.after(sample(this.prng, this.faults.midCallDelay), () => {
      if (!this.active || !n.up || !this.mayCrash()) return;
      this.stats.midCallCrashes++;
      this.crash(n);
    });
  }

  /** Everything heals: partitions end, every node runs. */
  healAll(): void {
    this.active = false;
    for (const c of this.cuts.splice(0)) this.net.heal(c);
    this.net.healPartitions();
  }

  private next(ratePerS: number, fault: () => void): void {
    if (ratePerS <= 0) return;
    const gapUs = Math.max(1, Math.round((-Math.log(1 - this.prng.nextFloat()) / ratePerS) * 1_000_000));
    this.scheduler.after(gapUs, () => {
      if (!this.active) return;
      fault();
      this.next(ratePerS, fault);
    });
  }

  private mayCrash(): boolean {
    const down = this.nodes.filter((n) => !n.up).length;
    return down + 1 <= Math.floor((this.nodes.length - 1) / 2);
  }

  private crashOne(): void {
    const up = this.nodes.filter((n) => n.up);
    if (up.length === 0 || !this.mayCrash()) return;
    // Leaders are struck more often: a takeover is what the tools protocol is about.
    const leader = up.find((n) => n.isLeader());
    const victim = leader !== undefined && chance(this.prng, 0.5) ? leader : (up[this.prng.nextInt(up.length)] as ServicesSimNode);
    this.crash(victim);
  }

  private crash(n: ServicesSimNode): void {
    this.stats.crashes++;
    n.crash();
    this.scheduler.after(sample(this.prng, this.faults.downtime), () => {
      if (n.up) return;
      n.restart();
      this.onRestart(n);
    });
  }

  private partition(): void {
    const ids = this.nodes.map((n) => n.id);
    let cut: Cut;
    if (chance(this.prng, 0.6)) {
      const victim = ids[this.prng.nextInt(ids.length)] as string;
      cut = this.net.isolate(victim, ids.filter((id) => id !== victim));
    } else {
      const shuffledIds = ids.map((id) => [id, this.prng.nextFloat()] as const);
      shuffledIds.sort((a, b) => a[1] - b[1]);
      const k = 1 + this.prng.nextInt(ids.length - 1);
      cut = this.net.partition(
        shuffledIds.slice(0, k).map((x) => x[0]),
        shuffledIds.slice(k).map((x) => x[0]),
      );
    }
    this.stats.partitions++;
    this.cuts.push(cut);
    this.scheduler.after(sample(this.prng, this.faults.partitionDuration), () => {
      const i = this.cuts.indexOf(cut);
      if (i < 0) return;
      this.cuts.splice(i, 1);
      this.net.heal(cut);
    });
  }
}
