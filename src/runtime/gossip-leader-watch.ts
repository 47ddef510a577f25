/**
 * Phi suspicion of the Raft leader (DESIGN.md §7b): a follower whose gossip engine says the
 * leader's phi (Hayashibara et al. 2004) crossed the threshold tells its driver the leader is
 * gone, the way the Web Locks oracle does between tabs of one browser (DESIGN.md §6), but across
 * browsers, where no lock can see. The driver steps Raft's `forget-leader` local input, which
 * names the leader and is ignored unless that node is still the one followed in this term
 * (fenced by term: a new leader elected meanwhile is never forgotten by a stale suspicion), and
 * campaigns in rank order (driver.ts `leaderGone`).
 *
 * The evidence: every Raft message from a peer is fed to the gossip engine as `heard` (node
 * host), so a leader that heartbeats every tick has a phi history of about one tick per arrival
 * and its phi climbs within a few ticks of its last heartbeat, long before an election timeout
 * (15 ticks, randomized up to 30).
 *
 * Why a suspicion must hold over TWO consecutive timer callbacks: ticks missed while this worker
 * was held up (a long task, a throttled tab) are caught up at once, before the frames that
 * queued meanwhile are read; phi then looks at a gap this node caused itself. Between two
 * callbacks those frames are delivered, and a live leader's heartbeat brings phi down again.
 * A wrong suspicion is not free: the follower ignores that leader for the rest of its term
 * (step-follower.ts), so it is counted (`suspicionsWithdrawn`: phi fell back before the second
 * look) and the threshold errs on the side of waiting.
 */
import type { NodeId, Role } from '../core/raft/types.ts';

/** What the watch needs of the Raft driver. */
export interface WatchedRaft {
  role(): Role;
  term(): number;
  /** The leader followed now (null: none known). */
  leader(): NodeId | null;
  /** The leader is gone: forget it (if still followed) and campaign in rank order. */
  leaderGone(leader: NodeId): void;
}

export interface LeaderWatchMetrics {
  /** Looks at which the leader's phi was at or above the threshold for the first time. */
  suspicions: number;
  /** Suspicions that did not hold at the next look (a heartbeat came meanwhile). */
  suspicionsWithdrawn: number;
  /** Times the driver was told the leader is gone. */
  leadersForgotten: number;
}

export class LeaderPhiWatch {
  readonly metrics: LeaderWatchMetrics = { suspicions: 0, suspicionsWithdrawn: 0, leadersForgotten: 0 };
  /** The leader suspected at the last look, and in which term. */
  private pending: { readonly leader: NodeId; readonly term: number } | null = null;

  constructor(
    private readonly self: NodeId,
    private readonly phi: (member: NodeId) => number,
    private readonly raft: WatchedRaft,
    readonly thresholdPhi: number,
  ) {
    if (!(Number.isFinite(thresholdPhi) && thresholdPhi > 0)) throw new RangeError(`the leader's phi threshold must be a positive number, got ${thresholdPhi}`);
  }

  /** One look, after a gossip timer callback. */
  check(): void {
    const leader = this.raft.role() === 'follower' ? this.raft.leader() : null;
    if (leader === null || leader === this.self) {
      this.pending = null;
      return;
    }
    const term = this.raft.term();
    const suspected = this.phi(leader) >= this.thresholdPhi;
    const held = this.pending !== null && this.pending.leader === leader && this.pending.term === term;
    if (!suspected) {
      if (held) this.metrics.suspicionsWithdrawn++;
      this.pending = null;
      return;
    }
    if (!held) {
      this.metrics.suspicions++;
      this.pending = { leader, term };
      return;
    }
    this.pending = null;
    this.metrics.leadersForgotten++;
    this.raft.leaderGone(leader);
  }
}
