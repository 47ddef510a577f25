/**
 * State Machine Safety (Raft paper, Figure 3): if a server has applied a log entry at a given
 * index, no other server ever applies a different log entry for the same index.
 *
 * Every applied entry is reported with its node. All nodes' applied sequences must be prefixes of
 * one sequence: each node applies index 1, 2, 3, ... without a gap (starting over from 1 after a
 * restart, since the state machine restarts empty and replays the log), and the entry applied at
 * an index is the same on every node and every incarnation.
 */
import type { Entry, NodeId } from '../../core/raft/types.ts';
import { pushViolation, sameEntry, type Violation } from './violation.ts';

export class StateMachineSafetyChecker {
  /** The one applied sequence: applied[i - 1] is the entry applied at index i. */
  private readonly applied: Entry[] = [];
  private readonly nextIndex = new Map<NodeId, number>();
  readonly violations: Violation[] = [];

  /** The node's state machine restarted empty (a crash). */
  restart(node: NodeId): void {
    this.nextIndex.set(node, 1);
  }

  observeApplied(node: NodeId, entry: Entry, timeUs: number): void {
    const expected = this.nextIndex.get(node) ?? 1;
    if (entry.index !== expected) {
      pushViolation(this.violations, {
        property: 'state-machine-safety',
        timeUs,
        detail: `${node} applied index ${entry.index} when ${expected} was next`,
      });
    }
    this.nextIndex.set(node, entry.index + 1);
    const known = this.applied[entry.index - 1];
    if (known === undefined) {
      if (entry.index === this.applied.length + 1) this.applied.push(entry);
      return;
    }
    if (!sameEntry(known, entry)) {
      pushViolation(this.violations, {
        property: 'state-machine-safety',
        timeUs,
        detail: `${node} applied an entry of term ${entry.term} at index ${entry.index}, where another node applied one of term ${known.term}`,
      });
    }
  }

  /** The longest applied sequence. */
  appliedLog(): readonly Entry[] {
    return this.applied;
  }
}
