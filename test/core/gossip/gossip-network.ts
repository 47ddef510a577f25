/**
 * A tiny deterministic network of gossip engines for the tests of test/core/gossip: one seed
 * drives every node's PRNG and the network's loss and delay. Each node's Readies are handled at
 * once in the contract's order (wanted links noted, messages that may leave sent, events
 * recorded, the incarnation and CRDTs "written" to disk maps, the other messages sent, `advance`). Messages travel `delayTicks` (a random
 * whole number in [delayMin, delayMax]) and are lost with probability `loss`.
 *
 * Faults: a `crashed` node neither ticks nor receives (its messages in flight are lost); a
 * `paused` node neither ticks nor receives, but what is sent to it waits and is delivered when it
 * resumes, as to a tab whose timers the browser throttled; `cut(a, b)` drops everything between
 * two nodes; a `muted` node's messages are all lost, and so are those sent to a `deaf` one.
 */
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import type { GossipConfig } from '../../../src/core/gossip/config.ts';
import type { GossipEvent } from '../../../src/core/gossip/events.ts';
import { GossipNode } from '../../../src/core/gossip/gossip-node.ts';
import type { GossipMessage } from '../../../src/core/gossip/messages.ts';
import type { PersistedCrdt } from '../../../src/core/gossip/crdt-store.ts';

export type Options = Omit<Partial<GossipConfig>, 'id' | 'prng'>;

/** Small timings so that tests run in few ticks: a period of 10 ticks, a probe timeout of 4. */
export const fastTimings: Options = {
  probeIntervalTicks: 10,
  probeTimeoutTicks: 4,
  suspicionMinTicks: 30,
  suspicionMaxTicks: 120,
  meshHeartbeatTicks: 10,
  meshBackoffTicks: 100,
  syncIntervalTicks: 200,
  joinRetryTicks: 10,
  deadRetainTicks: 1000,
  phiMinStdDevTicks: 2,
};

export interface NetworkOptions {
  readonly seed?: number;
  readonly loss?: number;
  readonly delayMin?: number;
  readonly delayMax?: number;
  readonly config?: Options;
}

interface InFlight {
  readonly at: number;
  readonly m: GossipMessage;
}

export interface Sent {
  readonly tick: number;
  readonly m: GossipMessage;
  /** Whether the receiver was among the links the sender wanted when it sent (its Ready's `linksWanted`). */
  readonly linked: boolean;
}

export class GossipNetwork {
  readonly nodes = new Map<string, GossipNode>();
  /** Incarnations "written to disk" by each node's Readies. */
  readonly disk = new Map<string, number>();
  /** CRDTs "written to disk" by each node's Readies (`crdts`), by node then `<type>/<name>`. */
  readonly crdtDisk = new Map<string, Map<string, PersistedCrdt>>();
  readonly events = new Map<string, { tick: number; e: GossipEvent }[]>();
  readonly links = new Map<string, readonly string[]>();
  readonly crashed = new Set<string>();
  readonly paused = new Set<string>();
  readonly muted = new Set<string>();
  /** Nodes that hear nothing (everything sent to them is lost); they still send. */
  readonly deaf = new Set<string>();
  /** Every message handed to the network, in order. */
  readonly sent: Sent[] = [];
  now = 0;
  private readonly cuts = new Set<string>();
  private inFlight: InFlight[] = [];
  private readonly held = new Map<string, GossipMessage[]>();
  private readonly net: Prng;
  private readonly seed: number;

  constructor(private readonly options: NetworkOptions = {}) {
    this.seed = options.seed ?? 1;
    this.net = createPrng(this.seed * 7919 + 1);
  }

  /** Add a node (not joined yet). */
  add(id: string, config: Options = {}): GossipNode {
    const prng = createPrng(this.seed * 1_000_003 + this.nodes.size + 1);
    const crdts = [...(this.crdtDisk.get(id)?.values() ?? [])];
    const node = new GossipNode({ ...fastTimings, ...this.options.config, ...config, id, prng }, { incarnation: this.disk.get(id) ?? 0, crdts });
    this.nodes.set(id, node);
    this.events.set(id, this.events.get(id) ?? []);
    return node;
  }

  node(id: string): GossipNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** n0 alone, then everyone else through `seedsOf` (default: n0), joining at once. */
  static bootstrap(count: number, options: NetworkOptions = {}, seedsOf: (i: number) => string[] = () => ['n0']): GossipNetwork {
    const net = new GossipNetwork(options);
    for (let i = 0; i < count; i++) net.add(`n${i}`);
    net.join('n0', []);
    for (let i = 1; i < count; i++) net.join(`n${i}`, seedsOf(i));
    return net;
  }

  join(id: string, seeds: readonly string[]): void {
    const r = this.node(id).step({ local: 'join', seeds });
    if (!r.ok) throw r.error;
    this.flush(id);
  }

  leave(id: string): void {
    this.node(id).step({ local: 'leave' });
    this.flush(id);
  }

