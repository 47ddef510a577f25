/**
 * One simulated gossip seed (the Raft simulator's shape, src/sim/simulation.ts): a swarm of
 * `nodes` GossipNode engines behind thin hosts (gossip-sim-node.ts), one PRNG seeded by the seed
 * driving every fault, delay and choice, so a seed reproduces a run event for event.
 *
 * TIME. Virtual microseconds; one engine tick is 10 ms (as the runtime ticks), so the default
 * configuration's probe period is 1 s and a suspicion lasts 4 to 24 s.
 *
 * PHASES.
 *   1. Bootstrap (`bootstrapUs`): the first node starts alone, the others join within 2 s through
 *      seeds among those started before them, over a calm network with the seed's delays.
 *   2. Faults (`faultPhaseUs`): the nemesis (gossip-nemesis.ts) at the seed's rates: loss,
 *      duplication, delays, partitions, crashes (some inside incarnation writes) and restarts
 *      from disk, pauses, graceful leaves and rejoins, new members.
 *   3. Heal: everything calms; the nodes meant to come back do. The run goes on until the views
 *      converge and the mesh settles (or their bounds pass).
 *
 * CHECKS (checkers/): detection, accuracy (false suspicions counted, false deaths of unimpaired
 * members are violations), convergence after the heal, incarnations never reused across
 * restarts, mesh degrees and links only when wanted. Detection and the degree bound are checked
 * every `checkIntervalUs`, the others as things happen.
 */
import { resolveGossipConfig } from '../../core/gossip/config.ts';
import { createPrng } from '../../core/prng.ts';
import type { GossipEvent } from '../../core/gossip/events.ts';
import { AccuracyChecker } from './checkers/accuracy.ts';
import { ConvergenceChecker } from './checkers/convergence.ts';
import { CrdtConvergenceChecker } from './checkers/crdt-convergence.ts';
import { DetectionChecker } from './checkers/detection.ts';
import { IncarnationChecker } from './checkers/incarnations.ts';
import { MeshChecker } from './checkers/mesh-links.ts';
import type { SwarmView } from './checkers/swarm-view.ts';
import { Violations } from './checkers/violations.ts';
import { CrdtWorkload } from './crdt-workload.ts';
import { describeGossipFaultMix, drawGossipFaultMix, type GossipFaultMix } from './gossip-fault-mix.ts';
import { GossipNemesis } from './gossip-nemesis.ts';
import type { GossipRunResult } from './gossip-result.ts';
import type { GossipSabotage } from './gossip-sabotage.ts';
import type { GossipSimNode, GossipTimings } from './gossip-sim-node.ts';
import { GossipSwarm, gossipTickUs } from './gossip-swarm.ts';
import { Impairments } from './impairments.ts';

export { gossipTickUs };

export const gossipSimulationDefaults = {
  nodes: 25,
  bootstrapUs: 5_000_000,
  startSpreadUs: 2_000_000,
  faultPhaseUs: 30_000_000,
  checkIntervalUs: 100_000,
  queuedPerLinkMax: 1024,
  heldMessagesMax: 4096,
  /** A runaway guard: no seed comes near it. */
  eventsMax: 50_000_000,
} as const;

export interface GossipSimulationOptions {
  readonly seed: number;
  readonly nodes?: number;
  /** Engine settings for every node (defaults: the engine's, src/core/gossip/config.ts). */
  readonly config?: GossipTimings;
  /** False: no nemesis; the seed still draws delays. */
  readonly faults?: boolean;
  readonly faultPhaseUs?: number;
  /** Deliberate host bugs, to prove the checkers bite (gossip-sabotage.ts). */
  readonly sabotage?: readonly GossipSabotage[];
  /** Receives a narrative of the run (faults, and every membership event about `traceMember`). */
  readonly trace?: (line: string) => void;
  readonly traceMember?: string;
  /** Replace the drawn fault mix (tests that need a given weather). */
  readonly mix?: (drawn: GossipFaultMix) => GossipFaultMix;
}

function describeError(error: unknown): string {
  return `${error instanceof Error ? (error.stack ?? error.message) : String(error)}`.split('\n').slice(0, 4).join(' | ');
}

export function runGossipSimulation(options: GossipSimulationOptions): GossipRunResult {
  return new GossipRun(options).run();
}

class GossipRun {
  private readonly swarm: GossipSwarm;
  private readonly mix: GossipFaultMix;
  private readonly impairments = new Impairments(() => this.swarm.nowUs);
  private readonly view: SwarmView;
  private readonly accuracy: AccuracyChecker;
  private readonly detection: DetectionChecker;
  private readonly convergence: ConvergenceChecker;
  private readonly workload: CrdtWorkload;
  private readonly crdts: CrdtConvergenceChecker;
  private readonly incarnations: IncarnationChecker;
  private readonly mesh: MeshChecker;
  private readonly errors = new Violations();
  private readonly nemesis: GossipNemesis;
  private readonly scheduler: GossipSwarm['scheduler'];
  private readonly prng: GossipSwarm['prng'];
  private readonly nodeCount: number;
  private readonly sabotage: ReadonlySet<GossipSabotage>;
  private memberUs = 0;

