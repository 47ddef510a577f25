/**
 * The node's lifecycle from its parts now (node-health.ts samples it): the pure derivations of
 * src/core/health/lifecycle.ts, fed from the protocol the node runs. With Raft (alone or beside
 * gossip) the Raft half decides: the log is what a member must catch up on; a gossip-only node
 * uses its own member state; a BFT node its replica's.
 */
import { bftLifecycle, gossipLifecycle, raftLifecycle, type Lifecycle } from '../core/health/lifecycle.ts';
import type { BftPart } from './bft-part.ts';
import type { Driver, DriverEvent } from './driver.ts';
import type { GossipPart } from './gossip-part.ts';
import type { HealthObserver } from './health-observer.ts';
import type { NodeProtocol, WorkerStartOptions } from './worker-protocol.ts';

/** What node health reads of a node (NodeHost offers all of it). */
export interface HealthParts {
  readonly options: WorkerStartOptions;
  readonly protocols: readonly NodeProtocol[];
  readonly raft: Driver | null;
  readonly gossip: GossipPart | null;
  readonly bft: BftPart | null;
  on(listener: (e: DriverEvent) => void): () => void;
}

export interface LifecycleFlags {
  readonly stopped: boolean;
  readonly failure: string | null;
  readonly leaving: 'stopping' | 'handing-over' | null;
  readonly syncLagEntriesMax: number;
}

/** Facts of this life that a sample alone cannot see again (updated here). */
export interface LifeSeen {
  member: boolean;
  leader: boolean;
}

export function deriveLifecycle(parts: HealthParts, observer: HealthObserver, seen: LifeSeen, flags: LifecycleFlags): Lifecycle {
  const down = { stopped: flags.stopped, failure: flags.failure };
  if (parts.raft !== null) return raftNow(parts.raft, observer, seen, flags);
  if (parts.bft !== null) {
    try {
      const s = parts.bft.status();
      return bftLifecycle({ ...down, leaving: flags.leaving !== null, viewChanging: s.viewChanging, fetchingState: s.lastExecutedSeq < s.stableSeq });
    } catch {
      return bftLifecycle({ ...down, stopped: true, leaving: false, viewChanging: false, fetchingState: false });
    }
  }
  const self = parts.gossip === null ? 'left' : parts.gossip.status().state;
  return gossipLifecycle({ ...down, stopped: flags.stopped || parts.gossip === null, leaving: flags.leaving !== null, self });
}

function raftNow(driver: Driver, observer: HealthObserver, seen: LifeSeen, flags: LifecycleFlags): Lifecycle {
  const base = {
    stopped: flags.stopped,
    failure: flags.failure,
    installingSnapshot: observer.installingSnapshot,
    syncLagEntriesMax: flags.syncLagEntriesMax,
  };
  let s: ReturnType<Driver['status']>;
  try {
    s = driver.status();
  } catch {
    // The driver is not running: it stopped, or failed (its error event says which).
    return raftLifecycle({ ...base, stopped: true, leaving: flags.leaving, membership: 'none', wasMember: seen.member, leaderKnownThisLife: seen.leader, behindLeaderEntries: 0 });
  }
  const membership = s.config.voters.includes(s.id) ? 'voter' : s.config.learners.includes(s.id) ? 'learner' : 'none';
  seen.member ||= membership !== 'none';
  seen.leader ||= s.leader !== null;
  // A hand-over is over once this node no longer leads: it stays a member unless its page goes.
  const leaving = flags.leaving === 'handing-over' && s.role !== 'leader' ? null : flags.leaving;
  const behindLeaderEntries = Math.max(0, Math.max(observer.leaderCommit, s.commit) - s.applied);
  return raftLifecycle({ ...base, leaving, membership, wasMember: seen.member, leaderKnownThisLife: seen.leader, behindLeaderEntries });
}
