/**
 * The data plane's workload in a simulated run: updates to a few named CRDTs of every type, issued
 * at random members (through the host, as a page would) at the seed's rate during the faults, and
 * what the checkers need to judge the end: which updates became DURABLE at their node (a write
 * that began after the update completed before any crash), and so must survive.
 *
 * - `g` (G-Counter) and `pn` (PN-Counter): each update adds a small amount. The final value at
 *   every live member must lie between the sum of the durable adds made at nodes that are members
 *   at the end (they keep them: a restart boots from disk; Almeida et al. 2018 §6 assume a replica
 *   never forgets its own dots) and the sum of every add issued.
 * - `set` (OR-Set, adds only, a fresh element each): the same bounds on its elements.
 * - `set2` (OR-Set, adds and removes), `lww`, `mv`, `map` (OR-Map of a counter, a register and a
 *   set per key): checked for equality only, their value depends on concurrency.
 */
import type { OrMapOp } from '../../core/crdt/or-map.ts';
import type { CrdtOp } from '../../core/gossip/crdt-op.ts';
import type { Prng } from '../../core/prng.ts';
import { chance } from '../distributions.ts';
import type { GossipSimNode } from './gossip-sim-node.ts';

/** The CRDTs of the workload, by name, with their types. */
export const workloadCrdts = [
  ['g', 'g-counter'],
  ['pn', 'pn-counter'],
  ['set', 'or-set'],
  ['set2', 'or-set'],
  ['lww', 'lww-register'],
  ['mv', 'mv-register'],
  ['map', 'or-map'],
] as const;

export type WorkloadCrdtName = (typeof workloadCrdts)[number][0];

interface Issued {
  readonly node: GossipSimNode;
  readonly life: number;
  readonly name: WorkloadCrdtName;
  /** The counter amount, or 0. */
  readonly add: number;
  /** The element added to `set`, or null. */
  readonly element: string | null;
  durable: boolean;
}

export interface WorkloadStats {
  issued: number;
  refused: number;
  durable: number;
  /** Updates lost with a crash before their write completed (expected, not a violation). */
  lostInCrashes: number;
}

export class CrdtWorkload {
  readonly stats: WorkloadStats = { issued: 0, refused: 0, durable: 0, lostInCrashes: 0 };
  private readonly issued: Issued[] = [];
  /** Per node: updates issued since its last write began (not yet in a write). */
  private readonly waiting = new Map<GossipSimNode, Issued[]>();
  /** Per node: updates in its writes in flight, oldest write first. */
  private readonly writing = new Map<GossipSimNode, Issued[][]>();
  private next = 0;

  constructor(private readonly prng: Prng) {}

  /** One update at `node` (a member, up and running). */
  issue(node: GossipSimNode, nowUs: number): void {
    const name = workloadCrdts[this.prng.nextInt(workloadCrdts.length)]?.[0] ?? 'g';
    const k = this.next++;
    const { op, add, element } = this.opFor(name, k, node, nowUs);
    // Registered before the step: the host begins the write that holds it within the step.
    const u: Issued = { node, life: node.life, name, add, element, durable: false };
    let w = this.waiting.get(node);
    if (w === undefined) {
      w = [];
      this.waiting.set(node, w);
    }
    w.push(u);
    const r = node.stepLocal({ local: 'crdt-update', name, op });
    if (!r.ok) {
      this.stats.refused++;
      const batch = this.waiting.get(node);
      if (batch !== undefined && batch[batch.length - 1] === u) batch.pop();
      else for (const writes of this.writing.get(node) ?? []) if (writes[writes.length - 1] === u) writes.pop();
      return;
    }
    this.stats.issued++;
    this.issued.push(u);
  }

  private opFor(name: WorkloadCrdtName, k: number, node: GossipSimNode, nowUs: number): { op: CrdtOp; add: number; element: string | null } {
    const p = this.prng;
    switch (name) {
      case 'g': {
        const add = 1 + p.nextInt(3);
        return { op: { type: 'g-counter', add }, add, element: null };
      }
      case 'pn': {
        const add = (1 + p.nextInt(5)) * (chance(p, 0.5) ? 1 : -1);
        return { op: { type: 'pn-counter', add }, add, element: null };
      }
      case 'set':
        return { op: { type: 'or-set', op: 'add', element: `e${k}` }, add: 0, element: `e${k}` };
      case 'set2':
        return { op: { type: 'or-set', op: chance(p, 0.6) ? 'add' : 'remove', element: `x${p.nextInt(8)}` }, add: 0, element: null };
      case 'lww':
        return { op: { type: 'lww-register', timestamp: nowUs, value: `${node.id}:${k}` }, add: 0, element: null };
      case 'mv':
        return { op: { type: 'mv-register', value: k }, add: 0, element: null };
      case 'map':
        return { op: { type: 'or-map', apply: mapOp(p, k) }, add: 0, element: null };
    }
  }

  /** A write of `node` began: the updates waiting go in it. */
  onWriteBegin(node: GossipSimNode): void {
    const batch = this.waiting.get(node) ?? [];
    this.waiting.set(node, []);
    let writes = this.writing.get(node);
    if (writes === undefined) {
      writes = [];
      this.writing.set(node, writes);
    }
    writes.push(batch);
  }

  /** The oldest write of `node` in flight is durable. */
  onWriteDurable(node: GossipSimNode): void {
    const batch = this.writing.get(node)?.shift() ?? [];
    for (const u of batch) {
      u.durable = true;
      this.stats.durable++;
    }
  }

  /** `node` crashed: what was not durable is gone. */
  onCrash(node: GossipSimNode): void {
    const lost = [...(this.waiting.get(node) ?? []), ...(this.writing.get(node) ?? []).flat()];
    this.stats.lostInCrashes += lost.length;
    this.waiting.delete(node);
    this.writing.delete(node);
  }

  /**
   * Bounds on a counter's final value (`g` or `pn`) given the members at the end: the adds that
   * landed include every durable add of a final member and are among those issued, so the value
   * lies between (durable increments of members + every decrement) and (every increment +
   * durable decrements of members).
   */
  counterBounds(name: 'g' | 'pn', members: ReadonlySet<GossipSimNode>): { low: number; high: number } {
    let low = 0;
    let high = 0;
    for (const u of this.issued) {
      if (u.name !== name) continue;
      const kept = u.durable && members.has(u.node);
      if (u.add > 0) {
        high += u.add;
        if (kept) low += u.add;
      } else {
        low += u.add;
        if (kept) high += u.add;
      }
    }
    return { low, high };
  }

  /** Elements of `set` that must be there (durable at members) and that may be (issued). */
  setBounds(members: ReadonlySet<GossipSimNode>): { must: Set<string>; may: Set<string> } {
    const must = new Set<string>();
    const may = new Set<string>();
    for (const u of this.issued) {
      if (u.element === null) continue;
      may.add(u.element);
      if (u.durable && members.has(u.node)) must.add(u.element);
    }
    return { must, may };
  }
}

function mapOp(p: Prng, k: number): OrMapOp {
  const key = `k${p.nextInt(4)}`;
  switch (p.nextInt(4)) {
    case 0:
      return { op: 'update', key, field: { type: 'g-counter', add: 1 } };
    case 1:
      return { op: 'update', key, field: { type: 'mv-register', value: k } };
    case 2:
      return { op: 'update', key, field: { type: 'or-set', op: 'add', element: `m${k % 5}` } };
    default:
      return { op: 'remove', key, type: 'g-counter' };
  }
}
