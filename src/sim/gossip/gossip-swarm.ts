/**
 * A simulated swarm: the scheduler, the network and the nodes (gossip-sim-node.ts) of one seed,
 * and the few things every user of them does (create a node, pick seeds for a join, run virtual
 * time until something holds). The seeded simulation (gossip-simulation.ts) adds the nemesis and
 * the checkers on top; the benchmark (bench/gossip.ts) adds its measurements.
 */
import type { GossipMessage } from '../../core/gossip/messages.ts';
import { createPrng, type Prng } from '../../core/prng.ts';
import type { Distribution } from '../distributions.ts';
import { Network } from '../network.ts';
import { Scheduler } from '../scheduler.ts';
import type { GossipSabotage } from './gossip-sabotage.ts';
import { GossipSimNode, type GossipNodeObserver, type GossipTimings } from './gossip-sim-node.ts';

/** One engine tick in virtual microseconds: the runtime ticks every 10 ms. */
export const gossipTickUs = 10_000;

export interface GossipSwarmOptions {
  readonly seed: number;
  readonly config: GossipTimings;
  readonly delay: Distribution;
  readonly storageLatency: Distribution;
  readonly clockDriftMax: number;
  readonly observer: GossipNodeObserver;
  readonly sabotage?: ReadonlySet<GossipSabotage>;
  /** Ticks a node catches up at most after a pause (the runtime caps them too). */
  readonly catchUpTicksMax: number;
  readonly queuedPerLinkMax?: number;
  readonly heldMessagesMax?: number;
}

export class GossipSwarm {
  readonly scheduler = new Scheduler();
  readonly prng: Prng;
  readonly net: Network<GossipMessage>;
  /** Every node ever created, in creation order. */
  readonly nodes: GossipSimNode[] = [];
  private readonly byId = new Map<string, GossipSimNode>();
  private readonly sabotage: ReadonlySet<GossipSabotage>;

  constructor(private readonly o: GossipSwarmOptions) {
    this.prng = createPrng(o.seed);
    this.sabotage = o.sabotage ?? new Set();
    this.net = new Network<GossipMessage>(this.scheduler, this.prng, { lossRate: 0, duplicateRate: 0, delay: o.delay, queuedPerLinkMax: o.queuedPerLinkMax ?? 1024 }, (_from, to, m) =>
      this.byId.get(to)?.deliver(m),
    );
  }

  get nowUs(): number {
    return this.scheduler.nowUs;
  }

  node(id: string): GossipSimNode | undefined {
    return this.byId.get(id);
  }

  /** Members now: up, running, joined. */
  members(): GossipSimNode[] {
    return this.nodes.filter((n) => n.member);
  }

  /** A new node `n<k>` (not started). */
  createNode(): GossipSimNode {
    const id = `n${this.nodes.length + 1}`;
    const drift = 1 + (this.prng.nextFloat() * 2 - 1) * this.o.clockDriftMax;
    const node = new GossipSimNode({
      id,
      scheduler: this.scheduler,
      prng: this.prng,
      network: this.net,
      config: this.o.config,
      tickMs: gossipTickUs / 1000,
      clockRate: drift,
      storageLatency: this.o.storageLatency,
      observer: this.o.observer,
      sabotage: this.sabotage,
      catchUpTicksMax: this.o.catchUpTicksMax,
      heldMax: this.o.heldMessagesMax ?? 4096,
    });
    this.nodes.push(node);
    this.byId.set(id, node);
    return node;
  }

  /**
   * Seeds for a (re)join: two ids the node knows of (any node of the swarm, up or not, as a host
   * remembers its peers from an earlier run) and one current member (as a signaling server
   * lists who is online).
   */
  seedsFor(node: GossipSimNode): string[] {
    const others = this.nodes.filter((n) => n !== node);
    if (others.length === 0) return [];
    const seeds = new Set<string>();
    for (let i = 0; i < 2; i++) seeds.add((others[this.prng.nextInt(others.length)] as GossipSimNode).id);
    const members = others.filter((n) => n.member);
    if (members.length > 0) seeds.add((members[this.prng.nextInt(members.length)] as GossipSimNode).id);
    return [...seeds].sort();
  }

  /**
   * Run virtual time in steps of `stepUs` until `done()` holds (checked after each step) or
   * `untilUs` passes; returns when it held, or null. Throws when the event budget runs out.
   */
  runUntil(done: () => boolean, untilUs: number, stepUs: number, eventsMax = 50_000_000): number | null {
    while (this.scheduler.nowUs < untilUs) {
      if (done()) return this.scheduler.nowUs;
      if (!this.scheduler.runUntil(Math.min(untilUs, this.scheduler.nowUs + stepUs), eventsMax)) throw new Error('event budget exhausted');
    }
    return done() ? this.scheduler.nowUs : null;
  }
}
