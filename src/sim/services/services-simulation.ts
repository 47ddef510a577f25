/**
 * One run of the services simulator (issue 14 item 7): a seed, a cluster of N Raft nodes each
 * running the services machine and the services' runtime (./services-sim-node.ts), the mixed
 * workload (./services-workload.ts) and the faults (./services-nemesis.ts, with the network and
 * storage weather of the Raft simulator's fault mix; snapshots and compaction unless `snapshots` is false).
 *
 * PHASES (virtual time, as the Raft simulator's):
 *   1. Safety (`safetyPhaseUs`, 5 s): faults and the workload.
 *   2. Heal: partitions end, network calm, every node runs, every agent registers again. The
 *      workload issues new operations for `livenessPhaseUs` more, then stops; then every tool
 *      call must be answered and every task submitted applied, within `drainUsMax`, and the
 *      replicas must converge (one leader, equal applied index and state digests) and every
 *      task finish (done or failed) within `convergeUsMax`.
 * Then the checkers (./services-checkers.ts) read the history and the converged state.
 * One PRNG seeded by the seed draws everything: a seed reproduces its run exactly.
 */
import { createPrng } from '../../core/prng.ts';
import type { Task } from '../../machines/services/tasks.ts';
import type { ToolCall } from '../../machines/services/tools.ts';
import type { AuditPage } from '../../machines/services/tools-audit.ts';
import type { ConfigVersion } from '../../machines/services/config.ts';
import { drawFaultMix, describeFaultMix } from '../fault-mix.ts';
import { Network, type NetworkFaults } from '../network.ts';
import { Scheduler } from '../scheduler.ts';
import { checkServices, type FinalState, type ServicesFindings } from './services-checkers.ts';
import { ServicesHistory } from './services-history.ts';
import { describeServicesFaults, drawServicesFaults, ServicesNemesis, type ServicesNemesisStats } from './services-nemesis.ts';
import type { ServicesSabotage } from './services-sabotage.ts';
import { ServicesSimNode } from './services-sim-node.ts';
import { drawWorkloadMix, ServicesWorkload } from './services-workload.ts';

export const servicesSimulationDefaults = {
  nodes: 5,
  safetyPhaseUs: 5_000_000,
  livenessPhaseUs: 1_500_000,
  drainUsMax: 6_000_000,
  convergeUsMax: 6_000_000,
  eventsMax: 20_000_000,
  tickUs: 10_000,
} as const;

const calmNetwork: NetworkFaults = { lossRate: 0, duplicateRate: 0, delay: { kind: 'uniform', minUs: 100, maxUs: 2000 } };

export interface ServicesSimulationOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly safetyPhaseUs?: number;
  readonly sabotage?: readonly ServicesSabotage[];
  /**
   * Frequent snapshots in small chunks (the Raft mix's `snapshots` mode), so that compaction and
   * InstallSnapshot run under the workload. On by default. (It was off while a leader restarted
   * a follower's transfer of the services' 35 KB state from byte 0 at each new snapshot, and the
   * follower never caught up: snapshot-policy.ts now continues the transfer it began.)
   */
  readonly snapshots?: boolean;
}

export interface ServicesSimulationResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly findings: ServicesFindings;
  readonly livenessFailures: readonly string[];
  readonly engineErrors: readonly string[];
  readonly faults: string;
  /** What the run recorded (`history.lines()` is its full trace: equal for two runs of a seed). */
  readonly history: ServicesHistory;
  readonly stats: {
    readonly virtualUs: number;
    /** Scheduler events run (any divergence between two runs of a seed shows here). */
    readonly events: number;
    readonly toolCalls: number;
    readonly toolRuns: number;
    readonly indeterminate: number;
    readonly tasks: number;
    readonly taskAssignments: number;
    readonly configOps: number;
    readonly lockAcquisitions: number;
    readonly nemesis: ServicesNemesisStats;
  };
}

