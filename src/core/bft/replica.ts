/**
 * The BFT replica engine (PBFT, Castro & Liskov OSDI'99 / TOCS'02, with Aardvark's defences,
 * Clement et al. NSDI'09) behind the one engine contract (src/core/engine.ts): `step`, `tick`,
 * `hasReady` / `ready` / `advance`. Pure: the host owns links, storage, timers, the state
 * machine and all crypto.
 *
 * Authentication, decided here: messages reach `step` already LINK-authenticated by the runtime
 * (pairwise HMAC-SHA256 per link, src/io/crypto/link-guard.ts; `from` is the authenticated peer),
 * which is all PBFT's normal case needs for what a replica uses itself (commits, replies, vote
 * answers). What third parties must check is SIGNED with identity keys, and the engine asks the
 * host to sign and verify it through the Ready (`cryptoRequests`) with answers back as
 * `crypto-result` inputs (proof-requests.ts): client requests (Aardvark §4.1), pre-prepare headers and
 * prepares (they make up prepared certificates), checkpoints, view-changes. Request digests are
 * computed by the host's decoder, never read from the wire (types.ts `SignedRequest`); batch
 * digests are asked of the host and compared with what the primary signed, so a forged batch
 * digest is caught by every backup and counts against the primary.
 *
 * The parts: normal-case.ts, checkpoints.ts (with the state-transfer input), view-change.ts (with
 * the timers), retransmit.ts (status and what a replica behind is resent), vote.ts; the state
 * they share is replica-state.ts; peers' messages pass validate-bft.ts first.
 *
 * Not done here (documented for the host and the next waves): Aardvark's rising throughput
 * expectation of a primary (§4.3; only its pre-prepare interval bound is enforced) and its
 * per-client request queues and NIC isolation (§4.4; bounded per-sender crypto shares and
 * deferred queues stand in); the exactly-once table is persisted beside the stable checkpoint
 * but not covered by the checkpoint's state digest, so a host transferring state takes it from
 * F + 1 agreeing peers.
 */
import { assert } from '../assert.ts';
import type { Engine } from '../engine.ts';
import { err, ok, type Result } from '../result.ts';
import { checkpointExecuted, handleCheckpoint, stateTransferred } from './checkpoints.ts';
import { resolveBftConfig, type BftConfig, type ResolvedBftConfig } from './config.ts';
import { BftContext } from './context.ts';
import type { BftCounters } from './counters.ts';
import { BftRefusedError, isBftLocalInput, type BftInput, type BftLocalInput, type BftStepAccepted } from './local-input.ts';
import { handleCommit, handleExecuted, handlePrePrepare, handlePrepare, handleReadResult, handleRequest, maybeExecute, maybePropose, type NormalCaseHooks } from './normal-case.ts';
import { emptyBftBoot, type BftBoot, type BftReady, type CommittedBatch } from './ready.ts';
import { acceptedKey, ReplicaState } from './replica-state.ts';
import type { ReplicaId } from './types.ts';
import type { ReplicaMessage } from './messages.ts';
import { readBftMessage } from './validate-bft.ts';
import { handleNewView, handleViewChange, startViewChange, tickViewTimers } from './view-change.ts';
import { Votes } from './vote.ts';
import { handleStatus, sendStatus } from './retransmit.ts';

export interface BftStatus {
  readonly id: ReplicaId;
  readonly view: number;
  readonly primary: ReplicaId;
  /** True between sending a view-change and entering the new view. */
  readonly viewChanging: boolean;
  readonly lastExecutedSeq: number;
  /** The last stable checkpoint (the low watermark) and the high watermark. */
  readonly stableSeq: number;
  readonly lowWatermark: number;
  readonly highWatermark: number;
  /** The primaries this replica voted out (views it left by a view change of its own), most recent last, at most 16. */
  readonly suspected: readonly ReplicaId[];
  readonly pendingRequests: number;
  readonly cryptoPending: number;
  readonly counters: Readonly<BftCounters>;
}

