/**
 * One simulated run (TigerBeetle's VOPR shape): a seed, a cluster of Raft nodes with KV state
 * machines behind client sessions, concurrent clients, and a nemesis.
 *
 * TIME. Virtual microseconds. One node tick is `tickUs` = 10 ms of virtual time, so with the
 * engine's defaults an election timeout is 100–200 ms and heartbeats go every 10 ms. Messages
 * take ~0.05–150 ms depending on the seed's delay distribution; a storage write ~0.2–50 ms.
 *
 * PHASES.
 *   1. Safety (`safetyPhaseUs`, 5 s): the nemesis injects the seed's fault mix (loss,
 *      duplication, reordering delays, partitions, crashes weighted toward writes in flight,
 *      pauses, leadership transfers, clock drift). Clients run throughout.
 *   2. Liveness: everything heals (no loss, no duplication, short delays, no partition, every
 *      node up and running, except removed members that left for good; membership changes and
 *      client naps stop). After `settleUs` (1 s, time for leftover elections), every client
 *      operation called during the next `livenessPhaseUs` (1.5 s) must complete, with a
 *      definite outcome, within the client timeout (1 s). Then clients stop, the run drains, and
 *      the replicas (the members of the final configuration) must converge: one leader, equal
 *      commit and applied indices, equal state machine digests.
 *
 * CHECKS. Election safety, log matching, leader completeness, state machine safety and
 * exactly-once application of client commands run as the nodes report (log matching also every
 * `logCheckIntervalUs` and at the end); at the end, no acknowledged write may be missing from
 * the final committed log, every acknowledged command must have been applied exactly once, and
 * the client history must be linearizable. Every storage write is also held to the rules of the
 * browser's storage adapters (src/io/storage/write-rules.ts). Everything is drawn from ONE PRNG
 * seeded by the seed, so a seed reproduces a run exactly, event for event.
 *
 * CLIENTS go through client sessions (src/machines/sessions.ts): they register, then send
 * (session, seq) commands and retry the same one after a timeout or a rejection, on another node
 * if need be; the session layer applies each at most once (src/sim/client.ts).
 *
 * MODES. `snapshots`: the engine snapshots every 10–50 applied entries and sends snapshots in
 * small chunks, so logs are compacted, followers that fall behind install snapshots from the
 * leader, and crashed nodes boot from snapshot plus log tail. `membership`: an operator adds
 * learners (new node ids that join with no configuration), promotes and removes members (the
 * leader too), and the engine's autopilot promotes caught-up learners and removes long-silent
 * voters, at most 7 members and at least 3 voters (src/sim/membership.ts); the liveness phase
 * then requires the members of the final configuration to converge, and removed nodes no longer
 * count. Both modes draw extra parameters from the seed, so a seed's run depends on the modes.
 */
import { createPrng, type Prng } from '../core/prng.ts';
import { makeConfState } from '../core/raft/conf-change.ts';
import { resolveRaftConfig } from '../core/raft/config.ts';
import type { ConfState, Entry, NodeId } from '../core/raft/types.ts';
import { checkAcknowledgedWrites } from './checkers/acknowledged-writes.ts';
import { checkHistory, historyStatesPerKeyMax } from './checkers/linearizable-history.ts';
import { RaftCheckers } from './checkers/raft-checkers.ts';
import { SimClient } from './client.ts';
import { describeFaultMix, drawFaultMix, type FaultMix } from './fault-mix.ts';
import { Membership, type MembershipStats } from './membership.ts';
import { Nemesis } from './nemesis.ts';
import { Intruder, type IntruderMix } from './intruder.ts';
import { trapReadersMax } from './aimed-stale-read.ts';
import { Network, type NetworkFaults } from './network.ts';
import { Scheduler } from './scheduler.ts';
import { emptySimNodeStats, SimNode, type Sabotage, type SimNodeStats } from './sim-node.ts';

/** The simulated cluster's secret: its links are authenticated, as a deployment with one is. */
export const simSecret = 'peerquorum simulated cluster secret';
export const simCluster = 'sim';

/** One node tick, in virtual microseconds. */
export const tickUs = 10_000;