export function runServicesSimulation(options: ServicesSimulationOptions): ServicesSimulationResult {
  const d = servicesSimulationDefaults;
  const seed = options.seed;
  const prng = createPrng(seed);
  const count = options.nodes ?? d.nodes;
  const mix = drawFaultMix(prng, count, { snapshots: options.snapshots ?? true });
  // The services put a steady load on the log (time, heartbeats, the workload's retries): the
  // Raft mix's one-entry appends cannot carry it, and a backlog would only measure that.
  const raft = { ...mix.raft, maxEntriesPerAppend: Math.max(64, mix.raft.maxEntriesPerAppend ?? 64), maxInflightAppends: Math.max(4, mix.raft.maxInflightAppends ?? 4) };
  const calm = mix.partitions.ratePerS === 0 && mix.crashes.ratePerS === 0;
  const faults = drawServicesFaults(prng, calm);
  const workloadMix = drawWorkloadMix(prng);
  const scheduler = new Scheduler();
  const history = new ServicesHistory();
  const sabotage = new Set(options.sabotage ?? []);
  const engineErrors: string[] = [];
  const nodes: ServicesSimNode[] = [];
  const byId = new Map<string, ServicesSimNode>();
  const net = new Network<Uint8Array>(scheduler, prng, { ...mix.network, queuedPerLinkMax: 1024 }, (from, to, frame) => byId.get(to)?.deliver(from, frame));
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  let nemesis: ServicesNemesis | null = null;
  for (const id of ids) {
    const n = new ServicesSimNode({
      id,
      voters: ids,
      cluster: 'sim-services',
      secret: 'peerquorum simulated services secret',
      scheduler,
      prng,
      peerNet: net,
      storageLatency: mix.storageLatency,
      baseTickUs: d.tickUs,
      tickUs: Math.round(d.tickUs * (1 + (prng.nextFloat() * 2 - 1) * mix.clockDriftMax)),
      raft,
      proposalTimeoutMs: 1000,
      timings: { timeIntervalMs: 200, agentHeartbeatMs: 250, waitersMax: 4096, watchesMax: 16, handlersMax: 64 },
      machine: { agents: { agentTtlMs: 1500, taskAttemptsMax: 6 }, config: { configHistoryMax: 10_000 } },
      history,
      toolDuration: { kind: 'uniform', minUs: 0, maxUs: 60_000 },
      taskDuration: { kind: 'mixture', parts: [
        { weight: 0.8, dist: { kind: 'uniform', minUs: 20_000, maxUs: 200_000 } },
        { weight: 0.2, dist: { kind: 'uniform', minUs: 500_000, maxUs: 1_500_000 } },
      ] },
      sabotage,
      onToolRun: (node) => nemesis?.onToolRun(node),
      onEngineError: (node, error) => {
        engineErrors.push(`${node.id} at ${scheduler.nowUs}us: ${error}`);
        scheduler.after(50_000, () => node.up || node.restart());
      },
    });
    nodes.push(n);
    byId.set(id, n);
  }
  const workload = new ServicesWorkload({ scheduler, prng, nodes, history, sabotage }, workloadMix);
  let healing = false;
  nemesis = new ServicesNemesis(scheduler, prng, net, nodes, faults, (n) => workload.nodeRestarted(n, healing));
  const safetyEndUs = options.safetyPhaseUs ?? d.safetyPhaseUs;
  const livenessFailures: string[] = [];
  let budgetLeft = true;
  const runUntil = (t: number): boolean => {
    if (!budgetLeft) return false;
    budgetLeft = scheduler.runUntil(t, d.eventsMax - scheduler.eventsRun);
    if (!budgetLeft) livenessFailures.push(`event budget of ${d.eventsMax} exhausted at ${scheduler.nowUs}us`);
    return budgetLeft;
  };
  const runWhile = (pending: () => boolean, boundUs: number): boolean => {
    const end = scheduler.nowUs + boundUs;
    while (pending()) {
      if (scheduler.nowUs >= end || !runUntil(Math.min(end, scheduler.nowUs + d.tickUs))) return false;
    }
    return true;
  };

  for (const n of nodes) n.restart();
  workload.start(safetyEndUs);
  nemesis.start(safetyEndUs);
  runUntil(safetyEndUs);
  // Heal.
  healing = true;
  nemesis.healAll();
  net.setFaults(calmNetwork);
  for (const n of nodes) {
    if (n.up) workload.nodeRestarted(n, true);
    else {
      n.restart();
      workload.nodeRestarted(n, true);
    }
  }
  runUntil(scheduler.nowUs + (d.livenessPhaseUs));
  workload.stopIssuing();
  let final: FinalState | null = null;
  if (!runWhile(() => !workload.idle, d.drainUsMax)) {
    livenessFailures.push(`${workload.pendingCalls.size} tool calls unanswered (${[...workload.pendingCalls].slice(0, 5).join(' ')}), ${workload.pendingSubmits.size} submits not applied, ${d.drainUsMax / 1000} ms after the workload stopped`);
  }
  const unfinished = (): string[] => {
    const leader = nodes.find((n) => n.up && n.isLeader());
    if (leader === undefined) return ['no leader'];
    return [...history.tasksSubmitted].filter((id) => {
      const t = leader.query('agents', { q: 'task', id }) as Task | null;
      return t !== null && t.state !== 'done' && t.state !== 'failed';
    });
  };
  const problem = (): string | null => convergenceProblem(nodes) ?? (unfinished().length > 0 ? `tasks unfinished: ${unfinished().slice(0, 5).join(' ')}` : null);
  if (budgetLeft && !runWhile(() => problem() !== null, d.convergeUsMax)) livenessFailures.push(`not converged ${d.convergeUsMax / 1000} ms after the drain: ${problem()}`);
  const leader = nodes.find((n) => n.up && n.isLeader());
  if (convergenceProblem(nodes) === null && leader !== undefined) final = finalState(leader);
  const findings = checkServices(history, final);
  const failed = Object.values(findings).some((l) => l.length > 0) || livenessFailures.length > 0 || engineErrors.length > 0;
  return {
    seed,
    ok: !failed,
    findings,
    livenessFailures,
    engineErrors: engineErrors.slice(0, 10),
    history,
    faults: `${describeFaultMix(mix)}; services: ${describeServicesFaults(faults)}; workload: ${workloadMix.toolCallers} callers, ${workloadMix.taskSubmitters} submitters (lease ${workloadMix.taskLeaseMs} ms), ${workloadMix.configWriters} writers on ${workloadMix.configKeys.length} keys, ${workloadMix.lockOwners} owners on ${workloadMix.lockNames.length} locks, ${workloadMix.agentsJoining} agents joining`,
    stats: {
      virtualUs: scheduler.nowUs,
      events: scheduler.eventsRun,
      toolCalls: history.toolCalls.size,
      toolRuns: history.toolExecutions.length,
      indeterminate: history.toolAnswers.filter((a) => a.call.state === 'indeterminate').length,
      tasks: history.tasksSubmitted.size,
      taskAssignments: history.taskExecutions.length,
      configOps: history.configOps.length,
      lockAcquisitions: history.lockOps.filter((o) => o.status === 'acquired').length,
      nemesis: { ...nemesis.stats },
    },
  };
}

