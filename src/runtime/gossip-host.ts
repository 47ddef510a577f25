/**
 * The gossip host: the runtime's side of one gossip engine (src/core/gossip/gossip-node.ts),
 * beside the Raft driver in the same worker, over the same frame router (the same links, the
 * same secret and link guard). It is to gossip what driver.ts is to Raft, and as small:
 *
 * - TIME: the engine ticks on the runtime's clock, one tick per `tickMs` (10 ms by default, as
 *   Raft). Ticks missed while the tab was throttled are caught up, at most `maxCatchUpTicks`,
 *   and counted (`missedTicks`): a tab that wakes after seconds must not replay them all, and
 *   Lifeguard's local health (§IV-A) is what keeps such a slow prober from accusing others.
 * - READIES: through THE Ready processor (ready-loop.ts), in the contract's order
 *   (src/core/gossip/ready.ts): messages that claim nothing and the events go at once; the own
 *   incarnation and the changed CRDTs are made durable in one write (gossip-storage.ts) before
 *   the messages that claim the incarnation or carry data leave (SWIM §4.2: a node must never
 *   announce one incarnation in two lives; a delta sent before its CRDT is durable could carry
 *   dots a rebooted node mints again); then `linksWanted` is handed to the caller
 *   (`onLinksWanted`), then `advance()`.
 * - INPUTS: a peer's gossip message (decoded, authenticated and validated by the router) is
 *   stepped as it arrives; `heard(peer)` steps the `heard` local input for traffic seen outside
 *   gossip (a Raft leader's heartbeats: phi of the leader then reacts within a few ticks).
 *
 * Nothing here awaits: writes report through callbacks (`GossipWriteSink`), so the simulator
 * can run this host event by event as it runs the Raft driver. A failed write or a bug (an
 * exception from the engine) stops the host (`fail`); the node restarts from what is durable.
 */
import type { CrdtTypeName, CrdtValues } from '../core/crdt/crdt-types.ts';
import type { GossipEvent } from '../core/gossip/events.ts';
import type { GossipMemberStatus, GossipNode, GossipStatus } from '../core/gossip/gossip-node.ts';
import { GossipRefusedError, type GossipLocalInput, type GossipStepAccepted, type GossipStepRefused } from '../core/gossip/local-input.ts';
import type { GossipMessage } from '../core/gossip/messages.ts';
import { err, ok, type Result } from '../core/result.ts';
import type { GossipReady } from '../core/gossip/ready.ts';
import type { NodeId } from '../core/raft/types.ts';
import type { GossipStorage, GossipWrite } from '../io/storage/gossip-storage.ts';
import { systemClock, type Clock } from './clock.ts';
import type { FamilyLink } from './frame-router.ts';
import { ReadyLoop } from './ready-loop.ts';

/** How the host makes a write durable: begin it, hear when it is (the simulator's storage completes in virtual time). */
export interface GossipWriteSink {
  write(write: GossipWrite, done: () => void, failed: (error: unknown) => void): void;
}

/** A sink over a gossip storage adapter's promise-returning `write`. */
export function gossipWritesThrough(storage: GossipStorage): GossipWriteSink {
  return {
    write(w, done, failed) {
      storage.write(w).then(done, failed);
    },
  };
}

