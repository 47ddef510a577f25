/**
 * A simulated gossip node: one `GossipNode` engine driven by THE PRODUCTION HOST
 * (src/runtime/gossip-host.ts, which runs its Readies through the one Ready processor,
 * src/runtime/ready-loop.ts) on a virtual clock (sim-clock.ts, with the node's drift), a
 * simulated disk (gossip-disk.ts: latency, crash loss) and the simulator's network. What the
 * tests see is the order that ships: messages that claim nothing and the events at once, the
 * incarnation durable before the messages that claim it, then the links, then `advance`.
 *
 * PAUSES: a paused node's clock holds its timers (sim-clock.ts), what is sent to it waits
 * (bounded), and a write completing meanwhile reports only when it runs again. On resume the
 * write reports first, then the clock fires the tick timer due, and the host catches up the
 * ticks missed (capped, as in production), then the waiting messages are stepped: its timers fire
 * before it reads its mail, which is how a throttled tab that wakes accuses members before it
 * hears from them (Lifeguard §I, the slow prober).
 *
 * LIVES: a crash stops the host and the clock and loses the write in flight; `start` boots a new
 * engine from the disk (`GossipBoot`) and joins through the seeds given.
 *
 * OBSERVING: the engine is wrapped (`ObservedEngine`) only to see each Ready as the host takes it
 * (the links it sets, for the links checker); everything else is seen through the host's own
 * callbacks and the messages on the wire.
 */
import { createPrng, type Prng } from '../../core/prng.ts';
import { gossipDefaults, type GossipConfig } from '../../core/gossip/config.ts';
import type { GossipEvent } from '../../core/gossip/events.ts';
import { GossipNode } from '../../core/gossip/gossip-node.ts';
import type { GossipBoot, SelfState } from '../../core/gossip/membership.ts';
import { GossipRefusedError, type GossipLocalInput, type GossipStepAccepted, type GossipStepRefused } from '../../core/gossip/local-input.ts';
import type { GossipMessage, Piggyback } from '../../core/gossip/messages.ts';
import type { CrdtTypeName, CrdtValues } from '../../core/crdt/crdt-types.ts';
import { err, type Result } from '../../core/result.ts';
import type { GossipReady } from '../../core/gossip/ready.ts';
import { GossipHost } from '../../runtime/gossip-host.ts';
import type { Distribution } from '../distributions.ts';
import type { Network } from '../network.ts';
import type { Scheduler } from '../scheduler.ts';
import { SimClock } from '../sim-clock.ts';
import { GossipDisk } from './gossip-disk.ts';
import type { GossipSabotage } from './gossip-sabotage.ts';

/** What the checkers and the run see of a node, as it happens. */
export interface GossipNodeObserver {
  /** A new life began (the engine is fresh, booted from the disk). */
  onStart(node: GossipSimNode): void;
  /** `m` leaves `node` now; `rd` is the Ready being handled (null: not from a Ready, a sabotage's). */
  onSend(node: GossipSimNode, m: GossipMessage, rd: GossipReady | null): void;
  onEvents(node: GossipSimNode, events: readonly GossipEvent[]): void;
  /** A write (incarnation, CRDTs) began; it completes at `completesAtUs` unless a crash comes first. */
  onWriteBegin?(node: GossipSimNode, completesAtUs: number): void;
  /** The oldest write of `node` in flight is durable. */
  onWriteDurable?(node: GossipSimNode): void;
  /** The host stopped on an exception from the engine or a refused write: a bug. */
  onFail(node: GossipSimNode, error: unknown): void;
}

export type GossipTimings = Omit<GossipConfig, 'id' | 'prng'>;

