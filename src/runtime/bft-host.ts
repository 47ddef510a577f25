/**
 * The BFT host: the runtime's side of one PBFT replica engine (src/core/bft/replica.ts), what
 * gossip-host.ts is to gossip. The simulator runs this very class (DESIGN.md §1: the simulator
 * drives the real host), so what its checkers see is the order that ships:
 *
 * - READIES go through THE Ready processor (ready-loop.ts) in the order ready.ts states:
 *   replies, checkpoints and the like leave and executed batches are applied at once; the view,
 *   accepted pre-prepares, prepared certificates and a new stable checkpoint (with the execution
 *   state it certifies, bft-durable.ts) are written, and only once durable do pre-prepares,
 *   prepares, commits, view-changes and new-views leave; then the Ready's crypto is performed,
 *   reads answered, vote questions answered, events delivered; `advance()`.
 * - ANSWERS (crypto results, `executed`, `read-result`, `vote-answer`) are queued and stepped
 *   after the Ready is handled, never from inside it: a synchronous crypto provider (the
 *   simulator's) and an asynchronous one (Web Crypto) then take the same path.
 * - EXECUTION: batches are applied to a machine from src/machines behind the reply cache
 *   (bft-execution.ts); at each checkpoint seq the execution state is kept, and its SHA-256 is
 *   the checkpoint's state digest.
 * - TIME: one engine tick per `tickMs` of the clock, ticks missed caught up to `maxCatchUpTicks`.
 * - STATE TRANSFER (PBFT §5.3.2): when the engine reports `state-behind` (a stable checkpoint
 *   above what it executed), the host fetches the state at that seq (`fetchState`: the runtime's
 *   business where it comes from; the simulator takes it from a peer, which may be Byzantine),
 *   refuses it unless its SHA-256 is the certified digest, hands it to the engine
 *   (`state-transferred`), restores the machine and writes the state with its certificate.
 *
 * Nothing here awaits. A failed write or an exception from the engine stops the host (`fail`);
 * the node restarts from what is durable.
 */
import type { BftConfig } from '../core/bft/config.ts';
import type { BftEvent } from '../core/bft/events.ts';
import type { BftLocalInput } from '../core/bft/local-input.ts';
import type { BftMessage, ReplicaMessage } from '../core/bft/messages.ts';
import type { BftReady, ExecutedBatch, VoteQuestion } from '../core/bft/ready.ts';
import { BftReplica, type BftStatus } from '../core/bft/replica.ts';
import type { CheckpointCertificate, Digest, SignedRequest } from '../core/bft/types.ts';
import { performBftCrypto, type BftCryptoProvider } from '../io/crypto/bft-crypto.ts';
import { stateDigestOf, withRequestDigests } from '../io/crypto/bft-digests.ts';
import { BftDurable, type BftWrite } from './bft-durable.ts';
import { BftExecution, executionStateClients, type BftMachine } from './bft-execution.ts';
import { systemClock, type Clock } from './clock.ts';
import { ReadyLoop } from './ready-loop.ts';

/** How the host makes a write durable (the simulator's disk completes in virtual time). */
export interface BftWriteSink {
  write(write: BftWrite, done: () => void, failed: (error: unknown) => void): void;
}

/** What observers (metrics, the simulator's checkers) see, as it happens. */
export interface BftHostObserver {
  /** A batch was applied at `seq`: `applied` reached the machine (duplicates filtered out). */
  onExecuted?(seq: number, view: number, applied: readonly SignedRequest[]): void;
  onEvent?(e: BftEvent): void;
  /** A fetched state was installed at `seq` (or refused: `installed` false). */
  onStateTransfer?(seq: number, installed: boolean): void;
}

export interface BftHostOptions {
  /** The engine's configuration (the host boots engines: at start, after a state transfer). */
  readonly config: BftConfig;
  /** What storage held at open (folded writes); the host keeps its own copy up to date. */
  readonly durable: BftDurable;
  readonly machine: BftMachine;
  readonly writes: BftWriteSink;
  readonly crypto: BftCryptoProvider;
  readonly send: (m: BftMessage) => void;
  readonly clock?: Clock;
  readonly tickMs: number;
  /** The most ticks replayed at once after the loop was held up; default 100. */
  readonly maxCatchUpTicks?: number;
  /** Fetch the execution state at `seq` from a peer; answer null when none has it. Absent: no state transfer. */
  readonly fetchState?: (seq: number, stateDigest: Digest, done: (state: Uint8Array | null) => void) => void;
  /** This member's answer to a vote question (default: the proposal itself, "I agree"); null: answered later with `answerVote`. */
  readonly answerVote?: (q: VoteQuestion) => Uint8Array | null;
  readonly observer?: BftHostObserver;
  readonly fail: (error: unknown) => void;
}

export interface BftHostMetrics {
  ticks: number;
  missedTicks: number;
  readies: number;
  storageWrites: number;
  messagesSent: number;
  messagesReceived: number;
  batchesExecuted: number;
  stateTransfers: number;
  stateTransfersRefused: number;
}

