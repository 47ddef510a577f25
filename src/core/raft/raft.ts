/**
 * The state of one Raft node and the transitions between roles. Role-specific message handling
 * lives in `step-leader.ts`, `step-candidate.ts` and `step-follower.ts`; the Ready batching in
 * `raft-node.ts`. Like etcd-raft, a role change happens in exactly one place (`becomeX`), and
 * each role swaps in its own step and tick functions.
 *
 * Nothing here performs I/O or reads a clock: time is `tick()`, randomness the injected PRNG.
 */
import { assert } from '../assert.ts';
import { committedIndex } from '../quorum/majority.ts';
import type { ResolvedRaftConfig } from './config.ts';
import type { Message } from './messages.ts';
import { Progress } from './progress.ts';
import { RaftLog } from './raft-log.ts';
import { ReadRounds, type PendingRead } from './read-only.ts';
import { stepCandidate } from './step-candidate.ts';
import { stepFollower } from './step-follower.ts';
import { stepLeader } from './step-leader.ts';
import { tickElection, tickHeartbeat } from './tick.ts';
import { applyConfChange, isMember, makeConfState, type ConfChange } from './conf-change.ts';
import { campaign, ownVoteWritten, poll } from './election.ts';
import { transferLeadership } from './leader-transfer.ts';
import { ProposalDroppedError } from './errors.ts';
import { err, ok, type Result } from '../result.ts';
import type { BootState, ConfState, Entry, NodeId, ReadState, Role, Snapshot } from './types.ts';
import { createRaftCounters, type RaftCounters } from './counters.ts';
import { JoinWindow } from './admission.ts';
import { termMax } from './limits.ts';
import { snapshotToSend } from './snapshot-policy.ts';

