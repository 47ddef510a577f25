/**
 * The driver: the host of one Raft node (DESIGN.md §1, §2), the one place with timers and I/O.
 * The same driver runs in a dedicated Web Worker (browser), in Node, and inside the
 * deterministic simulator, which gives it a virtual clock, storage and transport (as
 * TigerBeetle's simulator runs the real replica).
 *
 * Inside, nothing awaits: frames are stepped into the core as they arrive (the core accepts
 * messages while a write is in flight); Readies go through THE Ready processor
 * (ready-loop.ts), whose durable write reports back through a callback; callers of `propose`
 * and `read` are called back. Promises exist only at the edge (`start`, `propose`, `read`,
 * `stop`), for code that runs on a real event loop. That is what lets the simulator run this
 * very code event by event in virtual time.
 *
 * Time reaches the core as ticks counted from the clock; ticks missed while the tab was
 * throttled (or the simulated node paused) are caught up, capped at `maxCatchUpTicks` and
 * counted, and the cap is never below an election timeout, so that a paused leader cannot
 * resume inside an expired lease.
 *
 * A storage failure (or a bug: an exception from the core) stops the node cleanly: callers are
 * answered STOPPED, the transport is closed, an `error` event is emitted, and a new driver boots
 * from what is durable.
 */
import { createPrng, type Prng } from '../core/prng.ts';
import { resolveRaftConfig } from '../core/raft/config.ts';
import type { Message } from '../core/raft/messages.ts';
import { RaftNode, type ReadMode } from '../core/raft/raft-node.ts';
import type { BootState, NodeId, Role, Snapshot } from '../core/raft/types.ts';
import type { ConfChange } from '../core/raft/conf-change.ts';
import { err, ok, type Result } from '../core/result.ts';
import { SessionMachine, sessionDefaults } from '../machines/sessions.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import { systemClock, type Clock } from './clock.ts';
import { NodeError, toTaggedError } from './errors.ts';
import { emptyDriverMetrics, writesInOrder, writesThrough, type DriverEvent, type DriverMetrics, type DriverObserver, type DriverOptions, type DriverStatus, type WriteSink } from './driver-options.ts';
import { ProposalTracker, type ProposalDone } from './proposals.ts';
import { RaftReadyLoop } from './ready-loop.ts';
import { driverReadyHost, snapshotRefusal } from './driver-ready-host.ts';
import { ReadTracker, type ReadDone } from './reads.ts';

export { writesThrough, type DriverEvent, type DriverMetrics, type DriverObserver, type DriverOptions, type DriverStatus, type WriteSink } from './driver-options.ts';

/** Ticks between pre-votes of a follower whose leader was reported gone (`campaignAfterLoss`). */
const lossRetryTicks = 2;

export class Driver {
  readonly id: NodeId;
  readonly metrics: DriverMetrics = emptyDriverMetrics();
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly maxCatchUpTicks: number;
  private readonly electionTimeoutTicks: number;
  private readonly maxCommandBytes: number;
  private readonly machine: SessionMachine;
  private readonly writes: WriteSink;
  private readonly observer: DriverObserver;
  private node: RaftNode | null = null;
  private loop: RaftReadyLoop | null = null;
  private proposals: ProposalTracker | null = null;
  private reads: ReadTracker | null = null;
  private readonly listeners = new Set<(e: DriverEvent) => void>();
  private lastTickAtMs = 0;
  private cancelTimer: (() => void) | null = null;
  private stopped = false;
  private lastRole: Role | null = null;
  private lastLeader: NodeId | null | undefined = undefined;
  private lastCommit = 0;
  /** What the state machine has applied (`DriverStatus.applied`), moved as it applies. */
  private applied = 0;
  /** The leader in-flight proposals were last (re)submitted for (`noticeLeader`). */
  private resubmittedFor: NodeId | null | undefined = undefined;
  private joined = false;
  private ticksToJoinAsk = 0;
  /** Pre-votes and votes this node granted (`campaignAfterLoss` stands aside after one). */
  private votesGranted = 0;
  private batching = 0; // calls of `batch` under way: the Ready waits for their end
  /** Jitter of oracle-triggered campaigns (seeded with the node's seed in `start`). */
  private jitter: Prng = createPrng(0);

