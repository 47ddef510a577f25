/**
 * Evaluates alert rules (alert-rules.ts) against each health sample, with hysteresis, and says
 * which alerts were raised and which cleared. Pure: the runtime calls `evaluate` once per
 * sampling interval with its metrics and the time (node-health.ts), and emits the changes as
 * `alert` and `alert-cleared` events.
 *
 * Bounded: at most `alertRulesMax` rules (validated before), `subjectsPerRuleMax` members watched
 * per rule (more are ignored and counted: a member table is bounded elsewhere, this keeps the
 * evaluator's own state bounded whatever it is fed), and `alertsActiveMax` alerts active at once
 * (an alert that would go beyond is not raised and is counted in `alertsSuppressed`).
 *
 * A subject that disappears from its metric (a follower removed, a leader that stepped down and
 * no longer measures its followers) clears its alert at once: what it measured no longer exists.
 */
import { assert } from '../assert.ts';
import type { AlertRule } from './alert-rules.ts';
import { isScalarHealthMetric, type HealthMetricName, type HealthMetrics } from './health-metrics.ts';

export const subjectsPerRuleMax = 64;
export const alertsActiveMax = 64;
const raiseAfterSamplesDefault = 2;
const clearAfterSamplesDefault = 2;

export interface ActiveAlert {
  readonly rule: string;
  readonly metric: HealthMetricName;
  /** The member the alert is about, for per-member metrics; null for the node's own. */
  readonly subject: string | null;
  /** The metric's value at the sample that raised it. */
  readonly value: number;
  readonly raiseAbove: number;
  readonly clearBelow: number;
  /** The time the runtime passed with that sample. */
  readonly raisedAtMs: number;
}

export type AlertChange =
  | { readonly kind: 'raised'; readonly alert: ActiveAlert }
  /** `value` null: the subject or the metric is gone. */
  | { readonly kind: 'cleared'; readonly alert: ActiveAlert; readonly value: number | null; readonly clearedAtMs: number };

interface Streak {
  above: number;
  below: number;
}

export class AlertEvaluator {
  /** Alerts raised under a subject beyond the bounds, or while `alertsActiveMax` were active. */
  alertsSuppressed = 0;
  subjectsIgnored = 0;
  private readonly streaks = new Map<string, Streak>();
  private readonly active = new Map<string, ActiveAlert>();

  constructor(private readonly rules: readonly AlertRule[]) {}

  /** The alerts active now, in the order they were raised. */
  alerts(): ActiveAlert[] {
    return [...this.active.values()];
  }

  evaluate(metrics: HealthMetrics, atMs: number): AlertChange[] {
    const changes: AlertChange[] = [];
    for (const rule of this.rules) {
      const values = valuesOf(metrics, rule.metric);
      const seen = new Set<string>();
      let subjects = 0;
      for (const [subject, value] of values) {
        if (subjects >= subjectsPerRuleMax) {
          this.subjectsIgnored++;
          continue;
        }
        subjects++;
        const key = keyOf(rule.name, subject);
        seen.add(key);
        const change = this.step(rule, subject, value, key, atMs);
        if (change !== null) changes.push(change);
      }
      this.forgetGone(rule, seen, atMs, changes);
    }
    assert(this.active.size <= alertsActiveMax, 'active alerts beyond their bound');
    return changes;
  }

  /** One value of one rule: count the streak, raise or clear at its end. */
  private step(rule: AlertRule, subject: string | null, value: number, key: string, atMs: number): AlertChange | null {
    const streak = this.streaks.get(key) ?? { above: 0, below: 0 };
    this.streaks.set(key, streak);
    streak.above = value > rule.raiseAbove ? streak.above + 1 : 0;
    streak.below = value < rule.clearBelow ? streak.below + 1 : 0;
    const raised = this.active.get(key);
    if (raised === undefined && streak.above >= (rule.raiseAfterSamples ?? raiseAfterSamplesDefault)) {
      if (this.active.size >= alertsActiveMax) {
        this.alertsSuppressed++;
        return null;
      }
      const alert: ActiveAlert = { rule: rule.name, metric: rule.metric, subject, value, raiseAbove: rule.raiseAbove, clearBelow: rule.clearBelow, raisedAtMs: atMs };
      this.active.set(key, alert);
      return { kind: 'raised', alert };
    }
    if (raised !== undefined && streak.below >= (rule.clearAfterSamples ?? clearAfterSamplesDefault)) {
      this.active.delete(key);
      return { kind: 'cleared', alert: raised, value, clearedAtMs: atMs };
    }
    return null;
  }

  /** Subjects of `rule` not in this sample: their streaks end, their alerts clear. */
  private forgetGone(rule: AlertRule, seen: ReadonlySet<string>, atMs: number, changes: AlertChange[]): void {
    for (const key of [...this.streaks.keys()]) {
      if (!key.startsWith(`${rule.name}\u0000`) || seen.has(key)) continue;
      this.streaks.delete(key);
      const raised = this.active.get(key);
      if (raised === undefined) continue;
      this.active.delete(key);
      changes.push({ kind: 'cleared', alert: raised, value: null, clearedAtMs: atMs });
    }
  }
}

function keyOf(rule: string, subject: string | null): string {
  return `${rule}\u0000${subject ?? ''}`;
}

/** The (subject, value) pairs of one metric: one pair with subject null for a node's own metric. */
function valuesOf(metrics: HealthMetrics, metric: HealthMetricName): [string | null, number][] {
  if (isScalarHealthMetric(metric)) {
    const v = metrics[metric];
    return v === null ? [] : [[null, v]];
  }
  return Object.entries(metrics[metric]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
