/**
 * One simulated run (TigerBeetle's VOPR shape): a seed, a cluster of Raft nodes with KV state
 * machines, concurrent clients, and a nemesis.
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
 *      node up and running). After `settleUs` (1 s, time for leftover elections), every client
 *      operation called during the next `livenessPhaseUs` (1.5 s) must complete, with a
 *      definite outcome, within the client timeout (1 s). Then clients stop, the run drains, and
 *      the replicas must converge: one leader, equal commit and applied indices, equal state
 *      machine digests.
 *
 * CHECKS. Election safety, log matching, leader completeness and state machine safety run as the
 * nodes report (log matching also every `logCheckIntervalUs` and at the end); at the end, no
 * acknowledged write may be missing from the final committed log, and the client history must
 * be linearizable. Everything is drawn from ONE PRNG seeded by the seed, so a seed reproduces a
 * run exactly, event for event.
 */
import { createPrng } from '../core/prng.ts';
import type { Message } from '../core/raft/messages.ts';
import type { Entry, NodeId } from '../core/raft/types.ts';
import { checkAcknowledgedWrites } from './checkers/acknowledged-writes.ts';
import { checkHistory, historyStatesPerKeyMax, type HistoryVerdict } from './checkers/linearizable-history.ts';
import { RaftCheckers } from './checkers/raft-checkers.ts';
import type { Violation } from './checkers/violation.ts';
import { SimClient } from './client.ts';
import type { ClientMessage } from './client-protocol.ts';
import { describeFaultMix, drawFaultMix, type FaultMix } from './fault-mix.ts';
import type { HistoryOp } from './history.ts';
import { Nemesis, type NemesisStats } from './nemesis.ts';
import { Network, type NetworkFaults, type NetworkStats, type TraceEvent } from './network.ts';
import { Scheduler } from './scheduler.ts';
import { SimNode, type Sabotage, type SimNodeStats } from './sim-node.ts';

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
  cpuDelayUs: 20,
  postDurableDelayUs: 50,
  inboxMax: 4096,
  queuedPerLinkMax: 1024,
  pendingRequestsMax: 1024,
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
  /** Receives a narrative of the run (role changes, client requests, faults) for debugging a seed. */
  readonly trace?: (line: string) => void;
}

