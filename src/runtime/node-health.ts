/**
 * Node health (issue 14 item 6): the node's lifecycle (src/core/health/lifecycle.ts), its
 * metrics (commit latency p50/p99 over a window, replication lag, apply rate, queue depths,
 * failure-detector suspicion) and its alerts (alert rules with hysteresis), sampled every
 * `sampleIntervalMs` on the runtime's clock. What it computes is pure (src/core/health/); this
 * file is the part with a timer: it reads the node's parts, feeds the pure parts, and emits
 * `lifecycle` on every change of state, `alert` when a rule raises and `alert-cleared` when it
 * clears. `status().health` shows the lifecycle, the active alerts and the last metrics.
 *
 * Leaving and down are told, not sampled, and emitted at once: a closing page has no sample
 * left (`leaving('stopping')` as the node begins to stop, `stopped()` once it has).
 */
import { AlertEvaluator, type ActiveAlert } from '../core/health/alert-evaluator.ts';
import { alertRulesProblem, defaultAlertRules, type AlertRule } from '../core/health/alert-rules.ts';
import type { HealthMetrics } from '../core/health/health-metrics.ts';
import { emptyHealthMetrics } from '../core/health/health-metrics.ts';
import type { Lifecycle, LifecycleState } from '../core/health/lifecycle.ts';
import { RollingWindow } from '../core/health/rolling-window.ts';
import type { Message } from '../core/raft/messages.ts';
import { systemClock, type Clock } from './clock.ts';
import { NodeError } from './errors.ts';
import { HealthObserver } from './health-observer.ts';
import { deriveLifecycle, type HealthParts } from './health-lifecycle.ts';
import { sampleMetrics } from './health-sample.ts';

export interface HealthOptions {
  /** How often metrics are sampled and rules evaluated; default 250 ms. */
  readonly sampleIntervalMs?: number;
  /** The window of commit latencies and the apply rate; default 60 s. */
  readonly windowMs?: number;
  /** A voter further than this behind its leader's commit is `syncing`; default 1,000 entries. */
  readonly syncLagEntriesMax?: number;
  /** The alert rules (at most 32), replacing `defaultAlertRules`; [] turns alerts off. */
  readonly rules?: readonly AlertRule[];
}

export type HealthEvent =
  /** The node's lifecycle changed (`previous` null: the first state of this life). */
  | { readonly type: 'lifecycle'; readonly state: LifecycleState; readonly previous: LifecycleState | null; readonly reason: string }
  | { readonly type: 'alert'; readonly alert: ActiveAlert }
  /** `value`: the metric at the sample that cleared it; null when what it measured is gone. */
  | { readonly type: 'alert-cleared'; readonly alert: ActiveAlert; readonly value: number | null };

export interface HealthStatus {
  readonly lifecycle: LifecycleState;
  readonly reason: string;
  /** Wall time (ms since the epoch) of the last lifecycle change. */
  readonly lifecycleSince: number;
  readonly alerts: readonly ActiveAlert[];
  readonly metrics: HealthMetrics;
  /** Alerts not raised because `alertsActiveMax` were active, and members beyond the watch bound. */
  readonly alertsSuppressed: number;
}

const sampleIntervalMsDefault = 250;
const sampleIntervalMsMin = 10;
const windowMsDefault = 60_000;
const syncLagEntriesMaxDefault = 1000;
/** Latencies kept for the percentiles: at 250 ms per sample, enough for ~4,000 commits/s to be seen whole. */
const commitLatencySamplesMax = 1024;
/** Apply counter readings: one per sample over the window, and a margin. */
const applyReadingsMax = 512;

/** The options with defaults; CONFIG for what a page got wrong. */
export function resolveHealthOptions(options: HealthOptions | undefined): Required<HealthOptions> {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new NodeError('CONFIG', 'health must be an object');
  const positive = (name: string, v: unknown, min: number): void => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= min)) throw new NodeError('CONFIG', `health.${name} must be a number of at least ${min}, got ${JSON.stringify(v)}`);
  };
  positive('sampleIntervalMs', o.sampleIntervalMs, sampleIntervalMsMin);
  positive('windowMs', o.windowMs, 1);
  positive('syncLagEntriesMax', o.syncLagEntriesMax, 0);
  const rules = o.rules ?? defaultAlertRules;
  const problem = alertRulesProblem(rules);
  if (problem !== null) throw new NodeError('CONFIG', `health.rules: ${problem}`);
  return {
    sampleIntervalMs: o.sampleIntervalMs ?? sampleIntervalMsDefault,
    windowMs: o.windowMs ?? windowMsDefault,
    syncLagEntriesMax: o.syncLagEntriesMax ?? syncLagEntriesMaxDefault,
    rules,
  };
}

export class NodeHealth {
  readonly observer: HealthObserver;
  private settings: Required<HealthOptions> | null = null;
  private evaluator = new AlertEvaluator([]);
  private latencies: RollingWindow | null = null;
  private applied: RollingWindow | null = null;
  private readonly listeners = new Set<(e: HealthEvent) => void>();
  private lifecycle: Lifecycle = { state: 'syncing', reason: 'starting' };
  private lifecycleSince = Date.now();
  private announced = false;
  private metricsNow: HealthMetrics = emptyHealthMetrics();
  private cancelTimer: (() => void) | null = null;
  private leavingReason: 'stopping' | 'handing-over' | null = null;
  private handOverAtMs = 0;
  private failure: string | null = null;
  private stoppedNow = false;
  private startedAtMs: number;
  private proposalsWaiting = 0;
  private readsWaiting = 0;
  /** Was a voter or learner at some point in this life; knew a leader at some point in it. */
  private readonly seen = { member: false, leader: false };

