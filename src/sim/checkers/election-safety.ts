/**
 * Election Safety (Raft paper, Figure 3): at most one leader can be elected in a given term.
 * The simulator reports every node it sees in the leader role, with its term, right after each
 * call into the node (so even a leadership that lasts one step is seen).
 */
import type { NodeId } from '../../core/raft/types.ts';
import { pushViolation, type Violation } from './violation.ts';

export class ElectionSafetyChecker {
  private readonly leaders = new Map<number, { readonly node: NodeId; readonly timeUs: number }>();
  readonly violations: Violation[] = [];

  observeLeader(node: NodeId, term: number, timeUs: number): void {
    const seen = this.leaders.get(term);
    if (seen === undefined) {
      this.leaders.set(term, { node, timeUs });
      return;
    }
    if (seen.node === node) return;
    pushViolation(this.violations, {
      property: 'election-safety',
      timeUs,
      detail: `two leaders in term ${term}: ${seen.node} (at ${seen.timeUs}us) and ${node} (at ${timeUs}us)`,
    });
  }

  /** How many terms had a leader. */
  get termsWithLeader(): number {
    return this.leaders.size;
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term)?.node;
  }
}
