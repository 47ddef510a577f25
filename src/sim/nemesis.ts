/**
 * The nemesis: injects the faults of a seed's mix during the safety phase, and heals them all
 * for the liveness phase.
 *
 * - Partitions, one at a time: random halves, the leader isolated, one node isolated, a one-way
 *   cut (A hears nothing from B but B hears A), or a bridge (two sides that only one node
 *   connects). Each heals after its duration.
 * - Crashes, weighted toward the moments that hurt: most crashes are armed and land inside the
 *   next write some node begins, between its start and the moment its Ready's messages leave
 *   (so both "crash before the write completed" and "crash after it completed but before
 *   sending" happen). At most `downMax` nodes are down at once; each restarts after its downtime.
 * - Pauses (a throttled tab), leadership transfers, and a failure oracle that makes a follower
 *   campaign at once after the leader crashed.
 *
 * Faults never break a quorum forever: `healAll` removes every partition, resumes every paused
 * node and restarts every crashed one (except members removed from the cluster and retired).
 */
import type { Prng } from '../core/prng.ts';
import type { NodeId, Role } from '../core/raft/types.ts';
import { chance, pick, pickWeighted, sample, shuffled } from './distributions.ts';
import type { FaultMix, PartitionKind } from './fault-mix.ts';
import type { Cut, Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimNode } from './sim-node.ts';
import { AimedFaults, type AimedClients, type AimedStats } from './nemesis-aimed.ts';

export interface NemesisStats {
  partitions: number;
  crashes: number;
  crashesDuringWrite: number;
  correlatedCrashes: number;
  restarts: number;
  pauses: number;
  transfers: number;
  oracleCampaigns: number;
}

/** The largest share of the safety phase the aimed experiments may take (one at a time). */
const experimentShareMax = 0.4;

/** How long an armed crash waits for a write before it gives up and strikes anywhere. */
const armedCrashWaitUsMax = 200_000;

