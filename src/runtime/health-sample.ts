/**
 * One sample of the node's health metrics (src/core/health/health-metrics.ts), read from its
 * parts now (node-health.ts calls it every sampling interval):
 * - commit latency: p50 and p99 of this node's proposals, propose to result, over the window;
 * - replication lag: on a leader, each follower's entries behind the leader's last index (by
 *   its acknowledgements in this term) and ticks since it last answered; on any Raft node, its
 *   applied index behind the leader's commit as last announced;
 * - apply rate: entries applied (BFT: requests executed) per second over the window;
 * - queue depths: proposals and reads of this node's callers waiting for their result;
 * - suspicion: ticks since the leader last spoke (a follower's failure detector, in the unit of
 *   its election timeout), and with gossip each live member's phi.
 */
import { emptyHealthMetrics, type HealthMetrics } from '../core/health/health-metrics.ts';
import type { RollingWindow } from '../core/health/rolling-window.ts';
import { isLive } from '../core/gossip/types.ts';
import type { Driver } from './driver.ts';
import type { HealthParts } from './health-lifecycle.ts';
import type { HealthObserver } from './health-observer.ts';

export interface SampleContext {
  readonly nowMs: number;
  /** When sampling began in this life (the leader's silence counts from here before any is heard). */
  readonly startedAtMs: number;
  readonly latencies: RollingWindow;
  /** Readings of the applied counter. */
  readonly applied: RollingWindow;
  readonly proposalsWaiting: number;
  readonly readsWaiting: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function sampleMetrics(parts: HealthParts, observer: HealthObserver, c: SampleContext): HealthMetrics {
  const m: Mutable<HealthMetrics> = { ...emptyHealthMetrics() };
  m.commitLatencyP50Ms = c.latencies.percentile(0.5, c.nowMs);
  m.commitLatencyP99Ms = c.latencies.percentile(0.99, c.nowMs);
  m.commitLatencySamples = c.latencies.count(c.nowMs);
  m.proposalQueueDepth = c.proposalsWaiting;
  m.readQueueDepth = c.readsWaiting;
  if (parts.raft !== null) raftMetrics(m, parts.raft, observer, c, parts.options.tickMs ?? 10);
  if (parts.bft !== null) {
    try {
      c.applied.add(c.nowMs, parts.bft.status().lastExecutedSeq);
      m.applyRatePerSec = c.applied.ratePerSec(c.nowMs);
    } catch {
      // Stopped: nothing executes.
    }
  }
  if (parts.gossip !== null) {
    const phi: Record<string, number> = {};
    for (const member of parts.gossip.members()) if (!member.self && isLive(member.state)) phi[member.id] = member.phi;
    m.suspicionPhi = phi;
  }
  return m;
}

function raftMetrics(m: Mutable<HealthMetrics>, driver: Driver, observer: HealthObserver, c: SampleContext, tickMs: number): void {
  let s: ReturnType<Driver['status']>;
  try {
    s = driver.status();
  } catch {
    return; // stopped: no Raft metrics
  }
  c.applied.add(c.nowMs, driver.metrics.entriesApplied);
  m.applyRatePerSec = c.applied.ratePerSec(c.nowMs);
  m.applyLagEntries = Math.max(0, Math.max(observer.leaderCommit, s.commit) - s.applied);
  const ticksSince = (atMs: number): number => Math.max(0, Math.floor((c.nowMs - atMs) / tickMs));
  if (s.role !== 'leader') {
    m.leaderSilenceTicks = ticksSince(observer.leaderHeardAtMs ?? c.startedAtMs);
    return;
  }
  const since = observer.leadingSince(s.term);
  const lag: Record<string, number> = {};
  const silence: Record<string, number> = {};
  for (const peer of [...s.config.voters, ...s.config.learners]) {
    if (peer === s.id) continue;
    const f = observer.follower(peer, s.term);
    lag[peer] = Math.max(0, s.lastIndex - (f?.matchIndex ?? 0));
    silence[peer] = ticksSince(Math.max(since, f?.answeredAtMs ?? 0));
  }
  m.replicationLagEntries = lag;
  m.followerSilenceTicks = silence;
}
