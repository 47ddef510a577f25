/**
 * The bounded-degree mesh (gossipsub v1.1's D, D_lo, D_hi) and the links it stands for.
 *
 * - LINKS ONLY WHEN WANTED: a node pings, asks a relay, pushes or grafts only over a link it
 *   asked for (the Ready's `linksWanted`, src/core/gossip/ready.ts step 4), the one that hands the
 *   message out included (the host opens links before it sends). A browser tab holds about 30
 *   WebRTC links; a message to a peer it never asked a link for would need one more. Answers
 *   (acks, nacks, syncs, prunes) travel over the link their question came on, and are not checked.
 * - DEGREE, always: no node's mesh exceeds 2·D_hi (grafts accepted between heartbeats, mesh.ts).
 * - DEGREE, settled: once the views have converged after the heal, within `settleUs` (the prune
 *   backoff, a few mesh heartbeats, and a pass of the probe round robin for the pings' mesh flags) every member's mesh is within [min(D_lo, n - 1), D_hi] and symmetric (each of its
 *   neighbours holds it too), as the heartbeat and the pings' mesh flags make it.
 */
import type { GossipMessage } from '../../../core/gossip/messages.ts';
import type { GossipReady } from '../../../core/gossip/ready.ts';
import type { GossipSimNode } from '../gossip-sim-node.ts';
import type { SwarmView } from './swarm-view.ts';
import { at, Violations } from './violations.ts';

/** Mesh heartbeats after convergence for grafts and prunes to settle the degrees. */
export const meshSettleHeartbeats = 3;

export class MeshChecker {
  readonly unwantedLinks = new Violations();
  readonly degreeViolations = new Violations();
  /** When the mesh was seen settled after convergence; null until then. */
  settledAtUs: number | null = null;
  readonly settleUs: number;
  private readonly hardMax: number;

  constructor(private readonly view: SwarmView) {
    const c = view.config;
    // A one-sided link is repaired by the mesh flag of the next ping between the two (mesh.ts),
    // and a node pings each neighbour once per pass of its round robin: up to 2·D_hi periods. A
    // node refused by many (they held it dead when it grafted them) backs off each of them for
    // `meshBackoffTicks` (gossipsub's prune backoff) and may sit below D_lo until it ends.
    this.settleUs = (c.meshBackoffTicks + meshSettleHeartbeats * c.meshHeartbeatTicks + 2 * c.meshDegreeHigh * c.probeIntervalTicks) * view.tickUs;
    this.hardMax = 2 * c.meshDegreeHigh;
  }

  onSend(node: GossipSimNode, m: GossipMessage, rd: GossipReady | null): void {
    if (m.type !== 'ping' && m.type !== 'ping-req' && m.type !== 'push' && m.type !== 'graft') return;
    if (node.links.has(m.to) || (rd !== null && rd.linksWanted !== null && rd.linksWanted.includes(m.to))) return;
    this.unwantedLinks.add(`${node.id} sent a ${m.type} to ${m.to} at ${at(this.view.nowUs())} without a link to it`);
  }

  /** The hard bound, at any time. */
  checkHardBound(): void {
    for (const n of this.view.nodes()) {
      const size = n.engine?.mesh().length ?? 0;
      if (size > this.hardMax) this.degreeViolations.add(`${n.id} holds ${size} mesh neighbours at ${at(this.view.nowUs())}, above 2·D_hi = ${this.hardMax}`);
    }
  }

  /** After convergence at `convergedAtUs`: settled within `settleUs`, or a violation. Returns whether this check is done. */
  checkSettled(convergedAtUs: number): boolean {
    if (this.settledAtUs !== null) return true;
    const problem = this.unsettled();
    const now = this.view.nowUs();
    if (problem === null) {
      this.settledAtUs = now;
      return true;
    }
    if (now <= convergedAtUs + this.settleUs) return false;
    this.degreeViolations.add(`mesh not settled ${at(now - convergedAtUs)} after the views converged: ${problem}`);
    return true;
  }

  private unsettled(): string | null {
    const c = this.view.config;
    const members = this.view.nodes().filter((n) => n.member);
    const low = Math.min(c.meshDegreeLow, members.length - 1);
    for (const n of members) {
      const mesh = n.engine?.mesh() ?? [];
      if (mesh.length < low || mesh.length > c.meshDegreeHigh) return `${n.id} holds ${mesh.length} neighbours, outside [${low}, ${c.meshDegreeHigh}]`;
      for (const peer of mesh) {
        const other = this.view.node(peer);
        if (other === undefined || !other.member || !(other.engine?.mesh() ?? []).includes(n.id)) return `${n.id} holds ${peer} in its mesh, ${peer} does not hold it`;
      }
    }
    return null;
  }
}