export const simulationDefaults = {
  nodes: 5,
  safetyPhaseUs: 5_000_000,
  settleUs: 1_000_000,
  livenessPhaseUs: 1_500_000,
  /** Bound on waiting for convergence at the end. */
  convergeUsMax: 3_000_000,
  logCheckIntervalUs: 250_000,
  /** A runaway guard: no seed comes near this. */
  eventsMax: 20_000_000,
  postDurableDelayUs: 50,
  inboxMax: 4096,
  queuedPerLinkMax: 1024,
} as const;

const calmNetwork: NetworkFaults = { lossRate: 0, duplicateRate: 0, delay: { kind: 'uniform', minUs: 100, maxUs: 2000 } };

export interface SimulationOptions {
  readonly seed: number;
  /** Voters: 3, 5 or 7 (any count from 1 works). */
  readonly nodes?: number;
  readonly safetyPhaseUs?: number;
  readonly settleUs?: number;
  readonly livenessPhaseUs?: number;
  /** False: no nemesis, a perfect network (the seed still drives delays and elections). */
  readonly faults?: boolean;
  /** Keep the Raft network's delivery trace in the result (tests of determinism). */
  readonly recordNetworkTrace?: boolean;
  /** Linearizability search budget per key. */
  readonly linearizabilityStatesPerKeyMax?: number;
  /** Deliberate driver bugs, to test that the checkers catch them (see `Sabotage`). */
  readonly sabotage?: readonly Sabotage[];
  /** Frequent snapshots, compaction and InstallSnapshot (see MODES above). */
  readonly snapshots?: boolean;
  /** Membership changes under the faults (see MODES above). */
  readonly membership?: boolean;
  /**
   * Stop the run at the first safety violation (the mutation harness: whether a seed fails, not
   * all the ways it does). The result then holds what was found so far.
   */
  readonly failFast?: boolean;
  /**
   * A stranger without the secret on the network, forging, replaying and garbling frames during
   * the safety phase (intruder.ts); the result counts what it sent and what got through.
   */
  readonly intruder?: IntruderMix;
  /** Receives a narrative of the run (role changes, client requests, faults) for debugging a seed. */
  readonly trace?: (line: string) => void;
}

import type { SimulationResult, SimulationStats } from './simulation-result.ts';

export type { SimulationResult, SimulationStats };
export { summarizeRun } from './simulation-result.ts';

export function nodeIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

export function runSimulation(options: SimulationOptions): SimulationResult {
  return new Run(options).run();
}

class Run {
  private readonly seed: number;
  private readonly nodeCount: number;
  private readonly scheduler = new Scheduler();
  private readonly checkers = new RaftCheckers();
  private readonly prng: Prng;
  private readonly faultsOn: boolean;
  private readonly mix: FaultMix;
  /** The nodes' frames, encoded and decoded by the real wire codec. */
  private readonly peerNet: Network<Uint8Array>;
  private readonly initialIds: readonly NodeId[];
  /** Every node ever created, in creation order (joining learners are appended). */
  private readonly nodes: SimNode[] = [];
  private readonly nodesById = new Map<NodeId, SimNode>();
  private readonly clients: SimClient[];
  private readonly nemesis: Nemesis;
  private readonly membership: Membership | null;
  /** A stranger without the secret on the network (`intruder` option). */
  private readonly intruder: Intruder | null;
  private readonly livenessFailures: string[] = [];

