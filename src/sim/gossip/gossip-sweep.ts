/**
 * A sweep of gossip seeds summed up: the violations of every checker over all seeds (the CLI's
 * last line, all zero on success), and the figures worth reading beside them: false suspicions
 * per member-hour, detection and convergence times, and the faults that ran. Shared by the CLI
 * (scripts/sim-gossip.ts) and the tests, so both read one summary.
 */
import type { AntiEntropyCostReport } from './anti-entropy-cost.ts';
import type { GossipNemesisStats } from './gossip-nemesis.ts';
import type { GossipRunResult, GossipViolations } from './gossip-result.ts';

export type ViolationKind = keyof GossipViolations;

export interface GossipSweep {
  seeds: number;
  failedSeeds: number[];
  readonly violations: Record<ViolationKind, number>;
  readonly faults: GossipNemesisStats;
  ghostDetections: number;
  ghostConvergences: number;
  suspicions: number;
  falseSuspicions: number;
  falseSuspicionsUnimpaired: number;
  falseDeathsExcused: number;
  memberHours: number;
  readonly detectionsUs: number[];
  readonly convergedAfterUs: number[];
  readonly crdtConvergedAfterUs: number[];
  crdtUpdates: number;
  crdtUpdatesLostInCrashes: number;
  messagesSent: number;
  incarnationWritesLost: number;
}

export function emptySweep(): GossipSweep {
  return {
    seeds: 0,
    failedSeeds: [],
    violations: { detection: 0, falseDeaths: 0, convergence: 0, incarnationReuses: 0, mesh: 0, unwantedLinks: 0, crdtConvergence: 0, lostUpdates: 0, errors: 0 },
    faults: { partitions: 0, crashes: 0, crashesInWrites: 0, restarts: 0, pauses: 0, leaves: 0, rejoins: 0, joins: 0 },
    ghostDetections: 0,
    ghostConvergences: 0,
    suspicions: 0,
    falseSuspicions: 0,
    falseSuspicionsUnimpaired: 0,
    falseDeathsExcused: 0,
    memberHours: 0,
    detectionsUs: [],
    convergedAfterUs: [],
    crdtConvergedAfterUs: [],
    crdtUpdates: 0,
    crdtUpdatesLostInCrashes: 0,
    messagesSent: 0,
    incarnationWritesLost: 0,
  };
}

export function addRun(sweep: GossipSweep, r: GossipRunResult): void {
  sweep.seeds++;
  if (!r.ok) sweep.failedSeeds.push(r.seed);
  for (const k of Object.keys(sweep.violations) as ViolationKind[]) sweep.violations[k] += r.violations[k].count;
  const s = r.stats;
  for (const k of Object.keys(sweep.faults) as (keyof GossipNemesisStats)[]) sweep.faults[k] += s.nemesis[k];
  sweep.ghostDetections += s.ghostDetections;
  sweep.ghostConvergences += s.ghostConvergences;
  sweep.suspicions += s.suspicions;
  sweep.falseSuspicions += s.falseSuspicions;
  sweep.falseSuspicionsUnimpaired += s.falseSuspicionsUnimpaired;
  sweep.falseDeathsExcused += s.falseDeathsExcused;
  sweep.memberHours += s.memberHours;
  sweep.detectionsUs.push(...s.detectionsUs);
  if (s.convergedAfterUs !== null) sweep.convergedAfterUs.push(s.convergedAfterUs);
  if (s.crdtConvergedAfterUs !== null) sweep.crdtConvergedAfterUs.push(s.crdtConvergedAfterUs);
  sweep.crdtUpdates += s.crdtUpdates.issued;
  sweep.crdtUpdatesLostInCrashes += s.crdtUpdates.lostInCrashes;
  sweep.messagesSent += s.messagesSent;
  sweep.incarnationWritesLost += s.incarnationWritesLost;
}

/** The q-quantile (0..1) of `values` by nearest rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** False suspicions of unimpaired members per member-hour (Lifeguard's target). */
export function falseSuspicionsPerMemberHour(s: GossipSweep): number {
  return s.memberHours === 0 ? 0 : s.falseSuspicionsUnimpaired / s.memberHours;
}

/** The lines before the last: what ran and what was measured. */
export function describeSweep(s: GossipSweep): string[] {
  const f = s.faults;
  const ms = (us: number): string => `${Math.round(us / 1000)}ms`;
  return [
    `sim: faults: ${f.partitions} partitions, ${f.crashes} crashes (${f.crashesInWrites} inside incarnation writes, ${s.incarnationWritesLost} writes lost), ${f.restarts} restarts, ${f.pauses} pauses, ${f.leaves} leaves, ${f.rejoins} rejoins, ${f.joins} new members`,
    `sim: accuracy: ${s.suspicions} suspicions, ${s.falseSuspicions} of live members, ${s.falseSuspicionsUnimpaired} with nobody impaired ` +
      `(${falseSuspicionsPerMemberHour(s).toFixed(2)} per member-hour over ${s.memberHours.toFixed(1)} member-hours); ${s.falseDeathsExcused} false deaths under partitions or pauses`,
    `sim: detection: ${s.detectionsUs.length} crashes detected by all, p50 ${ms(quantile(s.detectionsUs, 0.5))}, max ${ms(quantile(s.detectionsUs, 1))}; ` +
      `convergence after the heal: p50 ${ms(quantile(s.convergedAfterUs, 0.5))}, max ${ms(quantile(s.convergedAfterUs, 1))}; ${s.messagesSent} messages`,
    `sim: CRDTs: ${s.crdtUpdates} updates (${s.crdtUpdatesLostInCrashes} lost in crashes before their write completed); equal everywhere after the heal: p50 ${ms(quantile(s.crdtConvergedAfterUs, 0.5))}, max ${ms(quantile(s.crdtConvergedAfterUs, 1))}`,
    `sim: ghosts (a gone member held live, in nobody's mesh, so probed by nobody): ${s.ghostDetections} of the detection failures, ${s.ghostConvergences} of the convergence failures`,
  ];
}

/** The anti-entropy cost measured once per sweep (anti-entropy-cost.ts), in one line. */
export function describeAntiEntropyCost(r: AntiEntropyCostReport): string {
  const byKeys = new Map<number, string[]>();
  for (const p of r.points) byKeys.set(p.keys, [...(byKeys.get(p.keys) ?? []), `${p.differing} differing ${p.bytes} B`]);
  return `sim: anti-entropy cost: ${[...byKeys].map(([keys, parts]) => `${keys} CRDTs: ${parts.join(', ')}`).join('; ')}`;
}

/** The last line: every count zero on success (`antiEntropy`: the cost check's violations, once per sweep). */
export function sweepSummary(s: GossipSweep, antiEntropy: number): string {
  const v = s.violations;
  return (
    `sim: ${s.seeds} seeds, ${v.detection} detection failures, ${v.falseDeaths} false deaths, ${v.convergence} convergence failures, ` +
    `${v.incarnationReuses} incarnations reused, ${v.mesh} mesh violations, ${v.unwantedLinks} unwanted links, ` +
    `${v.crdtConvergence} CRDT convergence failures, ${v.lostUpdates} lost updates, ${antiEntropy} anti-entropy cost violations, ${v.errors} engine errors`
  );
}

export function sweepViolations(s: GossipSweep): number {
  return Object.values(s.violations).reduce((a, b) => a + b, 0);
}
