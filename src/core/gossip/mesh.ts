/**
 * The bounded-degree mesh (libp2p gossipsub v1.1: D, D_lo, D_hi). A browser tab holds about 30
 * WebRTC links before it struggles, so a swarm of hundreds cannot be a full mesh: each node
 * keeps about D neighbours among the live members it knows, and everything it sends goes to
 * them (probes, pushes) unless the host says links are cheap.
 *
 * - GRAFT asks a member into our mesh, PRUNE leaves each other's. The mesh is kept SYMMETRIC: a
 *   graft is accepted unless we back off that peer (then we prune back), so both ends hold the
 *   link for the same reason and neither closes it under the other; a lost graft or prune is
 *   repaired by the `mesh` flag of the next ping between the two (messages.ts).
 * - The heartbeat (gossipsub §"Mesh Maintenance"): members no longer live are dropped; below
 *   D_lo, random eligible members are grafted up to D; above D_hi, the mesh is pruned down to D,
 *   the kept ones chosen at random (gossipsub keeps the best-scored and some random; we have no
 *   peer scores yet, so all random).
 * - Backoff: after a prune neither side grafts the other for `backoffTicks`, else two nodes on
 *   opposite sides of D_hi would graft and prune each other every heartbeat.
 *
 * This class is the set arithmetic; membership.ts sends the graft and prune messages it decides.
 */
import type { Prng } from '../prng.ts';
import { shuffled } from '../prng.ts';
import type { NodeId } from './types.ts';

export interface MeshDegrees {
  readonly target: number;
  readonly low: number;
  readonly high: number;
  readonly backoffTicks: number;
}

export interface MeshChanges {
  readonly graft: readonly NodeId[];
  readonly prune: readonly NodeId[];
  /** Dropped without a message: they are no longer live members. */
  readonly dropped: readonly NodeId[];
}

export class Mesh {
  private readonly peers = new Set<NodeId>();
  /** Peers we must not graft before the tick given (bounded: only members ever pruned, reaped with them). */
  private readonly backoffUntil = new Map<NodeId, number>();
  /** Bumped on every change of the neighbours (the engine asks for links again only then). */
  private changes = 0;

  constructor(private readonly degrees: MeshDegrees) {}

  get size(): number {
    return this.peers.size;
  }

  get version(): number {
    return this.changes;
  }

  has(id: NodeId): boolean {
    return this.peers.has(id);
  }

  /** The neighbours, sorted (status and Readies are deterministic). */
  list(): NodeId[] {
    return [...this.peers].sort();
  }

  /** The neighbours as a set (read only). */
  view(): ReadonlySet<NodeId> {
    return this.peers;
  }

  /**
   * A `graft` from `from`: whether it is accepted (else the caller prunes back). As in gossipsub,
   * a graft is accepted above D_hi too (the next heartbeat prunes back to D, keeping a random
   * D): refusing at D_hi would leave the late joiners of a busy region without neighbours. Only
   * a peer we back off from is refused, and anything past `peersHardMax`, the bound on what
   * grafts between two heartbeats can make us hold.
   */
  acceptGraft(from: NodeId, nowTick: number): boolean {
    if (this.peers.has(from)) return true;
    if (this.backingOff(from, nowTick)) return false;
    if (this.peers.size >= this.peersHardMax) return false;
    this.peers.add(from);
    this.changes++;
    return true;
  }

  /**
   * Graft `id` on our own initiative, between heartbeats' water marks: only below D_hi (so the
   * heartbeat never prunes for it) and not a peer we back off from. Whether it was added.
   */
  graftOne(id: NodeId, nowTick: number): boolean {
    if (this.peers.has(id) || this.backingOff(id, nowTick) || this.peers.size >= this.degrees.high) return false;
    this.peers.add(id);
    this.changes++;
    return true;
  }

  /** Twice D_hi: grafts accepted between heartbeats never make the mesh larger. */
  get peersHardMax(): number {
    return 2 * this.degrees.high;
  }

  /** A `prune` from `from`, or our own prune of it: it leaves the mesh and is backed off. */
  remove(from: NodeId, nowTick: number): void {
    if (this.peers.delete(from)) this.changes++;
    if (this.degrees.backoffTicks > 0) this.backoffUntil.set(from, nowTick + this.degrees.backoffTicks);
  }

  /** `id` is gone for good (reaped): forget it entirely. */
  forget(id: NodeId): void {
    if (this.peers.delete(id)) this.changes++;
    this.backoffUntil.delete(id);
  }

  /**
   * Gossipsub's heartbeat. `eligible` are the live members we know (ourselves excluded). Grafted
   * peers are in the mesh at once: a refused graft comes back as a prune.
   */
  heartbeat(eligible: ReadonlySet<NodeId>, nowTick: number, prng: Prng): MeshChanges {
    const dropped: NodeId[] = [];
    for (const id of this.peers) {
      if (!eligible.has(id)) dropped.push(id);
    }
    for (const id of dropped) this.peers.delete(id);
    if (dropped.length > 0) this.changes++;
    for (const [id, until] of this.backoffUntil) if (until <= nowTick) this.backoffUntil.delete(id);
    const graft: NodeId[] = [];
    const prune: NodeId[] = [];
    if (this.peers.size < this.degrees.low) {
      const candidates = [...eligible].filter((id) => !this.peers.has(id) && !this.backingOff(id, nowTick));
      // Sorted before the shuffle: a Set's order depends on insertion history, a seed must not.
      for (const id of shuffled(prng, candidates.sort())) {
        if (this.peers.size >= this.degrees.target) break;
        this.peers.add(id);
        this.changes++;
        graft.push(id);
      }
    } else if (this.peers.size > this.degrees.high) {
      const order = shuffled(prng, this.list());
      for (const id of order.slice(this.degrees.target)) {
        this.remove(id, nowTick);
        prune.push(id);
      }
    }
    return { graft, prune, dropped };
  }

  private backingOff(id: NodeId, nowTick: number): boolean {
    const until = this.backoffUntil.get(id);
    return until !== undefined && until > nowTick;
  }
}