  constructor(private readonly options: GossipSimulationOptions) {
    this.nodeCount = options.nodes ?? gossipSimulationDefaults.nodes;
    if (!(Number.isSafeInteger(this.nodeCount) && this.nodeCount >= 2)) throw new RangeError(`nodes must be an integer >= 2, got ${this.nodeCount}`);
    // The mix is drawn from the seed's PRNG first, then the swarm goes on with the same stream.
    const prng = createPrng(options.seed);
    const drawn = drawGossipFaultMix(prng, this.nodeCount);
    this.mix = options.mix === undefined ? drawn : options.mix(drawn);
    this.sabotage = new Set(options.sabotage ?? []);
    const config = resolveGossipConfig({ ...options.config, id: 'config', prng });
    this.swarm = new GossipSwarm({
      seed: prng.nextUint32(),
      config: options.config ?? {},
      delay: this.mix.network.delay,
      storageLatency: this.mix.storageLatency,
      clockDriftMax: this.mix.clockDriftMax,
      observer: {
        onStart: (node) => this.incarnations.onStart(node),
        onSend: (node, m, rd) => {
          this.incarnations.onSend(node, m);
          this.mesh.onSend(node, m, rd);
        },
        onEvents: (node, events) => {
          this.accuracy.observe(node, events);
          if (options.trace !== undefined) this.traceEvents(node, events);
        },
        onWriteBegin: (node, completesAtUs) => {
          this.workload.onWriteBegin(node);
          this.nemesis.onWriteBegin(node, completesAtUs);
        },
        onWriteDurable: (node) => this.workload.onWriteDurable(node),
        onFail: (node, error) => {
          this.errors.add(`${node.id} stopped at ${(this.swarm.nowUs / 1e6).toFixed(3)}s: ${describeError(error)}`);
          this.impairments.begin(node.id, 'down');
          this.workload.onCrash(node);
        },
      },
      sabotage: this.sabotage,
      catchUpTicksMax: 2 * config.probeIntervalTicks,
      queuedPerLinkMax: gossipSimulationDefaults.queuedPerLinkMax,
      heldMessagesMax: gossipSimulationDefaults.heldMessagesMax,
    });
    this.scheduler = this.swarm.scheduler;
    this.prng = this.swarm.prng;
    this.view = {
      nowUs: () => this.swarm.nowUs,
      nodes: () => this.swarm.nodes,
      node: (id) => this.swarm.node(id),
      impairments: this.impairments,
      config,
      tickUs: gossipTickUs,
    };
    this.accuracy = new AccuracyChecker(this.view);
    this.detection = new DetectionChecker(this.view);
    this.convergence = new ConvergenceChecker(this.view);
    this.workload = new CrdtWorkload(this.prng);
    this.crdts = new CrdtConvergenceChecker(this.view, this.workload, this.convergence.boundUs);
    this.incarnations = new IncarnationChecker(() => this.scheduler.nowUs);
    this.mesh = new MeshChecker(this.view);
    this.nemesis = new GossipNemesis(
      this.scheduler,
      this.prng,
      this.mix,
      this.swarm.net,
      this.impairments,
      { nodes: () => this.swarm.nodes, crash: (n) => this.crash(n), restart: (n) => this.start(n), addNode: () => this.start(this.createNode()) },
      (n) => this.swarm.seedsFor(n),
      (line) => this.note(line),
    );
  }

  private note(line: string): void {
    this.options.trace?.(`${(this.scheduler.nowUs / 1e6).toFixed(3)}s ${line}`);
  }

  private traceEvents(node: GossipSimNode, events: readonly GossipEvent[]): void {
    const member = this.options.traceMember;
    for (const e of events) {
      if (e.kind !== 'member-changed' || (member !== undefined && e.member !== member)) continue;
      this.note(`${node.id}: ${e.member} ${e.previous ?? 'unknown'} -> ${e.state} at ${e.incarnation}`);
    }
  }

  private createNode(): GossipSimNode {
    const node = this.swarm.createNode();
    this.impairments.begin(node.id, 'down');
    return node;
  }

  private start(node: GossipSimNode): void {
    const seeds = this.swarm.seedsFor(node);
    this.note(`start ${node.id} (life ${node.life + 1}) through ${seeds.join(',')}`);
    node.start(seeds);
    this.impairments.end(node.id, 'down');
  }

  private crash(node: GossipSimNode): void {
    node.crash();
    this.workload.onCrash(node);
    this.impairments.begin(node.id, 'down');
    this.detection.onCrash(node);
  }

  run(): GossipRunResult {
    const d = gossipSimulationDefaults;
    try {
      this.bootstrap();
      const faultPhaseUs = this.options.faultPhaseUs ?? d.faultPhaseUs;
      const healAtUs = d.bootstrapUs + faultPhaseUs;
      if (this.options.faults ?? true) this.scheduler.at(d.bootstrapUs, () => this.nemesis.start(healAtUs));
      this.scheduler.at(d.bootstrapUs, () => this.updates(healAtUs));
      this.everyCheck(healAtUs);
      if (!this.scheduler.runUntil(healAtUs, d.eventsMax)) throw new Error('event budget exhausted before the heal');
      this.nemesis.healAll();
      this.convergence.healed();
      this.crdts.healed();
      this.afterHeal(healAtUs);
    } catch (error) {
      this.errors.add(describeError(error));
    }
    return this.result();
  }