function convergenceProblem(nodes: readonly ServicesSimNode[]): string | null {
  const down = nodes.filter((n) => !n.up).map((n) => n.id);
  if (down.length > 0) return `not running: ${down.join(' ')}`;
  const leaders = nodes.filter((n) => n.isLeader());
  if (leaders.length !== 1) return `${leaders.length} leaders`;
  const s = (leaders[0] as ServicesSimNode).status();
  if (s === null || s.commit !== s.lastIndex) return 'the leader has uncommitted entries';
  for (const n of nodes) {
    const ns = n.status();
    if (ns === null || ns.commit !== s.commit || ns.applied !== s.commit) return `${n.id} applied ${ns?.applied}, leader commit ${s.commit}`;
  }
  const digests = new Set(nodes.map((n) => n.digest()));
  return digests.size === 1 ? null : 'state digests differ';
}

function finalState(n: ServicesSimNode): FinalState {
  return {
    call: (key) => n.query('tools', { q: 'call', key }) as ToolCall | null,
    audit: (key) => {
      const out = [];
      let afterSeq: number | null = 0;
      while (afterSeq !== null) {
        const page = n.query('tools', { q: 'audit', key, afterSeq, limit: 1000 }) as AuditPage;
        out.push(...page.records);
        afterSeq = page.nextAfterSeq;
      }
      return out;
    },
    task: (id) => n.query('agents', { q: 'task', id }) as Task | null,
    configHistory: (key) => n.query('config', { q: 'history', key }) as readonly ConfigVersion[],
  };
}

export function describeServicesRun(r: ServicesSimulationResult): string[] {
  const lines: string[] = [];
  for (const [name, list] of Object.entries(r.findings)) for (const x of list.slice(0, 5)) lines.push(`  ${name}: ${x}`);
  for (const l of r.livenessFailures) lines.push(`  liveness: ${l}`);
  for (const e of r.engineErrors) lines.push(`  engine error: ${e}`);
  lines.push(`  faults: ${r.faults}`);
  return lines;
}
