/**
 * Elections (Raft paper §5.2; pre-vote, dissertation §9.6; leadership transfer, §3.10): start a
 * campaign, count votes, and move to the role the votes decide. A candidate counts its own vote
 * from the start but leads only once the Ready carrying its new term and vote is durable
 * (`ownVoteWritten`): only a single voter can win before that, and it must not send appends of a
 * term it might win again after a crash.
 */
import { voteResult } from '../quorum/majority.ts';
import type { VoteMessage } from './messages.ts';
import type { CampaignKind, Raft } from './raft.ts';
import type { NodeId } from './types.ts';
import { termMax } from './limits.ts';

/** Start an election now (or a pre-election when pre-vote is on). */
export function campaign(r: Raft, kind: CampaignKind): void {
  if (!r.isPromotable()) return;
  if (r.term >= termMax) {
    // The next term could not be sent (the codec refuses terms above termMax, limits.ts): a
    // node there follows a leader of termMax, and never campaigns (pre-vote included).
    r.counters.termsRefused++;
    return;
  }
  let voteType: VoteMessage['type'];
  let voteTerm: number;
  if (kind === 'pre-election') {
    r.becomePreCandidate();
    voteType = 'pre-vote';
    voteTerm = r.term + 1;
  } else {
    r.becomeCandidate();
    voteType = 'vote';
    voteTerm = r.term;
  }
  if (poll(r, r.id, true) === 'won') return;
  const lastIndex = r.log.lastIndex();
  const lastTerm = r.log.lastTerm();
  for (const to of r.votingPeers) {
    r.send({ type: voteType, from: r.id, to, term: voteTerm, lastIndex, lastTerm, transfer: kind === 'transfer' });
  }
}

/** The Ready that carried this candidate's term and vote is durable: count it, and lead if it won. */
export function ownVoteWritten(r: Raft, term: number): void {
  if (r.role !== 'candidate' || r.term !== term || r.vote !== r.id) return;
  r.ownVoteDurable = true;
  if (r.wonAwaitingOwnVote) {
    r.wonAwaitingOwnVote = false;
    r.becomeLeader();
  }
}

/** Record a vote; on a decided election move to the next role. */
export function poll(r: Raft, from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
  if (!r.votes.has(from)) r.votes.set(from, granted);
  const result = voteResult(r.voters, r.votes);
  if (result === 'won') {
    if (r.role === 'pre-candidate') campaign(r, 'election');
    else if (r.ownVoteDurable) r.becomeLeader();
    // Won with its own vote not yet on disk (a single voter wins at once): lead only once the
    // Ready carrying the new term and vote is durable (`ownVoteWritten`). A leader's appends
    // leave before its write (`sendableBeforePersist`); had the term not been durable, a crash
    // could let it win the same term again and send other entries at the same indices, and a
    // learner holding the first ones would never see them replaced (found by review: a single
    // voter with a learner, the leader crashing before its first write).
    else r.wonAwaitingOwnVote = true;
  } else if (result === 'lost') {
    r.becomeFollower(r.term, null);
  }
  return result;
}
