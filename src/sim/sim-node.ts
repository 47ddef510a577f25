/**
 * One Raft node under the simulator: the driver loop a real runtime would run (DESIGN.md §2),
 * with a KV state machine behind client sessions (`SessionMachine` wrapping `KvMachine`) and the
 * service side of the client protocol.
 *
 * The loop, per node:
 *   - Inputs (peer messages, client requests) land in a bounded inbox; a processing pass runs
 *     `cpuDelayUs` later, drains the inbox into the engine, then takes at most ONE Ready.
 *   - A Ready's hard state and entries go to storage, which takes virtual time. Meanwhile the
 *     engine keeps stepping messages, ticking and accepting proposals (the Ready contract allows
 *     it, and the simulator must exercise it).
 *   - When the write is durable, and only then, the Ready's messages are sent, its snapshot (one
 *     installed from the leader) restored into the state machine, its committed entries applied
 *     (client requests answered), its read states served once applied, and `advance()` is
 *     called. There is a `postDurableDelayUs` gap between the two, so a crash can land after the
 *     write completed but before anything was sent.
 *   - After a Ready, when the engine's snapshot policy says so (`shouldSnapshot()`), the node
 *     snapshots its state machine at the applied index, hands it to `compact`, and writes the
 *     snapshot with `compactTo` to storage (one more write in the queue; a crash may lose it,
 *     and the node then boots from the older snapshot and the longer log).
 *   - Ticks come every `tickUs` of virtual time (the node's own clock, which may drift).
 *
 * Faults:
 *   - crash: all volatile state is gone (engine, inbox, state machine, waiting requests); the
 *     pending write is lost. `restart` loads what is durable and builds a new engine from it;
 *     the state machine restarts from the stored snapshot (or empty) and the log after it is
 *     replayed.
 *   - retire: a member removed from the cluster leaves for good (a tab closed): it crashes and
 *     never restarts.
 *   - pause (a throttled tab): no ticks and no processing; inputs queue; a write in flight still
 *     completes but its Ready waits. On resume the node first catches up the ticks it missed
 *     (as a driver that measures elapsed time must do, or its leader lease would outlive real
 *     time), then finishes the Ready and drains the inbox.
 *
 * An exception from the engine is a bug in it (protocol input never throws): it is reported to
 * the checkers and the node crashes and restarts from storage, as DESIGN.md prescribes.
 *
 * Observations for the checkers, beyond the Raft ones: for every applied entry, whether the
 * INNER (KV) machine ran and for which (session, seq) (exactly-once), and a digest of the whole
 * state machine after each applied batch, after a snapshot install and at boot (state machine
 * safety across snapshot jumps).
 *
 * Read request ids passed to `readIndex` come from a counter shared by the whole simulation, so
 * they are unique across nodes AND incarnations: a restarted node must not mistake a late answer
 * to its previous life's read for an answer to a new one (that would serve a stale index).
 */
import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';
import type { RaftConfig } from '../core/raft/config.ts';
import { NotLeaderError } from '../core/raft/errors.ts';
import { sendableBeforePersist, type Message } from '../core/raft/messages.ts';
import { durableCommitted } from '../core/raft/ready.ts';
import type { ConfChange } from '../core/raft/conf-change.ts';
import { RaftNode, type RaftStatus } from '../core/raft/raft-node.ts';
import type { ConfState, Entry, NodeId, Ready, Role, Snapshot } from '../core/raft/types.ts';
import { writeForReady } from '../io/storage/storage.ts';
import { fnv1a64Hex } from '../machines/bytes.ts';
import { encodeKvResult, KvMachine } from '../machines/kv.ts';
import {
  decodeSessionCommand,
  decodeSessionOutcome,
  encodeSessionOutcome,
  SessionMachine,
  type SessionCommand,
  type SessionOptions,
  type SessionOutcome,
} from '../machines/sessions.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import type { RaftCheckers } from './checkers/raft-checkers.ts';
import {
  clientEndpoint,
  type ClientMessage,
  type ClientOutcome,
  type ClientRequest,
  type ClientResponse,
  type RejectReason,
} from './client-protocol.ts';
import type { Distribution } from './distributions.ts';
import { MemoryStorage } from './memory-storage.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';