export interface SimulationStats {
  readonly virtualUs: number;
  readonly events: number;
  readonly ops: number;
  readonly opsOk: number;
  readonly opsFailed: number;
  readonly opsUnknown: number;
  readonly opsInLivenessWindow: number;
  readonly termsWithLeader: number;
  readonly leaderChecks: number;
  readonly committedIndex: number;
  readonly network: Readonly<NetworkStats>;
  readonly nemesis: Readonly<NemesisStats>;
  readonly engineErrors: number;
  readonly entriesLostOnCrash: number;
  /** The nodes' counters, summed. */
  readonly nodes: Readonly<SimNodeStats>;
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodes: number;
  /** No safety violation, a linearizable history, and no liveness failure. */
  readonly ok: boolean;
  readonly safetyViolations: readonly Violation[];
  readonly linearizability: HistoryVerdict;
  readonly livenessFailures: readonly string[];
  /** The clients' operations, in call order. */
  readonly history: readonly HistoryOp[];
  readonly faultMix: string;
  /** What the nemesis did, when (bounded). */
  readonly nemesisLog: readonly string[];
  readonly stats: SimulationStats;
  readonly networkTrace: readonly TraceEvent[];
}

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
  private readonly mix: FaultMix;
  private readonly peerNet: Network<Message>;
  private readonly clientNet: Network<ClientMessage>;
  private readonly nodes: SimNode[];
  private readonly nodesById = new Map<NodeId, SimNode>();
  private readonly clients: SimClient[];
  private readonly nemesis: Nemesis;
  private readonly livenessFailures: string[] = [];
  private readSeq = 0;

  constructor(private readonly options: SimulationOptions) {
    this.seed = options.seed;
    this.nodeCount = options.nodes ?? simulationDefaults.nodes;
    if (!(Number.isSafeInteger(this.nodeCount) && this.nodeCount >= 1)) throw new RangeError(`nodes must be a positive integer, got ${this.nodeCount}`);
    const prng = createPrng(this.seed);
    const faults = options.faults ?? true;
    this.mix = drawFaultMix(prng, this.nodeCount);
    const d = simulationDefaults;
    const network = faults ? this.mix.network : calmNetwork;
    this.peerNet = new Network<Message>(
      this.scheduler,
      prng,
      { ...network, queuedPerLinkMax: d.queuedPerLinkMax, recordTrace: options.recordNetworkTrace ?? false },
      (_from, to, m) => this.nodesById.get(to)?.deliverPeer(m),
    );
    this.clientNet = new Network<ClientMessage>(
      this.scheduler,
      prng,
      { lossRate: faults ? this.mix.clientLossRate : 0, duplicateRate: 0, delay: network.delay, queuedPerLinkMax: d.queuedPerLinkMax },
      (_from, to, msg) => this.deliverClientMessage(to, msg),
    );
    const ids = nodeIds(this.nodeCount);
    this.nodes = ids.map(
      (id) =>
        new SimNode({
          id,
          voters: ids,
          scheduler: this.scheduler,
          prng,
          peerNet: this.peerNet,
          clientNet: this.clientNet,
          storageLatency: this.mix.storageLatency,
          tickUs: Math.round(tickUs * (1 + (prng.nextFloat() * 2 - 1) * (faults ? this.mix.clockDriftMax : 0))),
          raft: this.mix.raft,
          checkers: this.checkers,
          nextReadId: () => ++this.readSeq,
          cpuDelayUs: d.cpuDelayUs,
          postDurableDelayUs: d.postDurableDelayUs,
          inboxMax: d.inboxMax,
          pendingRequestsMax: d.pendingRequestsMax,
          onWriteBegin: (node, completesAtUs, carriesVote) => this.nemesis.onWriteBegin(node, completesAtUs, carriesVote, d.postDurableDelayUs),
          onEngineCrash: (node) => this.scheduler.after(50_000, () => node.up || node.restart()),
          sabotage: new Set(options.sabotage ?? []),
          ...(options.trace === undefined ? {} : { trace: options.trace }),
        }),
    );
    for (const n of this.nodes) this.nodesById.set(n.id, n);
    this.clients = Array.from(
      { length: this.mix.clients },
      (_, id) => new SimClient({ id, nodes: ids, scheduler: this.scheduler, prng, clientNet: this.clientNet, workload: this.mix.workload }),
    );
    this.nemesis = new Nemesis(this.scheduler, prng, this.nodes, this.peerNet, this.mix);
  }

  private deliverClientMessage(to: string, msg: ClientMessage): void {
    if (msg.kind === 'request') this.nodesById.get(to)?.deliverClient(msg.request);
    else this.clients[msg.response.clientId]?.onResponse(msg.response);
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
    const budget = simulationDefaults.eventsMax - this.scheduler.eventsRun;
    if (this.scheduler.runUntil(timeUs, budget)) return true;
    this.livenessFailures.push(`event budget of ${simulationDefaults.eventsMax} exhausted at ${this.scheduler.nowUs}us (a message storm?)`);
    return false;
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
    this.nemesis.healAll();
    this.peerNet.setFaults(calmNetwork);
    this.clientNet.setFaults(calmNetwork);
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

  /** Null when the replicas agree; else what still differs. */
  private convergenceProblem(): string | null {
    const statuses = this.nodes.map((n) => n.status());
    const down = this.nodes.filter((n) => !n.up || n.paused).map((n) => n.id);
    if (down.length > 0) return `not running: ${down.join(', ')}`;
    const leaders = statuses.filter((s) => s?.role === 'leader');
    if (leaders.length !== 1) return `${leaders.length} leaders`;
    const leader = leaders[0];
    if (leader === null || leader === undefined) return 'no leader';
    if (leader.commit !== leader.lastIndex) return `leader ${leader.id} has uncommitted entries (${leader.commit} < ${leader.lastIndex})`;
    for (const n of this.nodes) {
      const s = n.status();
      if (s === null) return `${n.id} has no engine`;
      if (s.commit !== leader.commit || n.appliedIndex !== leader.commit) {
        return `${n.id} commit ${s.commit} applied ${n.appliedIndex}, leader ${leader.id} commit ${leader.commit}`;
      }
    }
    const digests = new Set(this.nodes.map((n) => n.digest()));
    if (digests.size !== 1) return `state machine digests differ: ${[...digests].join(' ')}`;
    return null;
  }

  /**
   * The healed cluster's committed log: the leader's durable log up to its commit index once the
   * replicas converged (log matching makes every other replica agree with it); without
   * convergence, the longest log the checkers saw committed.
   */
  private finalCommittedLog(): readonly Entry[] {
    if (this.convergenceProblem() === null) {
      const leader = this.nodes.find((n) => n.isLeader());
      const commit = leader?.status()?.commit;
      if (leader !== undefined && commit !== undefined) return leader.storage.durableEntries().slice(0, commit);
    }
    return this.checkers.completeness.committedLog();
  }

  private finish(livenessStartUs: number, livenessEndUs: number): SimulationResult {
    const now = this.scheduler.nowUs;
    this.checkers.checkLogs(this.durableLogs(), now);
    const acknowledged = this.clients.flatMap((c) => c.acknowledged);
    this.checkers.addViolations(checkAcknowledgedWrites(acknowledged, this.finalCommittedLog(), now));
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
    const safetyViolations = this.checkers.violations();
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
      engineErrors: this.nodes.reduce((acc, n) => acc + n.stats.engineErrors, 0),
      entriesLostOnCrash: this.nodes.reduce((acc, n) => acc + n.storage.stats.entriesLost, 0),
      nodes: sumNodeStats(this.nodes.map((n) => n.stats)),
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
      nemesisLog: this.nemesis.log,
      stats,
      networkTrace: this.peerNet.trace,
    };
  }
}