  constructor(private readonly options: SimulationOptions) {
    this.seed = options.seed;
    this.nodeCount = options.nodes ?? simulationDefaults.nodes;
    if (!(Number.isSafeInteger(this.nodeCount) && this.nodeCount >= 1)) throw new RangeError(`nodes must be a positive integer, got ${this.nodeCount}`);
    const prng = createPrng(this.seed);
    this.prng = prng;
    const faults = options.faults ?? true;
    this.faultsOn = faults;
    this.mix = drawFaultMix(prng, this.nodeCount, { snapshots: options.snapshots ?? false, membership: options.membership ?? false });
    const d = simulationDefaults;
    const network = faults ? this.mix.network : calmNetwork;
    this.peerNet = new Network<Uint8Array>(
      this.scheduler,
      prng,
      { ...network, queuedPerLinkMax: d.queuedPerLinkMax, recordTrace: options.recordNetworkTrace ?? false },
      (from, to, frame) => {
        const intruder = this.intruder;
        if (intruder !== null) {
          if (intruder.owns(to)) {
            intruder.receive(from, to, frame);
            return;
          }
          intruder.capture(from, to, frame);
        }
        this.nodesById.get(to)?.deliver(from, frame);
      },
    );
    this.intruder =
      options.intruder === undefined ? null : new Intruder({ scheduler: this.scheduler, prng, peerNet: this.peerNet, cluster: simCluster, secret: simSecret, members: () => this.liveNodes().map((n) => n.id), mix: options.intruder });
    this.checkers.setDurableHolds((id, index, term) => this.nodesById.get(id)?.storage.holdsDurably(index, term) ?? false);
    this.initialIds = nodeIds(this.nodeCount);
    for (const id of this.initialIds) this.createNode(id, this.initialIds);
    this.membership =
      this.mix.membership === null
        ? null
        : new Membership(this.scheduler, prng, this.mix.membership, { nodes: () => this.nodes, createJoiningNode: (id) => this.createJoiningNode(id) }, makeConfState(this.initialIds, []));
    // The mix's clients, then the readers the stale-read trap pins (they issue nothing otherwise).
    const readers = this.mix.aimed.staleLeader === null ? 0 : trapReadersMax;
    this.clients = Array.from(
      { length: this.mix.clients + readers },
      (_, id) =>
        new SimClient({
          id,
          directory: () => this.directory(),
          node: (nodeId) => this.nodesById.get(nodeId),
          scheduler: this.scheduler,
          prng,
          workload: this.mix.workload,
          trapReader: id >= this.mix.clients,
        }),
    );
    const aimedClients = { regular: this.clients.slice(0, this.mix.clients), readers: this.clients.slice(this.mix.clients) };
    const electionTimeoutTicks = resolveRaftConfig({ ...this.mix.raft, id: 'n0', voters: [], prng }).electionTimeoutTicks;
    this.nemesis = new Nemesis(this.scheduler, prng, () => this.liveNodes(), this.peerNet, this.mix, aimedClients, electionTimeoutTicks);
  }

  /** A node with bootstrap voters `voters` (empty: it joins a running cluster). */
  private createNode(id: NodeId, voters: readonly NodeId[]): SimNode {
    const d = simulationDefaults;
    const prng = this.prng;
    const node = new SimNode({
      id,
      voters,
      scheduler: this.scheduler,
      prng,
      cluster: simCluster,
      secret: simSecret,
      peerNet: this.peerNet,
      storageLatency: this.mix.storageLatency,
      baseTickUs: tickUs,
      tickUs: Math.round(tickUs * (1 + (prng.nextFloat() * 2 - 1) * (this.faultsOn ? this.mix.clockDriftMax : 0))),
      raft: this.mix.raft,
      session: this.mix.session,
      checkers: this.checkers,
      proposalTimeoutMs: this.mix.workload.opTimeoutUs / 1000,
      postDurableDelayUs: d.postDurableDelayUs,
      inboxMax: d.inboxMax,
      onWriteBegin: (n, completesAtUs, carriesVote) => this.nemesis.onWriteBegin(n, completesAtUs, carriesVote, d.postDurableDelayUs),
      onEngineCrash: (n) => this.scheduler.after(50_000, () => n.up || n.restart()),
      onRole: (n, role, term) => this.nemesis.onRole(n, role, term),
      onLeaderCommit: (n, term, commit) => this.nemesis.onLeaderCommit(n, term, commit),
      onFrameAccepted: (frame) => this.intruder?.accepted(id, frame),
      onConfigApplied: (_n, entry) => this.membership?.onConfigApplied(entry),
      sabotage: new Set(this.options.sabotage ?? []),
      ...(this.options.trace === undefined ? {} : { trace: this.options.trace }),
    });
    this.nodes.push(node);
    this.nodesById.set(id, node);
    return node;
  }

  private createJoiningNode(id: NodeId): SimNode {
    const node = this.createNode(id, []);
    node.restart();
    return node;
  }

