/**
 * The driver: the one loop that owns all I/O of a Raft node (DESIGN.md §1, §2). It is the only
 * place with timers and awaits. The same driver runs in a dedicated Web Worker (browser) and in
 * Node (tests, edge runtimes).
 *
 * Each turn of the loop: frames that arrived were already stepped into the core as they came
 * (the core accepts messages while a write is in flight); take one Ready; send a leader's
 * appends while PERSISTING it, and wait; only then SEND its other messages; restore a received snapshot and APPLY committed entries through
 * the session layer, answering proposals and reads; `advance()`; take a snapshot when the policy
 * says so. Time reaches the core as ticks counted from a monotonic clock; ticks missed while the
 * tab was throttled are caught up, capped at `maxCatchUpTicks` and counted, and the cap is never
 * below an election timeout so that a paused leader cannot resume inside an expired lease.
 *
 * A storage failure stops the node cleanly: callers' promises are rejected, the transport is
 * closed, an `error` event is emitted, and a new driver boots from what is durable.
 */
import { createPrng, type Prng } from '../core/prng.ts';
import { resolveRaftConfig, type RaftConfig } from '../core/raft/config.ts';
import { sendableBeforePersist, type Message } from '../core/raft/messages.ts';
import { durableCommitted } from '../core/raft/ready.ts';
import { RaftNode, type RaftStatus, type ReadMode } from '../core/raft/raft-node.ts';
import type { Entry, NodeId, Ready, Role } from '../core/raft/types.ts';
import type { Result } from '../core/result.ts';
import { SessionMachine, type SessionOptions } from '../machines/sessions.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import { emptyWrite, writeForReady, type RaftStorage } from '../io/storage/storage.ts';
import type { LinkState, Transport } from '../io/transport/transport.ts';
import { systemClock, type Clock } from './clock.ts';
import { RuntimeError, toTaggedError, type TaggedError } from './errors.ts';
import { ProposalTracker } from './proposals.ts';
import { ReadTracker } from './reads.ts';

/** Turns messages into frames and back; the driver never sees an unvalidated message. */
export interface FrameCodec {
  encode(message: Message): Uint8Array;
  decode(from: NodeId, frame: Uint8Array): Result<Message, TaggedError>;
}

export interface DriverOptions {
  /** The Raft configuration without the PRNG (the driver seeds one). */
  readonly raft: Omit<RaftConfig, 'prng' | 'applied'>;
  readonly storage: RaftStorage;
  readonly transport: Transport;
  readonly codec: FrameCodec;
  /** The application's state machine; the driver wraps it in client sessions. */
  readonly machine: StateMachine;
  readonly sessions?: Partial<SessionOptions>;
  readonly clock?: Clock;
  /** Wall time of one Raft tick. */
  readonly tickMs?: number;
  /** The most ticks replayed at once after the loop was held up (at least an election timeout). */
  readonly maxCatchUpTicks?: number;
  readonly proposalTimeoutMs?: number;
  readonly pendingProposalsMax?: number;
  /** Client sessions this node opens for its callers: at most this many commands in flight (default 4,096). */
  readonly sessionsMax?: number;
  readonly inboxFramesMax?: number;
  /**
   * A node started with no configuration (`raft.voters` empty) asks these members to add it as
   * a learner, every `joinRetryTicks`, until it sees itself in the configuration.
   */
  readonly joinVia?: readonly NodeId[];
  readonly joinRetryTicks?: number;
  /** Seed of the election jitter and request ids; random when absent. */
  readonly seed?: number;
}

export interface DriverMetrics {
  ticks: number;
  missedTicks: number;
  readies: number;
  /** Writes to storage (one per Ready that had something to persist), their total wall time, and the entries they carried. */
  storageWrites: number;
  storageWriteMs: number;
  entriesWritten: number;
  framesSent: number;
  entriesApplied: number;
  framesDropped: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
}

export type DriverEvent =
  | { readonly type: 'role'; readonly role: Role; readonly term: number }
  | { readonly type: 'leader'; readonly leader: NodeId | null; readonly term: number }
  | { readonly type: 'commit'; readonly index: number }
  | { readonly type: 'link'; readonly peer: NodeId; readonly state: LinkState }
  | { readonly type: 'error'; readonly error: TaggedError };