const stepped: BftStepAccepted = { kind: 'stepped' };
const accepted: BftStepAccepted = { kind: 'accepted' };

export class BftReplica implements Engine<BftInput, BftStepAccepted, BftRefusedError, BftReady> {
  private readonly ctx: BftContext;
  private readonly s: ReplicaState;
  private readonly votes: Votes;
  private readonly hooks: NormalCaseHooks;
  private readyOutstanding = false;
  private readonly deferred = new Map<ReplicaId, ReplicaMessage[]>();

  constructor(config: BftConfig, boot: BftBoot = emptyBftBoot) {
    const cfg: ResolvedBftConfig = resolveBftConfig(config);
    this.ctx = new BftContext(cfg);
    this.s = new ReplicaState(this.ctx);
    this.votes = new Votes(this.ctx);
    this.hooks = {
      suspectPrimary: (reason) => this.suspect(reason),
      checkpointExecuted: (seq, digest) => checkpointExecuted(this.s, seq, digest, this.hooks),
      viewEntered: () => this.replayDeferred(),
    };
    this.boot(boot);
  }

  /**
   * Start from what was persisted: the view (entered anew: a replica that restarts mid-view waits
   * for that view's traffic or moves on by its timers), the pre-prepares it accepted (never a
   * second digest for one), its prepared certificates and stable checkpoint (the host restored
   * the machine to that checkpoint, with its reply cache), then the batches it committed above
   * that checkpoint, re-executed in order (`replayCommitted`).
   */
  private boot(b: BftBoot): void {
    const { ctx, s } = this;
    ctx.view = b.view;
    ctx.viewPersisted = b.view;
    s.stable = b.stableCheckpoint;
    s.lastHandedOut = s.lastExecuted = s.low;
    s.nextSeq = s.low + 1;
    for (const p of b.prePrepared) if (p.seq > s.low) s.accepted.set(acceptedKey(p.view, p.seq), p.digest);
    for (const c of b.prepared) if (c.prePrepare.seq > s.low) s.preparedCerts.set(c.prePrepare.seq, c);
    for (const [client, timestamp] of b.stableClients ?? []) s.clients.executing(client, timestamp);
    for (const r of b.stableReplies ?? []) s.clients.replied(r.client, r.timestamp, { view: b.view, outcome: r.outcome, result: r.result });
    // View 0 needs no new-view; any later view was entered through one before the restart.
    s.newViewDone = true;
    // A restarted primary never assigns again a seq it assigned before (that would be equivocation).
    for (const p of b.prePrepared) if (p.view === b.view && p.seq >= s.nextSeq) s.nextSeq = p.seq + 1;
    this.replayCommitted(b.committed ?? []);
  }

  /**
   * Re-execute what this replica committed above its stable checkpoint before the restart (ready.ts
   * `CommittedBatch`; PBFT keeps the log from the last stable checkpoint in stable storage so a
   * recovering replica can, TOCS §4.3 and the thesis §5.3). Each becomes a committed slot again and
   * goes out through `maybeExecute`, the path of every execution: the exactly-once filter runs on
   * the table rebuilt from the checkpoint, so each batch applies what it applied the first time,
   * and the host's `executed` answers rebuild the reply cache and resend the replies (a client
   * still waiting gets them; one that is not ignores them). Only a run without gaps from the
   * checkpoint is replayed (the records are written in that order); nothing is written again.
   */
  private replayCommitted(committed: readonly CommittedBatch[]): void {
    const { ctx, s } = this;
    const bySeq = new Map<number, CommittedBatch>();
    for (const c of committed) if (s.inWindow(c.header.seq)) bySeq.set(c.header.seq, c);
    for (let seq = s.low + 1; bySeq.has(seq); seq++) {
      const c = bySeq.get(seq) as CommittedBatch;
      const slot = s.slot(seq);
      slot.pp = { header: c.header, requests: c.requests };
      slot.prepared = slot.sentCommit = slot.committed = true;
      ctx.counters.batchesReplayed++;
    }
    maybeExecute(s, this.hooks);
    ctx.committed = [];
    // A primary must not assign a seq below what it re-executed (it would not fit after them).
    if (s.nextSeq <= s.lastHandedOut) s.nextSeq = s.lastHandedOut + 1;
  }

