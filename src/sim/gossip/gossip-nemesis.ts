/**
 * The gossip nemesis: during the fault phase it partitions, crashes (some crashes aimed inside an
 * incarnation write), restarts from disk, pauses, makes members leave gracefully and come back,
 * and brings new members in, each as a Poisson process at the seed's rates (gossip-fault-mix.ts),
 * keeping at most `impairedMax` nodes down, paused or away at once. `healAll` ends the faults: the
 * network calms (no loss, no duplication), every cut heals, every paused node resumes, and the
 * nodes meant to come back do; some crashed nodes stay down for good, some left ones stay left,
 * so that detection and leave are checked after the heal too.
 *
 * Every impairment it causes is recorded (impairments.ts) for the accuracy and detection checkers.
 */
import type { Prng } from '../../core/prng.ts';
import { chance, pickWeighted, sample, shuffled } from '../distributions.ts';
import type { Cut, Network } from '../network.ts';
import type { Scheduler } from '../scheduler.ts';
import type { GossipMessage } from '../../core/gossip/messages.ts';
import type { GossipFaultMix, GossipPartitionKind } from './gossip-fault-mix.ts';
import type { GossipSimNode } from './gossip-sim-node.ts';
import type { Impairments } from './impairments.ts';

/** What the nemesis may do to the swarm (the run implements it, keeping the checkers informed). */
export interface SwarmControl {
  nodes(): readonly GossipSimNode[];
  crash(node: GossipSimNode): void;
  /** Start a new life from disk, joining through seeds the run picks. */
  restart(node: GossipSimNode): void;
  /** A new member, joining now. */
  addNode(): void;
}

export interface GossipNemesisStats {
  partitions: number;
  crashes: number;
  crashesInWrites: number;
  restarts: number;
  pauses: number;
  leaves: number;
  rejoins: number;
  joins: number;
}