export interface GossipHostOptions {
  /** The engine, booted from what storage held (`GossipBoot`). */
  readonly engine: GossipNode;
  /** The gossip family's side of the frame router. */
  readonly link: FamilyLink<GossipMessage>;
  readonly writes: GossipWriteSink;
  readonly clock?: Clock;
  /** Wall time of one gossip tick (the engine's timings are in ticks). */
  readonly tickMs: number;
  /** The most ticks replayed at once after the loop was held up; default 100 (one default probe period). */
  readonly maxCatchUpTicks?: number;
  /** Every event of the engine, in order (membership changes, phi crossings). */
  readonly onEvent?: (e: GossipEvent) => void;
  /** The peers the engine wants links to, when that set changes (gossip/ready.ts, step 4). */
  readonly onLinksWanted?: (peers: readonly NodeId[]) => void;
  /**
   * A node alive but alone (every member it knew is dead or left: it was cut off longer than a
   * suspicion lasts) leaves and joins its seeds again every this many ticks, so that a partition
   * heals: nobody probes a member it believes dead, so neither side would look again. Default 10
   * probe periods; 0: never.
   */
  readonly rejoinAloneTicks?: number;
  /** After each timer callback's ticks and Readies (the leader watch looks at phi here). */
  readonly onTicked?: () => void;
  /** The host stopped: a write failed or the engine threw. */
  readonly fail: (error: unknown) => void;
}

export interface GossipHostMetrics {
  ticks: number;
  missedTicks: number;
  readies: number;
  /** Writes made durable (the incarnation, changed CRDTs, or both). */
  storageWrites: number;
  messagesSent: number;
  messagesReceived: number;
  events: number;
  /** `heard` inputs stepped (Raft traffic fed to phi). */
  heard: number;
  /** Times the node found itself alone and joined its seeds again (`rejoinAloneTicks`). */
  rejoinsAlone: number;
}

export class GossipHost {
  readonly metrics: GossipHostMetrics = { ticks: 0, missedTicks: 0, readies: 0, storageWrites: 0, messagesSent: 0, messagesReceived: 0, events: 0, heard: 0, rejoinsAlone: 0 };
  private readonly clock: Clock;
  private readonly maxCatchUpTicks: number;
  private readonly loop: ReadyLoop<GossipReady, GossipMessage, GossipEvent>;
  private lastTickAtMs = 0;
  private cancelTimer: (() => void) | null = null;
  private stopped = false;
  private started = false;
  /** The links the engine wants, as last reported (sorted). */
  private wanted: readonly NodeId[] = [];
  private seeds: readonly NodeId[] = [];
  private readonly rejoinAloneTicks: number;
  private ticksToAloneCheck = 0;

