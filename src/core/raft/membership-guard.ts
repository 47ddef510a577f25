/**
 * Who may tell this node what. Raft trusts its peers (the paper assumes non-Byzantine servers);
 * these checks keep a node that is NOT a peer from steering one: a hostile process that reached
 * it, or a stale member that was removed (dissertation §4.2.3: removed servers must not disrupt
 * the cluster). With a cluster secret the runtime authenticates every link and an outsider
 * cannot send at all (DESIGN.md §4), so everything here is defence in depth; a member that
 * holds the secret and lies is a Byzantine fault, which Raft does not tolerate (the BFT engine
 * does).
 *
 * Every refusal changes nothing and is counted (counters.ts).
 */
import { isMember } from './conf-change.ts';
import type { Message } from './messages.ts';
import type { Raft } from './raft.ts';
import type { NodeId } from './types.ts';

/** Whether `id` is a voter or a learner of the configuration in force here (the latest in the log). */
export function isMemberHere(r: Raft, id: NodeId): boolean {
  return isMember(r.log.config(), id);
}

/**
 * A message of a term higher than ours from `m.from`: may we move to that term? Not when we are
 * a voter and the sender is no member of our configuration (counted in `messagesFromNonMembers`).
 * One message of an outsider with a huge term used to depose a healthy leader and push every
 * node it reached to that term (toward `termMax`, where no one can campaign again).
 *
 * A node that is not a voter believes any sender: a learner, or a node joining with an empty
 * configuration, must follow a leader it does not know yet (it learns the configuration from
 * that leader's log), and it cannot disrupt elections since it does not vote or campaign. The
 * price: an outsider can mislead a learner (whose log counts toward no commit and no election);
 * only authenticated links keep it from trying.
 *
 * THE TRADE-OFF, for liveness. A voter whose log lags behind a membership change may not know
 * the leader: in {1, 2, 3}, 3 misses the entries that add and promote 4, and 4 then wins a new
 * term. To 3, 4 is an outsider of a higher term and is ignored. 3 is not stuck:
 *
 *   1. 3 hears no leader it believes, so its election timer runs out and it asks 1 and 2 for a
 *      pre-vote (or a vote) in its next term;
 *   2. 1 and 2 follow 4 in the new term and refuse, answering in that term (`answerStaleTerm`,
 *      `handleVoteRequest`); they are members of 3's configuration, so 3 believes the term;
 *   3. in that term, 4's next append or heartbeat is of 3's own term, from a leader 3 does not
 *      know yet, which a follower accepts (only a SECOND leader in a term is refused,
 *      `ignoreSecondLeader`); 4's appends bring 3 the configuration that names 4.
 *
 * So a lagging voter catches up an election timeout later than it used to, through any member
 * of its own configuration that has heard of the new term. It stays behind only if no member of
 * its configuration but itself is left running with the new term: then it is not part of any
 * quorum it knows, and an operator must replace it (the autopilot's removal of an unreachable
 * voter does). The simulator's membership mode runs these paths under faults.
 */
export function believesHigherTerm(r: Raft, m: Message): boolean {
  if (!r.isVoter() || isMemberHere(r, m.from)) return true;
  r.counters.messagesFromNonMembers++;
  return false;
}

/**
 * The forwarded requests (term 0): `propose`, `read-index` and `transfer-leader` act only for
 * members (a follower would otherwise launder an outsider's request by forwarding it under its
 * own name). A `read-index-response` comes from a member or from the leader we asked (a leader
 * this lagging node does not know as a member yet, see above). `join` comes from outside by
 * nature and is admitted under limits by the leader (admission.ts).
 */
export function acceptsForwarded(r: Raft, m: Message): boolean {
  if (m.type === 'join') return true;
  if (isMemberHere(r, m.from) || (m.type === 'read-index-response' && m.from === r.leader)) return true;
  r.counters.messagesFromNonMembers++;
  return false;
}

/**
 * Raft has one leader per term (§5.2, Election Safety): a follower that knows the leader of its
 * term ignores an `append`, `heartbeat` or `snapshot` from any other node in that term (it is
 * forged, or a bug), counted in `messagesNotFromLeader`. Without this, any peer could replace a
 * follower's log, state and voters with a well-formed snapshot of the current term.
 */
export function ignoreSecondLeader(r: Raft, m: Message): boolean {
  if (r.leader === null || m.from === r.leader) return false;
  if (m.type !== 'append' && m.type !== 'heartbeat' && m.type !== 'snapshot') return false;
  r.counters.messagesNotFromLeader++;
  return true;
}
