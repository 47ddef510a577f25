/**
 * A commit stands on a quorum of durable copies (Raft paper §5.3 and §5.4.2): when a leader's
 * commit index moves to `c`, a majority of the voters of its configuration (the leader
 * included) holds the entry at `c` durably (in its stored log, or covered by its stored
 * snapshot). Acknowledgements leave only after the write they promise, so in a correct engine
 * every copy the leader counted is on disk by the time it counts it, and no copy that was
 * counted can be gone yet (a newer leader overwrites an entry only where it was not committed).
 *
 * This is checked at the moment the leader's commit moves, from the storage of every node: a
 * leader that counts an acknowledgement it never got, a non-voter, or itself before its own
 * write completed (where a later step can tell) is caught there, before any election has to
 * trip over the missing copies.
 */
import { majoritySize } from '../../core/quorum/majority.ts';
import type { Entry, NodeId } from '../../core/raft/types.ts';
import { pushViolation, type Violation } from './violation.ts';

/** Whether `node` durably holds (index, term): stored, or covered by its stored snapshot. */
export type DurableHolds = (node: NodeId, index: number, term: number) => boolean;

export class CommitQuorumChecker {
  readonly violations: Violation[] = [];
  checks = 0;

  observeLeaderCommit(node: NodeId, term: number, entry: Entry, voters: readonly NodeId[], holds: DurableHolds, timeUs: number): void {
    if (voters.length === 0) return;
    this.checks++;
    const holding = voters.filter((v) => holds(v, entry.index, entry.term));
    if (holding.length >= majoritySize(voters.length)) return;
    pushViolation(this.violations, {
      property: 'commit-quorum',
      timeUs,
      detail: `${node}, leader of term ${term}, committed index ${entry.index} (term ${entry.term}) held durably by only [${holding.join(', ')}] of voters [${voters.join(', ')}]`,
    });
  }
}