function sumNodeStats(all: readonly SimNodeStats[]): SimNodeStats {
  const total: SimNodeStats = {
    crashes: 0,
    restarts: 0,
    pauses: 0,
    engineErrors: 0,
    inboxDropped: 0,
    droppedWhileDown: 0,
    readies: 0,
    applied: 0,
    forwarded: 0,
    duplicateCommands: 0,
    staleCommands: 0,
    indexReads: 0,
    leaseReads: 0,
    rejected: { 'not-leader': 0, 'proposal-dropped': 0, 'read-dropped': 0, superseded: 0, overloaded: 0 },
  };
  for (const s of all) {
    for (const k of Object.keys(total) as (keyof SimNodeStats)[]) {
      if (k === 'rejected') continue;
      total[k] += s[k];
    }
    for (const r of Object.keys(total.rejected) as (keyof SimNodeStats['rejected'])[]) total.rejected[r] += s.rejected[r];
  }
  return total;
}

/** One line about a run: what it did and what it found. */
export function summarizeRun(r: SimulationResult): string {
  const s = r.stats;
  const verdict = r.ok ? 'ok' : 'FAILED';
  return (
    `seed ${r.seed} (${r.nodes} nodes): ${verdict}; ${s.ops} ops (${s.opsOk} ok, ${s.opsFailed} failed cas, ${s.opsUnknown} unknown), ` +
    `commit ${s.committedIndex}, ${s.termsWithLeader} leader terms, ${s.nemesis.crashes} crashes, ${s.nemesis.partitions} partitions, ` +
    `${s.nemesis.pauses} pauses, ${s.network.sent} msgs, ${s.events} events, ${(s.virtualUs / 1e6).toFixed(2)}s virtual`
  );
}
