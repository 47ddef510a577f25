/**
 * All Raft checkers behind the hooks the simulated nodes call as they run. The simulator never
 * looks inside the engine: it sees what a driver sees (status after each call, each Ready, each
 * applied entry, the durable logs), and that is enough to check every property of the Raft
 * paper's Figure 3.
 */
import type { Message } from '../../core/raft/messages.ts';
import type { Entry, NodeId, Ready, Role, Snapshot } from '../../core/raft/types.ts';
import { CommitQuorumChecker, type DurableHolds } from './commit-quorum.ts';
import { DurableCommitsChecker } from './durable-commits.ts';
import { ElectionSafetyChecker } from './election-safety.ts';
import { ExactlyOnceChecker } from './exactly-once.ts';
import { LeaderCompletenessChecker, type SnapshotPoint } from './leader-completeness.ts';
import { LogMatchingChecker } from './log-matching.ts';
import { StateMachineSafetyChecker } from './state-machine-safety.ts';
import { pushViolation, type Violation } from './violation.ts';
import { VoteChecker } from './votes.ts';

/** A write not yet durable: a Ready's snapshot (which replaces the stored log) and entries. */
export interface PendingLogWrite {
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

/** How a node's log reads once a Ready's write lands on its durable log. */
export interface LogReader {
  /** The entry at `index`; undefined beyond the end, or at or below the snapshot (compacted). */
  entryAfter(index: number, pending: PendingLogWrite): Entry | undefined;
  /** Where the log starts: its snapshot's last index and term (null: no snapshot, from index 1). */
  snapshotAfter(pending: PendingLogWrite): SnapshotPoint | null;
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
  readonly exactlyOnce = new ExactlyOnceChecker();
  readonly votes = new VoteChecker();
  readonly durableCommits = new DurableCommitsChecker();
  readonly commitQuorum = new CommitQuorumChecker();
  /** Reads every node's durable storage (set by the simulation; none: the commit-quorum check is off). */
  private holds: DurableHolds | null = null;
  private readonly other: Violation[] = [];
  private readonly views = new Map<NodeId, NodeView>();

  /**
   * A node (re)starts from storage whose hard state has commit index `bootCommit`; its state
   * machine starts empty, or `restored` from its stored snapshot (at that index, with that digest).
   */
  onBoot(node: NodeId, bootCommit: number, restored: { readonly index: number; readonly digest: string } | null = null, timeUs = 0): void {
    this.views.set(node, { role: 'follower', term: 0, commit: bootCommit, pendingLeaderCheck: null });
    this.votes.onBoot(node);
    if (restored === null) this.stateMachine.restart(node);
    else this.stateMachine.restored(node, restored.index, restored.digest, timeUs);
  }

  /** The node restored its state machine from a snapshot installed from the leader. */
  onSnapshotInstalled(node: NodeId, index: number, digest: string, timeUs: number): void {
    this.stateMachine.restored(node, index, digest, timeUs);
  }

  /**
   * The node's state machine has applied everything up to `index` and has digest `digest` (at the
   * end of each applied batch, and when it takes a snapshot).
   */
  onState(node: NodeId, index: number, digest: string, timeUs: number): void {
    this.stateMachine.observeState(node, index, digest, timeUs);
  }

  /** Applying the entry at `index`, the node's inner machine ran for `ran` (or did not run). */
  onInnerApplied(node: NodeId, index: number, ran: { readonly session: number; readonly seq: number } | null, timeUs: number): void {
    this.exactlyOnce.observe(node, index, ran, timeUs);
  }

  /** The node's role and term right after a call into it, and the voters of its configuration. */
  onStatus(node: NodeId, role: Role, term: number, voters: readonly NodeId[], timeUs: number): void {
    const v = this.view(node);
    if (role === 'leader' && !(v.role === 'leader' && v.term === term)) {
      this.election.observeLeader(node, term, timeUs);
      this.votes.observeLeader(node, term, voters, timeUs);
      v.pendingLeaderCheck = { term, upTo: this.completeness.committedBefore(term) };
    }
    v.role = role;
    v.term = term;
  }