export interface GossipSimNodeOptions {
  readonly id: string;
  readonly scheduler: Scheduler;
  /** The run's PRNG: each life's engine PRNG is seeded from it. */
  readonly prng: Prng;
  readonly network: Network<GossipMessage>;
  readonly config: GossipTimings;
  /** Wall milliseconds of one tick on this node's clock (10, as the runtime). */
  readonly tickMs: number;
  /** This node's clock runs this much slower than virtual time (1 + drift). */
  readonly clockRate: number;
  readonly storageLatency: Distribution;
  readonly observer: GossipNodeObserver;
  readonly sabotage: ReadonlySet<GossipSabotage>;
  readonly catchUpTicksMax: number;
  /** Bound on messages waiting for a paused node; more are dropped. */
  readonly heldMax: number;
}

/** The engine, seen as the host takes each Ready. */
class ObservedEngine extends GossipNode {
  constructor(
    config: GossipConfig,
    boot: GossipBoot,
    private readonly seen: (rd: GossipReady) => void,
  ) {
    super(config, boot);
  }

  override ready(): GossipReady {
    const rd = super.ready();
    this.seen(rd);
    return rd;
  }
}

export class GossipSimNode {
  readonly id: string;
  readonly disk: GossipDisk;
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
  /** The links this node holds (the last `linksWanted` the host reported). */
  links: ReadonlySet<string> = new Set();
  /** Messages dropped because a paused node's wait list was full. */
  heldDropped = 0;
  private host: GossipHost | null = null;
  private clock: SimClock | null = null;
  private handler: ((m: GossipMessage) => void) | null = null;
  private held: GossipMessage[] = [];
  /** The Ready the host handles now (the last one it took). */
  private current: GossipReady | null = null;
  private ticksSinceRogue = 0;

  constructor(private readonly o: GossipSimNodeOptions) {
    this.id = o.id;
    this.disk = new GossipDisk({
      scheduler: o.scheduler,
      prng: o.prng,
      latency: o.storageLatency,
      forgetful: o.sabotage.has('forget-incarnation'),
      forgetsCrdts: o.sabotage.has('forget-crdts'),
      ackAtBegin: o.sabotage.has('send-before-durable'),
      onWriteBegin: (completesAtUs) => this.o.observer.onWriteBegin?.(this, completesAtUs),
      onWriteDurable: () => this.o.observer.onWriteDurable?.(this),
    });
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
    this.held = [];
    this.current = null;
    this.links = new Set();
    this.selfState = 'joining';
    this.lifeFirstIncarnation = -1;
    const o = this.o;
    const config: GossipConfig = {
      ...o.config,
      ...(o.sabotage.has('never-declare-dead') ? { suspicionMinTicks: 1e9, suspicionMaxTicks: 1e9 } : {}),
      ...(o.sabotage.has('greedy-mesh') ? greedy(o.config) : {}),
      id: this.id,
      prng: createPrng(o.prng.nextUint32()),
    };
    const engine = new ObservedEngine(config, { incarnation: this.disk.incarnation, crdts: this.disk.crdts() }, (rd) => {
      this.current = rd;
    });
    const clock = new SimClock(o.scheduler, o.clockRate);
    this.engine = engine;
    this.clock = clock;
    const life = this.life;
    this.host = new GossipHost({
      engine,
      link: { send: (m) => this.send(m), onMessage: (h) => (this.handler = h) },
      writes: this.disk.sink(),
      clock,
      tickMs: o.tickMs,
      maxCatchUpTicks: o.catchUpTicksMax,
      onEvent: (e) => this.takeEvent(e),
      onLinksWanted: (peers) => (this.links = new Set(peers)),
      onTicked: () => this.onTicked(),
      fail: (error) => {
        if (life !== this.life) return;
        this.crash();
        o.observer.onFail(this, error);
      },
    });
    o.observer.onStart(this);
    this.host.start(seeds);
  }

  /** The memory is gone; a write in flight is lost. */
  crash(): void {
    this.host?.stop();
    this.clock?.stop();
    this.host = null;
    this.clock = null;
    this.handler = null;
    this.engine = null;
    this.disk.crash();
    this.paused = false;
    this.held = [];
    this.current = null;
    this.links = new Set();
  }

  leave(): void {
    this.host?.leave();
  }

