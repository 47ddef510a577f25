/**
 * The vocabulary of the gossip membership engine: who a member is and what state we believe it
 * is in. SWIM (Das, Gupta, Motivala 2002) has alive, suspect and confirmed-faulty; we add
 * `joining` (this node asked to join and nobody answered yet) and `left` (a member that said
 * goodbye, so nobody waits a suspicion timeout for it: memberlist's "left" beside "dead").
 */

/** A member's id: the same printable string the runtime uses as a node id (a tab id, a PeerJS id). */
export type NodeId = string;

export const memberStates = ['joining', 'alive', 'suspect', 'dead', 'left'] as const;

export type MemberState = (typeof memberStates)[number];

/** Whether a member in this state still takes part: probed, in the mesh, counted in n. */
export function isLive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}