/**
 * Deliberate driver bugs, to prove the checkers catch what such bugs cause (tests of the
 * simulator itself; never set in a real sweep):
 * - `send-before-durable`: a Ready's messages leave as soon as its write BEGINS (breaks the Ready
 *   contract: a vote or an acknowledgement can promise state a crash then loses);
 * - `local-reads`: `index` and `lease` reads are served from the local state machine at once,
 *   without asking ReadIndex (stale reads from followers and deposed leaders);
 * - `forget-vote`: a restarting node's storage has lost its vote (the node may vote twice);
 * - `no-tick-catch-up`: a paused node does not catch up the ticks it missed (its lease outlives
 *   real time);
 * - `bypass-sessions`: session commands are applied straight to the inner KV machine, without
 *   the session layer's duplicate detection (a retried command applies twice);
 */
export type Sabotage = 'send-before-durable' | 'local-reads' | 'forget-vote' | 'no-tick-catch-up' | 'bypass-sessions';

/** Engine settings the simulator may vary per seed (identity, voters and PRNG are its own). */
export type RaftTuning = Omit<RaftConfig, 'id' | 'voters' | 'prng' | 'applied'>;

export interface SimNodeOptions {
  readonly id: NodeId;
  /** The bootstrap configuration's voters; empty for a node that joins a running cluster. */
  readonly voters: readonly NodeId[];
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly peerNet: Network<Message>;
  readonly clientNet: Network<ClientMessage>;
  readonly storageLatency: Distribution;
  /** This node's tick interval in virtual microseconds (its clock drift is folded in). */
  readonly tickUs: number;
  readonly raft: RaftTuning;
  /** The session layer's expiry settings. */
  readonly session?: Partial<SessionOptions>;
  readonly checkers: RaftCheckers;
  /** Sim-wide unique read request ids (see the file comment). */
  readonly nextReadId: () => number;
  /** Processing delay between an input's arrival and the pass that handles it. */
  readonly cpuDelayUs: number;
  /** Gap between a write becoming durable and its Ready's messages leaving. */
  readonly postDurableDelayUs: number;
  /** Bound on queued inputs; more are dropped (and counted). */
  readonly inboxMax: number;
  /** Bound on client requests waiting for an answer; more are refused as `overloaded`. */
  readonly pendingRequestsMax: number;
  /**
   * Called when a write begins (the nemesis arms crashes on writes in flight); `carriesVote`: it
   * persists a vote not yet durable (a candidate's own, or one granted to a peer).
   */
  readonly onWriteBegin?: (node: SimNode, completesAtUs: number, carriesVote: boolean) => void;
  /** Called when the engine threw and the node crashed; the owner decides when to restart. */
  readonly onEngineCrash?: (node: SimNode) => void;
  /** Called for every committed configuration entry the node applies. */
  readonly onConfigApplied?: (node: SimNode, entry: Entry) => void;
  /** Deliberate driver bugs (tests of the checkers only). */
  readonly sabotage?: ReadonlySet<Sabotage>;
  /** A debugging narrative: role changes, client requests and their fate, crashes, pauses. */
  readonly trace?: (line: string) => void;
}

type InboxItem = { readonly kind: 'peer'; readonly m: Message } | { readonly kind: 'client'; readonly req: ClientRequest };

interface ProposalWaiter {
  readonly req: ClientRequest;
  /** Where the leader put it; -1 when forwarded (then only its application tells). */
  readonly index: number;
  readonly term: number;
}

interface ReadWaiter {
  readonly req: ClientRequest;
  readonly key: string;
  readonly mode: 'index' | 'lease';
  /** The index the read waits for, -1 until the ReadIndex answer arrives. */
  index: number;
}

export interface SimNodeStats {
  crashes: number;
  restarts: number;
  pauses: number;
  engineErrors: number;
  inboxDropped: number;
  droppedWhileDown: number;
  readies: number;
  applied: number;
  /** Proposals a follower forwarded to its leader. */
  forwarded: number;
  /**
   * Session commands the session layer absorbed: already applied (duplicates: the cached result
   * again), abandoned (stale), or of an unknown session (expired: refused, not applied).
   */
  duplicateCommands: number;
  staleCommands: number;
  expiredCommands: number;
  registrations: number;
  /** Snapshots this node took (and compacted its log behind), and installed from a leader. */
  snapshotsTaken: number;
  snapshotsInstalled: number;
  /** Reads served after ReadIndex, by mode. */
  indexReads: number;
  leaseReads: number;
  rejected: Record<RejectReason, number>;
}

/** The KV machine under the session layer, noting whether a command reached it. */
class RecordingMachine implements StateMachine {
  ran = false;
  constructor(readonly kv: KvMachine) {}

  apply(command: Uint8Array, index: number): Uint8Array {
    this.ran = true;
    return this.kv.apply(command, index);
  }

  snapshot(): Uint8Array {
    return this.kv.snapshot();
  }

  restore(snapshot: Uint8Array): void {
    this.kv.restore(snapshot);
  }
}

