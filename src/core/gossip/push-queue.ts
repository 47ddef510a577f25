/**
 * When pushed deltas leave, and to whom: the data plane's per-neighbour pacing (replication.ts).
 *
 * Each delta to push is queued with its targets, drawn when it is queued: `deltaFanout` random
 * mesh neighbours not known to hold it (the seed design's fanout 3; a fanout of the mesh's size
 * floods the mesh, as gossipsub's eager push does). Each mesh LINK then sends at most one push
 * message per `deltaFlushTicks` (its period), carrying every delta waiting for it: a link idle
 * for a period sends at once, a busy one at the end of its period.
 *
 * Why per link: batching is what keeps messages per update low. With 100 updates per second in
 * a swarm, a busy link carries one message per period however many updates pass through it
 * (Maelstrom's broadcast challenge makes the same trade), and the period is what it costs in
 * latency, at most one period per hop. A quiet swarm pays nothing: its updates find the links
 * idle and leave at once. And each link keeps a phase of its own, so the paths from an update
 * to a member leave at different times, and the first copy to arrive (the one that counts) has
 * waited less than a node-wide flush would make every copy wait.
 *
 * Holders: a delta reaching us from several neighbours while it waits (a flooded mesh brings each
 * update from most of them) need not go back to any of them; each copy's sender is struck from
 * the delta's targets.
 *
 * Bounds: at most `pendingMax` deltas wait (past it the oldest is dropped, counted; anti-entropy
 * repairs), a delta waits at most one period plus one tick (a target that left the mesh never
 * comes due, and its slot must not keep the delta forever), targets at most the mesh's size.
 */
import type { Prng } from '../prng.ts';
import { shuffled } from '../prng.ts';
import type { NodeId } from './types.ts';

/** A delta waiting to be pushed, to the targets not served yet. */
export interface Queued<T> {
  readonly id: number;
  readonly payload: T;
  /** Neighbours it still goes to (struck as it leaves to each, or as a copy comes from one). */
  targets: NodeId[];
  readonly queuedTick: number;
}

export class PushQueue<T> {
  private queue: Queued<T>[] = [];
  private readonly byId = new Map<number, Queued<T>>();
  /** When each link last carried a push (links of the mesh only: pruned as `due` runs). */
  private readonly lastSentTick = new Map<NodeId, number>();

  constructor(
    private readonly prng: Prng,
    private readonly pendingMax: number,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /**
   * Queue `payload` (delta `id`) for `fanout` random neighbours of `mesh` other than `holders`.
   * Returns the number of targets (0: nobody to send it to, nothing queued), and whether an
   * older delta was dropped to make room.
   */
  add(id: number, payload: T, mesh: readonly NodeId[], holders: readonly NodeId[], fanout: number, now: number): { targets: number; dropped: boolean } {
    const targets = shuffled(
      this.prng,
      mesh.filter((p) => !holders.includes(p)),
    ).slice(0, fanout);
    if (targets.length === 0) return { targets: 0, dropped: false };
    let dropped = false;
    if (this.queue.length >= this.pendingMax) {
      const oldest = this.queue.shift();
      if (oldest !== undefined) this.byId.delete(oldest.id);
      dropped = true;
    }
    const q: Queued<T> = { id, payload, targets, queuedTick: now };
    this.queue.push(q);
    this.byId.set(id, q);
    return { targets: targets.length, dropped };
  }

  /** A copy of delta `id` came from `from`: it holds the delta, so it is no target any more. */
  heldBy(id: number, from: NodeId): void {
    const q = this.byId.get(id);
    if (q === undefined) return;
    const at = q.targets.indexOf(from);
    if (at >= 0) q.targets.splice(at, 1);
  }

  /**
   * What leaves at tick `now`, per neighbour: everything waiting for a link that has not carried
   * a push for `periodTicks` (0: every link is free). What is handed out is struck from the queue; deltas with no target
   * left, or older than a period and a tick (a target that left the mesh), are forgotten.
   */
  due(now: number, mesh: readonly NodeId[], periodTicks: number): Map<NodeId, T[]> {
    const out = new Map<NodeId, T[]>();
    for (const peer of this.lastSentTick.keys()) if (!mesh.includes(peer)) this.lastSentTick.delete(peer);
    if (this.queue.length === 0) return out;
    const period = Math.max(0, periodTicks);
    const free = new Set(mesh.filter((peer) => now - (this.lastSentTick.get(peer) ?? -period) >= period));
    const keep: Queued<T>[] = [];
    for (const q of this.queue) {
      if (free.size > 0 && q.targets.length > 0) {
        q.targets = q.targets.filter((peer) => {
          if (!free.has(peer)) return true;
          const list = out.get(peer);
          if (list === undefined) out.set(peer, [q.payload]);
          else list.push(q.payload);
          return false;
        });
      }
      if (q.targets.length > 0 && now - q.queuedTick <= period) keep.push(q);
      else this.byId.delete(q.id);
    }
    this.queue = keep;
    for (const peer of out.keys()) this.lastSentTick.set(peer, now);
    return out;
  }
}
