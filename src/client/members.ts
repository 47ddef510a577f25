/**
 * `node.members`: the gossip membership view of a node (`protocols` with `gossip`), as SWIM with
 * Lifeguard and phi accrual keep it in the worker (src/core/gossip/): every member with its
 * state (joining, alive, suspect, dead, left), incarnation and phi, and events as they change.
 */
import type { MemberInfo, NodeEvent } from '../runtime/worker-protocol.ts';

export interface Members {
  /** This node first, then every member it knows, by id, with state, incarnation and phi. */
  list(): Promise<readonly MemberInfo[]>;
  /** A member's state or incarnation changed (with its phi), or its phi crossed the threshold; returns the unsubscribe. */
  on<T extends 'member-changed' | 'member-phi'>(type: T, listener: (event: Extract<NodeEvent, { type: T }>) => void): () => void;
}
