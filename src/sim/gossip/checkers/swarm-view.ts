/**
 * What the gossip checkers may look at: the nodes (ground truth: who is up, paused, joined,
 * left, at which incarnation), each node's own view through its engine's public accessors
 * (`member`, `mesh`), when each was last impaired, and the bounds derived from the swarm's
 * configuration. Checkers never reach inside an engine.
 */
import type { ResolvedGossipConfig } from '../../../core/gossip/config.ts';
import type { GossipSimNode } from '../gossip-sim-node.ts';
import type { Impairments } from '../impairments.ts';

export interface SwarmView {
  nowUs(): number;
  /** Every node ever created, in creation order. */
  nodes(): readonly GossipSimNode[];
  node(id: string): GossipSimNode | undefined;
  readonly impairments: Impairments;
  /** The configuration every node was given (defaults filled in). */
  readonly config: ResolvedGossipConfig;
  readonly tickUs: number;
}

/** A member's state in `viewer`'s eyes, or undefined when unknown (or the viewer is down). */
export function viewOf(viewer: GossipSimNode, member: string): string | undefined {
  return viewer.engine?.member(member)?.state;
}

/** Whether `viewer` holds `member` as taking part (alive or suspect: types.ts `isLive`). */
export function holdsLive(viewer: GossipSimNode, member: string): boolean {
  const s = viewOf(viewer, member);
  return s === 'alive' || s === 'suspect';
}

/**
 * Whether any running member holds `member` in its mesh. Probes go to mesh neighbours only
 * (unless `probeBeyondMesh`), so a member that is in no mesh is probed by nobody: if it is gone
 * and someone still holds it live (it missed the death or the leave, then spread it again by
 * push-pull once the others had forgotten it), nothing will ever correct that view. The checkers
 * call such a failure a GHOST, to tell this known gap of the engine from other failures.
 */
export function inSomeMesh(view: SwarmView, member: string): boolean {
  return view.nodes().some((n) => n.member && (n.engine?.mesh().includes(member) ?? false));
}