export type CampaignKind = 'pre-election' | 'election' | 'transfer';

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  /** The configuration in force (the latest in the log), split for the hot paths. */
  voters: readonly NodeId[] = [];
  learners: readonly NodeId[] = [];
  /** Voters other than this node: whom to ask for votes. */
  votingPeers: readonly NodeId[] = [];
  private seenConfigVersion = -1;
  /** The latest local snapshot: what a leader sends to followers that are too far behind. */
  snapshot: Snapshot | null;
  /** Command bytes applied since the last snapshot (the snapshot policy). */
  appliedBytesSinceSnapshot = 0;
  /** A snapshot being received from the leader, chunk by chunk. */
  incomingSnapshot: { index: number; term: number; received: number; chunks: Uint8Array[] } | null = null;

  term: number;
  vote: NodeId | null;
  leader: NodeId | null = null;
  role: Role = 'follower';
  readonly log: RaftLog;

  /** Leader only: what it knows of each peer. */
  readonly progress = new Map<NodeId, Progress>();
  /** Candidate and pre-candidate: answers received. */
  readonly votes = new Map<NodeId, boolean>();

  /** Ticks since boot: the node's only notion of time. */
  now = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeoutTicks = 0;
  /**
   * When this node last heard from a leader of its term. With check-quorum a voter refuses to
   * help anyone else campaign for an election timeout after that (§6.2, §9.6), which is what
   * makes the leader's lease sound. A node that restarts into a cluster it has been part of
   * assumes it heard from a leader at boot, since a lease it granted may still be running.
   */
  lastLeaderContactTick: number;

  /**
   * A leader an outside failure detector declared gone in this term: its messages still in
   * flight must not make us follow it again and renew its lease. Cleared when the term moves.
   */
  forgottenLeader: NodeId | null = null;
  /** A candidate's term and vote for itself are on disk (see `poll`, `ownVoteWritten`). */
  ownVoteDurable = false;
  wonAwaitingOwnVote = false;
  /** Leadership transfer in progress (§3.10): the node asked to take over. */
  leadTransferee: NodeId | null = null;
  /** A transfer was started in this term; lease reads are off until the term ends. */
  transferStartedThisTerm = false;

  readonly reads: ReadRounds;
  /** Leader: the joins acted on lately (admission.ts). */
  readonly joinWindow = new JoinWindow();
  /** Leader: new entries or a commit advance wait to be flushed to followers in the next Ready. */
  needsAppendFlush = false;

  msgs: Message[] = [];
  readStates: ReadState[] = [];
  droppedReads: number[] = [];
  readonly counters: RaftCounters = createRaftCounters();

  stepRole: (r: Raft, m: Message) => void = stepFollower;
  tickRole: (r: Raft) => void = tickElection;

  constructor(cfg: ResolvedRaftConfig, boot: BootState) {
    this.id = cfg.id;
    this.cfg = cfg;
    // The term never moves past termMax (limits.ts), so a stored term above it is our bug.
    assert(boot.hardState.term <= termMax, `boot: term ${boot.hardState.term} above termMax`);
    this.term = boot.hardState.term;
    this.vote = boot.hardState.vote;
    this.snapshot = boot.snapshot ?? null;
    const initialConfig = makeConfState(cfg.voters, cfg.learners);
    this.log = new RaftLog(this.snapshot?.meta ?? null, boot.entries, boot.hardState.commit, cfg.applied, initialConfig);
    this.reads = new ReadRounds(cfg.maxPendingReads);
    this.refreshConfig();
    this.lastLeaderContactTick = boot.hardState.term > 0 ? 0 : -cfg.electionTimeoutTicks;
    this.becomeFollower(this.term, null);
  }

  // ---- role transitions --------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
      this.transferStartedThisTerm = false;
      this.forgottenLeader = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.votes.clear();
    this.progress.clear();
    this.needsAppendFlush = false;
    this.dropPendingReads(this.reads.reset());
  }

  becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
    if (leader !== null) this.lastLeaderContactTick = this.now;
    this.stepRole = stepFollower;
    this.tickRole = tickElection;
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader does not become pre-candidate');
    // Pre-vote changes neither term nor vote: a node cut off from the cluster cannot raise the
    // term and force a healthy leader to step down when it comes back (§9.6).
    this.role = 'pre-candidate';
    this.leader = null;
    this.votes.clear();
    this.stepRole = stepCandidate;
    this.tickRole = tickElection;
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader does not become candidate');
    assert(this.term < termMax, 'a candidate never moves past termMax (campaign refuses)');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.ownVoteDurable = false;
    this.wonAwaitingOwnVote = false;
    this.role = 'candidate';
    this.stepRole = stepCandidate;
    this.tickRole = tickElection;
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    this.stepRole = stepLeader;
    this.tickRole = tickHeartbeat;
    this.seenConfigVersion = -1;
    this.refreshConfig();
    // Check-quorum must hear from a quorum within the first election timeout of the term.
    for (const pr of this.progress.values()) pr.recentActive = false;
    // An entry of the new term: earlier entries commit only through one (Raft paper §5.4.2,
    // Figure 8), and ReadIndex needs it too (§6.4).
    this.appendEntry('empty', new Uint8Array(0));
  }

  /** Start an election now (or a pre-election when pre-vote is on): see election.ts. */
  campaign(kind: CampaignKind): void {
    campaign(this, kind);
  }

  /** The Ready that carried this candidate's term and vote is durable (election.ts). */
  ownVoteWritten(term: number): void {
    ownVoteWritten(this, term);
  }

  /** Record a vote; on a decided election move to the next role (election.ts). */
  poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    return poll(this, from, granted);
  }

  // ---- helpers shared by the roles ---------------------------------------------------------

  isVoter(): boolean {
    return this.voters.includes(this.id);
  }

  /**
   * Whether this node may campaign. A voter may; so may a node whose removal is still
   * uncommitted: until the change commits, the cluster may need its vote (and its candidacy) to
   * elect anyone, and it does not count itself toward the new configuration's majority.
   */
  isPromotable(): boolean {
    if (this.isVoter()) return true;
    return this.log.lastConfigIndex() > this.log.committed && this.log.configAt(this.log.committed).voters.includes(this.id);
  }

  /**
   * Bring the derived membership in line with the log's configuration after anything that may
   * have changed it (an append, a truncation, a snapshot). A leader tracks progress for every
   * member; a candidate that is no longer a voter gives up.
   */
  refreshConfig(): void {
    if (this.log.configVersion === this.seenConfigVersion) return;
    this.seenConfigVersion = this.log.configVersion;
    const conf = this.log.config();
    this.voters = conf.voters;
    this.learners = conf.learners;
    this.votingPeers = conf.voters.filter((v) => v !== this.id);
    if (this.role === 'leader') {
      const next = this.log.lastIndex() + 1;
      for (const id of [...conf.voters, ...conf.learners]) {
        if (id === this.id || this.progress.has(id)) continue;
        const pr = new Progress(next, this.cfg.maxInflightAppends);
        pr.lastResponseTick = this.now;
        pr.recentActive = true;
        this.progress.set(id, pr);
        this.needsAppendFlush = true;
      }
      for (const id of [...this.progress.keys()]) if (!isMember(conf, id)) this.progress.delete(id);
      if (this.leadTransferee !== null && !conf.voters.includes(this.leadTransferee)) this.leadTransferee = null;
      this.maybeStepDownRemoved();
    } else if (this.role !== 'follower' && !this.isPromotable()) {
      this.becomeFollower(this.term, null);
    }
  }

  /**
   * A leader that removed itself keeps leading until the change commits (it must replicate it),
   * without counting itself; then it steps down (§4.2.2).
   */
  maybeStepDownRemoved(): void {
    if (this.role === 'leader' && !this.isVoter() && this.log.committed >= this.log.lastConfigIndex()) {
      // Tell the others the change committed, and hand over to an up-to-date voter at once
      // rather than leaving the cluster to wait out an election timeout (§3.10).
      this.needsAppendFlush = true;
      this.flushAppends();
      const last = this.log.lastIndex();
      const heir = this.votingPeers.find((id) => this.progress.get(id)?.match === last);
      if (heir !== undefined) this.sendTimeoutNow(heir);
      this.becomeFollower(this.term, null);
    }
  }

  /** Whether the leader may append a configuration change now (§4.1). */
  canChangeConfig(): boolean {
    return (
      this.role === 'leader' &&
      this.leadTransferee === null &&
      // The dissertation's fix for single-server changes: a new leader first commits an entry of
      // its term, so no change of an earlier term can still be pending unseen.
      this.committedInCurrentTerm() &&
      // One change at a time: the previous one must be committed.
      this.log.lastConfigIndex() <= this.log.committed
    );
  }

  proposeConfChange(change: ConfChange): Result<{ index: number; term: number }, ProposalDroppedError> {
    if (!this.canChangeConfig()) {
      const reason = this.committedInCurrentTerm() ? 'config-change-pending' : 'leader-not-ready';
      return err(new ProposalDroppedError(reason));
    }
    const next = applyConfChange(this.log.config(), change, this.cfg);
    if ('invalid' in next) return err(new ProposalDroppedError('invalid-config-change', next.invalid));
    const entry = this.appendConfig(next.conf);
    return ok({ index: entry.index, term: entry.term });
  }

  private appendConfig(config: ConfState): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, kind: 'config', data: new Uint8Array(0), config };
    this.log.append(entry);
    this.needsAppendFlush = true;
    this.refreshConfig();
    return entry;
  }

  /** A voter's lease for the last leader it heard from is still running (§6.2 with §9.6). */
  inLease(): boolean {
    if (!this.cfg.checkQuorum) return false;
    // A leader is its own lease: while check-quorum keeps it in office it has heard from a
    // quorum within the last election timeout, so a campaign against it comes from a node that
    // was merely cut off, and must not depose it (etcd treats its own leader the same way).
    if (this.role === 'leader') return true;
    return this.now - this.lastLeaderContactTick < this.cfg.electionTimeoutTicks;
  }

  resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTimeoutTicks;
    this.randomizedElectionTimeoutTicks = e + this.cfg.prng.nextInt(e);
  }

  send(m: Message): void {
    this.msgs.push(m);
  }

  appendEntry(kind: Entry['kind'], data: Uint8Array): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, kind, data };
    this.log.append(entry);
    this.needsAppendFlush = true;
    return entry;
  }

  committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /**
   * Leader: advance the commit index to what a quorum has durably stored, but only through an
   * entry of the current term (Raft paper §5.4.2: counting replicas of an older term's entry can
   * commit it and then see it overwritten, Figure 8).
   */
  maybeCommit(): boolean {
    const persisted = this.log.persisted;
    const index = committedIndex(this.voters, (id) => (id === this.id ? persisted : (this.progress.get(id)?.match ?? 0)));
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    this.needsAppendFlush = true;
    this.releaseReads();
    this.maybeStepDownRemoved();
    return true;
  }

  /** Leader: the highest heartbeat round a quorum has acknowledged moved; answer reads. */
  updateQuorumRound(): void {
    const round = this.reads.round;
    const acked = committedIndex(this.voters, (id) => (id === this.id ? round : (this.progress.get(id)?.ackedRound ?? 0)));
    this.reads.onQuorumRound(acked);
    this.releaseReads();
  }

  releaseReads(): void {
    if (this.role !== 'leader' || !this.committedInCurrentTerm()) return;
    for (const read of this.reads.takeConfirmed()) this.answerRead(read, this.log.committed);
  }

  answerRead(read: PendingRead, index: number): void {
    if (read.from === this.id) {
      if (index < 0) this.droppedReads.push(read.requestId);
      else this.readStates.push({ requestId: read.requestId, index });
    } else {
      this.send({ type: 'read-index-response', from: this.id, to: read.from, term: 0, requestId: read.requestId, index });
    }
  }

  private dropPendingReads(reads: readonly PendingRead[]): void {
    for (const read of reads) {
      this.counters.readsDropped++;
      this.answerRead(read, -1);
    }
  }


  /** Leader: send heartbeats of a new round to every peer. */
  broadcastHeartbeat(): number {
    const round = this.reads.startRound(this.now);
    for (const [to, pr] of this.progress) {
      // A follower must never learn a commit index beyond what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'heartbeat', from: this.id, to, term: this.term, commit, round });
    }
    if (this.votingPeers.length === 0) this.updateQuorumRound();
    return round;
  }

  /** Leader: send `to` what it lacks, as far as flow control allows. */
  sendAppends(to: NodeId, pr: Progress): void {
    if (pr.state !== 'snapshot' && pr.next <= this.log.snapshotIndex()) {
      // The entries this follower needs were compacted away: send the snapshot instead.
      assert(this.snapshot !== null, 'compacted log without a snapshot');
      pr.becomeSnapshot(this.snapshot);
    }
    if (pr.state === 'snapshot') {
      if (!pr.snapshotChunkInFlight) this.sendSnapshotChunk(to, pr);
      return;
    }
    const last = this.log.lastIndex();
    let sent = false;
    while (!pr.isPaused() && pr.next <= last) {
      this.sendAppend(to, pr);
      sent = true;
    }
    // Nothing new to send but the follower has not heard of the latest commit index yet.
    if (!sent && !pr.isPaused() && pr.sentCommit < this.log.committed) this.sendAppend(to, pr);
  }

  /**
   * Leader, on a heartbeat response from a follower that lags: send an append even if flow
   * control holds the follower back. In the replicate state the appends that filled the window
   * may all have been lost, and nothing else would ever tell us; an append at `next - 1` that the
   * follower cannot match is rejected and sends it back to probing (etcd does the same).
   */
  sendCatchUpAppend(to: NodeId, pr: Progress): void {
    if (pr.state === 'snapshot') {
      // The chunk in flight may be lost; resend from what the follower acknowledged, but only
      // once it has been unanswered for a while (a slow chunk sent twice doubles the traffic).
      if (pr.snapshotChunkInFlight && this.now - pr.snapshotChunkSentTick >= this.snapshotChunkRetryTicks()) {
        pr.snapshotChunkInFlight = false;
        this.needsAppendFlush = true;
      }
      return;
    }
    // The follower needs entries that were compacted away: sendAppends switches it to a snapshot.
    if (pr.next - 1 < this.log.snapshotIndex()) {
      this.needsAppendFlush = true;
      return;
    }
    if (pr.state === 'probe' || (!pr.isPaused() && pr.next <= this.log.lastIndex())) {
      this.needsAppendFlush = true;
      return;
    }
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex) as number;
    const commit = this.log.committed;
    this.send({ type: 'append', from: this.id, to, term: this.term, prevIndex, prevTerm, entries: [], commit });
    pr.sentCommit = commit;
    if (pr.sentIndexMax < prevIndex) pr.sentIndexMax = prevIndex;
  }

  private sendAppend(to: NodeId, pr: Progress): void {
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    assert(prevTerm !== undefined, `no term for index ${prevIndex}: it was compacted and a snapshot is due`);
    const entries = this.log.slice(pr.next, this.log.lastIndex(), this.cfg.maxEntriesPerAppend, this.cfg.maxBytesPerAppend);
    const commit = this.log.committed;
    this.send({ type: 'append', from: this.id, to, term: this.term, prevIndex, prevTerm, entries, commit });
    pr.onAppendSent(prevIndex + entries.length, entries.length);
    pr.sentCommit = commit;
  }

  /** Leader: send the next chunk of a snapshot (snapshot-policy.ts), one chunk in flight at a time. */
  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const snap = snapshotToSend(this, pr);
    const offset = Math.min(pr.snapshotAcked, snap.data.byteLength);
    const data = snap.data.subarray(offset, offset + this.cfg.snapshotChunkBytes);
    const done = offset + data.byteLength >= snap.data.byteLength;
    const commit = this.log.committed;
    this.send({ type: 'snapshot', from: this.id, to, term: this.term, meta: snap.meta, offset, data, done, commit });
    pr.snapshotChunkInFlight = true;
    pr.snapshotChunkSentTick = this.now;
  }

  /** How long a snapshot chunk may go unanswered before it is sent again. */
  snapshotChunkRetryTicks(): number {
    return Math.max(2 * this.cfg.heartbeatIntervalTicks, Math.floor(this.cfg.electionTimeoutTicks / 2));
  }

  /** Leader: called when a Ready is taken, so that many proposals share one append. */
  flushAppends(): void {
    if (this.role !== 'leader' || !this.needsAppendFlush) return;
    this.needsAppendFlush = false;
    for (const [to, pr] of this.progress) this.sendAppends(to, pr);
  }

  /** Leadership transfer (§3.10): see leader-transfer.ts. */
  transferLeadership(transferee: NodeId, urgent = false): void {
    transferLeadership(this, transferee, urgent);
  }

  sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term });
  }

}
