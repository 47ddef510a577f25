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

/**
 * Whether this pre-candidate, granting the pre-vote `m` of a rival pre-campaigning for the same
 * term, must step back to follower. Why: two followers that time out within a round trip of
 * each other both pre-campaign; each granted the other's pre-vote, both became candidates and
 * voted for themselves, and with the third voter down (a crashed leader) neither could win: the
 * split cost another randomized election timeout, 150 to 300 ms by default (Raft paper §5.2
 * leaves splits to the randomization; seen in the crash trials of bench/browser.ts, up to two
 * splits in a row). Rivals are ranked by log (the more up-to-date first, §5.4.1), then by id
 * (the lower first). Both still grant each other (a pre-vote dropped by a voter in its lease
 * must not leave both stuck), but the lower one stops campaigning as it grants: the higher one's
 * pre-vote reached it before its grant can (links deliver in order), so the grant it gets back
 * finds a follower and is ignored, and only the higher one becomes candidate. A pre-vote changes
 * no term and no vote (§9.6), so this is a matter of liveness, never of safety.
 */
export function stepsBackFor(r: Raft, m: VoteMessage): boolean {
  return isRivalPreVote(r, m) && outranks(r, m);
}

function isRivalPreVote(r: Raft, m: VoteMessage): boolean {
  return r.role === 'pre-candidate' && m.type === 'pre-vote' && m.term === r.term + 1;
}

/** The rival's log is more up to date than ours, or as up to date and its id is lower. */
function outranks(r: Raft, m: VoteMessage): boolean {
  const lastTerm = r.log.lastTerm();
  if (m.lastTerm !== lastTerm) return m.lastTerm > lastTerm;
  const lastIndex = r.log.lastIndex();
  if (m.lastIndex !== lastIndex) return m.lastIndex > lastIndex;
  return m.from < r.id;
}