  private bootstrap(): void {
    const d = gossipSimulationDefaults;
    for (let i = 0; i < this.nodeCount; i++) this.createNode();
    const first = this.swarm.nodes[0] as GossipSimNode;
    first.start([]);
    this.impairments.end(first.id, 'down');
    for (const node of this.swarm.nodes.slice(1)) this.scheduler.at(1 + this.prng.nextInt(d.startSpreadUs), () => this.start(node));
  }

  private everyCheck(untilUs: number): void {
    const d = gossipSimulationDefaults;
    const tick = (): void => {
      this.detection.check();
      this.mesh.checkHardBound();
      this.memberUs += this.swarm.nodes.filter((n) => n.member).length * d.checkIntervalUs;
      if (this.scheduler.nowUs + d.checkIntervalUs <= untilUs) this.scheduler.after(d.checkIntervalUs, tick);
    };
    this.scheduler.after(d.checkIntervalUs, tick);
  }

  /** CRDT updates at random members, at the seed's rate, until the heal. */
  private updates(untilUs: number): void {
    const rate = this.mix.crdtUpdatesPerS;
    if (rate <= 0) return;
    const next = (): void => {
      const gapUs = Math.round((-Math.log(1 - this.prng.nextFloat()) / rate) * 1e6);
      if (this.scheduler.nowUs + gapUs >= untilUs) return;
      this.scheduler.after(gapUs, () => {
        const members = this.swarm.members();
        if (members.length > 0) this.workload.issue(members[this.prng.nextInt(members.length)] as GossipSimNode, this.scheduler.nowUs);
        next();
      });
    };
    next();
  }

  /** Run until the views converge and the mesh settles, or their bounds pass. */
  private afterHeal(healAtUs: number): void {
    const d = gossipSimulationDefaults;
    const endUs = healAtUs + Math.max(this.convergence.boundUs + this.mesh.settleUs, this.crdts.boundUs) + d.checkIntervalUs;
    for (let now = healAtUs + d.checkIntervalUs; now <= endUs; now += d.checkIntervalUs) {
      if (!this.scheduler.runUntil(now, d.eventsMax)) throw new Error('event budget exhausted after the heal');
      this.detection.check();
      this.mesh.checkHardBound();
      this.memberUs += this.swarm.nodes.filter((n) => n.member).length * d.checkIntervalUs;
      this.convergence.check();
      this.crdts.check();
      if (this.convergence.failures.count > 0 && this.crdts.done) return;
      const converged = this.convergence.convergedAtUs;
      if (converged !== null && this.mesh.checkSettled(converged) && this.detection.pending === 0 && this.crdts.done) return;
    }
  }

  private result(): GossipRunResult {
    const violations = {
      detection: this.detection.failures,
      falseDeaths: this.accuracy.falseDeaths,
      convergence: this.convergence.failures,
      incarnationReuses: this.incarnations.reuses,
      mesh: this.mesh.degreeViolations,
      unwantedLinks: this.mesh.unwantedLinks,
      crdtConvergence: this.crdts.failures,
      lostUpdates: this.crdts.lostUpdates,
      errors: this.errors,
    };
    const converged = this.convergence.convergedAtUs;
    const healAtUs = gossipSimulationDefaults.bootstrapUs + (this.options.faultPhaseUs ?? gossipSimulationDefaults.faultPhaseUs);
    return {
      seed: this.options.seed,
      nodes: this.nodeCount,
      ok: Object.values(violations).every((v) => v.count === 0),
      faultMix: describeGossipFaultMix(this.mix),
      violations,
      stats: {
        nemesis: { ...this.nemesis.stats },
        ghostDetections: this.detection.ghosts.count,
        ghostConvergences: this.convergence.ghosts.count,
        suspicions: this.accuracy.suspicions,
        falseSuspicions: this.accuracy.falseSuspicions,
        falseSuspicionsUnimpaired: this.accuracy.falseSuspicionsUnimpaired,
        memberHours: this.memberUs / 3.6e9,
        falseDeathsExcused: this.accuracy.falseDeathsExcused,
        detectionsUs: this.detection.detectionsUs,
        convergedAfterUs: converged === null ? null : converged - healAtUs,
        crdtConvergedAfterUs: this.crdts.convergedAtUs === null ? null : this.crdts.convergedAtUs - healAtUs,
        crdtUpdates: { ...this.workload.stats },
        messagesSent: this.swarm.net.stats.sent,
        incarnationWrites: this.swarm.nodes.reduce((s, n) => s + n.disk.writes, 0),
        incarnationWritesLost: this.swarm.nodes.reduce((s, n) => s + n.disk.writesLost, 0),
        virtualUs: this.scheduler.nowUs,
        nodesCreated: this.swarm.nodes.length,
      },
    };
  }
}
