/**
 * What this proves about alert rules and their evaluation (src/core/health/alert-*.ts): a rule
 * raises only after `raiseAfterSamples` samples in a row above its threshold and clears only
 * after `clearAfterSamples` in a row below `clearBelow` (a value between the two thresholds
 * neither raises nor clears: hysteresis, so a value hovering at one threshold does not flap);
 * per-member metrics raise one alert per member, and a member gone from the metric clears its
 * alert at once; active alerts and watched members are bounded and the excess counted; bad rules
 * from the page are refused with a reason, and the defaults are valid.
 */
import { describe, expect, it } from 'vitest';
import { AlertEvaluator, alertsActiveMax, subjectsPerRuleMax } from '../../../src/core/health/alert-evaluator.ts';
import { alertRulesMax, alertRulesProblem, defaultAlertRules, type AlertRule } from '../../../src/core/health/alert-rules.ts';
import { emptyHealthMetrics, type HealthMetrics } from '../../../src/core/health/health-metrics.ts';

const latency: AlertRule = { name: 'slow', metric: 'commitLatencyP99Ms', raiseAbove: 100, clearBelow: 50, raiseAfterSamples: 2, clearAfterSamples: 2 };

function withLatency(ms: number | null): HealthMetrics {
  return { ...emptyHealthMetrics(), commitLatencyP99Ms: ms };
}

/** The changes of each sample, as 'raised'/'cleared'/'-'. */
function run(evaluator: AlertEvaluator, samples: readonly HealthMetrics[]): string[] {
  return samples.map((m, i) => {
    const changes = evaluator.evaluate(m, i * 100);
    return changes.length === 0 ? '-' : changes.map((c) => c.kind).join(',');
  });
}

describe('hysteresis', () => {
  it('raises after two samples above, clears after two below', () => {
    const e = new AlertEvaluator([latency]);
    expect(run(e, [150, 150, 150, 40, 40, 40].map(withLatency))).toEqual(['-', 'raised', '-', '-', 'cleared', '-']);
    expect(e.alerts()).toEqual([]);
  });

  it('neither raises nor clears between the thresholds, and a streak broken starts again', () => {
    const e = new AlertEvaluator([latency]);
    expect(run(e, [150, 80, 150, 80, 150, 150, 80, 80, 40, 80, 40, 40].map(withLatency))).toEqual(['-', '-', '-', '-', '-', 'raised', '-', '-', '-', '-', '-', 'cleared']);
  });

  it('records the value and time of the sample that raised it', () => {
    const e = new AlertEvaluator([{ ...latency, raiseAfterSamples: 1 }]);
    const [change] = e.evaluate(withLatency(123), 5000);
    expect(change).toEqual({ kind: 'raised', alert: { rule: 'slow', metric: 'commitLatencyP99Ms', subject: null, value: 123, raiseAbove: 100, clearBelow: 50, raisedAtMs: 5000 } });
    expect(e.alerts()).toHaveLength(1);
  });

  it('a metric that stops applying (null) clears its alert at once', () => {
    const e = new AlertEvaluator([latency]);
    expect(run(e, [withLatency(500), withLatency(500), withLatency(null)])).toEqual(['-', 'raised', 'cleared']);
  });
});

describe('per member', () => {
  const lag: AlertRule = { name: 'lag', metric: 'replicationLagEntries', raiseAbove: 10, clearBelow: 2, raiseAfterSamples: 1, clearAfterSamples: 1 };
  const lags = (r: Record<string, number>): HealthMetrics => ({ ...emptyHealthMetrics(), replicationLagEntries: r });

  it('raises one alert per member and clears each on its own', () => {
    const e = new AlertEvaluator([lag]);
    const raised = e.evaluate(lags({ b: 50, c: 60, d: 0 }), 0);
    expect(raised.map((c) => (c.kind === 'raised' ? c.alert.subject : null))).toEqual(['b', 'c']);
    const cleared = e.evaluate(lags({ b: 0, c: 60, d: 0 }), 100);
    expect(cleared.map((c) => `${c.kind} ${c.alert.subject}`)).toEqual(['cleared b']);
    expect(e.alerts().map((a) => a.subject)).toEqual(['c']);
  });

  it('a member gone from the metric clears its alert at once, with no value', () => {
    const e = new AlertEvaluator([lag]);
    e.evaluate(lags({ b: 50 }), 0);
    const [gone] = e.evaluate(lags({}), 100);
    expect(gone).toMatchObject({ kind: 'cleared', value: null, alert: { subject: 'b' } });
  });

  it('watches at most subjectsPerRuleMax members per rule', () => {
    const e = new AlertEvaluator([lag]);
    const many = Object.fromEntries(Array.from({ length: subjectsPerRuleMax + 5 }, (_, i) => [`n${String(i).padStart(3, '0')}`, 100]));
    expect(e.evaluate(lags(many), 0)).toHaveLength(subjectsPerRuleMax);
    expect(e.subjectsIgnored).toBe(5);
  });

  it('keeps at most alertsActiveMax alerts active and counts the rest', () => {
    const rules = [0, 1].map((k) => ({ ...lag, name: `lag${k}` }));
    const e = new AlertEvaluator(rules);
    const many = Object.fromEntries(Array.from({ length: subjectsPerRuleMax }, (_, i) => [`n${String(i).padStart(3, '0')}`, 100]));
    e.evaluate(lags(many), 0);
    expect(e.alerts()).toHaveLength(alertsActiveMax);
    expect(e.alertsSuppressed).toBe(2 * subjectsPerRuleMax - alertsActiveMax);
  });
});

describe('validation', () => {
  it('accepts the defaults and an empty list', () => {
    expect(alertRulesProblem(defaultAlertRules)).toBeNull();
    expect(alertRulesProblem([])).toBeNull();
  });

  it.each<[string, unknown, RegExp]>([
    ['not an array', { name: 'x' }, /array/],
    ['an unknown metric', [{ ...latency, metric: 'cpu' }], /unknown metric/],
    ['clearBelow above raiseAbove', [{ ...latency, clearBelow: 200 }], /clearBelow/],
    ['a threshold that is not finite', [{ ...latency, raiseAbove: Number.NaN }], /raiseAbove/],
    ['two rules of one name', [latency, latency], /taken/],
    ['an empty name', [{ ...latency, name: '' }], /name/],
    ['zero samples', [{ ...latency, raiseAfterSamples: 0 }], /raiseAfterSamples/],
    ['too many rules', Array.from({ length: alertRulesMax + 1 }, (_, i) => ({ ...latency, name: `r${i}` })), /at most/],
  ])('refuses %s', (_what, rules, reason) => {
    expect(alertRulesProblem(rules)).toMatch(reason);
  });
});
