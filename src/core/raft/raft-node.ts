/**
 * The public face of the Raft engine: `step`, `tick`, `propose`, `readIndex`,
 * `transferLeadership`, and the Ready cycle `hasReady` / `ready` / `advance` (DESIGN.md §2).
 *
 * It is sans-IO: the driver (the simulator, the browser worker, a Node process) owns storage,
 * network and timers, and follows the ordering contract documented on `Ready`.
 */
import { assert } from '../assert.ts';
import { err, ok, type Result } from '../result.ts';
import { resolveRaftConfig, type RaftConfig } from './config.ts';
import { NotLeaderError, ProposalDroppedError, type ReadDroppedError } from './errors.ts';
import { stepLocal } from './step-local.ts';
import { isLocalInput, type RaftInput, type RaftLocalInput, type RaftStepAccepted, type RaftStepRefused, type ReadMode } from './local-input.ts';
import type { Engine } from '../engine.ts';
import { sendableBeforePersist, type Message, type VoteMessage } from './messages.ts';
import { durableCommitted } from './ready.ts';
import { readyWhileWriting } from './ready-while-writing.ts';
import { termMax } from './limits.ts';
import { acceptsForwarded, believesHigherTerm } from './membership-guard.ts';
import { Raft } from './raft.ts';
import type { RaftCounters } from './counters.ts';
import { compactLog, shouldSnapshot } from './snapshot-policy.ts';
import { stepsBackFor } from './election.ts';
import type { ConfChange } from './conf-change.ts';
import {
  emptyHardState,
  type BootState,
  type ConfState,
  type Entry,
  type HardState,
  type NodeId,
  type Ready,
  type Role,
  type Snapshot,
  type SoftState,
} from './types.ts';

export type ProposeAccepted = { readonly index: number; readonly term: number } | { readonly forwardedTo: NodeId };

export type { RaftInput, RaftLocalInput, RaftStepAccepted, RaftStepRefused, ReadMode };

const stepped: RaftStepAccepted = { kind: 'stepped' };

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly persistedIndex: number;
  readonly counters: Readonly<RaftCounters>;
}

export class RaftNode implements Engine<RaftInput, RaftStepAccepted, RaftStepRefused, Ready> {
  private readonly r: Raft;
  /** The hard state handed to the driver last (what will be durable once it is written). */
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyOutstanding = false;
  /** The term of this node's vote for itself in the outstanding Ready's hard state; 0: none. */
  private outstandingVoteTerm = 0;
  /** The outstanding Ready has committed entries (or a snapshot) to apply after its write. */
  private applyAfterWrite = false;

  constructor(config: RaftConfig, boot: BootState = { hardState: emptyHardState, entries: [] }) {
    this.r = new Raft(resolveRaftConfig(config), boot);
    this.prevHardState = boot.hardState;
    this.prevSoftState = this.softState();
  }

  get id(): NodeId {
    return this.r.id;
  }

  /** Advance logical time by one tick (election and heartbeat timeouts count ticks). */
  tick(): void {
    this.r.now++;
    this.r.tickRole(this.r);
  }

  /**
   * Feed one input: a message from a peer, or a local request (local-input.ts). Messages for
   * another node or from a stale term are ignored and counted, and a message never throws or is
   * refused; a local request answers what became of it.
   */
  step(input: RaftInput): Result<RaftStepAccepted, RaftStepRefused> {
    if (isLocalInput(input)) return stepLocal(this.r, input);
    this.stepMessage(input);
    return ok(stepped);
  }

