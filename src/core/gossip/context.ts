/**
 * What every component of a gossip node shares: the configuration, the PRNG, logical time, the
 * outbox, the events for the host, the counters, and the ONE dissemination queue. The membership
 * component (membership.ts) uses it today; the replication data plane will be a second component
 * on the same context, queueing its deltas beside the membership updates so that both ride the
 * same piggyback budget, and sending through the same bounded outbox.
 */
import type { Prng } from '../prng.ts';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.ts';
import type { ResolvedGossipConfig } from './config.ts';
import { createGossipCounters, type GossipCounters } from './counters.ts';
import type { GossipEvent } from './events.ts';
import { piggybackKey, updateBytesEstimate, type GossipMessage, type Piggyback } from './messages.ts';
import { gossipRefusalCodes } from './validate-gossip.ts';

export class GossipContext {
  /** Logical time: ticks since the node was created. */
  now = 0;
  /** Messages for the next Ready; bounded by `outboxMessagesMax` (gossip tolerates loss; a full outbox drops). */
  outbox: GossipMessage[] = [];
  /** Events for the next Ready; bounded by `eventsPendingMax`, oldest dropped first. */
  events: GossipEvent[] = [];
  readonly counters: GossipCounters = createGossipCounters(gossipRefusalCodes);
  readonly queue: BroadcastQueue<Piggyback>;
  /**
   * The replica id this life of the node mints its CRDT dots and counter entries under (not its
   * member id after a restart: gossip-node.ts, `replicaOfLife`, says why). Set once by the engine
   * before any update.
   */
  replica: string;

  constructor(
    readonly cfg: ResolvedGossipConfig,
    readonly prng: Prng,
  ) {
    this.queue = new BroadcastQueue(cfg.broadcastQueueMax);
    this.replica = cfg.id;
  }

  get self(): string {
    return this.cfg.id;
  }

  send(m: GossipMessage): void {
    if (this.outbox.length >= this.cfg.outboxMessagesMax) {
      this.counters.messagesDropped++;
      return;
    }
    this.outbox.push(m);
  }

  emit(e: GossipEvent): void {
    if (this.events.length >= this.cfg.eventsPendingMax) {
      this.events.shift();
      this.counters.eventsDropped++;
    }
    this.events.push(e);
  }

  /** Queue a piggyback for dissemination (a newer item of its key replaces the older). */
  broadcast(item: Piggyback): void {
    if (this.queue.enqueue(piggybackKey(item), item, updateBytesEstimate(item))) this.counters.broadcastsEvicted++;
  }

  /**
   * Piggybacks for one outgoing message: the queue's freshest within the per-message count and
   * byte bounds, each retransmitted at most λ·⌈log10(n + 1)⌉ times for `members` = n (SWIM §4.1).
   * `first` (the buddy system's suspicion, Lifeguard §IV-C) goes ahead of them and outside the
   * retransmit count: it is for this receiver in particular.
   */
  piggyback(members: number, first: Piggyback | null = null): Piggyback[] {
    const cfg = this.cfg;
    const out: Piggyback[] = [];
    let bytesMax = cfg.piggybackBytesPerMessageMax;
    if (first !== null) {
      out.push(first);
      bytesMax -= updateBytesEstimate(first);
    }
    const limits = {
      transmitsMax: retransmitLimit(cfg.retransmitMult, members),
      countMax: cfg.piggybackPerMessageMax - out.length,
      bytesMax,
    };
    // A queued update about the buddy's member would contradict or repeat the one in front.
    const rest = this.queue.take(first === null ? limits : { ...limits, skip: (p: Piggyback) => p.member === first.member });
    for (const p of rest) out.push(p);
    return out;
  }
}