export class Nemesis {
  private active = false;
  private endUs = 0;
  /** An aimed experiment runs: random faults hold off, and no other experiment begins. */
  private experimenting = false;
  /** When the running experiment began, and the time experiments took before it. */
  private experimentSinceUs = 0;
  private experimentsUs = 0;
  private armedUntilUs = -1;
  private pauseSeq = 0;
  /** The pause a node is in, so that an old pause's end does not cut a newer one short. */
  private readonly pauseTokens = new Map<NodeId, number>();
  readonly stats: NemesisStats = { partitions: 0, crashes: 0, crashesDuringWrite: 0, correlatedCrashes: 0, restarts: 0, pauses: 0, transfers: 0, oracleCampaigns: 0 };
  /** One line per fault, for a failing seed's report (bounded). */
  readonly log: string[] = [];
  private readonly aimed: AimedFaults;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    /** The nodes in play now (membership changes it; retired nodes are gone for good). */
    private readonly live: () => readonly SimNode[],
    private readonly peerNet: Network<Uint8Array>,
    private readonly mix: FaultMix,
    /** The clients the aimed faults may steer. */
    clients: AimedClients = { regular: [], readers: [] },
    /** The engine's election timeout in ticks (the aimed faults time their experiments by it). */
    electionTimeoutTicks = 10,
  ) {
    this.aimed = new AimedFaults(
      {
        scheduler,
        prng,
        peerNet,
        electionTimeoutTicks,
        clients,
        nodes: () => this.nodes,
        active: () => this.active,
        canCrash: () => this.canCrash(),
        crash: (node, how, downtimeUs) => this.crash(node, how, downtimeUs),
        restart: (node) => {
          if (node.up || node.retired) return;
          node.restart();
          this.stats.restarts++;
          this.note(`restart ${node.id}`);
        },
        pauseFor: (node, durationUs, isolateUs) => this.pauseFor(node, durationUs, isolateUs),
        calm: () => this.nodes.every((n) => n.up && !n.paused) && this.peerNet.blockedLinkCount === 0,
        beginExperiment: () => {
          // One at a time, and at most a share of the safety phase: the random faults must keep
          // most of it.
          const now = this.scheduler.nowUs;
          if (this.experimenting || this.experimentsUs > experimentShareMax * now) return false;
          this.experimenting = true;
          this.experimentSinceUs = now;
          this.calmDown('calm down for an experiment');
          return true;
        },
        endExperiment: () => {
          if (!this.experimenting) return;
          this.experimenting = false;
          this.experimentsUs += this.scheduler.nowUs - this.experimentSinceUs;
        },
        note: (what) => this.note(what),
      },
      mix.aimed,
    );
  }

  get aimedStats(): Readonly<AimedStats> {
    return this.aimed.stats;
  }

  /** A node's role or term changed (hooked into every SimNode): the aimed faults watch it. */
  onRole(node: SimNode, role: Role, term: number): void {
    this.aimed.onRole(node, role, term);
  }

  /** A leader's commit index moved (hooked into every SimNode). */
  onLeaderCommit(node: SimNode, term: number, commit: number): void {
    this.aimed.onLeaderCommit(node, term, commit);
  }

  private get nodes(): readonly SimNode[] {
    return this.live();
  }

  /** Inject faults until `endUs`. */
  start(endUs: number): void {
    this.active = true;
    this.endUs = endUs;
    this.schedulePartition();
    this.every(this.mix.crashes.ratePerS, () => this.crashSomeone());
    this.every(this.mix.pauses.ratePerS, () => this.pauseSomeone());
    this.every(this.mix.transfersPerS, () => this.transfer());
    this.aimed.start(endUs);
  }

  /** Stop injecting, and undo every fault: the network heals, every node runs. */
  healAll(): void {
    this.active = false;
    this.armedUntilUs = -1;
    this.aimed.stop();
    this.calmDown('heal all');
  }

  /**
   * A node began a write that completes at `completesAtUs` (hooked into every SimNode). An armed
   * crash lands inside it; so, with the mix's probability, does a crash of a node persisting a
   * vote (the moment "no node votes twice in a term" depends on).
   */
  onWriteBegin(node: SimNode, completesAtUs: number, carriesVote: boolean, postDurableDelayUs: number): void {
    if (this.active) this.aimed.onWriteBegin(node, completesAtUs, carriesVote);
    if (!this.active || !this.canCrash() || this.quiet()) return;
    const armed = this.scheduler.nowUs <= this.armedUntilUs;
    const onVote = carriesVote && chance(this.prng, this.mix.crashes.duringVoteProbability);
    if (!armed && !onVote) return;
    if (armed) this.armedUntilUs = -1;
    // Anywhere from now to just after the write completed and before its messages left.
    const span = completesAtUs - this.scheduler.nowUs + postDurableDelayUs;
    const atUs = this.scheduler.nowUs + this.prng.nextInt(Math.max(1, span));
    this.scheduler.at(atUs, () => {
      if (!this.active || !node.up || !this.canCrash()) return;
      this.stats.crashesDuringWrite++;
      // A voter that crashed persisting its vote often comes straight back (a tab reloaded at
      // once), while the election it voted in is still going on.
      const quickly = onVote && chance(this.prng, 0.5);
      this.crash(node, onVote ? `while persisting a vote${quickly ? ', back at once' : ''}` : 'during a write', quickly ? 200 + this.prng.nextInt(5000) : undefined);
    });
  }

  private every(ratePerS: number, action: () => void): void {
    if (ratePerS <= 0) return;
    this.scheduler.after(this.gapUs(ratePerS), () => {
      if (!this.active || this.scheduler.nowUs >= this.endUs) return;
      if (!this.quiet()) action();
      this.every(ratePerS, action);
    });
  }

  /** Partitions are serial: the next one is drawn when the current one heals. */
  private schedulePartition(): void {
    const ratePerS = this.mix.partitions.ratePerS;
    if (ratePerS <= 0) return;
    this.scheduler.after(this.gapUs(ratePerS), () => {
      if (!this.active || this.scheduler.nowUs >= this.endUs) return;
      if (this.quiet()) this.schedulePartition();
      else this.partition();
    });
  }

  private quiet(): boolean {
    return this.experimenting;
  }

  /** Heal every partition, restart every crashed node, resume every paused one. */
  private calmDown(why: string): void {
    this.peerNet.healPartitions();
    for (const n of this.nodes) {
      if (!n.up && !n.retired) {
        n.restart();
        this.stats.restarts++;
      } else if (n.paused) {
        n.resume();
      }
    }
    this.note(why);
  }

  /** An exponential gap: faults of one kind arrive as a Poisson process. */
  private gapUs(ratePerS: number): number {
    return Math.round(-Math.log(1 - this.prng.nextFloat()) * (1_000_000 / ratePerS));
  }

  private partition(): void {
    const ids = this.nodes.map((n) => n.id);
    const kind = pickWeighted<PartitionKind>(this.prng, this.mix.partitions.kinds);
    const order = shuffled(this.prng, ids);
    const leader = this.nodes.find((n) => n.up && n.isLeader())?.id ?? pick(this.prng, ids);
    let what: string;
    let cut: Cut;
    switch (kind) {
      case 'halves': {
        const size = 1 + this.prng.nextInt(ids.length - 1);
        const a = order.slice(0, size);
        const b = order.slice(size);
        cut = this.peerNet.partition(a, b);
        what = `partition ${a.join(',')} | ${b.join(',')}`;
        break;
      }
      case 'isolate-leader':
      case 'isolate-one': {
        const victim = kind === 'isolate-leader' ? leader : (order[0] as NodeId);
        cut = this.peerNet.isolate(victim, ids);
        what = `isolate ${victim}${kind === 'isolate-leader' ? ' (leader)' : ''}`;
        break;
      }
      case 'one-way': {
        const size = 1 + this.prng.nextInt(ids.length - 1);
        const from = order.slice(0, size);
        const to = order.slice(size);
        cut = this.peerNet.blockOneWay(from, to);
        what = `one-way cut ${from.join(',')} -/-> ${to.join(',')}`;
        break;
      }
      case 'bridge': {
        const bridge = order[0] as NodeId;
        const rest = order.slice(1);
        const half = Math.ceil(rest.length / 2);
        cut = this.peerNet.partition(rest.slice(0, half), rest.slice(half));
        what = `bridge ${bridge} between ${rest.slice(0, half).join(',')} | ${rest.slice(half).join(',')}`;
        break;
      }
      default: {
        const never: never = kind;
        return never;
      }
    }
    this.stats.partitions++;
    this.note(what);
    this.scheduler.after(sample(this.prng, this.mix.partitions.duration), () => {
      if (!this.active) return;
      this.peerNet.heal(cut);
      this.note('partition healed');
      this.schedulePartition();
    });
  }

  private canCrash(): boolean {
    return this.nodes.filter((n) => !n.up).length < this.mix.crashes.downMax;
  }

  private crashSomeone(): void {
    if (!this.canCrash()) return;
    if (chance(this.prng, this.mix.crashes.correlatedProbability)) {
      // A correlated failure (a machine hosting several tabs dies): as many nodes as allowed,
      // those with writes in flight first.
      const up = shuffled(this.prng, this.nodes.filter((n) => n.up));
      up.sort((a, b) => Number(b.hasWriteInFlight()) - Number(a.hasWriteInFlight()));
      for (const n of up) {
        if (!this.canCrash()) break;
        this.crash(n, 'together with others');
      }
      this.stats.correlatedCrashes++;
      return;
    }
    if (chance(this.prng, this.mix.crashes.duringWriteProbability)) {
      this.armedUntilUs = this.scheduler.nowUs + armedCrashWaitUsMax;
      return;
    }
    const up = this.nodes.filter((n) => n.up);
    if (up.length > 0) this.crash(pick(this.prng, up), 'at random');
  }

  private crash(node: SimNode, how: string, downtimeUs = sample(this.prng, this.mix.crashes.downtime)): void {
    const wasLeader = node.isLeader();
    node.crash();
    this.stats.crashes++;
    this.note(`crash ${node.id}${wasLeader ? ' (leader)' : ''} ${how}`);
    this.scheduler.after(downtimeUs, () => {
      if (!this.active || node.up || node.retired) return;
      node.restart();
      this.stats.restarts++;
      this.note(`restart ${node.id}`);
    });
    if (wasLeader && chance(this.prng, this.mix.crashes.oracleProbability)) {
      const others = this.nodes.filter((n) => n.up && n !== node);
      if (others.length === 0) return;
      // Usually every surviving follower hears it at once (as tabs of one browser do); sometimes
      // only one; sometimes exactly two, which then campaign in the same term (a split election:
      // the moment a vote forgotten in a crash, or counted in the wrong term, decides).
      const how = pickWeighted(this.prng, [
        ['all', 4],
        ['one', 3],
        ['two', 3],
      ] as const);
      const told = how === 'all' ? others : shuffled(this.prng, others).slice(0, how === 'one' ? 1 : 2);
      for (const follower of told) {
        this.scheduler.after(1000 + this.prng.nextInt(15_000), () => {
          if (!this.active || !follower.up) return;
          this.stats.oracleCampaigns++;
          follower.leaderGone(node.id);
        });
      }
    }
  }

  private pauseSomeone(): void {
    const up = this.nodes.filter((n) => n.up && !n.paused);
    if (up.length === 0) return;
    const leader = up.find((n) => n.isLeader());
    const node = leader !== undefined && chance(this.prng, 0.5) ? leader : pick(this.prng, up);
    const isolate = node === leader && chance(this.prng, this.mix.pauses.isolateLeaderProbability);
    // A paused leader cut off from its peers: the others elect a new leader while it sleeps, and
    // when it wakes it must not serve anything from its old term (lease reads in particular).
    // The isolation outlasts the pause a little: the woken leader first hears no one.
    const durationUs = sample(this.prng, this.mix.pauses.duration);
    this.pauseFor(node, durationUs, isolate ? durationUs + this.prng.nextInt(200_000) : 0);
  }

  /** Pause `node` for `durationUs`; cut it off from its peers for `isolateUs` (0: not at all). */
  private pauseFor(node: SimNode, durationUs: number, isolateUs: number): void {
    node.pause();
    const cut = isolateUs > 0 ? this.peerNet.isolate(node.id, this.nodes.map((n) => n.id)) : null;
    const token = ++this.pauseSeq;
    this.pauseTokens.set(node.id, token);
    this.stats.pauses++;
    this.note(`pause ${node.id}${node.isLeader() ? ' (leader' : ' ('}${cut === null ? '' : ', isolated'}) for ${Math.round(durationUs / 1000)}ms`.replace(' ()', ''));
    this.scheduler.after(durationUs, () => {
      if (this.pauseTokens.get(node.id) === token && node.paused) node.resume();
    });
    if (cut !== null) this.scheduler.after(isolateUs, () => this.peerNet.heal(cut));
  }

  private transfer(): void {
    const leader = this.nodes.find((n) => n.up && n.isLeader());
    if (leader === undefined) return;
    const to = pick(
      this.prng,
      this.nodes.filter((n) => n !== leader),
    );
    this.stats.transfers++;
    this.note(`transfer leadership ${leader.id} -> ${to.id}`);
    leader.transferLeadership(to.id);
  }

  private note(what: string): void {
    if (this.log.length < 500) this.log.push(`${(this.scheduler.nowUs / 1000).toFixed(1)}ms ${what}`);
  }
}
