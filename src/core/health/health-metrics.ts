/**
 * The numbers node health keeps (issue 14 item 6), as one plain snapshot: what `status().health`
 * shows and what alert rules (alert-rules.ts) are evaluated against. A metric that does not
 * apply to this node now (a follower has no per-follower lag; no commits lately, no latency) is
 * null or an empty record, never 0: "nothing measured" must not read as "all is well".
 */

/** Metrics with one value per node. */
export const scalarHealthMetrics = [
  /** Propose to result (committed and applied here), over the window. */
  'commitLatencyP50Ms',
  'commitLatencyP99Ms',
  /** How far this node's state machine is behind the leader's commit as last heard. */
  'applyLagEntries',
  /** Entries applied per second over the window. */
  'applyRatePerSec',
  /** Callers' proposals waiting here for their result. */
  'proposalQueueDepth',
  /** Callers' reads waiting here. */
  'readQueueDepth',
  /** A follower's failure detector: ticks since a message of its leader came (null on a leader). */
  'leaderSilenceTicks',
] as const;

/** Metrics with one value per other member (the subject of an alert). */
export const subjectHealthMetrics = [
  /** Leader only: entries a follower is behind the leader's last index (from its acknowledgements). */
  'replicationLagEntries',
  /** Leader only: ticks since a follower's last answer. */
  'followerSilenceTicks',
  /** Gossip: phi accrual suspicion of each member (Hayashibara 2004). */
  'suspicionPhi',
] as const;

export type ScalarHealthMetric = (typeof scalarHealthMetrics)[number];
export type SubjectHealthMetric = (typeof subjectHealthMetrics)[number];
export type HealthMetricName = ScalarHealthMetric | SubjectHealthMetric;

export type HealthMetrics = { readonly [K in ScalarHealthMetric]: number | null } & {
  readonly [K in SubjectHealthMetric]: Readonly<Record<string, number>>;
} & {
  /** Commit latencies inside the window (what the percentiles are of). */
  readonly commitLatencySamples: number;
};

export function isScalarHealthMetric(name: string): name is ScalarHealthMetric {
  return (scalarHealthMetrics as readonly string[]).includes(name);
}

export function isHealthMetricName(name: string): name is HealthMetricName {
  return isScalarHealthMetric(name) || (subjectHealthMetrics as readonly string[]).includes(name);
}

export function emptyHealthMetrics(): HealthMetrics {
  return {
    commitLatencyP50Ms: null,
    commitLatencyP99Ms: null,
    applyLagEntries: null,
    applyRatePerSec: null,
    proposalQueueDepth: null,
    readQueueDepth: null,
    leaderSilenceTicks: null,
    replicationLagEntries: {},
    followerSilenceTicks: {},
    suspicionPhi: {},
    commitLatencySamples: 0,
  };
}