export class Driver {
  readonly id: NodeId;
  readonly metrics: DriverMetrics = {
    ticks: 0,
    missedTicks: 0,
    readies: 0,
    storageWrites: 0,
    storageWriteMs: 0,
    entriesWritten: 0,
    framesSent: 0,
    entriesApplied: 0,
    framesDropped: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
  };
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly maxCatchUpTicks: number;
  private readonly machine: SessionMachine;
  private node: RaftNode | null = null;
  private proposals: ProposalTracker | null = null;
  private reads: ReadTracker | null = null;
  private readonly listeners = new Set<(e: DriverEvent) => void>();
  private lastTickAtMs = 0;
  private cancelTimer: (() => void) | null = null;
  private pumping = false;
  private pumpAgain = false;
  private stopped = false;
  private lastRole: Role | null = null;
  private lastLeader: NodeId | null | undefined = undefined;
  private lastCommit = 0;
  /** The leader in-flight proposals were last (re)submitted for (`noticeLeader`). */
  private resubmittedFor: NodeId | null | undefined = undefined;
  private joined = false;
  private ticksToJoinAsk = 0;
  /** Jitter of oracle-triggered campaigns (seeded with the node's seed in `start`). */
  private jitter: Prng = createPrng(0);

  constructor(private readonly options: DriverOptions) {
    this.id = options.raft.id;
    this.clock = options.clock ?? systemClock;
    this.tickMs = options.tickMs ?? 10;
    const election = resolveRaftConfig({ ...options.raft, prng: createPrng(0) }).electionTimeoutTicks;
    this.maxCatchUpTicks = Math.max(options.maxCatchUpTicks ?? 2 * election, election);
    this.machine = new SessionMachine(options.machine, options.sessions);
  }

  /** Load durable state, restore the state machine, and start ticking and receiving. */
  async start(): Promise<void> {
    const boot = await this.options.storage.boot();
    const seed = this.options.seed ?? randomSeed();
    this.jitter = createPrng(seed ^ 0x5bd1e995);
    if (boot.snapshot) this.machine.restore(boot.snapshot.data);
    const applied = boot.snapshot?.meta.index ?? 0;
    this.node = new RaftNode({ ...this.options.raft, prng: createPrng(seed), applied }, boot);
    const retryMs = Math.max(this.tickMs * resolveRaftConfig({ ...this.options.raft, prng: createPrng(0) }).electionTimeoutTicks, 50);
    this.proposals = new ProposalTracker(
      (bytes) => this.submit(bytes),
      this.clock,
      {
        timeoutMs: this.options.proposalTimeoutMs ?? 10_000,
        retryMs,
        pendingMax: this.options.pendingProposalsMax ?? 65_536,
        sessionsMax: this.options.sessionsMax ?? 4096,
      },
      seed,
    );
    this.reads = new ReadTracker(this.node, this.clock, { timeoutMs: this.options.proposalTimeoutMs ?? 10_000, retryMs, seed });
    this.options.transport.onFrame((from, frame) => this.receive(from, frame));
    this.options.transport.onLinkState((peer, state) => this.emit({ type: 'link', peer, state }));
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
    if (this.stopped || this.proposals === null) return Promise.reject(new RuntimeError('STOPPED', 'the node is stopped'));
    const p = this.proposals.propose(command);
    this.pump();
    return p;
  }

  /**
   * Wait until a read served from this node's state machine is allowed under `consistency`:
   * `linearizable` (ReadIndex), `lease` (the leader's lease, else ReadIndex), or `local` (now,
   * possibly stale). Then call `query` with the machine.
   */
  async read<T>(consistency: ReadMode | 'local', query: (machine: StateMachine) => T): Promise<T> {
    if (this.stopped || this.reads === null) throw new RuntimeError('STOPPED', 'the node is stopped');
    if (consistency !== 'local') {
      const p = this.reads.read(consistency);
      this.pump();
      await p;
    }
    return query(this.machine.inner);
  }

  /** See `RaftNode.transferLeadership`; `urgent` when this node is about to go. */
  transferLeadership(to: NodeId, options: { readonly urgent?: boolean } = {}): void {
    const node = this.requireNode();
    const r = node.transferLeadership(to, options);
    if (!r.ok) throw new RuntimeError('NOT_LEADER', r.error.message);
    this.pump();
  }

  /** A failure oracle (Web Locks) says the leader is gone: campaign now instead of waiting. */
  leaderGone(leader: NodeId): void {
    const node = this.node;
    if (node === null || this.stopped) return;
    if (!node.forgetLeader(leader)) return;
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
    if (rank === 0) {
      node.campaign();
      this.pump();
      return;
    }
    const delayMs = rank * 5 * this.tickMs + this.jitter.nextInt(this.tickMs + 1);
    this.clock.after(delayMs, () => {
      if (this.stopped || this.node !== node) return;
      const s = node.status();
      if (s.role === 'follower' && s.leader === null) {
        node.campaign();
        this.pump();
      }
    });
  }

  status(): RaftStatus & { readonly config: { voters: readonly NodeId[]; learners: readonly NodeId[] } } {
    const node = this.requireNode();
    return { ...node.status(), config: node.config() };
  }

  async stop(reason = 'closed'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTimer?.();
    const error = new RuntimeError('STOPPED', `the node stopped: ${reason}`);
    this.proposals?.failAll(error);
    this.reads?.failAll(error);
    await this.options.transport.close();
    await this.options.storage.close();
  }

