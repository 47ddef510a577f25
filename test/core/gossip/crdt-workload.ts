/**
 * Random concurrent updates of every CRDT type for the replication tests, drawn from a seeded
 * PRNG, and the convergence check: every running node holds the same CRDTs (equal Merkle roots
 * and equal values, CRDT by CRDT). Counters also keep the exact total of what was added, so a
 * test can check that no increment was lost, not only that the nodes agree.
 */
import type { CrdtTypeName } from '../../../src/core/crdt/crdt-types.ts';
import type { CrdtOp } from '../../../src/core/gossip/crdt-op.ts';
import type { GossipNode } from '../../../src/core/gossip/gossip-node.ts';
import type { Prng } from '../../../src/core/prng.ts';
import type { GossipNetwork } from './gossip-network.ts';

/** One CRDT of each type, by the name the workload gives it. */
export const workloadNames: readonly [string, CrdtTypeName][] = [
  ['hits', 'g-counter'],
  ['balance', 'pn-counter'],
  ['title', 'lww-register'],
  ['status', 'mv-register'],
  ['tags', 'or-set'],
  ['board', 'or-map'],
];

export class Workload {
  /** The sum of every accepted increment, per counter name. */
  readonly totals = new Map<string, number>();
  ops = 0;

  constructor(private readonly prng: Prng) {}

  /** A random update of a random CRDT of the workload, at `node`; returns whether it was taken. */
  update(node: GossipNode, now: number): boolean {
    const [name, type] = workloadNames[this.prng.nextInt(workloadNames.length)] as [string, CrdtTypeName];
    const op = this.op(type, now);
    const r = node.step({ local: 'crdt-update', name, op });
    if (!r.ok) throw r.error;
    this.ops++;
    if (op.type === 'g-counter' || op.type === 'pn-counter') this.totals.set(name, (this.totals.get(name) ?? 0) + op.add);
    return true;
  }

  op(type: CrdtTypeName, now: number): CrdtOp {
    const p = this.prng;
    const element = `e${p.nextInt(8)}`;
    switch (type) {
      case 'g-counter':
        return { type, add: 1 + p.nextInt(5) };
      case 'pn-counter':
        return { type, add: p.nextInt(2) === 0 ? 1 + p.nextInt(5) : -(1 + p.nextInt(5)) };
      case 'lww-register':
        return { type, timestamp: now * 10 + p.nextInt(10), value: `v${p.nextInt(1000)}` };
      case 'mv-register':
        return { type, value: p.nextInt(1000) };
      case 'or-set':
        return p.nextInt(3) === 0 ? { type, op: 'remove', element } : { type, op: 'add', element };
      case 'or-map': {
        const key = `k${p.nextInt(5)}`;
        const pick = p.nextInt(5);
        if (pick === 0) return { type, apply: { op: 'remove', key } };
        if (pick === 1) return { type, apply: { op: 'update', key, field: { type: 'pn-counter', add: 1 + p.nextInt(3) } } };
        if (pick === 2) return { type, apply: { op: 'update', key, field: { type: 'lww-register', timestamp: now, value: p.nextInt(100) } } };
        if (pick === 3) return { type, apply: { op: 'update', key, field: { type: 'or-set', op: p.nextInt(2) === 0 ? 'add' : 'remove', element } } };
        return { type, apply: { op: 'update', key, field: { type: 'or-map', apply: { op: 'update', key: 'inner', field: { type: 'mv-register', value: p.nextInt(9) } } } } };
      }
      default: {
        const never: never = type;
        return never;
      }
    }
  }
}

/** A node's CRDTs as comparable text: every (type, name) with its value. */
export function snapshot(node: GossipNode): string {
  return JSON.stringify(node.crdtNames().map(({ name, crdt }) => [crdt, name, node.crdtValue(name, crdt)]));
}

/** Whether every node of `ids` holds the same CRDTs (same Merkle root, same values). */
export function converged(net: GossipNetwork, ids: readonly string[] = net.running()): boolean {
  const first = net.node(ids[0] as string);
  const root = first.crdtRootHash();
  if (!ids.every((id) => net.node(id).crdtRootHash() === root)) return false;
  const values = snapshot(first);
  return ids.every((id) => snapshot(net.node(id)) === values);
}
