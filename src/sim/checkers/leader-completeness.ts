/**
 * Leader Completeness (Raft paper, Figure 3): if an entry is committed in a given term, it is
 * present in the logs of the leaders of all higher terms.
 *
 * The simulator reports what nodes say is committed: each time a node's hard state carries a
 * commit index c in term t, the node's entries up to c are committed, and they were committed in
 * term t or earlier (a node learns a commit index only from a leader of its current term, or as
 * that leader). So for every index we keep the entry and the LOWEST such t seen, an upper bound
 * of the term it was committed in. A new leader of term T is then held to every entry whose bound
 * is below T: it must have them all, at the moment it takes office. (Using an upper bound can
 * only skip checks, never raise a false alarm: an entry committed in term T or later by another
 * leader need not be in a stale leader of T, whose vote may have been granted before.)
 *
 * Two different entries reported committed at one index break State Machine Safety and are
 * reported here as such.
 *
 * Compacted logs: entries at or below a node's snapshot are no longer in its log. They were
 * committed (a snapshot holds only committed entries), so they are skipped, except that the
 * snapshot's last (index, term) must match the entry committed there.
 */
import type { Entry, NodeId } from '../../core/raft/types.ts';
import { pushViolation, sameEntry, type Violation } from './violation.ts';

/** Where a node's log starts: its snapshot's last index and term. */
export interface SnapshotPoint {
  readonly index: number;
  readonly term: number;
}

interface Committed {
  readonly entry: Entry;
  /** The lowest term of a node that reported this entry committed. */
  termBound: number;
}

export class LeaderCompletenessChecker {
  /** committed[i - 1] is the entry committed at index i. A prefix: 1..length are all known. */
  private readonly committed: Committed[] = [];
  readonly violations: Violation[] = [];
  checks = 0;

  /**
   * `node`, in term `observerTerm`, says everything up to `commit` is committed; `entryAt` reads
   * its log, which starts after `snapshot` (its entries up to there were compacted away, or
   * replaced by a snapshot installed from the leader: only committed entries are ever in one).
   */
  observeCommit(
    node: NodeId,
    observerTerm: number,
    commit: number,
    entryAt: (index: number) => Entry | undefined,
    fromIndex: number,
    timeUs: number,
    snapshot: SnapshotPoint | null = null,
  ): void {
    // Start no later than the first index not yet known: an earlier report may have stopped at a
    // hole (entries covered by the node's snapshot before anyone reported them committed).
    for (let i = Math.min(fromIndex, this.committed.length + 1); i <= commit; i++) {
      const e = entryAt(i);
      if (e === undefined || e.index !== i) {
        if (snapshot !== null && i <= snapshot.index) {
          // Covered by the node's snapshot: nothing to compare the entry with. The snapshot's state
          // is checked by state machine safety; its last term can be checked here.
          const known = this.committed[i - 1];
          // Not known yet: the prefix cannot grow past a hole; others' reports will fill it.
          if (known === undefined) return;
          if (i === snapshot.index && known.entry.term !== snapshot.term) {
            pushViolation(this.violations, {
              property: 'state-machine-safety',
              timeUs,
              detail: `${node} holds a snapshot ending at (index ${i}, term ${snapshot.term}), where an entry of term ${known.entry.term} was committed`,
            });
            return;
          }
          if (observerTerm < known.termBound) known.termBound = observerTerm;
          continue;
        }
        pushViolation(this.violations, {
          property: 'state-machine-safety',
          timeUs,
          detail: `${node} reports commit index ${commit} in term ${observerTerm} but holds no entry at ${i}`,
        });
        return;
      }
      const known = this.committed[i - 1];
      if (known === undefined) {
        // The prefix grows one index at a time; never record an entry past a hole.
        if (i !== this.committed.length + 1) return;
        this.committed.push({ entry: e, termBound: observerTerm });
        continue;
      }
      if (!sameEntry(known.entry, e)) {
        pushViolation(this.violations, {
          property: 'state-machine-safety',
          timeUs,
          detail: `two different entries committed at index ${i}: term ${known.entry.term} and term ${e.term} (reported by ${node} in term ${observerTerm})`,
        });
        return;
      }
      if (observerTerm < known.termBound) known.termBound = observerTerm;
    }
  }

  /** The highest index such that every entry up to it was committed in a term below `term`. */
  committedBefore(term: number): number {
    // termBound is non-decreasing with the index: a report covering index j covers every i < j.
    let lo = 0;
    let hi = this.committed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.committed[mid] as Committed).termBound < term) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * `node` became leader of `term`; `upTo` is `committedBefore(term)` at that moment and
   * `entryAt` reads its log as it was then, which starts after `snapshot` (entries up to there
   * are in the leader's snapshot: only the snapshot's last term can be compared).
   */
  checkLeader(node: NodeId, term: number, upTo: number, entryAt: (index: number) => Entry | undefined, timeUs: number, snapshot: SnapshotPoint | null = null): void {
    this.checks++;
    let from = 1;
    if (snapshot !== null && snapshot.index >= 1) {
      const known = this.committed[Math.min(snapshot.index, upTo) - 1];
      if (snapshot.index <= upTo && known !== undefined && known.entry.term !== snapshot.term) {
        pushViolation(this.violations, {
          property: 'leader-completeness',
          timeUs,
          detail: `${node} became leader of term ${term} with a snapshot ending at (index ${snapshot.index}, term ${snapshot.term}), where an entry of term ${known.entry.term} was committed before term ${term}`,
        });
        return;
      }
      from = snapshot.index + 1;
    }
    for (let i = from; i <= upTo; i++) {
      const want = (this.committed[i - 1] as Committed).entry;
      const have = entryAt(i);
      if (have === undefined || !sameEntry(want, have)) {
        const what = have === undefined ? 'nothing' : `an entry of term ${have.term}`;
        pushViolation(this.violations, {
          property: 'leader-completeness',
          timeUs,
          detail: `${node} became leader of term ${term} holding ${what} at index ${i}, where an entry of term ${want.term} was committed before term ${term}`,
        });
        return;
      }
    }
  }

  /** The committed log as observed (entries 1..n). */
  /** The entry known committed at `index`, if any. */
  committedAt(index: number): Entry | undefined {
    return this.committed[index - 1]?.entry;
  }

  committedLog(): Entry[] {
    return this.committed.map((c) => c.entry);
  }

  get committedIndex(): number {
    return this.committed.length;
  }
}