  get id(): ReplicaId {
    return this.ctx.id;
  }

  tick(): void {
    this.ctx.now++;
    tickViewTimers(this.s, this.hooks);
    this.votes.tick();
    if (this.ctx.now % this.ctx.cfg.statusIntervalTicks === 0) sendStatus(this.s);
  }

  step(input: BftInput): Result<BftStepAccepted, BftRefusedError> {
    if (isBftLocalInput(input)) return this.stepLocal(input);
    const read = readBftMessage(input);
    if (!read.ok) {
      this.ctx.counters.refused[read.error.code]++;
      return ok({ kind: 'dropped', code: read.error.code });
    }
    const m = read.value;
    if (m.to !== this.ctx.id || m.from === this.ctx.id) {
      this.ctx.counters.messagesMisrouted++;
      return ok(stepped);
    }
    if (this.maybeDefer(m)) return ok(stepped);
    const { s, hooks } = this;
    switch (m.type) {
      case 'request':
        handleRequest(s, m, hooks);
        break;
      case 'pre-prepare':
        handlePrePrepare(s, m, hooks);
        break;
      case 'prepare':
        handlePrepare(s, m, hooks);
        break;
      case 'commit':
        handleCommit(s, m, hooks);
        break;
      case 'checkpoint':
        handleCheckpoint(s, m, hooks);
        break;
      case 'view-change':
        handleViewChange(s, m, hooks);
        break;
      case 'new-view':
        handleNewView(s, m, hooks);
        break;
      case 'vote-request':
        this.votes.handleRequest(m);
        break;
      case 'vote-answer':
        this.votes.handleAnswer(m);
        break;
      case 'status':
        handleStatus(s, m);
        break;
      default: {
        const never: never = m;
        return never;
      }
    }
    return ok(stepped);
  }

  private stepLocal(input: BftLocalInput): Result<BftStepAccepted, BftRefusedError> {
    const { s, hooks } = this;
    switch (input.local) {
      case 'crypto-result':
        if (!this.ctx.broker.answer(input.result)) return err(new BftRefusedError('bad-argument', `no crypto request ${input.result.id}`));
        return ok(accepted);
      case 'executed': {
        const r = handleExecuted(s, input.seq, input.results, input.stateDigest, hooks);
        return r.ok ? ok(accepted) : r;
      }
      case 'state-transferred':
        return stateTransferred(s, input.seq, input.stateDigest, input.clients, hooks) ? ok(accepted) : err(new BftRefusedError('bad-argument', `no stable checkpoint ${input.seq} to install, or not behind it`));
      case 'read-result':
        return handleReadResult(s, input.client, input.timestamp, input.outcome, input.result) ? ok(accepted) : err(new BftRefusedError('bad-argument', 'no such read'));
      case 'vote': {
        const r = this.votes.start(input.proposal, input.timeoutTicks);
        return r.ok ? ok({ kind: 'vote-started', voteId: r.value }) : r;
      }
      case 'vote-answer': {
        const r = this.votes.answer(input.voteId, input.origin, input.value);
        return r.ok ? ok(accepted) : r;
      }
      default: {
        const never: never = input;
        return never;
      }
    }
  }

