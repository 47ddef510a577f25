/**
 * The dissemination queue (SWIM §4.1, "infection-style dissemination"; memberlist's
 * TransmitLimitedQueue): what this node has to tell others, piggybacked on every message it
 * sends anyway. Each item is sent at most `transmitsMax` times in all (λ·⌈log10(n + 1)⌉,
 * computed by the caller from the current n), which SWIM shows reaches every member with high
 * probability while each member's load stays constant per period.
 *
 * - Order: fewest transmits first, then newest first. A fresh item has spread least, and among
 *   equals the newer one is likelier to supersede what others hold.
 * - Keys: a new item replaces a queued one of the same key (a newer state of the same member
 *   makes the older one useless: "invalidation"), and starts its count again.
 * - Bounds: at most `itemsMax` items; when full, the item sent most (oldest among equals) is
 *   dropped, as it is the one others most likely already have. Selection packs items under a
 *   count and a byte bound, skipping an item that does not fit for smaller ones after it.
 *
 * Generic in the payload: membership updates use keys `m:<member>`; the data plane will queue
 * its deltas under its own keys in the same queue, so one piggyback budget serves both.
 */
import { assert } from '../assert.ts';

interface Item<P> {
  readonly key: string;
  readonly payload: P;
  readonly bytes: number;
  transmits: number;
  /** Insertion order: higher is newer. */
  readonly order: number;
}

export interface TakeLimits<P> {
  /** Drop an item once it has been sent this many times. */
  readonly transmitsMax: number;
  readonly countMax: number;
  readonly bytesMax: number;
  /** Items not to send in this message (still counted as not sent). */
  readonly skip?: (payload: P) => boolean;
}

export class BroadcastQueue<P> {
  private readonly items = new Map<string, Item<P>>();
  private nextOrder = 0;

  constructor(private readonly itemsMax: number) {
    assert(itemsMax >= 1, 'broadcast queue bound must be positive');
  }

  get size(): number {
    return this.items.size;
  }

  /** Items never sent yet. */
  freshCount(): number {
    let n = 0;
    for (const item of this.items.values()) if (item.transmits === 0) n++;
    return n;
  }

  /** Queue `payload` under `key`, replacing any item of that key. Returns whether an item was evicted for room. */
  enqueue(key: string, payload: P, bytes: number): boolean {
    assert(bytes >= 0, 'negative broadcast size');
    let evicted = false;
    if (!this.items.delete(key) && this.items.size >= this.itemsMax) {
      this.evictMostSent();
      evicted = true;
    }
    this.items.set(key, { key, payload, bytes, transmits: 0, order: this.nextOrder++ });
    return evicted;
  }

  /** Forget the item of `key`, if any. */
  drop(key: string): void {
    this.items.delete(key);
  }

  /** The queued payload of `key`, if any (tests, and the buddy system's "already queued" check). */
  peek(key: string): P | undefined {
    return this.items.get(key)?.payload;
  }

  /** Transmits so far of the item of `key`, or -1 when none is queued. */
  transmitsOf(key: string): number {
    return this.items.get(key)?.transmits ?? -1;
  }

  /**
   * Items for one message, in queue order within `countMax` and `bytesMax`; each counts one
   * transmit, and leaves the queue at `transmitsMax`.
   */
  take(limits: TakeLimits<P>): P[] {
    if (this.items.size === 0 || limits.countMax <= 0) return [];
    const ordered = [...this.items.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order);
    const out: P[] = [];
    let bytes = 0;
    for (const item of ordered) {
      if (out.length >= limits.countMax) break;
      if (bytes + item.bytes > limits.bytesMax) continue;
      if (limits.skip?.(item.payload) === true) continue;
      out.push(item.payload);
      bytes += item.bytes;
      item.transmits++;
      if (item.transmits >= limits.transmitsMax) this.items.delete(item.key);
    }
    return out;
  }

  private evictMostSent(): void {
    let worst: Item<P> | null = null;
    for (const item of this.items.values()) {
      if (worst === null || item.transmits > worst.transmits || (item.transmits === worst.transmits && item.order < worst.order)) worst = item;
    }
    if (worst !== null) this.items.delete(worst.key);
  }
}

/** SWIM §4.1's retransmit limit, λ·⌈log10(n + 1)⌉ (memberlist's choice of base), at least 1. */
export function retransmitLimit(retransmitMult: number, members: number): number {
  return Math.max(1, retransmitMult * Math.ceil(Math.log10(members + 1)));
}