  /** Restart a crashed node from its disk: a new engine, booted with the incarnation it persisted. */
  restart(id: string, seeds: readonly string[]): GossipNode {
    this.crashed.delete(id);
    const node = this.add(id);
    this.join(id, seeds);
    return node;
  }

  cut(a: string, b: string): void {
    this.cuts.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  heal(): void {
    this.cuts.clear();
    this.muted.clear();
    this.deaf.clear();
  }

  resume(id: string): void {
    this.paused.delete(id);
    const held = this.held.get(id) ?? [];
    this.held.delete(id);
    for (const m of held) this.deliver(m);
    this.flush(id);
  }

  /** Run `ticks` ticks: deliver what is due, tick every running node, handle Readies. */
  run(ticks: number): void {
    for (let t = 0; t < ticks; t++) this.step();
  }

  /** Run until `done` holds (checked each tick) or `ticksMax` pass; returns the ticks taken, or -1. */
  runUntil(done: () => boolean, ticksMax: number): number {
    for (let t = 0; t < ticksMax; t++) {
      if (done()) return t;
      this.step();
    }
    return done() ? ticksMax : -1;
  }

  private step(): void {
    this.now++;
    const due = this.inFlight.filter((f) => f.at <= this.now);
    this.inFlight = this.inFlight.filter((f) => f.at > this.now);
    for (const f of due) this.deliver(f.m);
    for (const [id, node] of this.nodes) {
      if (this.crashed.has(id) || this.paused.has(id)) continue;
      node.tick();
      this.flush(id);
    }
  }

  private deliver(m: GossipMessage): void {
    const node = this.nodes.get(m.to);
    if (node === undefined || this.crashed.has(m.to)) return;
    if (this.paused.has(m.to)) {
      const held = this.held.get(m.to) ?? [];
      held.push(m);
      this.held.set(m.to, held);
      return;
    }
    node.step(m);
    this.flush(m.to);
  }

  /** Handle every Ready of `id` in the contract's order. */
  flush(id: string): void {
    const node = this.node(id);
    while (node.hasReady()) {
      const rd = node.ready();
      if (rd.linksWanted !== null) this.links.set(id, rd.linksWanted);
      for (const m of rd.messagesBeforeWrite) this.send(m);
      const log = this.events.get(id) as { tick: number; e: GossipEvent }[];
      for (const e of rd.events) log.push({ tick: this.now, e });
      if (rd.incarnation !== null) this.disk.set(id, rd.incarnation);
      if (rd.crdts.length > 0) {
        const disk = this.crdtDisk.get(id) ?? new Map<string, PersistedCrdt>();
        for (const c of rd.crdts) disk.set(`${c.crdt}/${c.name}`, c);
        this.crdtDisk.set(id, disk);
      }
      for (const m of rd.messagesAfterWrite) this.send(m);
      node.advance();
    }
  }

  /**
   * `id` crashes inside the write of its next Ready: what may leave before the write leaves (and
   * its events are recorded), the write never completes, and the node is crashed.
   */
  crashInWrite(id: string): void {
    const node = this.node(id);
    if (node.hasReady()) {
      const rd = node.ready();
      for (const m of rd.messagesBeforeWrite) this.send(m);
    }
    this.crashed.add(id);
  }

  private send(m: GossipMessage): void {
    this.sent.push({ tick: this.now, m, linked: this.links.get(m.from)?.includes(m.to) ?? false });
    if (this.muted.has(m.from) || this.deaf.has(m.to) || this.cuts.has(`${m.from}|${m.to}`)) return;
    const loss = this.options.loss ?? 0;
    if (loss > 0 && this.net.nextFloat() < loss) return;
    const min = this.options.delayMin ?? 1;
    const max = this.options.delayMax ?? 1;
    this.inFlight.push({ at: this.now + min + this.net.nextInt(max - min + 1), m });
  }

  // ---- views -------------------------------------------------------------------------------------

  /** Ids of nodes running (not crashed), sorted. */
  running(): string[] {
    return [...this.nodes.keys()].filter((id) => !this.crashed.has(id)).sort();
  }

  /** The state `viewer` holds of `member`, or undefined when it does not know it. */
  stateOf(viewer: string, member: string): string | undefined {
    return this.node(viewer).member(member)?.state;
  }

  /** Whether every running node knows every other running node as alive. */
  allAlive(): boolean {
    const ids = this.running().filter((id) => !this.paused.has(id));
    return ids.every((v) => ids.every((m) => m === v || this.stateOf(v, m) === 'alive'));
  }

  /** Events of `kind` about `member` seen by any node, with who saw them. */
  eventsAbout(member: string): { viewer: string; tick: number; e: GossipEvent }[] {
    const out: { viewer: string; tick: number; e: GossipEvent }[] = [];
    for (const [viewer, log] of this.events) for (const { tick, e } of log) if (e.kind !== 'crdt-changed' && e.member === member) out.push({ viewer, tick, e });
    return out;
  }
}
