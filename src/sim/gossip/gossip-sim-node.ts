/**
 * A simulated gossip node: one `GossipNode` engine and a thin host that handles its Readies in
 * the order the contract states (src/core/engine.ts, src/core/gossip/ready.ts):
 *
 *   1. send `messagesBeforeWrite`, deliver `events`;
 *   2. persist `incarnation` (incarnation-disk.ts: virtual time, lost by a crash) and wait;
 *   3. only then send `messagesAfterWrite`;
 *   4. take `linksWanted` (the links this node holds from now on);
 *   5. `advance()`, and the next Ready.
 *
 * WHY A HOST OF ITS OWN: the runtime has no gossip driver yet (its Ready processor,
 * src/runtime/ready-loop.ts, is Raft's: it applies entries and restores snapshots), so the
 * production path for gossip does not exist to be run. This host is the contract and nothing
 * more; when the runtime drives gossip, the simulator should run that driver instead, as the
 * Raft simulator runs the production one.
 *
 * TIME: the engine ticks every `tickUs` of virtual time (10 ms, as the runtime ticks, times the
 * node's clock drift). A paused node neither ticks nor steps: what is sent to it waits (bounded)
 * and a write completing meanwhile is finished only when it runs again. On resume it first
 * finishes that write, then catches up the ticks it missed (at most `catchUpTicksMax`, as the
 * runtime's driver caps them), then takes what waited: its timers fire before it reads its
 * mail, which is how a throttled tab that wakes accuses members before it hears from them
 * (Lifeguard §I, the slow prober).
 *
 * LIVES: a crash ends the engine (its memory is gone, a write in flight is lost); `start` makes
 * a new engine booted from the disk (`GossipBoot`) that joins through the seeds given.
 */
import { createPrng, type Prng } from '../../core/prng.ts';
import { gossipDefaults, type GossipConfig } from '../../core/gossip/config.ts';
import type { GossipEvent } from '../../core/gossip/events.ts';
import { GossipNode } from '../../core/gossip/gossip-node.ts';
import type { GossipMessage, Piggyback } from '../../core/gossip/messages.ts';
import type { SelfState } from '../../core/gossip/membership.ts';
import type { GossipReady } from '../../core/gossip/ready.ts';
import type { Distribution } from '../distributions.ts';
import type { Network } from '../network.ts';
import type { Scheduler } from '../scheduler.ts';
import type { GossipSabotage } from './gossip-sabotage.ts';
import { IncarnationDisk } from './incarnation-disk.ts';

/** What the checkers and the run see of a node, as it happens. */
export interface GossipNodeObserver {
  /** A new life began (the engine is fresh, booted from the disk). */
  onStart(node: GossipSimNode): void;
  /** `m` leaves `node` now (links are those after this Ready's `linksWanted`, if it sets them). */
  onSend(node: GossipSimNode, m: GossipMessage, rd: GossipReady): void;
  onEvents(node: GossipSimNode, events: readonly GossipEvent[]): void;
  /** A message reached `node`'s engine. */
  onStep?(node: GossipSimNode, m: GossipMessage): void;
  /** An incarnation write began; it completes at `completesAtUs` unless a crash comes first. */
  onWriteBegin?(node: GossipSimNode, completesAtUs: number): void;
}

export type GossipTimings = Omit<GossipConfig, 'id' | 'prng'>;

export interface GossipSimNodeOptions {
  readonly id: string;
  readonly scheduler: Scheduler;
  /** The run's PRNG: each life's engine PRNG is seeded from it. */
  readonly prng: Prng;
  readonly network: Network<GossipMessage>;
  readonly config: GossipTimings;
  readonly tickUs: number;
  readonly storageLatency: Distribution;
  readonly observer: GossipNodeObserver;
  readonly sabotage: ReadonlySet<GossipSabotage>;
  readonly catchUpTicksMax: number;
  /** Bound on messages waiting for a paused node; more are dropped. */
  readonly heldMax: number;
}

/** A host must survive a peer's mistakes, but an exception from our own engine is a bug: stop the run. */
export class GossipSimNode {
  readonly id: string;
  readonly disk: IncarnationDisk;
  engine: GossipNode | null = null;
  /** Lives so far: 1 after the first start. */
  life = 0;
  paused = false;
  /** The node's own state as its events told the host (joining, alive, left). */
  selfState: SelfState = 'joining';
  /** The node's own incarnation as its events told the host. */
  selfIncarnation = 0;
  /** The first incarnation this life announced (-1 before it announced any). */
  lifeFirstIncarnation = -1;
  /** When it last became alive in its own eyes (joined). */
  aliveSinceUs = 0;
  /** The links this node holds (the last `linksWanted` handed out). */
  links: ReadonlySet<string> = new Set();
  /** Messages dropped because a paused node's wait list was full. */
  heldDropped = 0;
  private held: GossipMessage[] = [];
  private readyOutstanding: GossipReady | null = null;
  /** A Ready whose write completed while the node was paused. */
  private finishWaiting: GossipReady | null = null;
  private lastTickUs = 0;
  private ticksSinceRogue = 0;