  constructor(private readonly options: DriverOptions) {
    this.id = options.raft.id;
    this.clock = options.clock ?? systemClock;
    this.tickMs = options.tickMs ?? 10;
    const resolved = resolveRaftConfig({ ...options.raft, prng: createPrng(0) });
    this.maxCatchUpTicks = Math.max(options.maxCatchUpTicks ?? 2 * resolved.electionTimeoutTicks, resolved.electionTimeoutTicks);
    this.electionTimeoutTicks = resolved.electionTimeoutTicks;
    this.maxCommandBytes = resolved.maxCommandBytes;
    this.machine = new SessionMachine(options.machine, options.sessions);
    this.writes = writesInOrder(options.writes ?? writesThrough(options.storage));
    this.observer = options.observer ?? {};
  }

  /** Load durable state, restore the state machine, and start ticking and receiving. */
  async start(): Promise<void> {
    this.startFrom(await this.options.storage.boot());
  }

  /**
   * Start from `boot` (what storage holds), synchronously: the simulator's storage loads without
   * awaiting. Throws when the state machine cannot restore the stored snapshot.
   */
  startFrom(boot: BootState): void {
    const seed = this.options.seed ?? randomSeed();
    this.jitter = createPrng(seed ^ 0x5bd1e995);
    if (boot.snapshot) this.machine.restore(boot.snapshot.data);
    const applied = boot.snapshot?.meta.index ?? 0;
    this.applied = applied;
    const checkSnapshot = (snapshot: Snapshot): string | null => snapshotRefusal(this.options, snapshot);
    const node = new RaftNode({ ...this.options.raft, prng: createPrng(seed), applied, checkSnapshot }, boot);
    this.node = node;
    this.loop = new RaftReadyLoop(
      node,
      driverReadyHost(node, {
        metrics: this.metrics,
        observer: this.observer,
        writes: this.writes,
        clock: this.clock,
        machine: this.machine,
        reads: () => this.reads,
        proposals: () => this.proposals,
        appliedTo: (index) => (this.applied = index),
        send: (m) => this.send(m),
        reportState: () => this.reportState(node),
        fail: (e) => this.fail(e),
      }),
    );
    const retryMs = Math.max(this.tickMs * resolveRaftConfig({ ...this.options.raft, prng: createPrng(0) }).electionTimeoutTicks, 50);
    this.proposals = new ProposalTracker(
      (bytes) => this.submit(bytes),
      () => (node.role() === 'leader' ? node.term() : 0),
      this.clock,
      {
        timeoutMs: this.options.proposalTimeoutMs ?? 10_000,
        retryMs,
        pendingMax: this.options.pendingProposalsMax ?? 65_536,
        sessionsMax: this.options.sessionsMax ?? 4096,
        sessionExpiryEntries: this.options.sessions?.sessionExpiryEntries ?? sessionDefaults.sessionExpiryEntries,
      },
      seed,
    );
    this.reads = new ReadTracker(node, () => this.applied, this.clock, { timeoutMs: this.options.proposalTimeoutMs ?? 10_000, retryMs, seed, pendingMax: this.options.pendingReadsMax ?? 4096 });
    this.options.link.onMessage((m) => this.receive(m));
    this.options.link.onLinkState((peer, state) => this.emit({ type: 'link', peer, state }));
    this.lastTickAtMs = this.clock.now();
    this.scheduleTick();
    this.pump();
  }

