/**
 * A simulated network between endpoints (node ids, client ids). Each message is, in this order:
 *
 *   1. dropped if its directed link is blocked by a partition (symmetric partitions block both
 *      directions, asymmetric ones a single direction);
 *   2. dropped if the link already has `queuedPerLinkMax` messages in flight (a bounded queue,
 *      like a data channel's buffer: a sender that outruns the link loses messages);
 *   3. lost with probability `lossRate`;
 *   4. otherwise delivered after a delay drawn from `delay`; with probability `duplicateRate` a
 *      second copy is delivered after its own independent delay.
 *
 * Independent random delays reorder messages on one link, as an unordered datagram transport
 * would; that is harsher than a WebRTC data channel in ordered mode, and what Raft must survive.
 * A link blocked while a message is in flight also drops it on arrival (the partition cut the
 * path). Whether the receiver is up is the receiver's business, not the network's.
 *
 * Every random draw comes from the run's PRNG, so one seed gives one delivery trace.
 */
import type { Prng } from '../core/prng.ts';
import { chance, describe, sample, type Distribution } from './distributions.ts';
import type { Scheduler } from './scheduler.ts';

export interface NetworkFaults {
  /** Probability that a message is lost, in [0, 1]. */
  readonly lossRate: number;
  /** Probability that a delivered message is delivered twice, in [0, 1]. */
  readonly duplicateRate: number;
  /** One-way delay of each copy. */
  readonly delay: Distribution;
}

export interface NetworkOptions extends NetworkFaults {
  /** Bound on messages in flight on one directed link; more are dropped. */
  readonly queuedPerLinkMax: number;
  /** Record a trace of every send and its fate (tests of determinism); off by default. */
  readonly recordTrace?: boolean;
  /** Bound on the recorded trace. */
  readonly traceEventsMax?: number;
}

/** A set of blocked directed links, healed together. */
export interface Cut {
  readonly links: readonly string[];
}

export type TraceFate = 'deliver' | 'lost' | 'blocked' | 'overflow' | 'cut';

export interface TraceEvent {
  readonly timeUs: number;
  readonly from: string;
  readonly to: string;
  readonly fate: TraceFate;
  /** The sequence number of the send this event belongs to (copies share it). */
  readonly sendSeq: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  blocked: number;
  overflowed: number;
  /** In flight when their link got blocked. */
  cut: number;
}

export type DeliverFn<T> = (from: string, to: string, payload: T) => void;

const traceEventsMaxDefault = 100_000;