  constructor(private readonly o: GossipHostOptions) {
    this.clock = o.clock ?? systemClock;
    this.maxCatchUpTicks = o.maxCatchUpTicks ?? 100;
    this.rejoinAloneTicks = o.rejoinAloneTicks ?? 10 * o.engine.config().probeIntervalTicks;
    this.ticksToAloneCheck = this.rejoinAloneTicks;
    if (!(o.tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${o.tickMs}`);
    this.loop = new ReadyLoop<GossipReady, GossipMessage, GossipEvent>(o.engine, {
      onReady: () => {
        this.metrics.readies++;
      },
      persist: (rd, done, failed) => {
        o.writes.write(
          { incarnation: rd.incarnation, crdts: rd.crdts },
          () => {
            this.metrics.storageWrites++;
            done();
          },
          failed,
        );
      },
      send: (m) => {
        this.metrics.messagesSent++;
        o.link.send(m);
      },
      items: (rd) => rd.events,
      apply: (e) => {
        this.metrics.events++;
        o.onEvent?.(e);
      },
      applied: (rd) => {
        if (rd.linksWanted === null) return;
        this.wanted = rd.linksWanted;
        o.onLinksWanted?.(rd.linksWanted);
      },
      afterAdvance: (_rd, next) => next(),
      fail: (e) => this.fail(e),
    });
  }

  get id(): NodeId {
    return this.o.engine.id;
  }

  /** Start receiving and ticking, and join through `seeds` (none: the first member). */
  start(seeds: readonly NodeId[]): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.seeds = seeds.filter((s) => s !== this.id);
    this.o.link.onMessage((m) => this.receive(m));
    this.guard(() => {
      const r = this.o.engine.step({ local: 'join', seeds: this.seeds });
      if (!r.ok) throw r.error;
    });
    this.lastTickAtMs = this.clock.now();
    this.scheduleTick();
    this.pump();
  }

  /** Traffic from `peer` outside gossip (Raft) arrived: an arrival for its phi detector. */
  heard(peer: NodeId): void {
    if (this.stopped || !this.started) return;
    this.metrics.heard++;
    this.guard(() => this.o.engine.step({ local: 'heard', member: peer }));
  }

  /** Leave gracefully: members mark this node left at once instead of suspecting it (sent now). */
  leave(): void {
    if (this.stopped || !this.started) return;
    this.guard(() => this.o.engine.step({ local: 'leave' }));
    this.pump();
  }

  /**
   * A local request of the data plane (`crdt-open`, `crdt-update`): stepped now, its Ready
   * handled at once; a refusal (a bad op, a full store) is answered, never thrown.
   */
  stepLocal(input: GossipLocalInput): Result<GossipStepAccepted, GossipStepRefused> {
    if (this.stopped) return err(new GossipRefusedError('incarnation-exhausted', 'the gossip host is stopped', 'STOPPED'));
    let r: Result<GossipStepAccepted, GossipStepRefused> = ok({ kind: 'unchanged' });
    this.guard(() => {
      r = this.o.engine.step(input);
    });
    this.pump();
    return r;
  }

  /** Phi of `member` now (0 when unknown or never heard). */
  phi(member: NodeId): number {
    return this.o.engine.phi(member);
  }

  /** The value of the CRDT (`name`, `crdt`) here (its type's empty value when not held). */
  crdtValue<N extends CrdtTypeName>(name: string, crdt: N): CrdtValues[N] {
    return this.o.engine.crdtValue(name, crdt);
  }

  members(): readonly GossipMemberStatus[] {
    return this.o.engine.status().members;
  }

  status(): GossipStatus {
    return this.o.engine.status();
  }

  /** The links the engine wants now (its mesh, the probe under way, relays, seeds while joining). */
  linksWanted(): readonly NodeId[] {
    return this.wanted;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stop ticking and handling Readies (a write in flight is abandoned). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTimer?.();
    this.loop.stop();
  }

  /** Alone (alive, no live member, seeds to ask): leave and join the seeds again (see `rejoinAloneTicks`). */
  private maybeRejoinAlone(ticks: number): void {
    if (this.rejoinAloneTicks === 0 || this.seeds.length === 0) return;
    this.ticksToAloneCheck -= ticks;
    if (this.ticksToAloneCheck > 0) return;
    this.ticksToAloneCheck = this.rejoinAloneTicks;
    const s = this.o.engine.status();
    if (s.state !== 'alive' || s.members.some((m) => m.state === 'alive' || m.state === 'suspect')) return;
    this.metrics.rejoinsAlone++;
    this.guard(() => {
      this.o.engine.step({ local: 'leave' });
      this.o.engine.step({ local: 'join', seeds: this.seeds });
    });
  }

  private receive(m: GossipMessage): void {
    if (this.stopped) return;
    this.metrics.messagesReceived++;
    this.guard(() => this.o.engine.step(m));
    this.pump();
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.cancelTimer = this.clock.after(this.o.tickMs, () => this.onTick());
  }

  private onTick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    let due = Math.floor((now - this.lastTickAtMs) / this.o.tickMs);
    if (due > this.maxCatchUpTicks) {
      this.metrics.missedTicks += due - this.maxCatchUpTicks;
      this.lastTickAtMs = now - this.maxCatchUpTicks * this.o.tickMs;
      due = this.maxCatchUpTicks;
    }
    const engine = this.o.engine;
    this.guard(() => {
      for (let i = 0; i < due; i++) engine.tick();
    });
    this.lastTickAtMs += due * this.o.tickMs;
    this.metrics.ticks += due;
    this.maybeRejoinAlone(due);
    this.pump();
    this.scheduleTick();
    if (!this.stopped) this.o.onTicked?.();
  }

  private pump(): void {
    if (!this.stopped) this.loop.pump();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.o.fail(e);
  }
}
