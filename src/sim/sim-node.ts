/**
 * One Raft node under the simulator: the PRODUCTION driver (src/runtime/driver.ts: the same
 * Ready processor, proposal and read trackers, client sessions and snapshot policy that run in
 * browsers) on simulated parts, as TigerBeetle's simulator runs the real replica:
 *
 *   - a clock in virtual time, at the node's own rate (drift), that a pause holds (sim-clock.ts);
 *   - storage that takes virtual time per write and loses what is in flight at a crash
 *     (memory-storage.ts); its durable writes reach the driver `postDurableDelayUs` later, so a
 *     crash can land after a write completed but before what depends on it left;
 *   - a transport over the seeded network of frames (sim-transport.ts), frames encoded and
 *     decoded by the real wire codec;
 *   - the KV machine, counting what reaches it (recording-machine.ts).
 *
 * Faults: `crash` drops the driver and everything volatile with it (its timers, waiting
 * callers, the state machine); `restart` boots a new driver from what is durable; `retire`
 * crashes for good (a removed member's tab closed); `pause` holds the clock, the frames and
 * what follows a durable write (a throttled tab), `resume` lets them go in that order: the
 * driver catches up the ticks it missed, finishes its Ready, then steps the frames that waited.
 *
 * What the checkers see comes through the driver's observer hooks (sim-node-observer.ts). An
 * exception from the engine, or a write the storage rules refuse, stops the driver (it reports
 * an error): that is a bug, reported to the checkers, and the node restarts from storage.
 */
import type { ConfChange } from '../core/raft/conf-change.ts';
import type { RaftStatus } from '../core/raft/raft-node.ts';
import type { ConfState, NodeId } from '../core/raft/types.ts';
import { fnv1a64Hex } from '../machines/bytes.ts';
import type { SessionOptions } from '../machines/sessions.ts';
import { Driver } from '../runtime/driver.ts';
import type { ProposalDone } from '../runtime/proposals.ts';
import type { ReadDone } from '../runtime/reads.ts';
import { FrameRouter } from '../runtime/frame-router.ts';
import { LinkGuard } from '../io/crypto/link-guard.ts';
import { MemoryStorage } from './memory-storage.ts';
import { RecordingMachine } from './recording-machine.ts';
import { SimClock } from './sim-clock.ts';
import { simIdentityKey } from './sim-identity.ts';
import { NodeObserver } from './sim-node-observer.ts';
import type { SimNodeOptions } from './sim-node-options.ts';
import type { Sabotage } from './sim-node-sabotage.ts';
import { emptySimNodeStats, type SimNodeStats } from './sim-node-stats.ts';
import { simWrites } from './sim-storage.ts';
import { SimTransport } from './sim-transport.ts';

// The node's settings, counters and deliberate bugs are part of its interface: found here too.
export type { RaftTuning, SimNodeOptions } from './sim-node-options.ts';
export type { Sabotage } from './sim-node-sabotage.ts';
export { emptySimNodeStats, type SimNodeStats } from './sim-node-stats.ts';

/** One life of the node: a driver and the volatile parts it runs on. */
interface Life {
  readonly driver: Driver;
  readonly clock: SimClock;
  readonly transport: SimTransport;
  readonly router: FrameRouter;
  readonly machine: RecordingMachine;
  readonly observer: NodeObserver;
}