  /** Nodes in play: not retired (a removed member that left for good). */
  private liveNodes(): SimNode[] {
    return this.nodes.filter((n) => !n.retired);
  }

  /** Where clients may send requests: the committed configuration's members (all nodes without membership). */
  private directory(): readonly NodeId[] {
    return this.membership === null ? this.initialIds : this.membership.directory();
  }


  run(): SimulationResult {
    const d = simulationDefaults;
    const o = this.options;
    const safetyEndUs = o.safetyPhaseUs ?? d.safetyPhaseUs;
    const livenessStartUs = safetyEndUs + (o.settleUs ?? d.settleUs);
    const livenessEndUs = livenessStartUs + (o.livenessPhaseUs ?? d.livenessPhaseUs);
    for (const n of this.nodes) n.restart();
    for (const c of this.clients) c.start();
    this.scheduleLogChecks();
    if (o.faults ?? true) this.nemesis.start(safetyEndUs);
    this.intruder?.start(safetyEndUs);
    this.membership?.start(safetyEndUs);

    if (this.runUntil(safetyEndUs)) {
      this.heal();
      if (this.runUntil(livenessEndUs)) {
        for (const c of this.clients) c.stopIssuing();
        const opTimeoutUs = this.mix.workload.opTimeoutUs;
        if (this.runWhile(() => !this.clients.every((c) => c.idle), opTimeoutUs + 100_000)) {
          const converged = this.runWhile(() => this.convergenceProblem() !== null, d.convergeUsMax);
          if (!converged) this.livenessFailures.push(`replicas did not converge within ${d.convergeUsMax / 1000}ms after the liveness phase: ${this.convergenceProblem()}`);
        } else {
          this.livenessFailures.push('clients did not finish their last operations');
        }
      }
    }
    return this.finish(livenessStartUs, livenessEndUs);
  }

  /** Run to `timeUs`; false (and a liveness failure) if the event budget ran out. */
  private runUntil(timeUs: number): boolean {
    if (this.options.failFast === true) return this.runUntilViolation(timeUs);
    const budget = simulationDefaults.eventsMax - this.scheduler.eventsRun;
    if (this.scheduler.runUntil(timeUs, budget)) return true;
    this.livenessFailures.push(`event budget of ${simulationDefaults.eventsMax} exhausted at ${this.scheduler.nowUs}us (a message storm?)`);
    return false;
  }

  /** `failFast`: run to `timeUs` in 50 ms steps, and stop (false) at the first safety violation. */
  private runUntilViolation(timeUs: number): boolean {
    while (this.scheduler.nowUs < timeUs) {
      const budget = simulationDefaults.eventsMax - this.scheduler.eventsRun;
      if (!this.scheduler.runUntil(Math.min(timeUs, this.scheduler.nowUs + 50_000), budget)) {
        this.livenessFailures.push(`event budget of ${simulationDefaults.eventsMax} exhausted at ${this.scheduler.nowUs}us (a message storm?)`);
        return false;
      }
      if (this.checkers.hasViolation() || (this.intruder?.violations.length ?? 0) > 0) return false;
    }
    return true;
  }

  /** Run in 10 ms steps while `pending()` holds, at most `boundUs`; true if it stopped holding. */
  private runWhile(pending: () => boolean, boundUs: number): boolean {
    const endUs = this.scheduler.nowUs + boundUs;
    while (pending()) {
      if (this.scheduler.nowUs >= endUs) return false;
      if (!this.runUntil(Math.min(endUs, this.scheduler.nowUs + tickUs))) return false;
    }
    return true;
  }

  private heal(): void {
    this.membership?.stop();
    for (const c of this.clients) c.calm();
    this.nemesis.healAll();
    this.intruder?.stop();
    this.peerNet.setFaults(calmNetwork);
  }

  private scheduleLogChecks(): void {
    const check = (): void => {
      this.checkers.checkLogs(this.durableLogs(), this.scheduler.nowUs);
      this.scheduler.after(simulationDefaults.logCheckIntervalUs, check);
    };
    this.scheduler.after(simulationDefaults.logCheckIntervalUs, check);
  }