  private stepMessage(m: Message): void {
    const r = this.r;
    // Who may send what is checked where it matters (membership-guard.ts): a higher term, the
    // forwarded requests, a second leader in a term, acknowledgements. Otherwise a message from
    // outside our configuration is stepped: a joining node hears from a leader it does not know
    // yet, and only voters' votes and members' acknowledgements are ever counted.
    if (m.to !== r.id || m.from === r.id) {
      r.counters.messagesIgnored++;
      return;
    }
    if (m.term > termMax) {
      // The codec refuses these already; the core must never move to a term it cannot encode.
      r.counters.termsRefused++;
      return;
    }
    if (m.term === 0) {
      // Only the forwarded requests and their answer travel outside the term protocol; any
      // other message claiming term 0 is malformed (a term-0 vote answer must not be counted).
      if (!isForwarded(m)) {
        r.counters.messagesIgnored++;
        return;
      }
      if (!acceptsForwarded(r, m)) return;
      if (m.type === 'read-index-response') {
        if (m.index >= 0) r.readStates.push({ requestId: m.requestId, index: m.index });
        else r.droppedReads.push(m.requestId);
        return;
      }
      r.stepRole(r, m);
      return;
    }
    if (m.term > r.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < r.term) {
      this.answerStaleTerm(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'pre-vote') {
      this.handleVoteRequest(m);
      return;
    }
    r.stepRole(r, m);
  }

  /** A message from a higher term: learn the term unless it is a campaign we must not help. */
  private acceptHigherTerm(m: Message): boolean {
    const r = this.r;
    if (m.type === 'vote' || m.type === 'pre-vote') {
      // Check-quorum (§6.2, §9.6): while we hear from a leader, a campaign is a disruption by a
      // node that lost touch (or a stale message), not a sign the leader is gone. Transfers are
      // sanctioned by the leader and pass.
      if (!m.transfer && r.inLease()) {
        r.counters.messagesIgnored++;
        return false;
      }
      // A pre-vote does not change our term: we only say whether we would vote.
      if (m.type === 'pre-vote') return true;
    }
    // A granted pre-vote is answered in the term the pre-candidate would campaign in.
    if (m.type === 'pre-vote-response' && !m.reject) return true;
    // Everything else would move our term: not on the word of a stranger (membership-guard.ts).
    if (!believesHigherTerm(r, m)) return false;
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    r.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  /** A message from an older term is ignored, but some deserve an answer. */
  private answerStaleTerm(m: Message): void {
    const r = this.r;
    r.counters.messagesIgnored++;
    if ((m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') && (r.cfg.checkQuorum || r.cfg.preVote)) {
      // A leader cut off by a partition: with pre-vote or check-quorum our term may have moved on
      // without its hearing of it; tell it, so it steps down instead of waiting forever.
      r.send({ type: 'append-response', from: r.id, to: m.from, term: r.term, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'pre-vote') {
      // Refuse explicitly so the pre-candidate learns our term and gives up early.
      r.send({ type: 'pre-vote-response', from: r.id, to: m.from, term: r.term, reject: true });
    }
  }

  /** RequestVote receiver (Raft paper §5.2, §5.4.1; pre-vote §9.6). */
  private handleVoteRequest(m: VoteMessage): void {
    const r = this.r;
    const responseType = m.type === 'vote' ? 'vote-response' : 'pre-vote-response';
    const canVote =
      r.vote === m.from ||
      (r.vote === null && r.leader === null) ||
      // A pre-vote for a later term may be granted whatever we voted in ours.
      (m.type === 'pre-vote' && m.term > r.term);
    if (canVote && r.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // Answer in the request's term: for a pre-vote that is the pre-candidate's future term.
      r.send({ type: responseType, from: r.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        r.electionElapsed = 0;
        r.vote = m.from;
      }
      // A pre-candidate that grants a rival ranked above it stops campaigning (election.ts).
      if (stepsBackFor(r, m)) r.becomeFollower(r.term, null);
    } else {
      r.send({ type: responseType, from: r.id, to: m.from, term: r.term, reject: true });
    }
  }

  /**
   * Propose a command (`step({ local: 'propose' })`). On the leader it is appended and its
   * (index, term) returned: it is committed when an applied entry at that index has that term.
   * On a follower it is forwarded to the leader; the caller learns the outcome only by seeing it
   * applied (commands should carry a request id).
   */
  propose(data: Uint8Array): Result<ProposeAccepted, NotLeaderError | ProposalDroppedError> {
    const r = this.step({ local: 'propose', data });
    if (!r.ok) return r as Result<never, NotLeaderError | ProposalDroppedError>;
    const v = r.value;
    if (v.kind === 'appended') return ok({ index: v.index, term: v.term });
    if (v.kind === 'forwarded') return ok({ forwardedTo: v.to });
    throw new Error(`unexpected answer to a proposal: ${v.kind}`);
  }

  /**
   * Ask for a linearizable read (`step({ local: 'read' })`). The answer comes as a `ReadState`
   * with this `requestId` in a later Ready (or in `droppedReads`): serve the read once the state
   * machine applied its index. `lease` lets the leader answer at once while its lease holds
   * (needs check-quorum and clocks whose drift stays below `leaseDriftTicks` per election
   * timeout); otherwise it confirms leadership with a heartbeat round first.
   */
  readIndex(requestId: number, mode: ReadMode = 'linearizable'): Result<void, NotLeaderError | ReadDroppedError> {
    const r = this.step({ local: 'read', requestId, mode });
    return r.ok ? ok(undefined) : (r as Result<never, NotLeaderError | ReadDroppedError>);
  }

  /**
   * Hand leadership to `to` (§3.10; `step({ local: 'transfer-leadership' })`). On a follower the
   * request is forwarded to the leader. `urgent`: this node is about to go (its page is
   * closing), so there is no time to wait for `to` to acknowledge the entries it lacks;
   * TimeoutNow follows them at once when every entry has been sent to it (see
   * `Raft.transferLeadership`).
   */
  transferLeadership(to: NodeId, options: { readonly urgent?: boolean } = {}): Result<void, NotLeaderError> {
    const r = this.step({ local: 'transfer-leadership', to, urgent: options.urgent === true });
    return r.ok ? ok(undefined) : (r as Result<never, NotLeaderError>);
  }

  /**
   * Propose a membership change (one server at a time, §4.1; `step({ local: 'conf-change' })`).
   * Only the leader may, once it has committed an entry of its term and while no other change is
   * uncommitted.
   */
  proposeConfChange(change: ConfChange): Result<{ index: number; term: number }, NotLeaderError | ProposalDroppedError> {
    const r = this.step({ local: 'conf-change', change });
    if (!r.ok) return r as Result<never, NotLeaderError | ProposalDroppedError>;
    return r.value.kind === 'appended' ? ok({ index: r.value.index, term: r.value.term }) : err(new ProposalDroppedError('invalid-config-change'));
  }

  /** Whether enough has been applied since the last snapshot that the driver should take one. */
  shouldSnapshot(): boolean {
    return shouldSnapshot(this.r);
  }

  /**
   * The state machine's snapshot at `index` (at most the last applied index): the core keeps it
   * for lagging followers and drops older entries from memory. The driver persists the returned
   * snapshot, with `hardState` when it is not null, and may delete stored entries up to
   * `compactTo`. (`hardState` raises the stored commit index to the snapshot's: a commit index
   * that alone moved is not written at once, see `ready`, but a snapshot holds committed entries
   * only.)
   */
  compact(index: number, data: Uint8Array): { snapshot: Snapshot; compactTo: number; hardState: HardState | null } {
    assert(!this.readyOutstanding || index <= this.r.log.persisted, 'compact beyond durable entries');
    const compacted = compactLog(this.r, index, data);
    let hardState: HardState | null = null;
    if (this.prevHardState.commit < index) {
      hardState = { ...this.prevHardState, commit: index };
      this.prevHardState = hardState;
    }
    return { ...compacted, hardState };
  }

  /** The configuration in force (the latest in the log). */
  config(): ConfState {
    return { voters: this.r.voters, learners: this.r.learners };
  }

  /** Entries held in memory (bounded by snapshots and compaction). */
  logSize(): number {
    return this.r.log.size();
  }

  /**
   * Ask `peers` to add this node as a learner (a `join` message each, dissertation §4.2.1;
   * `step({ local: 'join' })`). For a node started with no configuration (`voters: []`) to join
   * a running cluster; the driver asks again now and then until the configuration it receives
   * includes it. Answers false, sending nothing, once this node is a member.
   */
  requestJoin(peers: readonly NodeId[]): boolean {
    const r = this.step({ local: 'join', via: peers });
    return r.ok && r.value.kind === 'accepted';
  }

  /**
   * An outside failure detector (the Web Locks oracle between tabs) says `leader` is gone
   * (`step({ local: 'forget-leader' })`). Forget it and give up the lease it held on this voter,
   * so that this node grants the pre-votes and votes of others at once instead of after an
   * election timeout (etcd's `ForgetLeader`). Its messages still in flight are ignored for the
   * rest of the term, so they cannot renew its lease. Safe: a leader that is gone serves no
   * reads, and one wrongly declared gone is treated as cut off from this node. Returns whether
   * anything changed.
   */
  forgetLeader(leader: NodeId): boolean {
    const r = this.step({ local: 'forget-leader', leader });
    return r.ok && r.value.kind === 'accepted';
  }

  /**
   * Campaign now, as if the election timeout had expired (`step({ local: 'campaign' })`: tests,
   * and a failure oracle). With pre-vote on, a failure oracle's campaign keeps its pre-vote: a
   * follower whose own signal has not arrived yet refuses it without moving to a new term, so a
   * later campaign can still win at once instead of after an election timeout.
   */
  campaign(): void {
    this.step({ local: 'campaign' });
  }

  /** The leader this node knows of (itself when it leads), or null. Cheaper than `status()`. */
  leader(): NodeId | null {
    return this.r.leader;
  }

  /** Role, term and commit index, without building a status (hosts that watch them on every step). */
  role(): Role {
    return this.r.role;
  }

  term(): number {
    return this.r.term;
  }

  commitIndex(): number {
    return this.r.log.committed;
  }

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    const r = this.r;
    return (
      r.msgs.length > 0 ||
      r.log.hasUnstable() ||
      r.log.hasCommittedToApply() ||
      r.readStates.length > 0 ||
      r.droppedReads.length > 0 ||
      (r.needsAppendFlush && r.role === 'leader') ||
      this.mustWriteTermOrVote() ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  /** Take the next batch of work. See `Ready` for the order in which the driver must do it. */
  ready(): Ready {
    assert(!this.readyOutstanding, 'ready() called before advance()');
    const r = this.r;
    r.flushAppends();
    const hs = this.hardState();
    const ss = this.softState();
    const snapshot = r.log.takeSnapshot();
    if (snapshot !== null) {
      // The follower's state is now the leader's snapshot: keep it to serve others if elected.
      r.snapshot = snapshot;
      r.appliedBytesSinceSnapshot = 0;
    }
    const committedEntries = r.log.takeCommitted();
    // Counted only for a snapshot policy by bytes (a loop over every entry otherwise for
    // nothing). Indexed: ready() is not always optimized, and a for-of then allocates an
    // iterator result per entry (measured: about 120 bytes a command in the core benchmark).
    if (r.cfg.snapshotEveryBytes > 0) {
      for (let i = 0; i < committedEntries.length; i++) r.appliedBytesSinceSnapshot += (committedEntries[i] as Entry).data.byteLength;
    }
    const entries = r.log.takeUnstable();
    // The commit index is volatile state (Raft paper, Figure 2): a node that forgets it learns it
    // again from the leader. So a commit index that alone moved is not worth a disk write of its
    // own (on every node, for every batch); it is written with the next term, vote, entries or
    // snapshot. Term and vote are written as soon as they change: messages depend on them.
    const writeHardState = this.mustWriteTermOrVote() || (hs.commit !== this.prevHardState.commit && (entries.length > 0 || snapshot !== null));
    const mustPersist = writeHardState || entries.length > 0 || snapshot !== null;
    const messages = r.msgs;
    const before = mustPersist ? messages.filter(sendableBeforePersist) : messages;
    const after = mustPersist && before.length < messages.length ? messages.filter((m) => !sendableBeforePersist(m)) : [];
    const rd: Ready = {
      softState: sameSoftState(ss, this.prevSoftState) ? null : ss,
      hardState: writeHardState ? hs : null,
      snapshot,
      entries,
      committedEntries,
      messages,
      readStates: r.readStates,
      droppedReads: r.droppedReads,
      mustPersist,
      messagesBeforeWrite: before,
      messagesAfterWrite: after,
      // Committed entries already durable here may be applied while the write runs (ready.ts).
      appliedBeforeWrite: mustPersist ? durableCommitted({ snapshot, entries, committedEntries }) : committedEntries.length,
    };
    r.msgs = [];
    r.readStates = [];
    r.droppedReads = [];
    r.reads.roundOpen = false;
    if (writeHardState) this.prevHardState = hs;
    this.outstandingVoteTerm = writeHardState && hs.vote === r.id ? hs.term : 0;
    this.prevSoftState = ss;
    this.readyOutstanding = true;
    this.applyAfterWrite = rd.snapshot !== null || rd.appliedBeforeWrite < committedEntries.length;
    return rd;
  }

  /**
   * While the outstanding Ready's write is in flight: committed entries already durable here, to
   * apply now, as a Ready that needs no write and no `advance()`; null when there is nothing (or
   * no write outstanding). See ready-while-writing.ts.
   */
  readyWhileWriting(): Ready | null {
    if (!this.readyOutstanding) return null;
    return readyWhileWriting(this.r, !this.applyAfterWrite);
  }

  /** The last Ready has been persisted, sent and applied. */
  advance(): void {
    assert(this.readyOutstanding, 'advance() without ready()');
    this.readyOutstanding = false;
    const r = this.r;
    r.log.stableTo();
    if (this.outstandingVoteTerm > 0) r.ownVoteWritten(this.outstandingVoteTerm);
    // The leader counts its own log only once it is durable: a leader that crashed before its
    // write completed must not have counted itself toward a quorum.
    if (r.role === 'leader') r.maybeCommit();
  }

  status(): RaftStatus {
    const r = this.r;
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.leader,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      lastTerm: r.log.lastTerm(),
      persistedIndex: r.log.persisted,
      counters: { ...r.counters },
    };
  }

  /** Whether the term or the vote differs from the last hard state handed out to be written. */
  private mustWriteTermOrVote(): boolean {
    return this.r.term !== this.prevHardState.term || this.r.vote !== this.prevHardState.vote;
  }

  private hardState(): HardState {
    return { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed };
  }

  private softState(): SoftState {
    return { role: this.r.role, leader: this.r.leader, term: this.r.term };
  }
}

function isForwarded(m: Message): boolean {
  return m.type === 'propose' || m.type === 'read-index' || m.type === 'read-index-response' || m.type === 'transfer-leader' || m.type === 'join';
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}
