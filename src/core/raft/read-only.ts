/**
 * Linearizable reads without writing to the log (Raft dissertation §6.4).
 *
 * ReadIndex: the leader notes its commit index, then confirms it is still the leader by
 * hearing back from a quorum on a heartbeat round sent AFTER the read arrived; once the state
 * machine has applied that commit index, a read served from it is linearizable. The leader must
 * first have committed an entry of its own term (§6.4 step 1), else its commit index may lag.
 *
 * Heartbeat rounds are numbered per term and every heartbeat carries its round, so one round
 * confirms every read queued before it (batching for free), and the same rounds give the lease:
 * a quorum acknowledged round r sent at tick t, and with check-quorum those voters refuse to vote
 * for anyone else until an election timeout after they last heard from the leader, so the
 * leader stays the only leader until t + electionTimeout (minus a clock-drift margin, §6.4.1).
 */
import { assert } from '../assert.ts';
import type { NodeId } from './types.ts';

export interface PendingRead {
  readonly requestId: number;
  readonly from: NodeId;
  /** The first heartbeat round sent after the read arrived. */
  readonly round: number;
}

/** Rounds whose send tick is remembered for the lease; older ones just cannot grant a lease. */
const roundTicksMax = 4096;

export class ReadRounds {
  /** The latest round started in this term. */
  round = 0;
  /** The heartbeats of `round` have not left yet, so a new read can join it. */
  roundOpen = false;
  /** The highest round acknowledged by a quorum. */
  quorumRound = 0;
  /** The tick at which `quorumRound` was sent, or -1. */
  quorumRoundTick = -1;
  readonly pending: PendingRead[] = [];
  private readonly roundTicks = new Map<number, number>();

  constructor(readonly maxPendingReads: number) {}

  /** Start a heartbeat round at tick `now`; returns its number. */
  startRound(now: number): number {
    this.round++;
    this.roundOpen = true;
    this.roundTicks.set(this.round, now);
    if (this.roundTicks.size > roundTicksMax) {
      const oldest = this.roundTicks.keys().next().value as number;
      this.roundTicks.delete(oldest);
    }
    return this.round;
  }

  /** A quorum has acknowledged `round`. */
  onQuorumRound(round: number): void {
    if (round <= this.quorumRound) return;
    assert(round <= this.round, 'quorum acknowledged a round not yet sent');
    this.quorumRound = round;
    this.quorumRoundTick = this.roundTicks.get(round) ?? -1;
    for (const r of this.roundTicks.keys()) {
      if (r > round) break;
      this.roundTicks.delete(r);
    }
  }

  isFull(): boolean {
    return this.pending.length >= this.maxPendingReads;
  }

  /** Reads whose round a quorum has acknowledged, removed from the queue in arrival order. */
  takeConfirmed(): PendingRead[] {
    let n = 0;
    while (n < this.pending.length && (this.pending[n] as PendingRead).round <= this.quorumRound) n++;
    return n === 0 ? [] : this.pending.splice(0, n);
  }

  /** Leadership lost: every waiting read is dropped. */
  reset(): PendingRead[] {
    const dropped = this.pending.splice(0);
    this.round = 0;
    this.roundOpen = false;
    this.quorumRound = 0;
    this.quorumRoundTick = -1;
    this.roundTicks.clear();
    return dropped;
  }
}