  private durableLogs(): Map<NodeId, readonly Entry[]> {
    return new Map(this.nodes.map((n) => [n.id, n.storage.durableEntries()] as const));
  }

  /**
   * The configuration the liveness phase holds the cluster to: the leader's (once converged, it
   * is committed), else the committed one; without membership, every node.
   */
  private requiredMembers(leader: SimNode | undefined): readonly NodeId[] {
    if (this.membership === null) return this.initialIds;
    const conf: ConfState = leader?.config() ?? this.membership.committedConfig();
    return [...conf.voters, ...conf.learners];
  }

  /** Null when the replicas agree; else what still differs. */
  private convergenceProblem(): string | null {
    const leaders = this.liveNodes().filter((n) => n.up && n.isLeader());
    const members = this.requiredMembers(leaders.length === 1 ? leaders[0] : undefined);
    const memberNodes: SimNode[] = [];
    for (const id of members) {
      const n = this.nodesById.get(id);
      if (n === undefined) return `member ${id} does not exist`;
      memberNodes.push(n);
    }
    const down = memberNodes.filter((n) => !n.up || n.paused).map((n) => n.id);
    if (down.length > 0) return `not running: ${down.join(', ')}`;
    if (leaders.length !== 1) return `${leaders.length} leaders`;
    const leaderNode = leaders[0] as SimNode;
    const leader = leaderNode.status();
    if (leader === null) return 'no leader';
    if (this.membership !== null && !(leaderNode.config()?.voters ?? []).includes(leader.id)) return `leader ${leader.id} is not a voter of its configuration`;
    if (leader.commit !== leader.lastIndex) return `leader ${leader.id} has uncommitted entries (${leader.commit} < ${leader.lastIndex})`;
    for (const n of memberNodes) {
      const s = n.status();
      if (s === null) return `${n.id} has no engine`;
      if (s.commit !== leader.commit || n.appliedIndex !== leader.commit) {
        return `${n.id} commit ${s.commit} applied ${n.appliedIndex}, leader ${leader.id} commit ${leader.commit}`;
      }
    }
    const digests = new Set(memberNodes.map((n) => n.digest()));
    if (digests.size !== 1) return `state machine digests differ: ${[...digests].join(' ')}`;
    return null;
  }

  /**
   * The healed cluster's committed log: the leader's durable log up to its commit index once the
   * replicas converged (log matching makes every other replica agree with it), preceded, below
   * the leader's first stored entry, by the entries the replicas applied there (its snapshot
   * holds their effect); without convergence, the longest log the checkers saw committed.
   */
  private finalCommittedLog(): readonly Entry[] {
    if (this.convergenceProblem() === null) {
      const leader = this.liveNodes().find((n) => n.up && n.isLeader());
      const commit = leader?.status()?.commit;
      if (leader !== undefined && commit !== undefined) {
        const first = leader.storage.firstIndex();
        const compacted = this.checkers.stateMachine.appliedLog().slice(0, first - 1);
        return [...compacted, ...leader.storage.durableEntries().slice(0, commit - first + 1)];
      }
    }
    return this.checkers.completeness.committedLog();
  }

  /** The index the final state covers: the converged commit index, else the longest applied sequence. */
  private finalIndex(): number {
    if (this.convergenceProblem() === null) {
      const commit = this.liveNodes().find((n) => n.up && n.isLeader())?.status()?.commit;
      if (commit !== undefined) return commit;
    }
    return this.checkers.stateMachine.appliedLog().length;
  }