  /** Join again after a leave (same engine, a new incarnation), through the host as a page would. */
  rejoin(seeds: readonly string[]): void {
    const r = this.stepLocal({ local: 'join', seeds });
    if (!r.ok) throw r.error;
  }

  /** A local request through the host (join, CRDT updates): a refusal is answered, never thrown. */
  stepLocal(input: GossipLocalInput): Result<GossipStepAccepted, GossipStepRefused> {
    const host = this.host;
    if (host === null) return err(new GossipRefusedError('incarnation-exhausted', `${this.id} is down`, 'STOPPED'));
    return host.stepLocal(input);
  }

  /** The value of a CRDT here (its empty value when not held); undefined when down. */
  crdtValue<N extends CrdtTypeName>(name: string, crdt: N): CrdtValues[N] | undefined {
    return this.host?.crdtValue(name, crdt);
  }

  pause(): void {
    if (this.engine === null || this.paused) return;
    this.paused = true;
    this.clock?.pause();
    this.disk.pause();
  }

  resume(): void {
    if (this.engine === null || !this.paused) return;
    this.paused = false;
    this.disk.release();
    this.clock?.resume();
    const held = this.held;
    this.held = [];
    for (const m of held) this.deliver(m);
  }

  /** A message from the network. */
  deliver(m: GossipMessage): void {
    if (this.engine === null || this.handler === null) return;
    if (this.paused) {
      if (this.held.length >= this.o.heldMax) this.heldDropped++;
      else this.held.push(m);
      return;
    }
    this.handler(this.filterInbound(m));
  }

  private send(m: GossipMessage): void {
    this.o.observer.onSend(this, m, this.current);
    this.o.network.send(m.from, m.to, m);
  }

  private takeEvent(e: GossipEvent): void {
    if (e.kind === 'member-changed' && e.member === this.id && e.state !== 'suspect' && e.state !== 'dead') {
      if (e.state === 'alive' && this.selfState !== 'alive') this.aliveSinceUs = this.o.scheduler.nowUs;
      this.selfState = e.state;
      this.selfIncarnation = e.incarnation;
      if (this.lifeFirstIncarnation < 0) this.lifeFirstIncarnation = e.incarnation;
    }
    this.o.observer.onEvents(this, [e]);
  }

  /** The sabotages that change what the engine hears. */
  private filterInbound(m: GossipMessage): GossipMessage {
    const s = this.o.sabotage;
    if (s.has('drop-merges') && m.type === 'crdt-states') return { ...m, states: [] };
    if (s.has('drop-merges') && m.type === 'crdt-push') return { ...m, deltas: m.deltas.filter(() => this.o.prng.nextInt(2) === 0) };
    if (!(s.has('never-refute') || s.has('never-declare-dead'))) return m;
    if (m.type !== 'ping' && m.type !== 'ack' && m.type !== 'ping-req' && m.type !== 'push') return m;
    const keep = (u: Piggyback): boolean => !(s.has('never-refute') && u.member === this.id && u.kind !== 'alive') && !(s.has('never-declare-dead') && u.kind === 'dead');
    return { ...m, updates: m.updates.filter(keep) };
  }

  /** Sabotage `rogue-probe`: once a period, ping a live member this node holds no link to. */
  private onTicked(): void {
    const engine = this.engine;
    if (engine === null || !this.o.sabotage.has('rogue-probe')) return;
    if (++this.ticksSinceRogue < engine.config().probeIntervalTicks) return;
    this.ticksSinceRogue = 0;
    const strangers = engine
      .status()
      .members.filter((m) => m.state === 'alive' && !this.links.has(m.id))
      .map((m) => m.id);
    if (strangers.length === 0) return;
    const to = strangers[this.o.prng.nextInt(strangers.length)] as string;
    const ping: GossipMessage = { type: 'ping', from: this.id, to, seq: 1, mesh: false, updates: [] };
    this.o.observer.onSend(this, ping, null);
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