  on(listener: (e: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Propose a command; resolves with the state machine's result once applied here. */
  propose(command: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => this.submitCommand(command, (r) => (r.ok ? resolve(r.value.result) : reject(r.error))));
  }

  /** Run `fn` (the worker's `proposeMany`) and take the Ready once, at its end: one append and one write per batch from the page, not one for its first command. */
  batch<T>(fn: () => T): T {
    this.batching++;
    try { return fn(); } finally { if (--this.batching === 0) this.pump(); }
  }

  /** `propose`, called back instead of through a promise (the simulator's clients use this). */
  submitCommand(command: Uint8Array, done: ProposalDone): void {
    if (this.stopped || this.proposals === null) {
      done(err(new NodeError('STOPPED', 'the node is stopped')));
      return;
    }
    // A command the core would refuse fails now, not after a timeout as "may still be applied".
    if (command.byteLength > this.maxCommandBytes) {
      done(err(new NodeError('TOO_LARGE', `the command is ${command.byteLength} bytes; the limit is ${this.maxCommandBytes}`)));
      return;
    }
    this.proposals.propose(command, done);
    this.pump();
  }

  /**
   * Wait until a read served from this node's state machine is allowed under `consistency`:
   * `linearizable` (ReadIndex), `lease` (the leader's lease, else ReadIndex), or `local` (now,
   * possibly stale). Then call `query` with the machine.
   */
  read<T>(consistency: ReadMode | 'local', query: (machine: StateMachine) => T): Promise<T> {
    return new Promise((resolve, reject) =>
      this.readWhenReady(consistency, (r) => {
        if (!r.ok) {
          reject(r.error);
          return;
        }
        try {
          resolve(query(this.machine.inner));
        } catch (e) {
          reject(e);
        }
      }),
    );
  }

  /** `read`, called back once the machine may be read (the simulator's clients use this). */
  readWhenReady(consistency: ReadMode | 'local', done: ReadDone): void {
    if (this.stopped || this.reads === null) {
      done(err(new NodeError('STOPPED', 'the node is stopped')));
      return;
    }
    if (consistency === 'local') {
      done(ok(undefined));
      return;
    }
    this.reads.read(consistency, done);
    this.pump();
  }

  /** The application's state machine (for reads once `readWhenReady` said so). */
  get stateMachine(): StateMachine {
    return this.machine.inner;
  }

  /** The session layer's counters (applied, duplicates, expired sessions...). */
  sessionStats(): Readonly<SessionMachine['stats']> {
    return { ...this.machine.stats };
  }

  /** The whole replicated state (sessions and the application's machine), as snapshot bytes. */
  stateBytes(): Uint8Array {
    return this.machine.snapshot();
  }

  /** See `RaftNode.transferLeadership`; `urgent` when this node is about to go. */
  transferLeadership(to: NodeId, options: { readonly urgent?: boolean } = {}): void {
    const r = this.requireNode().step({ local: 'transfer-leadership', to, urgent: options.urgent === true });
    if (!r.ok) throw new NodeError('NOT_LEADER', r.error.message);
    this.pump();
  }

  /** Propose a membership change (an operator, or an autopilot outside the engine). */
  proposeConfChange(change: ConfChange): Result<{ index: number; term: number }, NodeError> {
    const r = this.requireNode().step({ local: 'conf-change', change });
    this.pump();
    if (!r.ok) return err(new NodeError(r.error.name === 'NotLeaderError' ? 'NOT_LEADER' : 'PROPOSAL_DROPPED', r.error.message));
    return r.value.kind === 'appended' ? ok({ index: r.value.index, term: r.value.term }) : err(new NodeError('PROPOSAL_DROPPED', 'not appended'));
  }

  /**
   * A failure oracle (Web Locks) says the leader is gone: forget it and, unless `campaign` is
   * false, campaign in rank order instead of waiting for an election timeout. `suspected`: the
   * oracle may be wrong (phi accrual), so the leader is followed again if it speaks in its term.
   */
  leaderGone(leader: NodeId, campaign = true, suspected = false): void {
    const node = this.node;
    if (node === null || this.stopped) return;
    const forgot = node.step({ local: 'forget-leader', leader, suspected });
    if (!forgot.ok || forgot.value.kind !== 'accepted' || !campaign) {
      this.pump();
      return;
    }
    // Every follower hears of the loss at the same instant; campaigning at once would split the
    // vote. The remaining voters go in the order of their ids, a few ticks apart (plus jitter):
    // the first campaigns at once and the others, their lease on the old leader given up, grant
    // it; if its log is behind, its pre-vote fails harmlessly and the next one tries.
    const rank = node
      .config()
      .voters.filter((v) => v !== leader)
      .sort()
      .indexOf(this.id);
    if (rank < 0) return;
    const delayMs = rank === 0 ? 0 : rank * 5 * this.tickMs + this.jitter.nextInt(this.tickMs + 1);
    const since = { term: node.term(), votesGranted: this.votesGranted };
    if (delayMs === 0) this.campaignAfterLoss(node, since, 0);
    else this.clock.after(delayMs, () => this.campaignAfterLoss(node, since, 0));
  }

  /**
   * Campaign after a leader was reported gone, and again every `lossRetryTicks` while the
   * pre-vote is neither won nor lost, for up to an election timeout. Why: a phi suspicion comes
   * to each follower at its own time (tens of ms apart on a loaded machine), and a pre-vote sent
   * before the other voter has forgotten the leader is refused (its lease, §9.6); with the old
   * leader silent it is never decided, and this node waited out its election timeout (measured,
   * bench/browser.ts crash-phi: a candidate only 8-59 ms after the other had forgotten, from
   * another retry or the other's own campaign). A refused pre-vote costs two
   * messages and changes no term or vote. It stops once a leader is known, this node is a
   * candidate or leads, the term moved (another node's election: this node may have voted), or
   * this node granted another's pre-vote since the loss: that one campaigns, and a campaign of
   * ours now could split the vote (both pre-votes granted, two candidates, each waiting out an
   * election timeout; the likely cause of 210 ticks to elect in one run of
   * e2e/gossip-failover.spec.ts before this rule, not confirmed by a trace).
   */
  private campaignAfterLoss(node: RaftNode, since: { readonly term: number; readonly votesGranted: number }, attempt: number): void {
    if (this.stopped || this.node !== node) return;
    const s = node.status();
    if (s.term !== since.term || s.leader !== null || (s.role !== 'follower' && s.role !== 'pre-candidate')) return;
    if (this.votesGranted !== since.votesGranted) return;
    node.step({ local: 'campaign' });
    this.pump();
    if ((attempt + 1) * lossRetryTicks < this.electionTimeoutTicks) this.clock.after(lossRetryTicks * this.tickMs, () => this.campaignAfterLoss(node, since, attempt + 1));
  }

  /** Campaign now (a failure oracle that already ranked the followers, or a test). */
  campaign(): void {
    this.requireNode().step({ local: 'campaign' });
    this.pump();
  }

  /** The node's role, term and commit index now (cheaper than `status`). */
  role(): Role {
    return this.requireNode().role();
  }

  term(): number {
    return this.requireNode().term();
  }

  commitIndex(): number {
    return this.requireNode().commitIndex();
  }

  status(): DriverStatus {
    const node = this.requireNode();
    const s = node.status();
    return { ...s, applied: this.applied, handedOutToApply: s.applied, config: node.config() };
  }

  /** Whether a Ready's write is in flight (the simulator aims crashes at it). */
  get writing(): boolean {
    return this.loop !== null && this.loop.inFlight !== null;
  }

  /** Keep what follows a durable write waiting, and stop ticking (a paused simulated node). */
  hold(): void {
    this.loop?.hold();
  }

  release(): void {
    this.loop?.release();
  }

  async stop(reason = 'closed'): Promise<void> {
    if (this.stopped) return;
    this.halt(reason);
    await this.options.link.close();
    await this.options.storage.close();
  }

  /**
   * Stop at once without closing anything (a crash: the simulator drops the node's memory, and
   * its storage keeps what is durable). Callers are answered STOPPED.
   */
  halt(reason = 'crashed'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTimer?.();
    this.loop?.stop();
    const error = new NodeError('STOPPED', `the node stopped: ${reason}`);
    this.proposals?.failAll(error);
    this.reads?.failAll(error);
  }

  // ---- the loop ------------------------------------------------------------------------------

  private requireNode(): RaftNode {
    if (this.node === null || this.stopped) throw new NodeError('STOPPED', 'the node is not running');
    return this.node;
  }

  private emit(e: DriverEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** A peer's message, decoded, authenticated and validated by the frame router. */
  private receive(m: Message): void {
    if (this.stopped || this.node === null) return;
    this.guard(() => {
      const node = this.node as RaftNode;
      this.observer.onStep?.(m);
      node.step(m);
      this.noticeLeader(node.leader());
      this.observer.onProgress?.();
    });
    this.pump();
  }

  /** Propose `bytes`; answers the term in which this node appended them as leader, else 0. */
  private submit(bytes: Uint8Array): number {
    const node = this.node;
    if (node === null || this.stopped) return 0;
    // Refusals (no leader yet, a transfer in progress) are retried by the tracker's timer.
    let appendedTerm = 0;
    this.guard(() => {
      const r = node.step({ local: 'propose', data: bytes });
      if (r.ok && r.value.kind === 'appended') appendedTerm = r.value.term;
    });
    return appendedTerm;
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.cancelTimer = this.clock.after(this.tickMs, () => this.onTick());
  }

  private onTick(): void {
    const node = this.node;
    if (node === null || this.stopped) return;
    const now = this.clock.now();
    let due = Math.floor((now - this.lastTickAtMs) / this.tickMs);
    if (due > this.maxCatchUpTicks) {
      this.metrics.missedTicks += due - this.maxCatchUpTicks;
      this.lastTickAtMs = now - this.maxCatchUpTicks * this.tickMs;
      due = this.maxCatchUpTicks;
    }
    this.guard(() => {
      for (let i = 0; i < due; i++) node.tick();
      if (due > 0) this.observer.onProgress?.();
    });
    this.lastTickAtMs += due * this.tickMs;
    this.metrics.ticks += due;
    this.askToJoin(node, due);
    this.proposals?.onTimer();
    this.reads?.onTimer();
    this.scheduleTick();
    this.pump();
  }

  /** A joining node asks again every `joinRetryTicks` (at once on its first tick) until it is a member. */
  private askToJoin(node: RaftNode, ticks: number): void {
    const via = this.options.joinVia;
    if (via === undefined || via.length === 0 || this.joined) return;
    this.ticksToJoinAsk -= ticks;
    if (this.ticksToJoinAsk > 0) return;
    this.ticksToJoinAsk = this.options.joinRetryTicks ?? 20;
    const r = node.step({ local: 'join', via });
    if (r.ok && r.value.kind === 'unchanged') this.joined = true;
  }

  /** Handle Readies until the core has nothing more to do or a write is in flight. */
  private pump(): void {
    if (this.stopped || this.loop === null || this.batching > 0) return;
    this.loop.pump();
  }

  /** Run `fn` into the core; an exception there is a bug: the node stops (DESIGN.md §5). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private send(m: Message): void {
    if ((m.type === 'pre-vote-response' || m.type === 'vote-response') && !m.reject) this.votesGranted++;
    this.metrics.framesSent++;
    this.observer.onSend?.(m);
    this.options.link.send(m);
  }

  private reportState(node: RaftNode): void {
    const s = node.status();
    if (s.role !== this.lastRole) {
      this.lastRole = s.role;
      this.emit({ type: 'role', role: s.role, term: s.term });
    }
    this.noticeLeader(s.leader);
    if (s.leader !== this.lastLeader) {
      this.lastLeader = s.leader;
      this.emit({ type: 'leader', leader: s.leader, term: s.term });
    }
    if (s.commit !== this.lastCommit) {
      this.lastCommit = s.commit;
      this.emit({ type: 'commit', index: s.commit });
    }
  }

  /**
   * After a failover, what was proposed to the old leader (or to no one) goes again at once:
   * noticed as the message that makes a new leader known is stepped, so that a new leader's
   * own callers' commands join its first Ready, beside its empty entry.
   */
  private noticeLeader(leader: NodeId | null): void {
    if (leader === this.resubmittedFor) return;
    if (leader !== null && this.resubmittedFor !== undefined) this.proposals?.resubmitAll();
    this.resubmittedFor = leader;
  }

  private fail(e: unknown): void {
    if (this.stopped) return;
    const tagged = toTaggedError(e);
    this.halt(`${tagged.code}: ${tagged.message}`);
    this.emit({ type: 'error', error: tagged });
    void this.options.link.close().catch(() => undefined);
    void this.options.storage.close().catch(() => undefined);
  }
}

function randomSeed(): number {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  return ((words[0] as number) & 0x1f_ffff) * 0x1_0000_0000 + (words[1] as number);
}
