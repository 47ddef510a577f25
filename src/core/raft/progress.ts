/**
 * What a leader knows of one follower's log (Raft paper §5.3, etcd-raft's `Progress`).
 *
 * - `probe`: the leader does not know where the follower's log matches; it sends one append at a
 *   time and waits (for an answer or a heartbeat response) before sending the next.
 * - `replicate`: the follower's log matches up to `match`; the leader streams appends
 *   optimistically, advancing `next` as it sends, bounded by the inflight window.
 * - `snapshot`: the entries the follower needs were compacted away; the leader sends its
 *   snapshot in chunks, one at a time, resuming from the last chunk the follower acknowledged.
 */
import { Inflights } from './inflights.ts';
import type { Snapshot } from './types.ts';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** The highest index known to be replicated on the follower. */
  match = 0;
  /** The next index to send. Invariant: match < next. */
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and no answer or heartbeat response came since. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** The highest heartbeat round the follower acknowledged in this term. */
  ackedRound = 0;
  /** The commit index last sent to the follower, so a commit advance is propagated once. */
  sentCommit = 0;
  /**
   * The highest index an append sent to the follower in this term reached (its last entry, or
   * its `prevIndex` when empty): no true answer names more (step-leader.ts refuses one that does).
   */
  sentIndexMax = 0;
  /** The tick of the last answer from the follower (automatic removal of dead voters). */
  lastResponseTick = 0;
  /** Learners: consecutive ticks the learner has been within the promotion lag. */
  caughtUpTicks = 0;
  /**
   * Snapshot state: the snapshot being sent (kept until the follower leaves the snapshot state,
   * even when the leader has taken a newer one since: see `snapshotToSend`), its index (kept
   * after, to recognise a late duplicate of its `done`), the bytes acknowledged, a chunk
   * unanswered.
   */
  snapshot: Snapshot | null = null;
  snapshotIndex = 0;
  /**
   * The follower installed a snapshot from this leader and has not yet been seen past the
   * leader's latest snapshot: it catches up by appends, which compaction must leave it
   * (snapshot-policy.ts, `catchUpFloor`).
   */
  catchingUp = false;
  snapshotAcked = 0;
  snapshotChunkInFlight = false;
  snapshotChunkSentTick = 0;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightAppends: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightAppends);
  }

  becomeProbe(): void {
    // After a rejection or a lost connection, restart from what is known to match.
    this.state = 'probe';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflights.reset();
    this.snapshot = null;
  }

  /**
   * The follower answered that its log matches ours at most up to `hint`, below `match`: it no
   * longer holds entries it acknowledged. Raft assumes this never happens (a server's log is
   * durable), but a browser may evict a node's database and a tab come back under its old id.
   * Its progress restarts from what it holds, so that it is caught up; without this it was
   * probed at `match + 1` forever and never caught up. Lowering `match` never lowers the commit
   * index (which only moves forward); the entries it had acknowledged may now be held by fewer
   * nodes than were counted, which is the amnesia's doing, not this.
   */
  forgetMatch(hint: number): void {
    this.match = Math.max(0, hint);
    this.becomeProbe();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflights.reset();
    this.snapshot = null;
  }

  /** Send `snapshot` from its first byte. */
  becomeSnapshot(snapshot: Snapshot): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.inflights.reset();
    this.snapshot = snapshot;
    this.snapshotIndex = snapshot.meta.index;
    this.catchingUp = false;
    this.snapshotAcked = 0;
    this.snapshotChunkInFlight = false;
  }

  /** Whether the leader must hold further appends back. */
  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'snapshot') return this.snapshotChunkInFlight;
    return this.inflights.isFull();
  }

  /** A successful append answer up to `index`. Returns false for a stale answer. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /**
   * A rejection of the append whose prevIndex was `rejected`; `probeIndex` is where the leader
   * should try next (from the follower's conflict hint). Returns false when the rejection is
   * stale (the leader already moved past it), so it must be ignored.
   */
  maybeDecrTo(rejected: number, probeIndex: number): boolean {
    // While a snapshot is on its way, answers to earlier appends say nothing new.
    if (this.state === 'snapshot') return false;
    if (this.state === 'replicate') {
      // An old rejection for an append sent before a later success.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the append just sent counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, probeIndex + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** The append just sent ended at `lastIndex` with `count` entries. */
  onAppendSent(lastIndex: number, count: number): void {
    if (this.sentIndexMax < lastIndex) this.sentIndexMax = lastIndex;
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else {
      this.probeSent = true;
    }
  }
}
