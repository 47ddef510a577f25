/**
 * What one gossip seed found: the violations of each checker (counted, the first few described),
 * and the figures a sweep sums (false suspicions and the member-hours they happened in,
 * detection times, convergence time, the faults that ran, messages sent).
 */
import type { Violations } from './checkers/violations.ts';
import type { WorkloadStats } from './crdt-workload.ts';
import type { GossipNemesisStats } from './gossip-nemesis.ts';

export interface GossipViolations {
  readonly detection: Violations;
  readonly falseDeaths: Violations;
  readonly convergence: Violations;
  readonly incarnationReuses: Violations;
  readonly mesh: Violations;
  readonly unwantedLinks: Violations;
  /** CRDT states still differing between members after the heal's bound. */
  readonly crdtConvergence: Violations;
  /** A converged CRDT missing an update that was durable at a final member (or holding one never made). */
  readonly lostUpdates: Violations;
  /** The engine threw (an assertion in src/core fired), or a host invariant broke: a bug. */
  readonly errors: Violations;
}

export interface GossipRunStats {
  readonly nemesis: GossipNemesisStats;
  /** Of the detection and convergence violations, the ghosts (gone members in nobody's mesh, held live: swarm-view.ts `inSomeMesh`). */
  readonly ghostDetections: number;
  readonly ghostConvergences: number;
  readonly suspicions: number;
  readonly falseSuspicions: number;
  /** False suspicions of a member with neither it nor its suspecter impaired (Lifeguard's target). */
  readonly falseSuspicionsUnimpaired: number;
  /** Member-hours of virtual time (members summed over time), the denominator of the rate above. */
  readonly memberHours: number;
  readonly falseDeathsExcused: number;
  /** Per crash, crash to "no live member holds it live", in microseconds. */
  readonly detectionsUs: readonly number[];
  /** Heal to equal CRDT states everywhere, in microseconds; null when never. */
  readonly crdtConvergedAfterUs: number | null;
  readonly crdtUpdates: WorkloadStats;
  /** Heal to agreement, in microseconds; null when the views never agreed. */
  readonly convergedAfterUs: number | null;
  readonly messagesSent: number;
  readonly incarnationWrites: number;
  readonly incarnationWritesLost: number;
  readonly virtualUs: number;
  readonly nodesCreated: number;
}

export interface GossipRunResult {
  readonly seed: number;
  readonly nodes: number;
  readonly ok: boolean;
  readonly faultMix: string;
  readonly violations: GossipViolations;
  readonly stats: GossipRunStats;
}

export function violationCount(r: GossipRunResult): number {
  return Object.values(r.violations).reduce((sum, v) => sum + v.count, 0);
}

/** One line per kind of violation found, for a failing seed's report. */
export function describeViolations(r: GossipRunResult): string[] {
  const lines: string[] = [];
  for (const [kind, v] of Object.entries(r.violations)) {
    if (v.count === 0) continue;
    lines.push(`  ${kind}: ${v.count}`);
    for (const e of v.examples) lines.push(`    ${e}`);
  }
  return lines;
}
