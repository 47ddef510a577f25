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
 * This file is the loop and the faults. The node's other parts, each a concept of its own:
 *   - sim-node-machine.ts: the state machine, what applying an entry or a snapshot means, and
 *     what the checkers observe of it;
 *   - sim-node-requests.ts: the service side of the client protocol (proposals, reads, answers);
 *   - sim-node-options.ts, sim-node-stats.ts, sim-node-sabotage.ts: its settings and hooks, its
 *     counters, and its deliberate bugs.
 */
import { assert } from '../core/assert.ts';
import { sendableBeforePersist, type Message } from '../core/raft/messages.ts';
import { durableCommitted } from '../core/raft/ready.ts';
import type { ConfChange } from '../core/raft/conf-change.ts';
import { RaftNode, type RaftStatus } from '../core/raft/raft-node.ts';
import type { ConfState, Entry, NodeId, Ready, Role } from '../core/raft/types.ts';
import { writeForReady } from '../io/storage/storage.ts';
import type { SessionMachine } from '../machines/sessions.ts';
import type { ClientRequest } from './client-protocol.ts';
import { MemoryStorage } from './memory-storage.ts';
import { NodeMachine } from './sim-node-machine.ts';
import type { SimNodeOptions } from './sim-node-options.ts';
import { RequestService } from './sim-node-requests.ts';
import type { Sabotage } from './sim-node-sabotage.ts';
import { freezeMessage } from './frozen-message.ts';
import { describeReady } from './describe-ready.ts';
import { emptySimNodeStats, type SimNodeStats } from './sim-node-stats.ts';

// The node's settings, counters and deliberate bugs are part of its interface: found here too.
export type { RaftTuning, SimNodeOptions } from './sim-node-options.ts';
export type { Sabotage } from './sim-node-sabotage.ts';
export { emptySimNodeStats, type SimNodeStats } from './sim-node-stats.ts';

type InboxItem = { readonly kind: 'peer'; readonly m: Message } | { readonly kind: 'client'; readonly req: ClientRequest };

