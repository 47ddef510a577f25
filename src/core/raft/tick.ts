/**
 * What a node does with the passing of time: followers and candidates count down to an
 * election; a leader sends heartbeats, checks that a quorum still answers (check-quorum), gives
 * up a stalled leadership transfer, and keeps the membership healthy (autopilot).
 */
import { hasQuorum } from '../quorum/majority.ts';
import type { Raft } from './raft.ts';
import type { NodeId } from './types.ts';

/** Followers, pre-candidates and candidates: campaign when the leader has been silent too long. */
export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.isPromotable() && r.electionElapsed >= r.randomizedElectionTimeoutTicks) {
    r.electionElapsed = 0;
    r.campaign(r.cfg.preVote ? 'pre-election' : 'election');
  }
}

/** Leader: heartbeats, check-quorum and the transfer deadline. */
export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTimeoutTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) {
      // §6.2: a leader that has not heard from a quorum for an election timeout steps down, so a
      // partitioned leader stops accepting requests it cannot commit.
      if (!quorumActive(r)) {
        r.becomeFollower(r.term, null);
        return;
      }
      for (const pr of r.progress.values()) pr.recentActive = false;
    }
    if (r.leadTransferee !== null) r.leadTransferee = null;
  }
  if (r.heartbeatElapsed >= r.cfg.heartbeatIntervalTicks) {
    r.heartbeatElapsed = 0;
    r.broadcastHeartbeat();
  }
  tickAutopilot(r);
}

/**
 * Leader: membership housekeeping, at most one change at a time. Promote a learner that has
 * kept up for a while (§4.2.1); remove a voter that has been silent for long, never going below
 * the configured minimum (a dead member left in place weakens every quorum).
 */
function tickAutopilot(r: Raft): void {
  const last = r.log.lastIndex();
  let promote: NodeId | null = null;
  if (r.cfg.promoteLearnerAfterTicks > 0) {
    for (const id of r.learners) {
      const pr = r.progress.get(id);
      if (pr === undefined) continue;
      const current = last - pr.match <= r.cfg.promoteLearnerLagEntries && r.now - pr.lastResponseTick <= r.cfg.electionTimeoutTicks;
      pr.caughtUpTicks = current ? pr.caughtUpTicks + 1 : 0;
      // At `votersMax` voters no learner is promoted (applyConfChange would refuse it anyway).
      if (promote === null && pr.caughtUpTicks >= r.cfg.promoteLearnerAfterTicks && r.voters.length < r.cfg.votersMax) promote = id;
    }
  }
  if (!r.canChangeConfig()) return;
  if (promote !== null) {
    r.proposeConfChange({ type: 'promote', node: promote });
    return;
  }
  const removeAfter = r.cfg.removeUnreachableVoterAfterTicks;
  if (removeAfter > 0 && r.voters.length > r.cfg.minVoters) {
    for (const id of r.votingPeers) {
      const pr = r.progress.get(id);
      if (pr !== undefined && r.now - pr.lastResponseTick >= removeAfter) {
        r.proposeConfChange({ type: 'remove', node: id });
        return;
      }
    }
  }
}

/** Check-quorum: the leader heard from a majority of voters since the last check. */
function quorumActive(r: Raft): boolean {
  return hasQuorum(r.voters, (id) => id === r.id || r.progress.get(id)?.recentActive === true);
}