  /**
   * Normal-case messages of a view we are still entering (or of a later one) are held, not
   * dropped: the new primary's first pre-prepares and the others' prepares often overtake the
   * new-view on the wire, and PBFT has no retransmission of them. Bounded per sender
   * (`deferredPerSenderMax`: three messages per seq of the window), the oldest dropped first;
   * replayed when a view is entered, those of lower views then dropped as stale.
   */
  private maybeDefer(m: ReplicaMessage): boolean {
    const { ctx } = this;
    if (m.type !== 'pre-prepare' && m.type !== 'prepare' && m.type !== 'commit') return false;
    const view = m.type === 'pre-prepare' ? m.header.view : m.view;
    if (view < ctx.view || (view === ctx.view && !ctx.viewChanging) || !ctx.isReplica(m.from)) return false;
    let q = this.deferred.get(m.from);
    if (q === undefined) this.deferred.set(m.from, (q = []));
    if (q.length >= 3 * ctx.cfg.watermarkWindowSeqs + 8) {
      q.shift();
      ctx.counters.perSenderDropped++;
    }
    q.push(m);
    ctx.counters.futureView++;
    return true;
  }

  private replayDeferred(): void {
    const held = [...this.deferred.values()].flat();
    this.deferred.clear();
    for (const m of held) this.step(m);
  }

  /** Aardvark §4.1: evidence against the primary (a bad pre-prepare): vote it out now. */
  private suspect(reason: Parameters<NormalCaseHooks['suspectPrimary']>[0]): void {
    const { ctx } = this;
    if (ctx.viewChanging) return;
    startViewChange(this.s, ctx.view + 1, reason, this.hooks);
  }

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    const c = this.ctx;
    return c.before.length > 0 || c.after.length > 0 || c.events.length > 0 || c.executed.length > 0 || c.reads.length > 0 || c.voteQuestions.length > 0 || c.broker.queued.length > 0 || c.mustPersist();
  }

  /** Take the next batch of work; see `BftReady` (ready.ts) for the order the host must follow. */
  ready(): BftReady {
    assert(!this.readyOutstanding, 'ready() called before advance()');
    const c = this.ctx;
    const mustPersist = c.mustPersist();
    const rd: BftReady = {
      mustPersist,
      persist: mustPersist
        ? { view: c.view, prePrepared: c.prePrepared, prepared: c.prepared, committed: c.committed, stableCheckpoint: c.stableToPersist, stableClients: c.stableToPersist === null ? null : c.stableClients, discardBelowSeq: c.discardBelowSeq }
        : null,
      messagesBeforeWrite: mustPersist ? c.before : [...c.before, ...c.after],
      messagesAfterWrite: mustPersist ? c.after : [],
      executed: c.executed,
      appliedBeforeWrite: c.executed.length,
      reads: c.reads,
      cryptoRequests: c.broker.take(),
      voteQuestions: c.voteQuestions,
      events: c.events,
    };
    c.before = [];
    c.after = [];
    c.events = [];
    c.executed = [];
    c.reads = [];
    c.voteQuestions = [];
    c.viewPersisted = c.view;
    c.prePrepared = [];
    c.prepared = [];
    c.committed = [];
    c.stableToPersist = null;
    c.stableClients = null;
    c.discardBelowSeq = null;
    this.readyOutstanding = true;
    return rd;
  }

  advance(): void {
    assert(this.readyOutstanding, 'advance() without ready()');
    this.readyOutstanding = false;
    maybePropose(this.s, this.hooks);
  }

  status(): BftStatus {
    const { ctx, s } = this;
    return {
      id: ctx.id,
      view: ctx.view,
      primary: ctx.primary(),
      viewChanging: ctx.viewChanging,
      lastExecutedSeq: s.lastExecuted,
      stableSeq: s.low,
      lowWatermark: s.low,
      highWatermark: s.high,
      suspected: [...s.suspected],
      pendingRequests: s.pending.size,
      cryptoPending: ctx.broker.size,
      counters: { ...ctx.counters, refused: { ...ctx.counters.refused } },
    };
  }

  config(): ResolvedBftConfig {
    return this.ctx.cfg;
  }
}