  // ---- the loop ------------------------------------------------------------------------------

  private requireNode(): RaftNode {
    if (this.node === null || this.stopped) throw new RuntimeError('STOPPED', 'the node is not running');
    return this.node;
  }

  private emit(e: DriverEvent): void {
    for (const l of this.listeners) l(e);
  }

  private receive(from: NodeId, frame: Uint8Array): void {
    if (this.stopped || this.node === null) return;
    const decoded = this.options.codec.decode(from, frame);
    if (!decoded.ok) {
      // Hostile or broken input is dropped and counted, never thrown through the driver.
      this.metrics.framesDropped++;
      this.emit({ type: 'error', error: decoded.error });
      return;
    }
    this.node.step(decoded.value);
    this.noticeLeader(this.node.leader());
    this.pump();
  }

  private submit(bytes: Uint8Array): void {
    const node = this.node;
    if (node === null || this.stopped) return;
    // Refusals (no leader yet, a transfer in progress) are retried by the tracker's timer.
    node.propose(bytes);
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
    for (let i = 0; i < due; i++) node.tick();
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
    if (!node.requestJoin(via)) this.joined = true;
  }

  /** Run Ready cycles until the core has nothing more to do. One runs at a time. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop().finally(() => {
      this.pumping = false;
    });
  }

  private async pumpLoop(): Promise<void> {
    try {
      do {
        this.pumpAgain = false;
        while (!this.stopped && this.node !== null && this.node.hasReady()) await this.handleReady(this.node, this.node.ready());
      } while (this.pumpAgain && !this.stopped);
    } catch (e) {
      await this.fail(e);
    }
  }

  private async handleReady(node: RaftNode, rd: Ready): Promise<void> {
    this.metrics.readies++;
    const applyNow = durableCommitted(rd);
    if (rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null) {
      // 1. Persist. A leader's appends go out in parallel with its own write (dissertation
      // §10.2.1, `sendableBeforePersist`), and committed entries this node already holds
      // durably are applied meanwhile; nothing that depends on the write leaves before it is
      // durable.
      const later: Message[] = [];
      for (const m of rd.messages) {
        if (sendableBeforePersist(m)) this.send(m);
        else later.push(m);
      }
      for (let i = 0; i < applyNow; i++) this.apply(rd.committedEntries[i] as Entry);
      const t0 = this.clock.now();
      await this.options.storage.write(writeForReady(rd));
      this.metrics.storageWrites++;
      this.metrics.storageWriteMs += this.clock.now() - t0;
      this.metrics.entriesWritten += rd.entries.length;
      if (this.stopped) return;
      // 2. Send the rest.
      for (const m of later) this.send(m);
    } else {
      // Nothing to write: answer the callers first, then send (the messages, such as a leader's
      // news of the new commit index, promise nothing about what is applied here).
      for (let i = 0; i < applyNow; i++) this.apply(rd.committedEntries[i] as Entry);
      for (const m of rd.messages) this.send(m);
    }
    // 3. Apply the rest: a received snapshot, then entries that this Ready's write made durable.
    if (rd.snapshot !== null) {
      this.machine.restore(rd.snapshot.data);
      this.metrics.snapshotsInstalled++;
    }
    for (let i = applyNow; i < rd.committedEntries.length; i++) this.apply(rd.committedEntries[i] as Entry);
    this.reads?.onReadStates(rd.readStates, rd.droppedReads);
    if (rd.snapshot !== null || rd.committedEntries.length > 0) this.reads?.onApplied();
    this.reportState(node);
    node.advance();
    // 4. Snapshot when the policy says so; storage drops what it covers.
    if (node.shouldSnapshot()) {
      const { snapshot, compactTo, hardState } = node.compact(node.status().applied, this.machine.snapshot());
      await this.options.storage.write({ ...emptyWrite, hardState, snapshot, compactTo });
      this.metrics.snapshotsTaken++;
    }
  }

  private send(m: Message): void {
    this.metrics.framesSent++;
    this.options.transport.send(m.to, this.options.codec.encode(m));
  }

  private apply(e: Entry): void {
    if (e.kind !== 'normal') return;
    const { outcome, command } = this.machine.applyAndDecode(e.data, e.index);
    this.metrics.entriesApplied++;
    this.proposals?.onApplied(command, outcome);
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

  private async fail(e: unknown): Promise<void> {
    const tagged = toTaggedError(e);
    this.emit({ type: 'error', error: tagged });
    await this.stop(`${tagged.code}: ${tagged.message}`).catch(() => undefined);
  }
}

function randomSeed(): number {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  return ((words[0] as number) & 0x1f_ffff) * 0x1_0000_0000 + (words[1] as number);
}