  /**
   * A Ready was taken; `log` is the node's storage, onto which the Ready's snapshot and entries
   * are about to land.
   */
  onReady(node: NodeId, rd: Ready, log: LogReader, timeUs: number): void {
    const v = this.view(node);
    this.logMatching.observeEntries(node, rd.entries, timeUs);
    const pending: PendingLogWrite = { snapshot: rd.snapshot, entries: rd.entries };
    const entryAt = (index: number): Entry | undefined => log.entryAfter(index, pending);
    const snapshot = log.snapshotAfter(pending);
    if (v.pendingLeaderCheck !== null) {
      this.completeness.checkLeader(node, v.pendingLeaderCheck.term, v.pendingLeaderCheck.upTo, entryAt, timeUs, snapshot);
      v.pendingLeaderCheck = null;
    }
    const hs = rd.hardState;
    if (hs !== null && hs.commit > v.commit) {
      this.completeness.observeCommit(node, hs.term, hs.commit, entryAt, v.commit + 1, timeUs, snapshot);
      v.commit = hs.commit;
    }
  }

  /** How to read every node's durable storage, for the commit-quorum check. */
  setDurableHolds(holds: DurableHolds): void {
    this.holds = holds;
  }

  /**
   * `node`, leader of `term` with `voters`, moved its commit index to `commit`; `entryAt` reads
   * its log (its entries up to the commit are durable or in the write in flight), which starts
   * after `snapshot`. Commits known this early feed every checker that relies on them.
   */
  onLeaderCommit(node: NodeId, term: number, commit: number, voters: readonly NodeId[], log: LogReader, pending: PendingLogWrite, timeUs: number): void {
    const v = this.view(node);
    if (commit <= v.commit) return;
    const entryAt = (index: number): Entry | undefined => log.entryAfter(index, pending);
    this.completeness.observeCommit(node, term, commit, entryAt, v.commit + 1, timeUs, log.snapshotAfter(pending));
    v.commit = commit;
    const entry = entryAt(commit);
    if (entry !== undefined && this.holds !== null) this.commitQuorum.observeLeaderCommit(node, term, entry, voters, this.holds, timeUs);
  }

  /** A message left `node` (a Ready's, once the Ready contract allows it to). */
  onSent(node: NodeId, m: Message, timeUs: number): void {
    this.votes.observeSent(node, m, timeUs);
  }

  /** `node` is about to step `m` into its engine. */
  onStepped(node: NodeId, m: Message): void {
    this.votes.observeStepped(node, m);
  }

  /** A durable write removed `removed` from `node`'s log, other than by compaction. */
  onEntriesDropped(node: NodeId, removed: readonly Entry[], timeUs: number): void {
    this.durableCommits.observeDropped(node, removed, (i) => this.completeness.committedAt(i), timeUs);
  }

  onApplied(node: NodeId, entry: Entry, timeUs: number): void {
    this.stateMachine.observeApplied(node, entry, timeUs);
  }

  onEngineError(node: NodeId, error: unknown, timeUs: number): void {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    pushViolation(this.other, { property: 'engine-assertion', timeUs, detail: `${node} threw ${what}` });
  }

  /** The node's storage refused a write by the storage adapters' rules. */
  onStorageRefused(node: NodeId, error: Error, timeUs: number): void {
    pushViolation(this.other, { property: 'storage-rules', timeUs, detail: `${node}'s storage refused a write: ${error.message}` });
  }

  checkLogs(logs: ReadonlyMap<NodeId, readonly Entry[]>, timeUs: number): void {
    this.logMatching.checkLogs(logs, timeUs);
  }

  addViolations(violations: readonly Violation[]): void {
    for (const v of violations) pushViolation(this.other, v);
  }

  /** Whether any checker has found a violation yet (cheap: for runs that stop at the first). */
  hasViolation(): boolean {
    return (
      this.election.violations.length +
        this.logMatching.violations.length +
        this.completeness.violations.length +
        this.stateMachine.violations.length +
        this.exactlyOnce.violations.length +
        this.votes.violations.length +
        this.durableCommits.violations.length +
        this.commitQuorum.violations.length +
        this.other.length >
      0
    );
  }

  /** Every violation found so far, in time order. */
  violations(): Violation[] {
    return [
      ...this.election.violations,
      ...this.logMatching.violations,
      ...this.completeness.violations,
      ...this.stateMachine.violations,
      ...this.exactlyOnce.violations,
      ...this.votes.violations,
      ...this.durableCommits.violations,
      ...this.commitQuorum.violations,
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
