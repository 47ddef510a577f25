/**
 * Durability of committed entries: a node never removes from its durable log an entry that is
 * committed, except by compacting it into its own snapshot. Raft's safety argument rests on it
 * (Raft paper §5.4.2): an entry is committed because a majority acknowledged holding it durably,
 * and Leader Completeness holds only if they keep holding it. In a correct engine a follower
 * drops stored entries only where a leader's log conflicts with them (never at a committed
 * index: that leader would lack a committed entry), and a snapshot from the leader replaces the
 * log only when the log lacks the snapshot's last entry (then nothing after it is committed).
 *
 * The simulator's storage reports every entry a durable write removed other than by compaction
 * (src/sim/memory-storage.ts `onEntriesDropped`); an entry equal (index and term) to the one
 * committed at its index, as far as the checkers know commits at that moment, is a violation.
 * This catches an engine that breaks its promise at the moment it does, not only when a later
 * election happens to need the lost copy.
 */
import type { Entry, NodeId } from '../../core/raft/types.ts';
import { pushViolation, type Violation } from './violation.ts';

export class DurableCommitsChecker {
  readonly violations: Violation[] = [];
  /** Entries removed from durable logs (for tests of the checker and the summary). */
  dropped = 0;

  /** `node`'s storage removed `removed`; `committedAt(i)` is the entry known committed at i. */
  observeDropped(node: NodeId, removed: readonly Entry[], committedAt: (index: number) => Entry | undefined, timeUs: number): void {
    this.dropped += removed.length;
    for (const e of removed) {
      const c = committedAt(e.index);
      if (c === undefined || c.term !== e.term) continue;
      pushViolation(this.violations, {
        property: 'durability',
        timeUs,
        detail: `${node} removed the committed entry at index ${e.index} (term ${e.term}) from its durable log`,
      });
      return;
    }
  }
}
