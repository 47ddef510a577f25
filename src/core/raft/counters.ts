/**
 * What a Raft node ignored or dropped, counted (never thrown, never an event per message:
 * STYLE.md, validate-and-drop plus a counter for others' input). A driver exports them as
 * metrics through `RaftStatus.counters`; a counter that climbs on a healthy cluster is worth a
 * look, one that climbs under attack is the attack being refused.
 */
export interface RaftCounters {
  /** Messages for another node, from itself, of a stale term, or that the role has no use for. */
  messagesIgnored: number;
  /** Proposals a non-leader or a refusing leader dropped (the client retries). */
  proposalsDropped: number;
  /** Reads dropped: the leader lost its office, or too many were pending. */
  readsDropped: number;
  /**
   * Messages from a node outside this node's configuration that only members may send: a
   * higher term a voter must not believe, requests (`propose`, `read-index`,
   * `transfer-leader`) and acknowledgements (membership-guard.ts).
   */
  messagesFromNonMembers: number;
  /** `append`, `heartbeat` or `snapshot` from a node other than the leader followed in the term. */
  messagesNotFromLeader: number;
  /** Messages of a term above `termMax`, and campaigns that would have gone past it (limits.ts). */
  termsRefused: number;
  /** Acknowledgements of entries never sent to the follower, or of a snapshot not in flight. */
  acksRefused: number;
  /** Joins beyond the rate limit or the learner ceiling (admission.ts). */
  joinsRefused: number;
  /** Commands of a forwarded `propose` message beyond `proposalsPerMessageMax`. */
  proposalsRefused: number;
  /** Snapshots from a leader that this node could not install (`RaftConfig.checkSnapshot`). */
  snapshotsRefused: number;
  /** Followers that answered below what they had acknowledged: their durable log was lost. */
  followersLostLog: number;
  /**
   * Leader: snapshot transfers begun again from byte 0 with a newer snapshot because the log no
   * longer held the entries after the one being sent (snapshot-policy.ts, `snapshotToSend`).
   */
  snapshotTransfersRestarted: number;
}

export function createRaftCounters(): RaftCounters {
  return {
    messagesIgnored: 0,
    proposalsDropped: 0,
    readsDropped: 0,
    messagesFromNonMembers: 0,
    messagesNotFromLeader: 0,
    termsRefused: 0,
    acksRefused: 0,
    joinsRefused: 0,
    proposalsRefused: 0,
    snapshotsRefused: 0,
    followersLostLog: 0,
    snapshotTransfersRestarted: 0,
  };
}
