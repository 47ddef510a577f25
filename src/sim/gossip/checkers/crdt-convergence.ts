/**
 * CRDT convergence after healing (Shapiro et al. 2011's strong eventual consistency: replicas
 * that received the same updates hold equal states; Almeida et al. 2018 for deltas): once the
 * network heals, within `boundUs` every member holds the same state of every CRDT, and
 * that value keeps every update that was durable at a node that is a member at the end
 * (crdt-workload.ts): counters within their bounds, the add-only set holding every durable
 * element and nothing never added.
 *
 * The bound, in anti-entropy rounds: push reaches most members at once, and anti-entropy
 * (DeCandia et al. 2007 §4.7) exchanges with each mesh neighbour in turn, one every
 * `antiEntropyIntervalTicks`, so a difference crosses one hop within D_hi intervals; the views
 * must converge first (a member outside every mesh gets nothing), hence the membership bound
 * on top (convergence.ts).
 */
import type { CrdtWorkload } from '../crdt-workload.ts';
import { workloadCrdts } from '../crdt-workload.ts';
import type { GossipSimNode } from '../gossip-sim-node.ts';
import type { SwarmView } from './swarm-view.ts';
import { at, Violations } from './violations.ts';

/** Hops a difference may need to cross the mesh, in the bound (push reaches most members; what it missed is usually a hop or two from a member that has it). */
export const crdtHopsMax = 2;

export class CrdtConvergenceChecker {
  readonly failures = new Violations();
  /** Values that broke what the durable updates require (a lost update). */
  readonly lostUpdates = new Violations();
  convergedAtUs: number | null = null;
  private healedAtUs: number | null = null;
  readonly boundUs: number;

  constructor(
    private readonly view: SwarmView,
    private readonly workload: CrdtWorkload,
    membershipBoundUs: number,
  ) {
    const c = view.config;
    this.boundUs = membershipBoundUs + crdtHopsMax * c.meshDegreeHigh * c.antiEntropyIntervalTicks * view.tickUs;
  }

  healed(): void {
    this.healedAtUs = this.view.nowUs();
  }

  get done(): boolean {
    return this.convergedAtUs !== null || this.failures.count > 0;
  }

  check(): void {
    if (this.healedAtUs === null || this.done) return;
    const now = this.view.nowUs();
    const members = this.view.nodes().filter((n) => n.member);
    const problem = differ(members);
    if (problem === null) {
      this.convergedAtUs = now;
      this.checkValues(members);
      return;
    }
    if (now > this.healedAtUs + this.boundUs) this.failures.add(`CRDTs still differ ${at(now - this.healedAtUs)} after the heal: ${problem}`);
  }

  /** Equal everywhere: now the value must keep every durable update of the members. */
  private checkValues(members: readonly GossipSimNode[]): void {
    const first = members[0];
    if (first === undefined) return;
    const set = new Set(members);
    for (const name of ['g', 'pn'] as const) {
      const value = first.crdtValue(name, name === 'g' ? 'g-counter' : 'pn-counter') ?? 0;
      const { low, high } = this.workload.counterBounds(name, set);
      if (value < low || value > high) this.lostUpdates.add(`${name} converged to ${value}, outside [${low}, ${high}] (the durable updates of the members, every update issued)`);
    }
    const elements = new Set(first.crdtValue('set', 'or-set') ?? []);
    const { must, may } = this.workload.setBounds(set);
    const missing = [...must].filter((e) => !elements.has(e));
    const foreign = [...elements].filter((e) => !may.has(e));
    if (missing.length > 0) this.lostUpdates.add(`set converged without ${missing.length} durable elements (${missing.slice(0, 5).join(', ')})`);
    if (foreign.length > 0) this.lostUpdates.add(`set converged with ${foreign.length} elements never added (${foreign.slice(0, 5).join(', ')})`);
  }
}

/**
 * Null when every member holds the same STATES (their stores' Merkle roots are equal: the root
 * covers every CRDT's digest, so equal roots mean equal encodings); else the first CRDT whose
 * value differs, in words.
 */
function differ(members: readonly GossipSimNode[]): string | null {
  const first = members[0];
  if (first === undefined) return null;
  const root = first.engine?.crdtRootHash();
  if (members.every((m) => m.engine?.crdtRootHash() === root)) return null;
  for (const [name, crdt] of workloadCrdts) {
    const a = JSON.stringify(first.crdtValue(name, crdt) ?? null);
    for (const m of members.slice(1)) {
      const b = JSON.stringify(m.crdtValue(name, crdt) ?? null);
      if (a !== b) return `${name} (${crdt}) is ${clip(a)} at ${first.id}, ${clip(b)} at ${m.id}`;
    }
  }
  return 'the stores differ (Merkle roots), with equal values';
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