  constructor(private readonly o: GossipSimNodeOptions) {
    this.id = o.id;
    this.disk = new IncarnationDisk(o.scheduler, o.prng, o.storageLatency, o.sabotage.has('forget-incarnation'));
  }

  get up(): boolean {
    return this.engine !== null;
  }

  /** Up, running, and alive in its own eyes (joined, not left). */
  get member(): boolean {
    return this.engine !== null && !this.paused && this.selfState === 'alive';
  }

  /** Begin a new life from the disk and join through `seeds`. */
  start(seeds: readonly string[]): void {
    if (this.engine !== null) throw new Error(`${this.id} started while up`);
    this.life++;
    this.paused = false;
    this.selfState = 'joining';
    this.lifeFirstIncarnation = -1;
    this.held = [];
    this.readyOutstanding = null;
    this.finishWaiting = null;
    this.links = new Set();
    const sabotage = this.o.sabotage;
    const config: GossipConfig = {
      ...this.o.config,
      ...(sabotage.has('never-declare-dead') ? { suspicionMinTicks: 1e9, suspicionMaxTicks: 1e9 } : {}),
      ...(sabotage.has('greedy-mesh') ? greedy(this.o.config) : {}),
      id: this.id,
      prng: createPrng(this.o.prng.nextUint32()),
    };
    this.engine = new GossipNode(config, { incarnation: this.disk.durable });
    this.o.observer.onStart(this);
    this.lastTickUs = this.o.scheduler.nowUs;
    this.scheduleTick(this.life, this.o.scheduler.nowUs + this.o.prng.nextInt(this.o.tickUs) + 1);
    this.stepLocal({ local: 'join', seeds });
  }

  /** The memory is gone; a write in flight is lost. */
  crash(): void {
    this.engine = null;
    this.disk.crash();
    this.paused = false;
    this.held = [];
    this.readyOutstanding = null;
    this.finishWaiting = null;
    this.links = new Set();
  }

  leave(): void {
    this.stepLocal({ local: 'leave' });
  }

  /** Join again after a leave (same engine, a new incarnation). */
  rejoin(seeds: readonly string[]): void {
    this.stepLocal({ local: 'join', seeds });
  }

  pause(): void {
    if (this.engine === null) return;
    this.paused = true;
  }

  resume(): void {
    if (this.engine === null || !this.paused) return;
    this.paused = false;
    const waiting = this.finishWaiting;
    this.finishWaiting = null;
    if (waiting !== null) this.finish(waiting);
    const missed = Math.floor((this.o.scheduler.nowUs - this.lastTickUs) / this.o.tickUs);
    for (let i = 0; i < Math.min(missed, this.o.catchUpTicksMax); i++) this.tickOnce();
    const held = this.held;
    this.held = [];
    for (const m of held) this.deliver(m);
    this.lastTickUs = this.o.scheduler.nowUs;
    this.scheduleTick(this.life, this.o.scheduler.nowUs + this.o.tickUs);
  }

  /** A message from the network. */
  deliver(m: GossipMessage): void {
    const engine = this.engine;
    if (engine === null) return;
    if (this.paused) {
      if (this.held.length >= this.o.heldMax) this.heldDropped++;
      else this.held.push(m);
      return;
    }
    const input = this.filterInbound(m);
    this.o.observer.onStep?.(this, input);
    engine.step(input);
    this.pump();
  }

  private stepLocal(input: { local: 'join'; seeds: readonly string[] } | { local: 'leave' }): void {
    const engine = this.engine;
    if (engine === null) return;
    const r = engine.step(input);
    if (!r.ok) throw r.error;
    this.pump();
  }

  private scheduleTick(life: number, atUs: number): void {
    this.o.scheduler.at(atUs, () => {
      if (life !== this.life || this.engine === null || this.paused) return;
      this.tickOnce();
      this.lastTickUs = this.o.scheduler.nowUs;
      this.scheduleTick(life, this.o.scheduler.nowUs + this.o.tickUs);
    });
  }