export class SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly stats: SimNodeStats = emptySimNodeStats();
  private life: Life | null = null;
  private retiredValue = false;
  private pausedValue = false;
  /** Bumped per life: callbacks of an older life are void. */
  private incarnation = 0;
  /** The frame being handed to the driver now (what a message stepped into the engine came in). */
  deliveringFrame: Uint8Array | null = null;

  constructor(private readonly o: SimNodeOptions) {
    this.id = o.id;
    const onEntriesDropped = (removed: readonly import('../core/raft/types.ts').Entry[]): void => o.checkers.onEntriesDropped(this.id, removed, o.scheduler.nowUs);
    this.storage = new MemoryStorage({ scheduler: o.scheduler, prng: o.prng, latency: o.storageLatency, onRefused: (e) => this.stopOnBug(e), onEntriesDropped });
  }

  // ---- state seen from outside -------------------------------------------------------------

  get up(): boolean {
    return this.life !== null;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  /** Removed from the cluster and gone for good. */
  get retired(): boolean {
    return this.retiredValue;
  }

  /** This node's tick in virtual microseconds (its clock drift folded in). */
  get tickUs(): number {
    return this.o.tickUs;
  }

  /** The last index this node's state machine applied (or restored from a snapshot). */
  get appliedIndex(): number {
    return this.life?.observer.machineIndex ?? 0;
  }

  status(): RaftStatus | null {
    return this.life === null ? null : this.life.driver.status();
  }

  isLeader(): boolean {
    return this.life !== null && this.life.driver.status().role === 'leader';
  }

  hasWriteInFlight(): boolean {
    return this.storage.hasPendingWrite();
  }

  /** A hash of the whole replicated state (sessions and KV data): equal on converged replicas. */
  digest(): string {
    return this.life === null ? '' : fnv1a64Hex(this.life.driver.stateBytes());
  }

  /** The value of `key` in this replica's KV machine now (not by itself a linearizable read). */
  localRead(key: string): string | null {
    return this.life?.machine.kv.read(key) ?? null;
  }

  /** Counters, the running life's session layer included. */
  statsNow(): SimNodeStats {
    return { ...this.stats, sessionsExpired: this.stats.sessionsExpired + (this.life?.driver.sessionStats().sessionsExpired ?? 0) };
  }

  /** The configuration in force on this node (the latest in its log), null when down. */
  config(): ConfState | null {
    return this.life === null ? null : this.life.driver.status().config;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Boot (the first time, or after a crash) from what storage holds. */
  restart(): void {
    if (this.life !== null || this.retiredValue) return;
    const o = this.o;
    // The sabotage is a storage that loses the vote: what it then holds is consistent with it.
    if (this.sabotaged('forget-vote')) this.storage.forgetVote();
    const boot = this.storage.load();
    const incarnation = ++this.incarnation;
    const clock = new SimClock(o.scheduler, o.tickUs / o.baseTickUs, this.sabotaged('no-tick-catch-up'));
    const transport = new SimTransport(this.id, o.peerNet, o.inboxMax, undefined, (frame) => {
      this.deliveringFrame = frame;
    });
    // Links authenticated as in production with a secret (the synchronous MAC): hellos, epochs
    // (virtual time at boot: it grows from life to life), identity keys (a fixed stand-in per
    // node) and replay windows run under the faults.
    const guard = o.secret === null ? null : new LinkGuard({ secret: o.secret, cluster: o.cluster, self: this.id, epoch: o.scheduler.nowUs + 1, mac: 'sync', identityKey: simIdentityKey(this.id) });
    const router = new FrameRouter({ transport, cluster: o.cluster, self: this.id, guard, now: () => o.scheduler.nowUs / 1000 });
    const machine = new RecordingMachine();
    const observer = new NodeObserver({ driver: () => (this.life === null || this.incarnation !== incarnation ? null : this.life.driver), node: this, checkers: o.checkers, scheduler: o.scheduler, stats: this.stats, machine, storage: this.storage, onRole: o.onRole, onLeaderCommit: o.onLeaderCommit, onConfigApplied: o.onConfigApplied, onFrameAccepted: o.onFrameAccepted, note: (w) => this.note(w), tracing: o.trace !== undefined }, boot.snapshot?.meta.index ?? 0);
    const driver = new Driver({
      raft: { ...o.raft, id: this.id, voters: o.voters },
      storage: inertStorage,
      writes: simWrites(this.storage, o.scheduler, o.postDurableDelayUs, () => incarnation === this.incarnation, this.sabotaged('send-before-durable'), (completesAtUs, carriesVote) => o.onWriteBegin?.(this, completesAtUs, carriesVote)),
      link: router,
      machine,
      // The leader's snapshots are checked in a scratch machine, as production's are.
      createMachine: () => new RecordingMachine(),
      ...(o.session === undefined ? {} : { sessions: o.session as Partial<SessionOptions> }),
      clock,
      tickMs: o.baseTickUs / 1000,
      proposalTimeoutMs: o.proposalTimeoutMs,
      seed: o.prng.nextUint32(),
      observer,
    });
    driver.on((e) => {
      if (e.type === 'error' && incarnation === this.incarnation) this.stopOnBug(new Error(`${e.error.code}: ${e.error.message}`));
    });
    const life: Life = { driver, clock, transport, router, machine, observer };
    this.life = life;
    // Before the driver starts: its first Ready replays the stored log, applying entries.
    const snap = boot.snapshot ?? null;
    o.checkers.onBoot(this.id, boot.hardState.commit, snap === null ? null : { index: snap.meta.index, digest: fnv1a64Hex(snap.data) }, o.scheduler.nowUs);
    try {
      driver.startFrom(boot);
    } catch (error) {
      // The engine or the machine refused its own durable state: a bug. The node stays down.
      this.life = null;
      this.stats.engineErrors++;
      o.checkers.onEngineError(this.id, error, o.scheduler.nowUs);
      return;
    }
    if (incarnation > 1) this.stats.restarts++;
    this.note(`boot: term ${boot.hardState.term}, vote ${boot.hardState.vote ?? 'none'}, commit ${boot.hardState.commit}, ${boot.snapshot ? `snapshot at ${boot.snapshot.meta.index}` : 'no snapshot'}, ${boot.entries.length} entries`);
    observer.changed();
  }

  crash(): void {
    const life = this.life;
    if (life === null) return;
    this.note(`crash${this.storage.hasPendingWrite() ? ' (a write in flight is lost)' : ''}`);
    this.stats.crashes++;
    this.life = null;
    this.pausedValue = false;
    this.incarnation++;
    this.stats.sessionsExpired += life.driver.sessionStats().sessionsExpired;
    life.clock.stop();
    life.driver.halt();
    void life.transport.close();
    this.storage.crash();
  }

  /** Leave the cluster for good (a removed member's tab closes): crash, and never restart. */
  retire(): void {
    if (this.retiredValue) return;
    this.note('retired');
    this.crash();
    this.retiredValue = true;
  }

  pause(): void {
    const life = this.life;
    if (life === null || this.pausedValue) return;
    this.stats.pauses++;
    this.pausedValue = true;
    life.clock.pause();
    life.transport.hold();
    life.driver.hold();
    this.note('pause');
  }

  resume(): void {
    const life = this.life;
    if (life === null || !this.pausedValue) return;
    this.pausedValue = false;
    this.note('resume');
    // As a driver wakes: timers first (it measures how long it was away and catches up the
    // ticks), then the Ready whose write completed meanwhile, then the frames that waited.
    life.clock.resume();
    if (this.life !== life) return;
    life.driver.release();
    if (this.life !== life) return;
    life.transport.release();
  }

  // ---- inputs ----------------------------------------------------------------------------------

  /** A frame arrived from the network. */
  deliver(from: NodeId, frame: Uint8Array): void {
    if (this.life === null) {
      this.stats.droppedWhileDown++;
      return;
    }
    this.life.transport.deliver(from, frame);
  }

  /** Propose a KV command through this node's driver (its client sessions make it exactly-once). */
  submit(command: Uint8Array, done: ProposalDone): boolean {
    if (this.life === null || this.pausedValue) return false;
    this.life.driver.submitCommand(command, done);
    return true;
  }

  /** Wait until a read may be served here (`index`: ReadIndex; `lease`; `local` at once). */
  read(mode: 'index' | 'lease' | 'local', done: ReadDone): boolean {
    if (this.life === null || this.pausedValue) return false;
    // The sabotage serves index and lease reads at once, from whatever this replica holds.
    const consistency = mode === 'local' || this.sabotaged('local-reads') ? 'local' : mode === 'index' ? 'linearizable' : 'lease';
    this.life.driver.readWhenReady(consistency, done);
    return true;
  }

  /** Ask the engine to hand leadership to `to` (the nemesis, like a leader tab closing). */
  transferLeadership(to: NodeId): void {
    if (this.life === null || this.pausedValue) return;
    try {
      this.life.driver.transferLeadership(to);
    } catch {
      // Not the leader any more: nothing to hand over.
    }
  }

  /**
   * A failure oracle (Web Locks between tabs) says `leader` is gone: forget it (giving up its
   * lease, ignoring its messages still in flight) and, with `campaign`, campaign at once, as the
   * runtime driver does for the first-ranked follower (the others only forget).
   */
  leaderGone(leader: NodeId, campaign = true): void {
    const life = this.life;
    if (life === null || this.pausedValue) return;
    life.driver.leaderGone(leader, false);
    if (campaign && life.driver.status().role === 'follower') life.driver.campaign();
  }

  /** Propose a membership change (an operator or an autopilot outside the engine); true if accepted. */
  proposeConfChange(change: ConfChange): boolean {
    if (this.life === null || this.pausedValue) return false;
    const r = this.life.driver.proposeConfChange(change);
    this.note(`propose ${change.type} ${change.node}: ${r.ok ? `at (${r.value.index}, ${r.value.term})` : r.error.message}`);
    return r.ok;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * The driver stopped on a bug (the engine threw, or storage refused a write by the adapters'
   * rules): report it, crash, and let the owner restart the node from storage.
   */
  private stopOnBug(error: Error): void {
    if (this.life === null) return;
    this.stats.engineErrors++;
    if (error.name === 'StorageError') this.o.checkers.onStorageRefused(this.id, error, this.o.scheduler.nowUs);
    else this.o.checkers.onEngineError(this.id, error, this.o.scheduler.nowUs);
    this.crash();
    this.o.onEngineCrash?.(this);
  }

  private sabotaged(bug: Sabotage): boolean {
    return this.o.sabotage !== undefined && this.o.sabotage.has(bug);
  }

  private note(what: string): void {
    this.o.trace?.(`${this.o.scheduler.nowUs}us ${this.id}: ${what}`);
  }
}

/** The driver's storage for boot and close: the simulator boots it itself and writes through `simWrites`. */
const inertStorage = {
  boot: () => Promise.reject(new Error('the simulator boots its drivers with startFrom')),
  write: () => Promise.reject(new Error('the simulator writes through simWrites')),
  close: () => Promise.resolve(),
};
