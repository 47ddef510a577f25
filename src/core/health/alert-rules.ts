/**
 * Alert rules (issue 14 item 6): a named threshold on one health metric (health-metrics.ts),
 * with hysteresis. A rule raises when its metric is ABOVE `raiseAbove` for `raiseAfterSamples`
 * samples in a row, and clears when it is BELOW `clearBelow` for `clearAfterSamples` in a row:
 * a metric hovering around one threshold would otherwise raise and clear on every sample (the
 * flapping Prometheus' `for:` and Nagios' flap detection exist to stop). Per-member metrics
 * raise one alert per member (`subject`).
 *
 * Rules come from the page (createNode's `health.rules`): they are validated here, and refused
 * with a reason, never asserted on.
 */
import { isHealthMetricName, type HealthMetricName } from './health-metrics.ts';

export interface AlertRule {
  /** Unique among the rules; the alert's name. */
  readonly name: string;
  readonly metric: HealthMetricName;
  readonly raiseAbove: number;
  /** At most `raiseAbove`; the gap between them is the hysteresis. */
  readonly clearBelow: number;
  /** Samples in a row above `raiseAbove` before raising; default 2. */
  readonly raiseAfterSamples?: number;
  /** Samples in a row below `clearBelow` before clearing; default 2. */
  readonly clearAfterSamples?: number;
}

export const alertRulesMax = 32;
export const alertRuleNameBytesMax = 64;
/** A rule waiting this many samples would take minutes at any sensible interval: a typo. */
export const alertSamplesMax = 1000;

/**
 * The rules a node runs unless the page gives its own. Thresholds are in the runtime's defaults'
 * units (ticks of 10 ms, an election timeout of 15 to 30 ticks):
 * - a follower silent for 50 ticks is past any election timeout: partitioned, frozen or gone;
 * - a follower 1,000 entries behind has missed a burst it will take a while to catch up on (or
 *   will need a snapshot); heavy pipelining alone keeps it below that here;
 * - a follower that heard nothing from a leader for 100 ticks has been through more than one
 *   election timeout without a leader;
 * - a p99 commit above 2 s is 100 times the durable-commit floor (DESIGN.md §7);
 * - a state machine 10,000 entries behind its log is stalled or swamped;
 * - 50,000 waiting proposals is three quarters of the default bound (65,536), where they fail;
 * - phi 8 is a member whose silence has odds of about 1 in 10^8 under its own arrival history.
 */
export const defaultAlertRules: readonly AlertRule[] = [
  { name: 'follower-silent', metric: 'followerSilenceTicks', raiseAbove: 50, clearBelow: 10 },
  { name: 'replication-lag', metric: 'replicationLagEntries', raiseAbove: 1000, clearBelow: 100 },
  { name: 'leader-silent', metric: 'leaderSilenceTicks', raiseAbove: 100, clearBelow: 20 },
  { name: 'commit-latency', metric: 'commitLatencyP99Ms', raiseAbove: 2000, clearBelow: 1000 },
  { name: 'apply-lag', metric: 'applyLagEntries', raiseAbove: 10_000, clearBelow: 1000 },
  { name: 'proposal-queue', metric: 'proposalQueueDepth', raiseAbove: 50_000, clearBelow: 10_000 },
  { name: 'member-suspected', metric: 'suspicionPhi', raiseAbove: 8, clearBelow: 2 },
];

/** Why `rules` cannot be run, or null when they can. */
export function alertRulesProblem(rules: unknown): string | null {
  if (!Array.isArray(rules)) return 'rules must be an array';
  if (rules.length > alertRulesMax) return `at most ${alertRulesMax} rules, got ${rules.length}`;
  const names = new Set<string>();
  for (const [i, rule] of rules.entries()) {
    const problem = ruleProblem(rule);
    if (problem !== null) return `rule ${i}: ${problem}`;
    const name = (rule as AlertRule).name;
    if (names.has(name)) return `rule ${i}: the name ${JSON.stringify(name)} is taken`;
    names.add(name);
  }
  return null;
}

function ruleProblem(rule: unknown): string | null {
  if (typeof rule !== 'object' || rule === null) return 'not an object';
  const r = rule as Record<string, unknown>;
  if (typeof r['name'] !== 'string' || r['name'].length === 0 || r['name'].length > alertRuleNameBytesMax) return `name must be 1 to ${alertRuleNameBytesMax} characters`;
  if (typeof r['metric'] !== 'string' || !isHealthMetricName(r['metric'])) return `unknown metric ${JSON.stringify(r['metric'])}`;
  const raise = r['raiseAbove'];
  const clear = r['clearBelow'];
  if (typeof raise !== 'number' || !Number.isFinite(raise)) return 'raiseAbove must be a finite number';
  if (typeof clear !== 'number' || !Number.isFinite(clear)) return 'clearBelow must be a finite number';
  if (clear > raise) return `clearBelow (${clear}) must not be above raiseAbove (${raise})`;
  for (const key of ['raiseAfterSamples', 'clearAfterSamples']) {
    const n = r[key];
    if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= alertSamplesMax)) return `${key} must be an integer from 1 to ${alertSamplesMax}`;
  }
  return null;
}
