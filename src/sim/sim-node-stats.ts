/**
 * The counters one simulated Raft node (sim-node.ts) keeps. They are shared by the node's parts
 * (the driver loop, its state machine, its client service), each bumping its own, and summed
 * over nodes by the simulation so that a sweep shows every path really ran.
 */
import type { RejectReason } from './client-protocol.ts';

export interface SimNodeStats {
  crashes: number;
  restarts: number;
  pauses: number;
  engineErrors: number;
  inboxDropped: number;
  droppedWhileDown: number;
  readies: number;
  applied: number;
  /** Proposals a follower forwarded to its leader. */
  forwarded: number;
  /**
   * Session commands the session layer absorbed: already applied (duplicates: the cached result
   * again), abandoned (stale), or of an unknown session (expired: refused, not applied).
   */
  duplicateCommands: number;
  staleCommands: number;
  expiredCommands: number;
  registrations: number;
  /** Snapshots this node took (and compacted its log behind), and installed from a leader. */
  snapshotsTaken: number;
  snapshotsInstalled: number;
  /** Reads served after ReadIndex, by mode. */
  indexReads: number;
  leaseReads: number;
  rejected: Record<RejectReason, number>;
}

/** All counters at zero. */
export function emptySimNodeStats(): SimNodeStats {
  return {
    crashes: 0,
    restarts: 0,
    pauses: 0,
    engineErrors: 0,
    inboxDropped: 0,
    droppedWhileDown: 0,
    readies: 0,
    applied: 0,
    forwarded: 0,
    duplicateCommands: 0,
    staleCommands: 0,
    expiredCommands: 0,
    registrations: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    indexReads: 0,
    leaseReads: 0,
    rejected: { 'not-leader': 0, 'proposal-dropped': 0, 'read-dropped': 0, superseded: 0, overloaded: 0 },
  };
}