/** Execution states kept for checkpoints not yet stable (the window holds L / K of them). */
const checkpointStatesMax = 64;

export class BftHost {
  readonly metrics: BftHostMetrics = { ticks: 0, missedTicks: 0, readies: 0, storageWrites: 0, messagesSent: 0, messagesReceived: 0, batchesExecuted: 0, stateTransfers: 0, stateTransfersRefused: 0 };
  private readonly clock: Clock;
  private readonly maxCatchUpTicks: number;
  private readonly durable: BftDurable;
  private readonly execution: BftExecution;
  private engineValue!: BftReplica;
  private loop!: ReadyLoop<BftReady, BftMessage, ExecutedBatch>;
  /** Bumped at every boot: answers for an engine that was replaced are dropped. */
  private generation = 0;
  private readonly inbox: BftLocalInput[] = [];
  private pumping = false;
  private stopped = false;
  private lastTickAtMs = 0;
  private cancelTimer: (() => void) | null = null;
  private readonly checkpointStates = new Map<number, Uint8Array>();
  private latestStable: CheckpointCertificate | null = null;
  private transferring = false;

  constructor(private readonly o: BftHostOptions) {
    if (!(o.tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${o.tickMs}`);
    this.clock = o.clock ?? systemClock;
    this.maxCatchUpTicks = o.maxCatchUpTicks ?? 100;
    this.durable = o.durable.clone();
    this.execution = new BftExecution(o.machine);
    if (this.durable.state !== null) this.execution.restore(this.durable.state);
    this.boot();
  }

  get engine(): BftReplica {
    return this.engineValue;
  }

  private boot(): void {
    this.generation++;
    const gen = this.generation;
    // The machine holds the checkpoint's state and reply cache (constructor); the engine
    // re-executes the committed batches above it through this host (ready.ts `CommittedBatch`).
    this.engineValue = new BftReplica(this.o.config, { ...this.durable.boot(), stableReplies: this.execution.replies() });
    this.latestStable = this.durable.stable;
    this.loop = new ReadyLoop<BftReady, BftMessage, ExecutedBatch>(this.engineValue, {
      onReady: () => {
        this.metrics.readies++;
      },
      persist: (rd, done, failed) => this.write(rd, done, failed),
      send: (m) => {
        this.metrics.messagesSent++;
        this.o.send(m);
      },
      items: (rd) => rd.executed,
      apply: (batch) => this.apply(batch),
      applied: (rd) => this.answer(rd, gen),
      afterAdvance: (_rd, next) => next(),
      fail: (error) => this.failed(error),
    });
  }

  /** Begin ticking (call once). */
  start(): void {
    this.lastTickAtMs = this.clock.now();
    this.schedule();
    this.pump();
  }

  /** Stop for good (a crash or a close): nothing more is sent, written or applied. */
  stop(): void {
    this.stopped = true;
    this.loop.stop();
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** A peer's message, already link-authenticated (`from` is the peer) and validated by the codec. */
  receive(m: ReplicaMessage): void {
    if (this.stopped) return;
    this.metrics.messagesReceived++;
    this.guard(() => this.engineValue.step(withRequestDigests(m)));
    this.pump();
  }

  /** Start a one-shot vote (issue 13 item 2); the outcome comes as a `vote-outcome` event. */
  vote(proposal: Uint8Array, timeoutTicks: number): ReturnType<BftReplica['step']> {
    const r = this.engineValue.step({ local: 'vote', proposal, timeoutTicks });
    this.pump();
    return r;
  }

  /** This member's late answer to a vote question (an `answerVote` that answered null: the app answers asynchronously). */
  answerVote(voteId: string, origin: string, value: Uint8Array): ReturnType<BftReplica['step']> {
    const r = this.engineValue.step({ local: 'vote-answer', voteId, origin, value });
    this.pump();
    return r;
  }

  status(): BftStatus {
    return this.engineValue.status();
  }

  /** The execution state this replica holds at checkpoint `seq` (to serve a peer's state transfer), or null. */
  stateAt(seq: number): Uint8Array | null {
    if (this.durable.stable?.seq === seq && this.durable.state !== null) return this.durable.state;
    return this.checkpointStates.get(seq) ?? null;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelTimer = this.clock.after(this.o.tickMs, () => this.onTimer());
  }

  private onTimer(): void {
    if (this.stopped) return;
    const due = Math.floor((this.clock.now() - this.lastTickAtMs) / this.o.tickMs);
    const ticks = Math.min(due, this.maxCatchUpTicks);
    this.metrics.missedTicks += due - ticks;
    this.lastTickAtMs += due * this.o.tickMs;
    for (let i = 0; i < ticks && !this.stopped; i++) {
      this.metrics.ticks++;
      this.guard(() => this.engineValue.tick());
      this.pump();
    }
    this.schedule();
  }

  /** Handle Readies and step queued answers until neither is left. Re-entrant calls return (the outer one drains). */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.stopped) return;
        this.loop.pump();
        const input = this.inbox.shift();
        if (input === undefined) return;
        const r = this.engineValue.step(input);
        if (!r.ok) throw r.error;
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.pumping = false;
    }
  }

  private write(rd: BftReady, done: () => void, failed: (error: unknown) => void): void {
    const p = rd.persist;
    if (p === null) return done();
    let checkpointState: Uint8Array | null = null;
    if (p.stableCheckpoint !== null) {
      this.latestStable = p.stableCheckpoint;
      const held = this.checkpointStates.get(p.stableCheckpoint.seq);
      if (held !== undefined && stateDigestOf(held) === p.stableCheckpoint.stateDigest) checkpointState = held;
      for (const seq of this.checkpointStates.keys()) if (seq < p.stableCheckpoint.seq) this.checkpointStates.delete(seq);
    }
    const w: BftWrite = { persist: p, checkpointState };
    this.o.writes.write(
      w,
      () => {
        this.metrics.storageWrites++;
        this.durable.apply(w);
        done();
      },
      failed,
    );
  }

  private apply(batch: ExecutedBatch): void {
    const { results, applied } = this.execution.apply(batch);
    let stateDigest: Digest | null = null;
    if (batch.checkpoint) {
      const state = this.execution.snapshot();
      stateDigest = stateDigestOf(state);
      this.checkpointStates.set(batch.seq, state);
      if (this.checkpointStates.size > checkpointStatesMax) this.checkpointStates.delete(this.checkpointStates.keys().next().value as number);
    }
    this.metrics.batchesExecuted++;
    this.o.observer?.onExecuted?.(batch.seq, batch.view, applied);
    this.inbox.push({ local: 'executed', seq: batch.seq, results, stateDigest });
  }

  private answer(rd: BftReady, gen: number): void {
    for (const c of rd.cryptoRequests) {
      performBftCrypto(this.o.crypto, c, (result) => {
        if (gen !== this.generation || this.stopped) return;
        this.inbox.push({ local: 'crypto-result', result });
        this.pump();
      });
    }
    for (const r of rd.reads) this.inbox.push({ local: 'read-result', client: r.request.client, timestamp: r.request.timestamp, ...this.execution.query(r.request.op) });
    for (const q of rd.voteQuestions) {
      const value = this.o.answerVote === undefined ? q.proposal : this.o.answerVote(q);
      if (value !== null) this.inbox.push({ local: 'vote-answer', voteId: q.voteId, origin: q.origin, value });
    }
    for (const e of rd.events) {
      this.o.observer?.onEvent?.(e);
      if (e.kind === 'state-behind') this.maybeTransferState(e.seq, e.stateDigest);
    }
  }

  private maybeTransferState(seq: number, stateDigest: Digest): void {
    const fetch = this.o.fetchState;
    if (fetch === undefined || this.transferring) return;
    this.transferring = true;
    const gen = this.generation;
    fetch(seq, stateDigest, (state) => {
      this.transferring = false;
      if (gen !== this.generation || this.stopped) return;
      const cert = this.latestStable;
      if (state === null || cert === null || cert.seq !== seq || cert.stateDigest !== stateDigest || stateDigestOf(state) !== stateDigest) {
        this.metrics.stateTransfersRefused++;
        this.o.observer?.onStateTransfer?.(seq, false);
        return;
      }
      this.install(cert, state);
    });
  }

  /**
   * Install a fetched, digest-checked state: the engine is told first (it refuses unless it is
   * still behind that very checkpoint with nothing executing), and only if it takes it is the
   * machine restored, so the two never disagree. The state is written with its certificate so a
   * restart boots from it. The exactly-once table comes WITH the state (it is part of what the
   * digest covers, bft-execution.ts), so it is as trustworthy as the state itself.
   */
  private install(cert: CheckpointCertificate, state: Uint8Array): void {
    const clients = executionStateClients(state);
    const r = this.engineValue.step({ local: 'state-transferred', seq: cert.seq, stateDigest: cert.stateDigest, clients });
    if (!r.ok) {
      this.metrics.stateTransfersRefused++;
      this.o.observer?.onStateTransfer?.(cert.seq, false);
      return;
    }
    this.execution.restore(state);
    this.metrics.stateTransfers++;
    const view = Math.max(this.durable.view, this.engineValue.status().view);
    const w: BftWrite = {
      persist: { view, prePrepared: [], prepared: [], committed: [], stableCheckpoint: cert, stableClients: clients, discardBelowSeq: cert.seq },
      checkpointState: state,
    };
    this.o.writes.write(
      w,
      () => {
        this.metrics.storageWrites++;
        this.durable.apply(w);
      },
      (error) => this.failed(error),
    );
    this.o.observer?.onStateTransfer?.(cert.seq, true);
    this.pump();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.o.fail(error);
  }
}
