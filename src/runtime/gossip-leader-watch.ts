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
 * A wrong suspicion is not free, though no longer fatal for the term: the follower gives up its
 * lease on the leader and campaigns (a pre-vote the other voters, hearing the leader, refuse);
 * it follows the leader again when it speaks (forget-leader `suspected`; only the Web Locks
 * oracle, never wrong, makes a follower ignore the leader for the rest of its term). Still, the
 * watch errs on the side of waiting:
 *
 * - a suspicion must hold at two looks at least `confirmTicks` apart, in two timer callbacks:
 *   ticks missed while this worker was held up (a long task, a throttled tab) are caught up at
 *   once, before the frames that queued meanwhile are read, and phi then looks at a gap this
 *   node caused itself; between two callbacks those frames are delivered, and a live leader's
 *   heartbeat brings phi down again (`suspicionsWithdrawn` counts these);
 * - a leader is watched only once it has been followed for `warmupTicks` in its term: phi's
 *   window then holds its heartbeats, not the sparse traffic it sent as a follower or the burst
 *   of an election (measured in Chromium, three contexts on two cores: a follower forgot a live
 *   leader in one run of seven, within two seconds of its election, with no warm-up).
 */
import type { NodeId, Role } from '../core/raft/types.ts';

/**
 * The leader's phi at which a follower suspects it, unless the node sets `leaderPhiThreshold`.
 * Not the gossip engine's `phiThreshold` (8, for members heard once a probe period): a leader is
 * heard every tick, phi's floor on the standard deviation is 2 ticks (gossip-part.ts), so phi
 * reaches 2 after 6 silent ticks and 8 only after 12 (phi-accrual.ts); with the confirming look
 * that was 14 ticks against a Raft election timeout of 15 to 30, and phi gained little over Raft
 * alone. Measured in Chromium, 3 contexts over WebRTC, a 2-core machine at load 10-13 (npm run
 * bench -- browser --only crash,crash-phi --crash-trials 15; p50 of the first commit after the
 * leader's crash, without / with a secret): with 8, 218 / 226 ms beside 255 / 307 ms for Raft
 * alone in the same run; with 2 (and the driver's pre-vote asked again, driver.ts
 * `campaignAfterLoss`), 174 / 156 ms beside 257 / 289 ms, the first follower forgetting the
 * leader 113 ms after the crash (p50 of both; 173 ms with 8). A lower threshold is wrong more often: 2
 * live leaders forgotten in 30 trials of 150 followed ticks with 2, none with 8.
 * One follower's wrong suspicion costs a pre-vote the others ignore; both followers suspecting
 * at once (a leader silent for 8 ticks, 80 ms) elect another leader, as Raft alone does after
 * 150 ms.
 */
export const leaderPhiThresholdDefault = 2;

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

export interface LeaderWatchOptions {
  readonly thresholdPhi: number;
  /** Ticks a suspicion must hold (over two looks at least) before the leader is forgotten. */
  readonly confirmTicks: number;
  /** Ticks a leader must have been followed in its term before it is watched. */
  readonly warmupTicks: number;
}

export class LeaderPhiWatch {
  readonly metrics: LeaderWatchMetrics = { suspicions: 0, suspicionsWithdrawn: 0, leadersForgotten: 0 };
  /** The leader followed, in which term, since which tick. */
  private followed: { readonly leader: NodeId; readonly term: number; readonly sinceTick: number } | null = null;
  /** The tick its suspicion began, if it is suspected. */
  private suspectedSinceTick: number | null = null;
  /** The leader last forgotten, and in which term. */
  private forgotten: { readonly leader: NodeId; readonly term: number } | null = null;

  constructor(
    private readonly self: NodeId,
    private readonly phi: (member: NodeId) => number,
    private readonly raft: WatchedRaft,
    readonly options: LeaderWatchOptions,
  ) {
    if (!(Number.isFinite(options.thresholdPhi) && options.thresholdPhi > 0)) throw new RangeError(`the leader's phi threshold must be a positive number, got ${options.thresholdPhi}`);
    if (!(Number.isSafeInteger(options.confirmTicks) && options.confirmTicks >= 1)) throw new RangeError(`confirmTicks must be a positive integer, got ${options.confirmTicks}`);
    if (!(Number.isSafeInteger(options.warmupTicks) && options.warmupTicks >= 0)) throw new RangeError(`warmupTicks must be >= 0, got ${options.warmupTicks}`);
  }

  /** One look, after a gossip timer callback; `nowTick` counts the host's ticks. */
  check(nowTick: number): void {
    const leader = this.raft.role() === 'follower' ? this.raft.leader() : null;
    if (leader === null || leader === this.self) {
      this.followed = null;
      this.suspectedSinceTick = null;
      return;
    }
    const term = this.raft.term();
    const f = this.followed;
    if (f === null || f.leader !== leader || f.term !== term) {
      // A leader forgotten and followed again in the same term (a message of its still in
      // flight, or it was alive) was watched long enough already: no second warm-up, which
      // left a crashed leader to the election timeout when its last heartbeat came late.
      const again = this.forgotten !== null && this.forgotten.leader === leader && this.forgotten.term === term;
      this.followed = { leader, term, sinceTick: again ? nowTick - this.options.warmupTicks : nowTick };
      this.suspectedSinceTick = null;
      return;
    }
    if (nowTick - f.sinceTick < this.options.warmupTicks) return;
    const since = this.suspectedSinceTick;
    if (this.phi(leader) < this.options.thresholdPhi) {
      if (since !== null) this.metrics.suspicionsWithdrawn++;
      this.suspectedSinceTick = null;
      return;
    }
    if (since === null) {
      this.metrics.suspicions++;
      this.suspectedSinceTick = nowTick;
      return;
    }
    if (nowTick - since < this.options.confirmTicks) return;
    this.suspectedSinceTick = null;
    this.followed = null;
    this.forgotten = { leader, term };
    this.metrics.leadersForgotten++;
    this.raft.leaderGone(leader);
  }
}
