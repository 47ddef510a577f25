/**
 * A node's lifecycle (issue 14 item 6): one word an operator reads before any number, the same
 * for every protocol, derived here by pure functions from what the runtime observed (the runtime
 * samples it on its clock, src/runtime/node-health.ts, and emits a `lifecycle` event on every
 * change). The states, in the order the derivation tests them (the first that holds wins):
 *
 * - `down`: the node stopped, or failed (a storage error or a bug stops it, DESIGN.md §5); it
 *   serves nothing until it boots again from what is durable.
 * - `leaving`: on its way out: stopping (a closing page), handing leadership over before it goes
 *   (§3.10), or removed from the configuration it was a member of; a gossip member that said
 *   goodbye (`left`).
 * - `joining`: not yet a full member: a Raft node not in the configuration yet (its join request
 *   is pending) or a learner not yet promoted (DESIGN.md §6); a gossip member nobody answered yet.
 * - `syncing`: a member, but not caught up: installing a snapshot from the leader, no leader
 *   heard yet in this life (a node that just booted cannot know how far behind it is), or its
 *   applied index behind the leader's commit by more than `syncLagEntriesMax`; a BFT replica in a
 *   view change or fetching state.
 * - `active`: a voter (a live gossip member, a BFT replica) that keeps up.
 *
 * Why "no leader yet in this life" is syncing and "the leader was lost" is not: after a restart
 * the node's state is as old as its disk, and only a leader can tell it what it missed; a member
 * that was caught up when its leader failed is still caught up, and the election that follows is
 * the cluster's state, which alerts report (`leaderSilenceTicks`).
 */
import type { MemberState } from '../gossip/types.ts';

export const lifecycleStates = ['joining', 'syncing', 'active', 'leaving', 'down'] as const;
export type LifecycleState = (typeof lifecycleStates)[number];

/** A state and why: the reason is a short stable word (tests and dashboards may match on it). */
export interface Lifecycle {
  readonly state: LifecycleState;
  readonly reason: string;
}

/** What the runtime knows of a Raft node when it samples. */
export interface RaftLifecycleInput {
  /** The node was stopped (closed) or is not running. */
  readonly stopped: boolean;
  /** The node failed (storage, or a bug): the reason, else null. */
  readonly failure: string | null;
  /** Stopping or handing over has begun. */
  readonly leaving: 'stopping' | 'handing-over' | null;
  /** Where this node is in the configuration it knows. */
  readonly membership: 'voter' | 'learner' | 'none';
  /** Whether it was a voter or learner at some point in this life. */
  readonly wasMember: boolean;
  /** Whether a leader (itself included) was known at some point in this life. */
  readonly leaderKnownThisLife: boolean;
  /** Snapshot chunks from the leader are arriving and the snapshot is not installed yet. */
  readonly installingSnapshot: boolean;
  /** The leader's commit index as last heard (own commit when leading or unknown) minus applied. */
  readonly behindLeaderEntries: number;
  readonly syncLagEntriesMax: number;
}

export function raftLifecycle(i: RaftLifecycleInput): Lifecycle {
  if (i.failure !== null) return { state: 'down', reason: 'failed' };
  if (i.stopped) return { state: 'down', reason: 'stopped' };
  if (i.leaving !== null) return { state: 'leaving', reason: i.leaving };
  if (i.membership === 'none') return i.wasMember ? { state: 'leaving', reason: 'removed' } : { state: 'joining', reason: 'not-in-config' };
  if (i.membership === 'learner') return { state: 'joining', reason: 'learner' };
  if (i.installingSnapshot) return { state: 'syncing', reason: 'installing-snapshot' };
  if (!i.leaderKnownThisLife) return { state: 'syncing', reason: 'no-leader-yet' };
  if (i.behindLeaderEntries > i.syncLagEntriesMax) return { state: 'syncing', reason: 'behind-leader' };
  return { state: 'active', reason: 'caught-up' };
}

/**
 * A gossip member's state as a lifecycle. `suspect` stays `active`: SWIM still counts a suspect
 * member in (probes it, keeps it in the mesh, `isLive`) until the suspicion times out, and most
 * suspicions are refuted (Lifeguard); how suspected it is shows as phi (`suspicionPhi`).
 * `dead` and `left` are both `down` for the member; a node that is itself leaving says so first.
 */
export function memberLifecycle(state: MemberState): Lifecycle {
  switch (state) {
    case 'joining':
      return { state: 'joining', reason: 'joining' };
    case 'alive':
      return { state: 'active', reason: 'alive' };
    case 'suspect':
      return { state: 'active', reason: 'suspect' };
    case 'dead':
      return { state: 'down', reason: 'dead' };
    case 'left':
      return { state: 'down', reason: 'left' };
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** A gossip-only node: its own member state, once stop and leave are accounted for. */
export function gossipLifecycle(i: { readonly stopped: boolean; readonly failure: string | null; readonly leaving: boolean; readonly self: 'joining' | 'alive' | 'left' }): Lifecycle {
  if (i.failure !== null) return { state: 'down', reason: 'failed' };
  if (i.stopped) return { state: 'down', reason: 'stopped' };
  if (i.leaving || i.self === 'left') return { state: 'leaving', reason: 'stopping' };
  return memberLifecycle(i.self);
}

/** A BFT replica: membership is fixed (3F + 1 replicas), so it is never joining. */
export function bftLifecycle(i: { readonly stopped: boolean; readonly failure: string | null; readonly leaving: boolean; readonly viewChanging: boolean; readonly fetchingState: boolean }): Lifecycle {
  if (i.failure !== null) return { state: 'down', reason: 'failed' };
  if (i.stopped) return { state: 'down', reason: 'stopped' };
  if (i.leaving) return { state: 'leaving', reason: 'stopping' };
  if (i.viewChanging) return { state: 'syncing', reason: 'view-change' };
  if (i.fetchingState) return { state: 'syncing', reason: 'state-transfer' };
  return { state: 'active', reason: 'caught-up' };
}