export class GossipNemesis {
  readonly stats: GossipNemesisStats = { partitions: 0, crashes: 0, crashesInWrites: 0, restarts: 0, pauses: 0, leaves: 0, rejoins: 0, joins: 0 };
  private readonly cuts = new Map<Cut, readonly string[]>();
  /** Nodes down or away that come back at the heal (the rest stay down or left for good). */
  private readonly backAtHeal = new Set<GossipSimNode>();
  /** Nodes that left and are away (an impairment until they rejoin or crash). */
  private readonly away = new Set<GossipSimNode>();
  /** An aimed crash waiting for the next incarnation write. */
  private aimedCrashArmed = false;
  private active = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly mix: GossipFaultMix,
    private readonly net: Network<GossipMessage>,
    private readonly impairments: Impairments,
    private readonly swarm: SwarmControl,
    private readonly seedsFor: (node: GossipSimNode) => string[],
    private readonly note: (line: string) => void = () => {},
  ) {}

  /** Run faults from now until `untilUs`. */
  start(untilUs: number): void {
    this.active = true;
    this.net.setFaults(this.mix.network);
    this.poisson(this.mix.partitions.ratePerS, untilUs, () => this.partition());
    this.poisson(this.mix.crashes.ratePerS, untilUs, () => this.crash());
    this.poisson(this.mix.pauses.ratePerS, untilUs, () => this.pause());
    this.poisson(this.mix.leaves.ratePerS, untilUs, () => this.leave());
    this.poisson(this.mix.joins.ratePerS, untilUs, () => this.join());
  }

  private poisson(ratePerS: number, untilUs: number, fn: () => void): void {
    if (ratePerS <= 0) return;
    const next = (): void => {
      const gapUs = Math.round((-Math.log(1 - this.prng.nextFloat()) / ratePerS) * 1e6);
      if (this.scheduler.nowUs + gapUs >= untilUs) return;
      this.scheduler.after(gapUs, () => {
        if (!this.active) return;
        fn();
        next();
      });
    };
    next();
  }

  /** Nodes down, paused or away now. */
  private impairedCount(): number {
    return this.swarm.nodes().filter((n) => !n.up || n.paused || n.selfState === 'left').length;
  }

  private members(): GossipSimNode[] {
    return this.swarm.nodes().filter((n) => n.member);
  }

  private pickMember(): GossipSimNode | null {
    if (this.impairedCount() >= this.mix.impairedMax) return null;
    const m = this.members();
    return m.length <= 2 ? null : (m[this.prng.nextInt(m.length)] as GossipSimNode);
  }

  private partition(): void {
    if (this.cuts.size > 0) return;
    const ids = shuffled(
      this.prng,
      this.swarm.nodes().map((n) => n.id),
    );
    const kind = pickWeighted<GossipPartitionKind>(this.prng, this.mix.partitions.kinds);
    let cut: Cut;
    switch (kind) {
      case 'halves': {
        const half = Math.floor(ids.length / 2);
        cut = this.net.partition(ids.slice(0, half), ids.slice(half));
        break;
      }
      case 'isolate-one':
        cut = this.net.isolate(ids[0] as string, ids.slice(1));
        break;
      case 'minority': {
        const k = 1 + this.prng.nextInt(Math.max(1, Math.floor(ids.length / 3)));
        cut = this.net.partition(ids.slice(0, k), ids.slice(k));
        break;
      }
      case 'one-way': {
        const k = 1 + this.prng.nextInt(Math.max(1, Math.floor(ids.length / 3)));
        cut = this.net.blockOneWay(ids.slice(0, k), ids.slice(k));
        break;
      }
    }
    // Every node at either end of a blocked link is cut off from someone.
    const touched = kind === 'isolate-one' || kind === 'halves' || kind === 'minority' || kind === 'one-way' ? ids : [];
    for (const id of touched) this.impairments.begin(id, 'cut');
    this.cuts.set(cut, touched);
    this.stats.partitions++;
    this.note(`partition ${kind}: ${cut.links.length} links blocked`);
    this.scheduler.after(sample(this.prng, this.mix.partitions.duration), () => this.healCut(cut));
  }

  private healCut(cut: Cut): void {
    const touched = this.cuts.get(cut);
    if (touched === undefined) return;
    this.cuts.delete(cut);
    this.net.heal(cut);
    this.note('partition healed');
    for (const id of touched) this.impairments.end(id, 'cut');
  }

  private crash(): void {
    // One aimed crash waits at a time; meanwhile crashes strike at random (and their restarts
    // write, which gives the aimed one its moment).
    if (!this.aimedCrashArmed && chance(this.prng, this.mix.crashes.duringWriteProbability)) {
      this.aimedCrashArmed = true;
      return;
    }
    const node = this.pickMember();
    if (node !== null) this.crashNode(node);
  }

  /** An incarnation write began: an armed aimed crash lands inside it. */
  onWriteBegin(node: GossipSimNode, completesAtUs: number): void {
    if (!this.active || !this.aimedCrashArmed || this.impairedCount() >= this.mix.impairedMax) return;
    this.aimedCrashArmed = false;
    const life = node.life;
    const span = Math.max(1, completesAtUs - this.scheduler.nowUs);
    this.scheduler.after(this.prng.nextInt(span), () => {
      if (!this.active || node.life !== life || !node.up) return;
      this.stats.crashesInWrites++;
      this.note(`crash ${node.id} inside its incarnation write`);
      this.crashNode(node);
    });
  }

  private crashNode(node: GossipSimNode): void {
    this.stats.crashes++;
    // Down replaces paused or away as the reason (the run begins 'down').
    if (node.paused) this.impairments.end(node.id, 'paused');
    if (this.away.delete(node)) this.impairments.end(node.id, 'away');
    this.swarm.crash(node);
    this.note(`crash ${node.id}`);
    if (!chance(this.prng, this.mix.crashes.restartProbability)) {
      if (chance(this.prng, 0.5)) this.backAtHeal.add(node);
      return;
    }
    const life = node.life;
    this.scheduler.after(sample(this.prng, this.mix.crashes.downtime), () => {
      if (!this.active || node.up || node.life !== life) return;
      this.stats.restarts++;
      this.note(`restart ${node.id}`);
      this.swarm.restart(node);
    });
  }

  private pause(): void {
    const node = this.pickMember();
    if (node === null) return;
    this.stats.pauses++;
    node.pause();
    this.note(`pause ${node.id}`);
    this.impairments.begin(node.id, 'paused');
    const life = node.life;
    this.scheduler.after(sample(this.prng, this.mix.pauses.duration), () => this.resume(node, life));
  }

  private resume(node: GossipSimNode, life: number): void {
    if (node.life !== life || !node.paused) return;
    node.resume();
    this.note(`resume ${node.id}`);
    this.impairments.end(node.id, 'paused');
  }

  private leave(): void {
    const node = this.pickMember();
    if (node === null) return;
    this.stats.leaves++;
    node.leave();
    this.note(`leave ${node.id}`);
    this.away.add(node);
    this.impairments.begin(node.id, 'away');
    if (!chance(this.prng, this.mix.leaves.rejoinProbability)) {
      if (chance(this.prng, 0.5)) this.backAtHeal.add(node);
      return;
    }
    const life = node.life;
    this.scheduler.after(sample(this.prng, this.mix.leaves.away), () => {
      if (this.active && node.life === life && node.up && node.selfState === 'left') this.rejoin(node);
    });
  }

  private rejoin(node: GossipSimNode): void {
    this.stats.rejoins++;
    this.note(`rejoin ${node.id}`);
    node.rejoin(this.seedsFor(node));
    if (this.away.delete(node)) this.impairments.end(node.id, 'away');
  }

  private join(): void {
    this.stats.joins++;
    this.swarm.addNode();
    this.note(`join of a new node`);
  }

  /** End the faults: calm network, cuts healed, pauses over, the chosen nodes back. */
  healAll(): void {
    this.active = false;
    const f = this.net.getFaults();
    this.net.setFaults({ lossRate: 0, duplicateRate: 0, delay: f.delay });
    for (const cut of [...this.cuts.keys()]) this.healCut(cut);
    for (const node of this.swarm.nodes()) {
      if (node.paused) this.resume(node, node.life);
    }
    for (const node of this.backAtHeal) {
      if (!node.up) {
        this.stats.restarts++;
        this.note(`restart ${node.id} at the heal`);
        this.swarm.restart(node);
      } else if (node.selfState === 'left') {
        this.rejoin(node);
      }
    }
    this.backAtHeal.clear();
  }
}
