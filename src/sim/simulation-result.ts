/**
 * What one simulated run reports: its verdicts (safety violations, linearizability, liveness),
 * the client history, and counters of everything the run did, so that a multi-seed sweep can
 * show that each fault and each code path was really exercised.
 */
import type { HistoryVerdict } from './checkers/linearizable-history.ts';
import type { Violation } from './checkers/violation.ts';
import type { HistoryOp } from './history.ts';
import type { MembershipStats } from './membership.ts';
import type { NemesisStats } from './nemesis.ts';
import type { AimedStats } from './nemesis-aimed.ts';
import type { IntruderStats } from './intruder.ts';
import type { NetworkStats, TraceEvent } from './network.ts';
import type { SimNodeStats } from './sim-node.ts';

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
  /** What the intruder sent and what got through (`intruder` option; null without). */
  readonly intruder: Readonly<IntruderStats> | null;
  /** What the aimed faults did (nemesis-aimed.ts). */
  readonly aimed: Readonly<AimedStats>;
  readonly engineErrors: number;
  readonly entriesLostOnCrash: number;
  /** The nodes' counters, summed (snapshots taken and installed from leaders among them). */
  readonly nodes: Readonly<SimNodeStats>;
  /** Commands that reached the KV machine under the session layer (all replicas). */
  readonly innerApplies: number;
  /** Snapshot restores whose state was compared with a replica's at that index, and not. */
  readonly restoresChecked: number;
  readonly restoresUnverified: number;
  /** Client operations whose outcome stayed unknown; definite refusals (a node down) retried elsewhere; `expired` answers. */
  readonly clientUnknown: number;
  readonly clientRejections: number;
  readonly clientExpired: number;
  readonly clientNaps: number;
  /** Membership changes (zeros without the membership mode). */
  readonly membership: Readonly<MembershipStats>;
  /** Nodes ever created (more than `nodes` when learners joined). */
  readonly nodesCreated: number;
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
  /** What the nemesis did, when (bounded); with membership, the configuration changes too. */
  readonly nemesisLog: readonly string[];
  readonly snapshots: boolean;
  readonly membership: boolean;
  readonly stats: SimulationStats;
  readonly networkTrace: readonly TraceEvent[];
}

/** One line about a run: what it did and what it found. */
export function summarizeRun(r: SimulationResult): string {
  const s = r.stats;
  const verdict = r.ok ? 'ok' : 'FAILED';
  const modes = [
    ...(r.snapshots ? [`${s.nodes.snapshotsTaken} snapshots taken, ${s.nodes.snapshotsInstalled} installed from leaders`] : []),
    ...(r.membership
      ? [`${s.membership.learnersAdded} learners added, ${s.membership.promotions} promotions, ${s.membership.removals} removals (${s.membership.automaticRemovals} automatic, ${s.membership.leaderRemovals} of the leader)`]
      : []),
  ];
  return (
    `seed ${r.seed} (${r.nodes} nodes): ${verdict}; ${s.ops} ops (${s.opsOk} ok, ${s.opsFailed} failed cas, ${s.opsUnknown} unknown), ` +
    `commit ${s.committedIndex}, ${s.termsWithLeader} leader terms, ${s.nemesis.crashes} crashes, ${s.nemesis.partitions} partitions, ` +
    `${s.nemesis.pauses} pauses, ${s.network.sent} msgs, ${s.events} events, ${(s.virtualUs / 1e6).toFixed(2)}s virtual` +
    modes.map((m) => `; ${m}`).join('')
  );
}
