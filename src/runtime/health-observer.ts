/**
 * What node health (node-health.ts) learns from the Raft messages a node steps, since the core
 * does not export it: when the leader last spoke and the commit index it announced (a follower's
 * failure detector and its lag behind the leader), whether a snapshot is being installed, and,
 * on a leader, each follower's last answer and the index it acknowledged (replication lag).
 * Measurements only, never used for safety.
 *
 * Bounded: at most `peersObservedMax` peers are remembered (an unauthenticated transport lets
 * anyone claim any id; beyond the bound new ids are ignored and counted).
 */
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';

export const peersObservedMax = 256;

/** A follower as its leader saw it in one term. */
interface FollowerSeen {
  term: number;
  /** The highest index it acknowledged in that term (0 before its first acknowledgement). */
  matchIndex: number;
  answeredAtMs: number;
}

export class HealthObserver {
  /** When a message only a leader sends last arrived (append, heartbeat, snapshot), or null. */
  leaderHeardAtMs: number | null = null;
  /** The commit index the leader last announced (an append's or heartbeat's `commit`). */
  leaderCommit = 0;
  /** A snapshot's chunks arrive and its last has not (`installing-snapshot` lifecycle). */
  installingSnapshot = false;
  peersIgnored = 0;
  private readonly followers = new Map<NodeId, FollowerSeen>();
  /** The term this node was last seen leading in, and since when (a follower silent since). */
  private leading: { term: number; sinceMs: number } | null = null;

  constructor(private readonly now: () => number) {}

  /** A peer's message, about to be stepped into the core. */
  observe(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
        this.leaderHeardAtMs = this.now();
        this.leaderCommit = Math.max(this.leaderCommit, m.commit);
        // A leader that sends appends again has finished (or given up) the snapshot.
        if (m.type === 'append') this.installingSnapshot = false;
        return;
      case 'snapshot':
        this.leaderHeardAtMs = this.now();
        this.installingSnapshot = !m.done;
        return;
      case 'append-response':
        this.answered(m.from, m.term, m.reject ? 0 : m.index);
        return;
      case 'heartbeat-response':
      case 'snapshot-response':
        this.answered(m.from, m.term, 0);
        return;
      default:
        return;
    }
  }

  /**
   * How far `peer` is behind `lastIndex` by its acknowledgements in `term`, and when it last
   * answered in that term (null: not since this node leads in `term`).
   */
  follower(peer: NodeId, term: number): { readonly matchIndex: number; readonly answeredAtMs: number } | null {
    const f = this.followers.get(peer);
    return f === undefined || f.term !== term ? null : f;
  }

  /** When this node began to lead in `term` (as first seen by a sample: within one interval). */
  leadingSince(term: number): number {
    if (this.leading === null || this.leading.term !== term) this.leading = { term, sinceMs: this.now() };
    return this.leading.sinceMs;
  }

  private answered(peer: NodeId, term: number, index: number): void {
    let f = this.followers.get(peer);
    if (f === undefined) {
      if (this.followers.size >= peersObservedMax) {
        this.peersIgnored++;
        return;
      }
      f = { term, matchIndex: 0, answeredAtMs: 0 };
      this.followers.set(peer, f);
    }
    // An answer of an older term says nothing of this leadership; a newer term starts afresh.
    if (term < f.term) return;
    if (term > f.term) {
      f.term = term;
      f.matchIndex = 0;
    }
    f.matchIndex = Math.max(f.matchIndex, index);
    f.answeredAtMs = this.now();
  }
}