export class SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  private raft: RaftNode | null = null;
  private inner = new RecordingMachine(new KvMachine());
  private machine: SessionMachine;
  private appliedIndexValue = 0;
  private retiredValue = false;
  /** Bumped on crash and restart: events scheduled for an older life are ignored. */
  private incarnation = 0;
  private upValue = false;
  private pausedValue = false;
  private inbox: InboxItem[] = [];
  private processScheduled = false;
  private outstanding: Ready | null = null;
  /** How many of the outstanding Ready's committed entries were applied before its write. */
  private appliedEarly = 0;
  /** The outstanding Ready's write is durable; its second half waits (paused node). */
  private durableWaiting = false;
  private owedTicks = 0;
  private lastRole: Role | null = null;
  private lastTerm = -1;
  private readonly proposals = new Map<string, ProposalWaiter>();
  private readonly proposalByIndex = new Map<number, string>();
  private readonly reads = new Map<number, ReadWaiter>();
  private readsAwaitingApply: ReadWaiter[] = [];
  readonly stats: SimNodeStats = emptySimNodeStats();


  constructor(private readonly o: SimNodeOptions) {
    this.id = o.id;
    this.storage = new MemoryStorage({ scheduler: o.scheduler, prng: o.prng, latency: o.storageLatency, onRefused: (e) => this.storageRefused(e) });
    this.machine = new SessionMachine(this.inner, o.session);
  }

  // ---- state seen from outside -------------------------------------------------------------

  get up(): boolean {
    return this.upValue;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  /** Removed from the cluster and gone for good. */
  get retired(): boolean {
    return this.retiredValue;
  }

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  status(): RaftStatus | null {
    return this.raft === null ? null : this.raft.status();
  }

  isLeader(): boolean {
    return this.raft !== null && this.raft.status().role === 'leader';
  }

  hasWriteInFlight(): boolean {
    return this.storage.hasPendingWrite();
  }

  /** Nothing queued, no Ready outstanding. */
  isIdle(): boolean {
    return this.inbox.length === 0 && this.outstanding === null && (this.raft === null || !this.raft.hasReady());
  }

  /** A hash of the whole state machine (sessions and KV data): equal on converged replicas. */
  digest(): string {
    return fnv1a64Hex(this.machine.snapshot());
  }

  /** The value of `key` in this replica's KV machine now (tests; not a linearizable read). */
  localRead(key: string): string | null {
    return this.inner.kv.read(key);
  }

  /** The configuration in force on this node (the latest in its log), null when down. */
  config(): ConfState | null {
    return this.raft === null ? null : this.raft.config();
  }

  /** The session layer's counters (duplicates absorbed, commands refused as expired, ...). */
  sessionStats(): Readonly<SessionMachine['stats']> {
    return this.machine.stats;
  }

  private resetMachine(): void {
    this.inner = new RecordingMachine(new KvMachine());
    this.machine = new SessionMachine(this.inner, this.o.session);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Boot (the first time, or after a crash) from what storage holds. */
  restart(): void {
    assert(!this.upValue, `${this.id} restarted while up`);
    if (this.retiredValue) return;
    // The sabotage is a storage that loses the vote: what it then holds is consistent with it.
    if (this.sabotaged('forget-vote')) this.storage.forgetVote();
    const boot = this.storage.load();
    this.incarnation++;
    this.resetMachine();
    const snap = boot.snapshot ?? null;
    if (snap !== null) this.machine.restore(snap.data);
    this.appliedIndexValue = snap === null ? 0 : snap.meta.index;
    const restored = snap === null ? null : { index: snap.meta.index, digest: this.digest() };
    this.o.checkers.onBoot(this.id, boot.hardState.commit, restored, this.o.scheduler.nowUs);
    try {
      this.raft = new RaftNode({ ...this.o.raft, id: this.id, voters: this.o.voters, prng: this.o.prng, applied: this.appliedIndexValue }, boot);
    } catch (error) {
      // The engine refused its own durable state: a bug. The node stays down.
      this.stats.engineErrors++;
      this.o.checkers.onEngineError(this.id, error, this.o.scheduler.nowUs);
      this.raft = null;
      return;
    }
    this.upValue = true;
    if (this.incarnation > 1) this.stats.restarts++;
    this.note(
      `boot: term ${boot.hardState.term}, vote ${boot.hardState.vote ?? 'none'}, commit ${boot.hardState.commit}, ` +
        `${snap === null ? 'no snapshot' : `snapshot at ${snap.meta.index}`}, ${boot.entries.length} entries`,
    );
    this.observe();
    this.scheduleTicks();
    this.scheduleProcess();
  }

  crash(): void {
    if (!this.upValue) return;
    this.note(`crash${this.storage.hasPendingWrite() ? ' (a write in flight is lost)' : ''}`);
    this.stats.crashes++;
    this.upValue = false;
    this.pausedValue = false;
    this.incarnation++;
    this.raft = null;
    this.resetMachine();
    this.appliedIndexValue = 0;
    this.inbox = [];
    this.processScheduled = false;
    this.outstanding = null;
    this.appliedEarly = 0;
    this.durableWaiting = false;
    this.owedTicks = 0;
    this.proposals.clear();
    this.proposalByIndex.clear();
    this.reads.clear();
    this.readsAwaitingApply = [];
    this.storage.crash();
  }

  /**
   * Storage refused a write by the adapters' rules: the engine or this driver asked for something
   * that must not happen (a bug, reported). As DESIGN.md §5 prescribes for a storage error, the
   * node stops and restarts from what is durable.
   */
  private storageRefused(error: Error): void {
    this.o.checkers.onStorageRefused(this.id, error, this.o.scheduler.nowUs);
    if (!this.upValue) return;
    this.crash();
    this.o.onEngineCrash?.(this);
  }

  /** Leave the cluster for good (a removed member's tab closes): crash, and never restart. */
  retire(): void {
    if (this.retiredValue) return;
    this.note('retired');
    this.crash();
    this.retiredValue = true;
  }

  pause(): void {
    if (!this.upValue || this.pausedValue) return;
    this.stats.pauses++;
    this.pausedValue = true;
    this.note('pause');
  }

  resume(): void {
    if (!this.upValue || !this.pausedValue) return;
    this.pausedValue = false;
    const owed = this.sabotaged('no-tick-catch-up') ? 0 : this.owedTicks;
    this.owedTicks = 0;
    this.note(`resume: ${owed} ticks to catch up, ${this.inbox.length} inputs queued`);
    for (let i = 0; i < owed && this.raft !== null; i++) this.guard(() => this.raftOrThrow().tick());
    if (this.durableWaiting) {
      this.durableWaiting = false;
      this.finishReady();
    }
    this.scheduleProcess();
  }

  // ---- inputs ----------------------------------------------------------------------------------

  deliverPeer(m: Message): void {
    this.enqueue({ kind: 'peer', m });
  }

  deliverClient(req: ClientRequest): void {
    this.enqueue({ kind: 'client', req });
  }

  /** Ask the engine to hand leadership to `to` (the nemesis, like a leader tab closing). */
  transferLeadership(to: NodeId): void {
    if (this.raft === null || this.pausedValue) return;
    this.guard(() => void this.raftOrThrow().transferLeadership(to));
    this.scheduleProcess();
  }

  /**
   * A failure oracle (Web Locks between tabs) says `leader` is gone: forget it (giving up its
   * lease, ignoring its messages still in flight) and campaign at once, as the runtime driver
   * does.
   */
  leaderGone(leader: string): void {
    if (this.raft === null || this.pausedValue) return;
    this.guard(() => {
      const raft = this.raftOrThrow();
      if (raft.forgetLeader(leader)) raft.campaign();
    });
    this.scheduleProcess();
  }

  /** Propose a membership change (an operator or an autopilot outside the engine); true if accepted. */
  proposeConfChange(change: ConfChange): boolean {
    if (this.raft === null || this.pausedValue) return false;
    let accepted = false;
    this.guard(() => {
      const r = this.raftOrThrow().proposeConfChange(change);
      accepted = r.ok;
      if (this.o.trace !== undefined) this.note(`propose ${change.type} ${change.node}: ${r.ok ? `at (${r.value.index}, ${r.value.term})` : r.error.message}`);
    });
    this.scheduleProcess();
    return accepted;
  }

  private enqueue(item: InboxItem): void {
    if (!this.upValue) {
      this.stats.droppedWhileDown++;
      return;
    }
    if (this.inbox.length >= this.o.inboxMax) {
      this.stats.inboxDropped++;
      return;
    }
    this.inbox.push(item);
    this.scheduleProcess();
  }

  // ---- the loop --------------------------------------------------------------------------------

  private scheduleTicks(): void {
    const incarnation = this.incarnation;
    const tick = (): void => {
      if (incarnation !== this.incarnation) return;
      this.o.scheduler.after(this.o.tickUs, tick);
      if (this.pausedValue) {
        this.owedTicks++;
        return;
      }
      this.guard(() => this.raftOrThrow().tick());
      this.scheduleProcess();
    };
    // A random phase: nodes do not tick in lockstep.
    this.o.scheduler.after(1 + this.o.prng.nextInt(this.o.tickUs), tick);
  }

  private scheduleProcess(): void {
    if (this.processScheduled || !this.upValue || this.pausedValue) return;
    this.processScheduled = true;
    const incarnation = this.incarnation;
    this.o.scheduler.after(this.o.cpuDelayUs, () => {
      if (incarnation !== this.incarnation) return;
      this.processScheduled = false;
      this.process();
    });
  }

  private process(): void {
    if (!this.upValue || this.pausedValue) return;
    const items = this.inbox;
    this.inbox = [];
    const incarnation = this.incarnation;
    for (const item of items) {
      if (incarnation !== this.incarnation) return; // the engine threw and the node crashed
      if (item.kind === 'peer') this.guard(() => this.raftOrThrow().step(item.m));
      else this.guard(() => this.handleClientRequest(item.req));
    }
    if (incarnation === this.incarnation) this.guard(() => this.maybeReady());
  }

  private maybeReady(): void {
    const raft = this.raftOrThrow();
    if (this.outstanding !== null || !raft.hasReady()) return;
    const rd = raft.ready();
    this.stats.readies++;
    this.outstanding = rd;
    if (this.o.trace !== undefined) this.note(`ready: ${describeReady(rd)}`);
    this.o.checkers.onReady(this.id, rd, this.storage, this.o.scheduler.nowUs);
    if (rd.hardState === null && rd.entries.length === 0 && rd.snapshot === null) {
      // Nothing to persist: send, apply and advance now.
      this.finishReady();
      return;
    }
    // A leader's appends leave while it writes (dissertation §10.2.1, `sendableBeforePersist`).
    this.sendMessages(rd, this.sabotaged('send-before-durable') ? 'all' : 'early');
    // Committed entries already durable here are applied while the write runs (ready.ts).
    this.appliedEarly = durableCommitted(rd);
    for (let i = 0; i < this.appliedEarly; i++) this.applyEntry(rd.committedEntries[i] as Entry);
    if (this.appliedEarly > 0) this.o.checkers.onState(this.id, this.appliedIndexValue, this.digest(), this.o.scheduler.nowUs);
    const durable = this.storage.durableHardState();
    const carriesVote = rd.hardState !== null && rd.hardState.vote !== null && (rd.hardState.vote !== durable.vote || rd.hardState.term !== durable.term);
    const incarnation = this.incarnation;
    // One atomic write: hard state, an installed snapshot (replacing the stored log), entries.
    const completesAtUs = this.storage.write(writeForReady(rd), () => {
      if (incarnation !== this.incarnation) return;
      this.o.scheduler.after(this.o.postDurableDelayUs, () => {
        if (incarnation !== this.incarnation) return;
        if (this.pausedValue) this.durableWaiting = true;
        else this.finishReady();
      });
    });
    this.o.onWriteBegin?.(this, completesAtUs, carriesVote);
  }

  /** The second half of a Ready, once its write is durable: send, apply, answer, advance. */
  private finishReady(): void {
    const rd = this.outstanding;
    if (rd === null || this.raft === null) return;
    const incarnation = this.incarnation;
    this.guard(() => {
      const wrote = rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null;
      if (!wrote) this.sendMessages(rd, 'all');
      else if (!this.sabotaged('send-before-durable')) this.sendMessages(rd, 'late');
      if (rd.snapshot !== null) this.installSnapshot(rd.snapshot);
      for (let i = this.appliedEarly; i < rd.committedEntries.length; i++) this.applyEntry(rd.committedEntries[i] as Entry);
      if (rd.committedEntries.length > this.appliedEarly) this.o.checkers.onState(this.id, this.appliedIndexValue, this.digest(), this.o.scheduler.nowUs);
      for (const rs of rd.readStates) this.onReadState(rs.requestId, rs.index);
      for (const id of rd.droppedReads) this.onReadDropped(id);
      this.outstanding = null;
      this.appliedEarly = 0;
      this.raftOrThrow().advance();
      this.maybeSnapshot();
    });
    if (incarnation !== this.incarnation) return;
    this.serveReadsUpTo(this.appliedIndexValue);
    this.scheduleProcess();
  }

  /** `early`: those that may precede the Ready's write; `late`: the others; `all`: every one. */
  private sendMessages(rd: Ready, which: 'early' | 'late' | 'all'): void {
    for (const m of rd.messages) {
      if (which !== 'all' && sendableBeforePersist(m) !== (which === 'early')) continue;
      assert(m.from === this.id && m.to !== this.id, `${this.id} sent a message from ${m.from} to ${m.to}`);
      this.o.peerNet.send(this.id, m.to, freezeMessage(m));
    }
  }

  // ---- the state machine and client requests ---------------------------------------------------

  /** A snapshot installed from the leader is durable: the state machine becomes its state. */
  private installSnapshot(snap: Snapshot): void {
    const index = snap.meta.index;
    assert(index > this.appliedIndexValue, `${this.id} installs a snapshot at ${index} behind its applied index ${this.appliedIndexValue}`);
    this.machine.restore(snap.data);
    this.appliedIndexValue = index;
    this.stats.snapshotsInstalled++;
    this.o.checkers.onSnapshotInstalled(this.id, index, this.digest(), this.o.scheduler.nowUs);
    this.note(`installed a snapshot at (${index}, ${snap.meta.term}), ${snap.data.byteLength} bytes`);
    // Requests this node placed at indices the snapshot covers: whether they were committed there
    // is not visible here. Forget them; their clients retry, and the session layer answers.
    for (const [at, key] of this.proposalByIndex) {
      if (at > index) continue;
      this.proposalByIndex.delete(at);
      const waiter = this.proposals.get(key);
      if (waiter !== undefined && waiter.index === at) this.proposals.delete(key);
    }
  }

  /** The engine's snapshot policy: snapshot the state machine at the applied index and compact. */
  private maybeSnapshot(): void {
    const raft = this.raftOrThrow();
    if (!raft.shouldSnapshot()) return;
    const index = this.appliedIndexValue;
    // The engine and this driver agree on the applied index: the engine moves it to a leader's
    // snapshot only when a Ready hands that snapshot over (an engine bug the simulator found).
    if (raft.status().applied !== index) throw new Error(`applied ${index}, the engine says ${raft.status().applied}`);
    const data = this.machine.snapshot();
    const { snapshot, compactTo, hardState } = raft.compact(index, data);
    this.stats.snapshotsTaken++;
    this.o.checkers.onState(this.id, index, fnv1a64Hex(data), this.o.scheduler.nowUs);
    this.note(`snapshot at ${index} (${data.byteLength} bytes), compact to ${compactTo}`);
    const completesAtUs = this.storage.write({ hardState, snapshot, compactTo }, () => undefined);
    this.o.onWriteBegin?.(this, completesAtUs, false);
  }

  private applyEntry(e: Entry): void {
    const now = this.o.scheduler.nowUs;
    this.o.checkers.onApplied(this.id, e, now);
    this.appliedIndexValue = e.index;
    this.stats.applied++;
    this.supersedeWaiterAt(e);
    if (e.kind === 'config') this.o.onConfigApplied?.(this, e);
    if (e.kind !== 'normal') {
      this.o.checkers.onInnerApplied(this.id, e.index, null, now);
      return;
    }
    const decoded = decodeSessionCommand(e.data);
    const command = decoded.ok ? decoded.value : null;
    this.inner.ran = false;
    let outcome: SessionOutcome;
    if (command?.type === 'request' && this.sabotaged('bypass-sessions')) {
      // The broken driver: straight to the KV machine, duplicates and all.
      outcome = { status: 'applied', result: this.inner.apply(command.payload, e.index) };
    } else {
      // Undecodable bytes are refused by the session layer as `malformed` (nothing applied).
      outcome = this.machine.applyCommand(e.data, e.index);
    }
    const ran = this.inner.ran && command?.type === 'request' ? { session: command.clientId, seq: command.seq } : null;
    this.o.checkers.onInnerApplied(this.id, e.index, ran, now);
    if (outcome.status === 'duplicate') this.stats.duplicateCommands++;
    else if (outcome.status === 'stale') this.stats.staleCommands++;
    else if (outcome.status === 'expired') this.stats.expiredCommands++;
    else if (outcome.status === 'registered') this.stats.registrations++;
    if (command === null) return;
    const key = commandKey(command);
    const waiter = this.proposals.get(key);
    if (waiter === undefined) return;
    this.forgetProposal(key, waiter);
    // A stale command's client has moved on and waits for nothing.
    if (outcome.status !== 'stale') this.respondDone(waiter.req, encodeSessionOutcome(outcome));
  }

  /** The leader accepted a request at (index, term), but a different entry was applied there. */
  private supersedeWaiterAt(e: Entry): void {
    const key = this.proposalByIndex.get(e.index);
    if (key === undefined) return;
    this.proposalByIndex.delete(e.index);
    const waiter = this.proposals.get(key);
    if (waiter === undefined || waiter.index !== e.index || waiter.term === e.term) return;
    // Log Matching: an entry at this index of another term was committed, so (index, term) never
    // will be, and the leader put the command nowhere else. A definite failure: retry is safe.
    this.proposals.delete(key);
    this.respondRejected(waiter.req, 'superseded', null);
  }

  private forgetProposal(key: string, waiter: ProposalWaiter): void {
    this.proposals.delete(key);
    if (waiter.index >= 0 && this.proposalByIndex.get(waiter.index) === key) this.proposalByIndex.delete(waiter.index);
  }

  private handleClientRequest(req: ClientRequest): void {
    const raft = this.raftOrThrow();
    if (this.proposals.size + this.reads.size >= this.o.pendingRequestsMax) {
      this.respondRejected(req, 'overloaded', null);
      return;
    }
    const body = req.body;
    if (body.kind === 'read') {
      this.startIndexRead(raft, req, body.key, body.mode);
      return;
    }
    const decoded = decodeSessionCommand(body.command);
    assert(decoded.ok, `${this.id}: client ${req.clientId} sent bytes that are not a session command`);
    const result = raft.propose(body.command);
    if (!result.ok) {
      const e = result.error;
      if (e instanceof NotLeaderError) this.respondRejected(req, 'not-leader', e.leaderHint);
      else this.respondRejected(req, 'proposal-dropped', null);
      return;
    }
    const key = commandKey(decoded.value);
    const old = this.proposals.get(key);
    if (old !== undefined) this.forgetProposal(key, old);
    const v = result.value;
    if ('index' in v) {
      this.proposals.set(key, { req, index: v.index, term: v.term });
      this.proposalByIndex.set(v.index, key);
      if (this.o.trace !== undefined) this.note(`client ${req.clientId} request ${req.requestId} ${key}: proposed at (${v.index}, ${v.term})`);
    } else {
      this.stats.forwarded++;
      this.proposals.set(key, { req, index: -1, term: 0 });
      if (this.o.trace !== undefined) this.note(`client ${req.clientId} request ${req.requestId} ${key}: forwarded to ${v.forwardedTo}`);
    }
  }

  private startIndexRead(raft: RaftNode, req: ClientRequest, key: string, mode: 'index' | 'lease'): void {
    if (this.sabotaged('local-reads')) {
      this.respondDone(req, encodeKvResult({ op: 'read', value: this.inner.kv.read(key) }));
      return;
    }
    const readId = this.o.nextReadId();
    const result = raft.readIndex(readId, mode === 'lease' ? 'lease' : 'linearizable');
    if (!result.ok) {
      const e = result.error;
      if (e instanceof NotLeaderError) this.respondRejected(req, 'not-leader', e.leaderHint);
      else this.respondRejected(req, 'read-dropped', null);
      return;
    }
    this.reads.set(readId, { req, key, mode, index: -1 });
    if (this.o.trace !== undefined) this.note(`client ${req.clientId} request ${req.requestId} read: ReadIndex ${readId} (${mode})`);
  }

  private onReadState(readId: number, index: number): void {
    const w = this.reads.get(readId);
    // Unknown: a duplicate answer, or one for a read this incarnation never asked.
    if (w === undefined || w.index >= 0) return;
    this.reads.delete(readId);
    w.index = index;
    if (index <= this.appliedIndexValue) this.serveRead(w);
    else this.readsAwaitingApply.push(w);
  }

  private onReadDropped(readId: number): void {
    const w = this.reads.get(readId);
    if (w === undefined || w.index >= 0) return;
    this.reads.delete(readId);
    this.respondRejected(w.req, 'read-dropped', null);
  }

  private serveReadsUpTo(applied: number): void {
    if (this.readsAwaitingApply.length === 0) return;
    const waiting: ReadWaiter[] = [];
    for (const w of this.readsAwaitingApply) {
      if (w.index <= applied) this.serveRead(w);
      else waiting.push(w);
    }
    this.readsAwaitingApply = waiting;
  }

  private serveRead(w: ReadWaiter): void {
    if (w.mode === 'lease') this.stats.leaseReads++;
    else this.stats.indexReads++;
    this.respondDone(w.req, encodeKvResult({ op: 'read', value: this.inner.kv.read(w.key) }));
  }

  private respondDone(req: ClientRequest, result: Uint8Array): void {
    if (this.o.trace !== undefined) {
      const what = req.body.kind === 'read' ? 'read served' : describeOutcome(result);
      this.note(`client ${req.clientId} request ${req.requestId}: done (${what})`);
    }
    this.respond(req, { type: 'done', result });
  }

  private respondRejected(req: ClientRequest, reason: RejectReason, leaderHint: NodeId | null): void {
    this.stats.rejected[reason]++;
    if (this.o.trace !== undefined) this.note(`client ${req.clientId} request ${req.requestId}: rejected ${reason}${leaderHint === null ? '' : ` (try ${leaderHint})`}`);
    this.respond(req, { type: 'rejected', reason, leaderHint });
  }

  private respond(req: ClientRequest, outcome: ClientOutcome): void {
    this.o.clientNet.send(this.id, clientEndpoint(req.clientId), { kind: 'response', response: clientResponse(req, this.id, outcome) });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private sabotaged(bug: Sabotage): boolean {
    return this.o.sabotage !== undefined && this.o.sabotage.has(bug);
  }

  private raftOrThrow(): RaftNode {
    assert(this.raft !== null, `${this.id} has no engine`);
    return this.raft;
  }

  /** Run a call into the engine; report its role after; an exception crashes the node. */
  private guard(fn: () => void): void {
    if (this.raft === null) return;
    try {
      fn();
    } catch (error) {
      this.stats.engineErrors++;
      this.o.checkers.onEngineError(this.id, error, this.o.scheduler.nowUs);
      this.crash();
      this.o.onEngineCrash?.(this);
      return;
    }
    this.observe();
  }

  private observe(): void {
    if (this.raft === null) return;
    const s = this.raft.status();
    this.o.checkers.onStatus(this.id, s.role, s.term, this.o.scheduler.nowUs);
    if (this.o.trace !== undefined && (s.role !== this.lastRole || s.term !== this.lastTerm)) {
      this.note(`${s.role} in term ${s.term} (leader ${s.leader ?? 'unknown'}, last ${s.lastIndex}, commit ${s.commit})`);
    }
    this.lastRole = s.role;
    this.lastTerm = s.term;
  }

  private note(what: string): void {
    this.o.trace?.(`${this.o.scheduler.nowUs}us ${this.id}: ${what}`);
  }
}

/**
 * Messages travel by reference in the simulator, where a real transport would copy them; frozen,
 * an engine that mutated a message after sending it (or one it received) throws instead of
 * silently changing what another node sees. (Entry data bytes cannot be frozen.)
 */
function freezeMessage(m: Message): Message {
  if (m.type === 'append') {
    for (const e of m.entries) Object.freeze(e);
    Object.freeze(m.entries);
  } else if (m.type === 'propose') {
    Object.freeze(m.data);
  }
  return Object.freeze(m);
}

/**
 * How a node recognizes a client's command when it is applied (after forwarding, or as a retry
 * placed by another node): a request by its (session, seq), a register by its nonce.
 */
function commandKey(command: SessionCommand): string {
  return command.type === 'request' ? `s${command.clientId}:${command.seq}` : `r${command.nonce ?? 0}`;
}

function describeReady(rd: Ready): string {
  const range = (es: readonly Entry[]): string => (es.length === 0 ? '-' : `${(es[0] as Entry).index}..${(es[es.length - 1] as Entry).index}`);
  const hs = rd.hardState === null ? '' : `hard state (${rd.hardState.term}, ${rd.hardState.vote ?? '-'}, ${rd.hardState.commit}), `;
  const snap = rd.snapshot === null ? '' : `snapshot (${rd.snapshot.meta.index}, ${rd.snapshot.meta.term}), `;
  return `${hs}${snap}entries ${range(rd.entries)}, apply ${range(rd.committedEntries)}, ${rd.messages.length} messages`;
}

function describeOutcome(bytes: Uint8Array): string {
  const decoded = decodeSessionOutcome(bytes);
  if (!decoded.ok) return 'an undecodable outcome';
  const o = decoded.value;
  return o.status === 'registered' ? `registered session ${o.clientId}` : o.status;
}

function clientResponse(req: ClientRequest, node: NodeId, outcome: ClientOutcome): ClientResponse {
  return { clientId: req.clientId, requestId: req.requestId, attempt: req.attempt, node, outcome };
}

/** All counters at zero. */
export function emptySimNodeStats(): SimNodeStats {
  return {
    crashes: 0,
    restarts: 0,
    pauses: 0,
    engineErrors: 0,
    inboxDropped: 0,
    droppedWhileDown: 0,
    readies: 0,
    applied: 0,
    forwarded: 0,
    duplicateCommands: 0,
    staleCommands: 0,
    expiredCommands: 0,
    registrations: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    indexReads: 0,
    leaseReads: 0,
    rejected: { 'not-leader': 0, 'proposal-dropped': 0, 'read-dropped': 0, superseded: 0, overloaded: 0 },
  };
}