export class SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  private raft: RaftNode | null = null;
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
  /** The commit index last reported as leader (this life). */
  private leaderCommit = 0;
  readonly stats: SimNodeStats = emptySimNodeStats();
  /** The clients' waiting requests and their answers. */
  private readonly requests: RequestService;
  /** The state machine and its applied index. */
  private readonly sm: NodeMachine;

  constructor(private readonly o: SimNodeOptions) {
    this.id = o.id;
    const onEntriesDropped = (removed: readonly Entry[]): void => o.checkers.onEntriesDropped(this.id, removed, o.scheduler.nowUs);
    this.storage = new MemoryStorage({ scheduler: o.scheduler, prng: o.prng, latency: o.storageLatency, onRefused: (e) => this.storageRefused(e), onEntriesDropped });
    const sabotaged = (bug: Sabotage): boolean => this.sabotaged(bug);
    const note = (what: string): void => this.note(what);
    const { id, clientNet, nextReadId, pendingRequestsMax } = o;
    // Reads are served from what this node shows of its machine (`appliedIndex`, `localRead`);
    // the machine answers, through the requests, the clients of the commands it applies.
    this.requests = new RequestService({ id, clientNet, nextReadId, pendingRequestsMax, replica: this, stats: this.stats, sabotaged, tracing: o.trace !== undefined, note });
    const onConfigApplied = (entry: Entry): void => o.onConfigApplied?.(this, entry);
    this.sm = new NodeMachine({ id, session: o.session, scheduler: o.scheduler, checkers: o.checkers, stats: this.stats, requests: this.requests, onConfigApplied, sabotaged, note });
  }

  // ---- state seen from outside -------------------------------------------------------------

  get up(): boolean {
    return this.upValue;
  }

  /** This node's tick in virtual microseconds (its clock drift folded in). */
  get tickUs(): number {
    return this.o.tickUs;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  /** Removed from the cluster and gone for good. */
  get retired(): boolean {
    return this.retiredValue;
  }

  get appliedIndex(): number {
    return this.sm.appliedIndex;
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
    return this.sm.digest();
  }

  /** The value of `key` in this replica's KV machine now (not by itself a linearizable read). */
  localRead(key: string): string | null {
    return this.sm.read(key);
  }

  /** The configuration in force on this node (the latest in its log), null when down. */
  config(): ConfState | null {
    return this.raft === null ? null : this.raft.config();
  }

  /** The session layer's counters (duplicates absorbed, commands refused as expired, ...). */
  sessionStats(): Readonly<SessionMachine['stats']> {
    return this.sm.sessionStats();
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
    const snap = boot.snapshot ?? null;
    this.sm.boot(snap);
    const restored = snap === null ? null : { index: snap.meta.index, digest: this.digest() };
    this.o.checkers.onBoot(this.id, boot.hardState.commit, restored, this.o.scheduler.nowUs);
    try {
      this.raft = new RaftNode({ ...this.o.raft, id: this.id, voters: this.o.voters, prng: this.o.prng, applied: this.sm.appliedIndex }, boot);
    } catch (error) {
      // The engine refused its own durable state: a bug. The node stays down.
      this.stats.engineErrors++;
      this.o.checkers.onEngineError(this.id, error, this.o.scheduler.nowUs);
      this.raft = null;
      return;
    }
    this.upValue = true;
    this.leaderCommit = 0;
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
    this.sm.reset();
    this.inbox = [];
    this.processScheduled = false;
    this.outstanding = null;
    this.appliedEarly = 0;
    this.durableWaiting = false;
    this.owedTicks = 0;
    this.requests.clear();
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
   * lease, ignoring its messages still in flight) and, with `campaign`, campaign at once, as the
   * runtime driver does for the first-ranked follower (the others only forget).
   */
  leaderGone(leader: string, campaign = true): void {
    if (this.raft === null || this.pausedValue) return;
    this.guard(() => {
      const raft = this.raftOrThrow();
      if (raft.forgetLeader(leader) && campaign) raft.campaign();
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
      if (item.kind === 'peer') {
        this.o.checkers.onStepped(this.id, item.m);
        this.guard(() => this.raftOrThrow().step(item.m));
      }
      else this.guard(() => this.requests.handle(this.raftOrThrow(), item.req));
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
    for (let i = 0; i < this.appliedEarly; i++) this.sm.applyEntry(rd.committedEntries[i] as Entry);
    if (this.appliedEarly > 0) this.o.checkers.onState(this.id, this.sm.appliedIndex, this.digest(), this.o.scheduler.nowUs);
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
      if (rd.snapshot !== null) this.sm.installSnapshot(rd.snapshot);
      for (let i = this.appliedEarly; i < rd.committedEntries.length; i++) this.sm.applyEntry(rd.committedEntries[i] as Entry);
      if (rd.committedEntries.length > this.appliedEarly) this.o.checkers.onState(this.id, this.sm.appliedIndex, this.digest(), this.o.scheduler.nowUs);
      for (const rs of rd.readStates) this.requests.onReadState(rs.requestId, rs.index);
      for (const id of rd.droppedReads) this.requests.onReadDropped(id);
      this.outstanding = null;
      this.appliedEarly = 0;
      this.raftOrThrow().advance();
      this.maybeSnapshot();
    });
    if (incarnation !== this.incarnation) return;
    this.requests.serveReadsUpTo(this.sm.appliedIndex);
    this.scheduleProcess();
  }

  /** `early`: those that may precede the Ready's write; `late`: the others; `all`: every one. */
  private sendMessages(rd: Ready, which: 'early' | 'late' | 'all'): void {
    for (const m of rd.messages) {
      if (which !== 'all' && sendableBeforePersist(m) !== (which === 'early')) continue;
      assert(m.from === this.id && m.to !== this.id, `${this.id} sent a message from ${m.from} to ${m.to}`);
      this.o.checkers.onSent(this.id, m, this.o.scheduler.nowUs);
      this.o.peerNet.send(this.id, m.to, freezeMessage(m));
    }
  }

  // ---- snapshots -------------------------------------------------------------------------------

  /**
   * When the engine's snapshot policy says so, the state machine is snapshotted and the log
   * compacted (sim-node-machine.ts); the snapshot goes to storage as one more write in the queue.
   */
  private maybeSnapshot(): void {
    const write = this.sm.snapshotIfDue(this.raftOrThrow());
    if (write === null) return;
    const completesAtUs = this.storage.write(write, () => undefined);
    this.o.onWriteBegin?.(this, completesAtUs, false);
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
    const now = this.o.scheduler.nowUs;
    const voters = s.role === 'leader' ? this.raft.config().voters : [];
    this.o.checkers.onStatus(this.id, s.role, s.term, voters, now);
    if (s.role === 'leader' && s.commit > this.leaderCommit) {
      this.leaderCommit = s.commit;
      const rd = this.outstanding;
      this.o.checkers.onLeaderCommit(this.id, s.term, s.commit, voters, this.storage, { snapshot: rd?.snapshot ?? null, entries: rd?.entries ?? [] }, now);
      this.o.onLeaderCommit?.(this, s.term, s.commit);
    }
    if (s.role !== this.lastRole || s.term !== this.lastTerm) {
      if (this.o.trace !== undefined) this.note(`${s.role} in term ${s.term} (leader ${s.leader ?? 'unknown'}, last ${s.lastIndex}, commit ${s.commit})`);
      this.o.onRole?.(this, s.role, s.term);
    }
    this.lastRole = s.role;
    this.lastTerm = s.term;
  }

  private note(what: string): void {
    this.o.trace?.(`${this.o.scheduler.nowUs}us ${this.id}: ${what}`);
  }
}
