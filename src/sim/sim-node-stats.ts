/**
 * The counters one simulated Raft node (sim-node.ts) keeps, summed over nodes by the simulation
 * so that a sweep shows every path really ran.
 */
export interface SimNodeStats {
  crashes: number;
  restarts: number;
  pauses: number;
  /** The driver stopped on a bug (the engine threw, or storage refused a write). */
  engineErrors: number;
  droppedWhileDown: number;
  readies: number;
  applied: number;
  /**
   * Session commands the session layer absorbed: already applied (duplicates: the cached result
   * again), abandoned (stale), or of an unknown session (expired: refused, not applied).
   */
  duplicateCommands: number;
  staleCommands: number;
  expiredCommands: number;
  registrations: number;
  /** Sessions the session layer dropped (unused for too long, or the oldest past the bound). */
  sessionsExpired: number;
  /** Snapshots this node took (and compacted its log behind), and installed from a leader. */
  snapshotsTaken: number;
  snapshotsInstalled: number;
}

/** All counters at zero. */
export function emptySimNodeStats(): SimNodeStats {
  return {
    crashes: 0,
    restarts: 0,
    pauses: 0,
    engineErrors: 0,
    droppedWhileDown: 0,
    readies: 0,
    applied: 0,
    duplicateCommands: 0,
    staleCommands: 0,
    expiredCommands: 0,
    registrations: 0,
    sessionsExpired: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
  };
}