  private tickOnce(): void {
    const engine = this.engine;
    if (engine === null) return;
    engine.tick();
    if (this.o.sabotage.has('rogue-probe')) this.maybeRogueProbe(engine);
    this.pump();
  }

  /** Handle Readies until none is left or one waits on its write. */
  private pump(): void {
    const engine = this.engine;
    if (engine === null) return;
    while (this.readyOutstanding === null && this.engine === engine && engine.hasReady()) {
      const rd = engine.ready();
      this.readyOutstanding = rd;
      this.handle(engine, rd);
    }
  }

  private handle(engine: GossipNode, rd: GossipReady): void {
    const life = this.life;
    for (const m of rd.messagesBeforeWrite) this.send(m, rd);
    if (rd.events.length > 0) this.takeEvents(rd.events);
    if (!rd.mustPersist || rd.incarnation === null) {
      this.finish(rd);
      return;
    }
    if (this.o.sabotage.has('send-before-durable')) for (const m of rd.messagesAfterWrite) this.send(m, rd);
    const completesAtUs = this.disk.write(rd.incarnation, () => {
      if (life !== this.life || this.engine !== engine) return;
      if (this.paused) this.finishWaiting = rd;
      else this.finish(rd);
    });
    this.o.observer.onWriteBegin?.(this, completesAtUs);
  }

  private takeEvents(events: readonly GossipEvent[]): void {
    for (const e of events) {
      if (e.kind !== 'member-changed' || e.member !== this.id || e.state === 'suspect' || e.state === 'dead') continue;
      if (e.state === 'alive' && this.selfState !== 'alive') this.aliveSinceUs = this.o.scheduler.nowUs;
      this.selfState = e.state;
      this.selfIncarnation = e.incarnation;
      if (this.lifeFirstIncarnation < 0) this.lifeFirstIncarnation = e.incarnation;
    }
    this.o.observer.onEvents(this, events);
  }

  private finish(rd: GossipReady): void {
    const engine = this.engine;
    if (engine === null) return;
    if (rd.mustPersist && !this.o.sabotage.has('send-before-durable')) for (const m of rd.messagesAfterWrite) this.send(m, rd);
    if (rd.linksWanted !== null) this.links = new Set(rd.linksWanted);
    this.readyOutstanding = null;
    engine.advance();
    this.pump();
  }

  private send(m: GossipMessage, rd: GossipReady): void {
    this.o.observer.onSend(this, m, rd);
    this.o.network.send(m.from, m.to, m);
  }

  /** The sabotages that change what the engine hears. */
  private filterInbound(m: GossipMessage): GossipMessage {
    const s = this.o.sabotage;
    if (!(s.has('never-refute') || s.has('never-declare-dead'))) return m;
    if (m.type !== 'ping' && m.type !== 'ack' && m.type !== 'ping-req' && m.type !== 'push') return m;
    const keep = (u: Piggyback): boolean => !(s.has('never-refute') && u.member === this.id && u.kind !== 'alive') && !(s.has('never-declare-dead') && u.kind === 'dead');
    return { ...m, updates: m.updates.filter(keep) };
  }

  /** Sabotage `rogue-probe`: once a period, ping a live member this node holds no link to. */
  private maybeRogueProbe(engine: GossipNode): void {
    const period = engine.config().probeIntervalTicks;
    if (++this.ticksSinceRogue < period) return;
    this.ticksSinceRogue = 0;
    const strangers = engine
      .status()
      .members.filter((m) => m.state === 'alive' && !this.links.has(m.id))
      .map((m) => m.id);
    if (strangers.length === 0) return;
    const to = strangers[this.o.prng.nextInt(strangers.length)] as string;
    const ping: GossipMessage = { type: 'ping', from: this.id, to, seq: 1, mesh: false, updates: [] };
    this.o.observer.onSend(this, ping, { mustPersist: false, incarnation: null, crdts: [], messages: [], messagesBeforeWrite: [], messagesAfterWrite: [], events: [], appliedBeforeWrite: 0, linksWanted: null });
    this.o.network.send(this.id, to, ping);
  }
}

function greedy(c: GossipTimings): Partial<GossipConfig> {
  return {
    meshDegreeLow: (c.meshDegreeLow ?? gossipDefaults.meshDegreeLow) * 3,
    meshDegreeTarget: (c.meshDegreeTarget ?? gossipDefaults.meshDegreeTarget) * 3,
    meshDegreeHigh: (c.meshDegreeHigh ?? gossipDefaults.meshDegreeHigh) * 3,
  };
}