  constructor(
    private readonly parts: HealthParts,
    private readonly clock: Clock = systemClock,
  ) {
    this.observer = new HealthObserver(() => this.clock.now());
    this.startedAtMs = this.clock.now();
  }

  /** Begin sampling (once the node's parts started); CONFIG for bad `health` options. */
  start(): void {
    const s = resolveHealthOptions(this.parts.options.health);
    this.settings = s;
    this.evaluator = new AlertEvaluator(s.rules);
    this.latencies = new RollingWindow({ samplesMax: commitLatencySamplesMax, windowMs: s.windowMs });
    this.applied = new RollingWindow({ samplesMax: applyReadingsMax, windowMs: s.windowMs });
    this.startedAtMs = this.clock.now();
    this.parts.on((e) => {
      if (e.type !== 'error') return;
      this.failure = `${e.error.code}: ${e.error.message}`;
      this.sample();
    });
    this.sample();
    this.schedule();
  }

  on(listener: (e: HealthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A Raft message about to be stepped (the leader's heartbeats, followers' answers). */
  observe(m: Message): void {
    this.observer.observe(m);
  }

  /** Count `work` as a proposal waiting here, and time it to its result (commit latency). */
  timed<T>(work: Promise<T>): Promise<T> {
    const startMs = this.clock.now();
    this.proposalsWaiting++;
    return work.then(
      (v) => {
        this.proposalsWaiting--;
        this.latencies?.add(this.clock.now(), this.clock.now() - startMs);
        return v;
      },
      (e: unknown) => {
        this.proposalsWaiting--;
        throw e;
      },
    );
  }

  /** Count `work` as a read waiting here. */
  counted<T>(work: Promise<T>): Promise<T> {
    this.readsWaiting++;
    const done = (): void => void this.readsWaiting--;
    work.then(done, done);
    return work;
  }

  /** The node begins to go (`stopping`), or a leader hands over before its page goes. */
  leaving(reason: 'stopping' | 'handing-over'): void {
    if (this.leavingReason === 'stopping') return;
    this.leavingReason = reason;
    this.handOverAtMs = this.clock.now();
    this.sample();
  }

  /** The node stopped: down, and no more samples. */
  stopped(): void {
    this.stoppedNow = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.sample();
  }

  status(): HealthStatus {
    return {
      lifecycle: this.lifecycle.state,
      reason: this.lifecycle.reason,
      lifecycleSince: this.lifecycleSince,
      alerts: this.evaluator.alerts(),
      metrics: this.metricsNow,
      alertsSuppressed: this.evaluator.alertsSuppressed + this.evaluator.subjectsIgnored,
    };
  }

  private schedule(): void {
    const s = this.settings;
    if (s === null || this.stoppedNow) return;
    this.cancelTimer = this.clock.after(s.sampleIntervalMs, () => {
      this.sample();
      // A node that is down stays down (a failed node does not come back: a new one boots), and
      // a timer left running would keep a Node process alive for nothing.
      if (this.lifecycle.state !== 'down') this.schedule();
    });
  }

  /** Derive the lifecycle, measure, evaluate the rules; emit what changed. */
  private sample(): void {
    const s = this.settings;
    if (s === null) return;
    const nowMs = this.clock.now();
    // A hand-over lasts until the transfer is done or abandoned (an election timeout or two):
    // the page did not go after all (a pagehide into the back/forward cache).
    if (this.leavingReason === 'handing-over' && nowMs - this.handOverAtMs > handOverMsMax) this.leavingReason = null;
    const flags = { stopped: this.stoppedNow, failure: this.failure, leaving: this.leavingReason, syncLagEntriesMax: s.syncLagEntriesMax };
    this.setLifecycle(deriveLifecycle(this.parts, this.observer, this.seen, flags));
    this.metricsNow = sampleMetrics(this.parts, this.observer, {
      nowMs,
      startedAtMs: this.startedAtMs,
      latencies: this.latencies as RollingWindow,
      applied: this.applied as RollingWindow,
      proposalsWaiting: this.proposalsWaiting,
      readsWaiting: this.readsWaiting,
    });
    const down = this.lifecycle.state === 'down';
    for (const change of this.evaluator.evaluate(down ? emptyHealthMetrics() : this.metricsNow, Date.now())) {
      if (change.kind === 'raised') this.emit({ type: 'alert', alert: change.alert });
      else this.emit({ type: 'alert-cleared', alert: change.alert, value: change.value });
    }
  }

  private setLifecycle(next: Lifecycle): void {
    if (this.announced && next.state === this.lifecycle.state) {
      this.lifecycle = next;
      return;
    }
    const previous = this.announced ? this.lifecycle.state : null;
    this.announced = true;
    this.lifecycle = next;
    this.lifecycleSince = Date.now();
    this.emit({ type: 'lifecycle', state: next.state, previous, reason: next.reason });
  }

  private emit(e: HealthEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** How long a hand-over counts as leaving when the page stays after all. */
const handOverMsMax = 2000;
