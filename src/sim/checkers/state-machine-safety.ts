/**
 * State Machine Safety (Raft paper, Figure 3): if a server has applied a log entry at a given
 * index, no other server ever applies a different log entry for the same index.
 *
 * Every applied entry is reported with its node. All nodes' applied sequences must be prefixes of
 * one sequence: each node applies index 1, 2, 3, ... without a gap, and the entry applied at an
 * index is the same on every node and every incarnation.
 *
 * Snapshots let a node jump: after a restart it starts from its stored snapshot at index s (not
 * from 1), and a follower far behind installs the leader's snapshot at s and continues at s + 1.
 * The entries up to s are then never applied there, so the jump is checked through the STATE
 * instead: nodes report a digest of their state machine after each batch of applied entries
 * (and after taking a snapshot), and the first digest recorded at an index is the one every
 * later report at that index must match. A snapshot is always taken at the end of some node's
 * batch, so the state a node restores at s can be compared with what the node that took it had
 * at s. (A restore at an index with no digest on record is counted, not failed: the check is
 * skipped soundly, never guessed.)
 */
import type { Entry, NodeId } from '../../core/raft/types.ts';
import { pushViolation, sameEntry, type Violation } from './violation.ts';

export class StateMachineSafetyChecker {
  /** The one applied sequence: applied[i - 1] is the entry applied at index i. */
  private readonly applied: Entry[] = [];
  private readonly nextIndex = new Map<NodeId, number>();
  /** The state digest after each index where one was reported, and who reported it first. */
  private readonly digests = new Map<number, { readonly digest: string; readonly node: NodeId }>();
  readonly violations: Violation[] = [];
  /** Snapshot restores compared with a recorded state, and those with none on record. */
  restoresChecked = 0;
  restoresUnverified = 0;

  /** The node's state machine restarted: empty (`fromIndex` 0) or from a snapshot at `fromIndex`. */
  restart(node: NodeId, fromIndex = 0): void {
    this.nextIndex.set(node, fromIndex + 1);
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

  /** The node's state machine, having applied everything up to `index`, has digest `digest`. */
  observeState(node: NodeId, index: number, digest: string, timeUs: number): void {
    const known = this.digests.get(index);
    if (known === undefined) {
      this.digests.set(index, { digest, node });
      return;
    }
    if (known.digest !== digest) {
      pushViolation(this.violations, {
        property: 'state-machine-safety',
        timeUs,
        detail: `${node}'s state after index ${index} (digest ${digest}) differs from ${known.node}'s there (${known.digest})`,
      });
    }
  }

  /**
   * The node restored its state machine from a snapshot at `index` (at boot, or installed from the
   * leader) and continues at `index + 1`; `digest` is the restored state's.
   */
  restored(node: NodeId, index: number, digest: string, timeUs: number): void {
    this.nextIndex.set(node, index + 1);
    if (this.digests.has(index)) this.restoresChecked++;
    else this.restoresUnverified++;
    this.observeState(node, index, digest, timeUs);
  }

  /** The longest applied sequence. */
  appliedLog(): readonly Entry[] {
    return this.applied;
  }
}