  private finish(livenessStartUs: number, livenessEndUs: number): SimulationResult {
    const now = this.scheduler.nowUs;
    this.checkers.checkLogs(this.durableLogs(), now);
    const acknowledged = this.clients.flatMap((c) => c.acknowledged);
    this.checkers.addViolations(checkAcknowledgedWrites(acknowledged, this.finalCommittedLog(), now));
    this.checkers.exactlyOnce.checkAcknowledged(acknowledged, this.finalIndex(), now);
    if (this.membership !== null) this.checkers.addViolations(this.membership.violations);
    const history = this.clients
      .flatMap((c) => c.history)
      .sort((a, b) => a.call - b.call || a.client - b.client);
    const windowOps = history.filter((op) => op.call >= livenessStartUs && op.call < livenessEndUs);
    const timeoutUs = this.mix.workload.opTimeoutUs;
    for (const op of windowOps) {
      if (op.ok === null || op.ret === null) {
        this.livenessFailures.push(`client ${op.client} ${op.op} ${JSON.stringify(op.key)} called at ${op.call}us in the liveness phase did not complete within ${timeoutUs / 1000}ms`);
      }
    }
    if (windowOps.length === 0) this.livenessFailures.push('no client operation was called in the liveness window');
    const linearizability = checkHistory(history, this.options.linearizabilityStatesPerKeyMax ?? historyStatesPerKeyMax);
    const safetyViolations = [...this.checkers.violations(), ...(this.intruder?.violations ?? [])];
    const sum = (f: (c: SimClient) => number): number => this.clients.reduce((acc, c) => acc + f(c), 0);
    const stats: SimulationStats = {
      virtualUs: now,
      events: this.scheduler.eventsRun,
      ops: history.length,
      opsOk: sum((c) => c.stats.ok),
      opsFailed: sum((c) => c.stats.failed),
      opsUnknown: sum((c) => c.stats.unknown),
      opsInLivenessWindow: windowOps.length,
      termsWithLeader: this.checkers.election.termsWithLeader,
      leaderChecks: this.checkers.completeness.checks,
      committedIndex: this.checkers.completeness.committedIndex,
      network: { ...this.peerNet.stats },
      nemesis: { ...this.nemesis.stats },
      aimed: { ...this.nemesis.aimedStats },
      engineErrors: this.nodes.reduce((acc, n) => acc + n.stats.engineErrors, 0),
      entriesLostOnCrash: this.nodes.reduce((acc, n) => acc + n.storage.stats.entriesLost, 0),
      nodes: sumNodeStats(this.nodes.map((n) => n.statsNow())),
      innerApplies: this.checkers.exactlyOnce.innerApplies,
      restoresChecked: this.checkers.stateMachine.restoresChecked,
      restoresUnverified: this.checkers.stateMachine.restoresUnverified,
      clientUnknown: sum((c) => c.stats.unknown),
      clientRejections: sum((c) => c.stats.rejections),
      clientExpired: sum((c) => c.stats.expired),
      clientNaps: sum((c) => c.stats.naps),
      membership: { ...(this.membership?.stats ?? emptyMembershipStats) },
      intruder: this.intruder === null ? null : { ...this.intruder.stats },
      nodesCreated: this.nodes.length,
    };
    const livenessFailures = this.livenessFailures.slice(0, 20);
    return {
      seed: this.seed,
      nodes: this.nodeCount,
      ok: safetyViolations.length === 0 && linearizability.ok && livenessFailures.length === 0,
      safetyViolations,
      linearizability,
      livenessFailures,
      history,
      faultMix: describeFaultMix(this.mix),
      nemesisLog: this.membership === null ? this.nemesis.log : mergeLogs(this.nemesis.log, this.membership.log),
      snapshots: this.options.snapshots ?? false,
      membership: this.options.membership ?? false,
      stats,
      networkTrace: this.peerNet.trace,
    };
  }
}

function sumNodeStats(all: readonly SimNodeStats[]): SimNodeStats {
  const total = emptySimNodeStats();
  for (const s of all) for (const k of Object.keys(total) as (keyof SimNodeStats)[]) total[k] += s[k];
  return total;
}

const emptyMembershipStats: MembershipStats = {
  proposed: 0,
  learnersAdded: 0,
  promotions: 0,
  removals: 0,
  automaticPromotions: 0,
  automaticRemovals: 0,
  leaderRemovals: 0,
  retired: 0,
};

/** Two time-stamped logs (lines start with `<ms>ms`) merged in time order, stable. */
function mergeLogs(a: readonly string[], b: readonly string[]): string[] {
  const time = (line: string): number => Number.parseFloat(line);
  return [...a.map((l, i) => [l, 0, i] as const), ...b.map((l, i) => [l, 1, i] as const)]
    .sort((x, y) => time(x[0]) - time(y[0]) || x[1] - y[1] || x[2] - y[2])
    .map((x) => x[0]);
}