export class Network<T> {
  private faults: NetworkFaults;
  private readonly queuedPerLinkMax: number;
  /** Directed links that are blocked, as `from \u0000 to`, with the number of cuts holding each. */
  private readonly blocked = new Map<string, number>();
  private readonly cuts = new Set<Cut>();
  private readonly inFlight = new Map<string, number>();
  /** Extra one-way delay on slow links (a congested path), by link. */
  private readonly slowUs = new Map<string, number>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, blocked: 0, overflowed: 0, cut: 0 };
  readonly trace: TraceEvent[] = [];
  private readonly recordTrace: boolean;
  private readonly traceEventsMax: number;
  private sendSeq = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    options: NetworkOptions,
    private readonly deliver: DeliverFn<T>,
  ) {
    if (!(options.lossRate >= 0 && options.lossRate <= 1)) throw new RangeError('lossRate must be in [0, 1]');
    if (!(options.duplicateRate >= 0 && options.duplicateRate <= 1)) throw new RangeError('duplicateRate must be in [0, 1]');
    if (!(Number.isSafeInteger(options.queuedPerLinkMax) && options.queuedPerLinkMax > 0)) {
      throw new RangeError('queuedPerLinkMax must be a positive integer');
    }
    this.faults = { lossRate: options.lossRate, duplicateRate: options.duplicateRate, delay: options.delay };
    this.queuedPerLinkMax = options.queuedPerLinkMax;
    this.recordTrace = options.recordTrace ?? false;
    this.traceEventsMax = options.traceEventsMax ?? traceEventsMaxDefault;
  }

  /** Change loss, duplication and delay from now on (messages in flight keep their delays). */
  setFaults(faults: NetworkFaults): void {
    this.faults = faults;
  }

  getFaults(): NetworkFaults {
    return this.faults;
  }

  describeFaults(): string {
    const f = this.faults;
    return `loss ${(f.lossRate * 100).toFixed(1)}%, dup ${(f.duplicateRate * 100).toFixed(1)}%, delay ${describe(f.delay)}`;
  }

  /**
   * Block every link from a member of `from` to a member of `to` (one direction only). Returns
   * the cut, to be healed on its own with `heal`; cuts may overlap (a link stays blocked while
   * any cut holds it).
   */
  blockOneWay(from: readonly string[], to: readonly string[]): Cut {
    return this.addCut(directedLinks(from, to));
  }

  /** A symmetric partition: nothing crosses between `sideA` and `sideB`. */
  partition(sideA: readonly string[], sideB: readonly string[]): Cut {
    return this.addCut([...directedLinks(sideA, sideB), ...directedLinks(sideB, sideA)]);
  }

  private addCut(links: readonly string[]): Cut {
    for (const l of links) this.blocked.set(l, (this.blocked.get(l) ?? 0) + 1);
    const cut: Cut = { links };
    this.cuts.add(cut);
    return cut;
  }

  /** Cut `node` off from every endpoint in `others`, both ways. */
  isolate(node: string, others: readonly string[]): Cut {
    return this.partition([node], others);
  }

  /** Remove one cut (a no-op if it was already healed). */
  heal(cut: Cut): void {
    if (!this.cuts.delete(cut)) return;
    for (const l of cut.links) {
      const n = (this.blocked.get(l) ?? 1) - 1;
      if (n <= 0) this.blocked.delete(l);
      else this.blocked.set(l, n);
    }
  }

  /**
   * Make the links from `from` to `to` slow: every copy sent on them takes `extraUs` longer.
   * Returns the function that makes them normal again.
   */
  slow(from: readonly string[], to: readonly string[], extraUs: number): () => void {
    const links = directedLinks(from, to);
    for (const key of links) this.slowUs.set(key, extraUs);
    return () => {
      for (const key of links) if (this.slowUs.get(key) === extraUs) this.slowUs.delete(key);
    };
  }

  /** Remove every cut. */
  healPartitions(): void {
    this.blocked.clear();
    this.cuts.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.size > 0 && this.blocked.has(linkKey(from, to));
  }

  get blockedLinkCount(): number {
    return this.blocked.size;
  }

  send(from: string, to: string, payload: T): void {
    const seq = this.sendSeq++;
    this.stats.sent++;
    if (this.isBlocked(from, to)) {
      this.stats.blocked++;
      this.record(from, to, 'blocked', seq);
      return;
    }
    const key = linkKey(from, to);
    const queued = this.inFlight.get(key) ?? 0;
    if (queued >= this.queuedPerLinkMax) {
      this.stats.overflowed++;
      this.record(from, to, 'overflow', seq);
      return;
    }
    if (chance(this.prng, this.faults.lossRate)) {
      this.stats.lost++;
      this.record(from, to, 'lost', seq);
      return;
    }
    const copies = chance(this.prng, this.faults.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) this.schedule(from, to, key, payload, seq);
  }

  private schedule(from: string, to: string, key: string, payload: T, seq: number): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    const delayUs = sample(this.prng, this.faults.delay) + (this.slowUs.size > 0 ? (this.slowUs.get(key) ?? 0) : 0);
    this.scheduler.after(delayUs, () => {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      if (this.isBlocked(from, to)) {
        this.stats.cut++;
        this.record(from, to, 'cut', seq);
        return;
      }
      this.stats.delivered++;
      this.record(from, to, 'deliver', seq);
      this.deliver(from, to, payload);
    });
  }

  private record(from: string, to: string, fate: TraceFate, sendSeq: number): void {
    if (!this.recordTrace || this.trace.length >= this.traceEventsMax) return;
    this.trace.push({ timeUs: this.scheduler.nowUs, from, to, fate, sendSeq });
  }
}

function directedLinks(from: readonly string[], to: readonly string[]): string[] {
  const links: string[] = [];
  for (const a of from) for (const b of to) if (a !== b) links.push(linkKey(a, b));
  return links;
}

function linkKey(from: string, to: string): string {
  return from + '\u0000' + to;
}
