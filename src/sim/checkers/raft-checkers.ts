/**
 * All Raft checkers behind the hooks the simulated nodes call as they run. The simulator never
 * looks inside the engine: it sees what a driver sees (status after each call, each Ready, each
 * applied entry, the durable logs), and that is enough to check every property of the Raft
 * paper's Figure 3.
 */
import type { Entry, NodeId, Ready, Role } from '../../core/raft/types.ts';
import { ElectionSafetyChecker } from './election-safety.ts';
import { LeaderCompletenessChecker } from './leader-completeness.ts';
import { LogMatchingChecker } from './log-matching.ts';
import { StateMachineSafetyChecker } from './state-machine-safety.ts';
import { pushViolation, type Violation } from './violation.ts';

/** How a node's log reads once a Ready's entries land on its durable log. */
export interface LogReader {
  entryAfter(index: number, pendingEntries: readonly Entry[]): Entry | undefined;
}

interface NodeView {
  role: Role;
  term: number;
  /** The highest commit index of this incarnation already reported to the checkers. */
  commit: number;
  /** Became leader and waits for its next Ready, where its log is visible, to be checked. */
  pendingLeaderCheck: { readonly term: number; readonly upTo: number } | null;
}

export class RaftCheckers {
  readonly election = new ElectionSafetyChecker();
  readonly logMatching = new LogMatchingChecker();
  readonly completeness = new LeaderCompletenessChecker();
  readonly stateMachine = new StateMachineSafetyChecker();
  private readonly other: Violation[] = [];
  private readonly views = new Map<NodeId, NodeView>();

  /** A node (re)starts from storage whose hard state has commit index `bootCommit`. */
  onBoot(node: NodeId, bootCommit: number): void {
    this.views.set(node, { role: 'follower', term: 0, commit: bootCommit, pendingLeaderCheck: null });
    this.stateMachine.restart(node);
  }

  /** The node's role and term right after a call into it. */
  onStatus(node: NodeId, role: Role, term: number, timeUs: number): void {
    const v = this.view(node);
    if (role === 'leader' && !(v.role === 'leader' && v.term === term)) {
      this.election.observeLeader(node, term, timeUs);
      v.pendingLeaderCheck = { term, upTo: this.completeness.committedBefore(term) };
    }
    v.role = role;
    v.term = term;
  }

  /** A Ready was taken; `log` is the node's storage, onto which `rd.entries` are about to land. */
  onReady(node: NodeId, rd: Ready, log: LogReader, timeUs: number): void {
    const v = this.view(node);
    this.logMatching.observeEntries(node, rd.entries, timeUs);
    const entryAt = (index: number): Entry | undefined => log.entryAfter(index, rd.entries);
    if (v.pendingLeaderCheck !== null) {
      this.completeness.checkLeader(node, v.pendingLeaderCheck.term, v.pendingLeaderCheck.upTo, entryAt, timeUs);
      v.pendingLeaderCheck = null;
    }
    const hs = rd.hardState;
    if (hs !== null && hs.commit > v.commit) {
      this.completeness.observeCommit(node, hs.term, hs.commit, entryAt, v.commit + 1, timeUs);
      v.commit = hs.commit;
    }
  }

  onApplied(node: NodeId, entry: Entry, timeUs: number): void {
    this.stateMachine.observeApplied(node, entry, timeUs);
  }

  onEngineError(node: NodeId, error: unknown, timeUs: number): void {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    pushViolation(this.other, { property: 'engine-assertion', timeUs, detail: `${node} threw ${what}` });
  }

  checkLogs(logs: ReadonlyMap<NodeId, readonly Entry[]>, timeUs: number): void {
    this.logMatching.checkLogs(logs, timeUs);
  }

  addViolations(violations: readonly Violation[]): void {
    for (const v of violations) pushViolation(this.other, v);
  }

  /** Every violation found so far, in time order. */
  violations(): Violation[] {
    return [
      ...this.election.violations,
      ...this.logMatching.violations,
      ...this.completeness.violations,
      ...this.stateMachine.violations,
      ...this.other,
    ].sort((a, b) => a.timeUs - b.timeUs);
  }

  private view(node: NodeId): NodeView {
    let v = this.views.get(node);
    if (v === undefined) {
      v = { role: 'follower', term: 0, commit: 0, pendingLeaderCheck: null };
      this.views.set(node, v);
    }
    return v;
  }
}
