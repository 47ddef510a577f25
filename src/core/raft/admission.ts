/**
 * What a leader admits from the network, under limits: new members (`join`) and forwarded
 * commands (`propose`). Outsiders used to become voters within seconds, a join each round trip
 * and the autopilot promoting them, and forty `propose` messages of one non-member added 125 MiB
 * of entries. Who may join at all is the runtime's decision (authenticated links, a member's
 * signed invitation, DESIGN.md §4); the core bounds how fast and how far the configuration
 * grows (`joinsPerElectionTimeoutMax`, `learnersMax`, and `votersMax` for promotions, in
 * conf-change.ts) and how much one message may append (`proposalsPerMessageMax`).
 */
import { isMember } from './conf-change.ts';
import { ProposalDroppedError } from './errors.ts';
import { proposeAsLeader } from './leader-requests.ts';
import type { ProposeMessage } from './messages.ts';
import type { Raft } from './raft.ts';
import type { NodeId } from './types.ts';

/** The joins a leader acted on in the current window of one election timeout. */
export class JoinWindow {
  /** The tick the current window opened. */
  startTick = 0;
  /** Joins acted on (an `add-learner` appended) since `startTick`. */
  joins = 0;
}

/**
 * Leader: a node asks to join as a learner (dissertation §4.2.1), directly or through a
 * follower. A repeated request of a member does nothing. At most `joinsPerElectionTimeoutMax`
 * joins are acted on per election timeout, and none once the configuration has `learnersMax`
 * learners: the rest are counted in `joinsRefused` (the joining node asks again later). A join
 * that meets another change still uncommitted is dropped like any refused proposal, and costs
 * nothing of the window.
 */
export function admitJoin(r: Raft, node: NodeId): void {
  if (isMember(r.log.config(), node)) return;
  const window = r.joinWindow;
  if (r.now - window.startTick >= r.cfg.electionTimeoutTicks) {
    window.startTick = r.now;
    window.joins = 0;
  }
  if (window.joins >= r.cfg.joinsPerElectionTimeoutMax) {
    r.counters.joinsRefused++;
    return;
  }
  const added = r.proposeConfChange({ type: 'add-learner', node });
  if (added.ok) {
    window.joins++;
  } else if (added.error.reason === 'invalid-config-change') {
    // Not a member (checked above), so the only refusal left is the learner ceiling.
    r.counters.joinsRefused++;
  } else {
    r.counters.proposalsDropped++;
  }
}

/**
 * Leader: commands a follower forwarded. At most `proposalsPerMessageMax` of one message are
 * appended, the rest counted in `proposalsRefused`; each appended one is still subject to the
 * leader's own limits (`maxCommandBytes`, `maxUncommittedEntries`), refusals counted in
 * `proposalsDropped`. The client of a refused command times out and retries.
 */
export function proposeForwarded(r: Raft, m: ProposeMessage): void {
  const count = Math.min(m.data.length, r.cfg.proposalsPerMessageMax);
  r.counters.proposalsRefused += m.data.length - count;
  for (let i = 0; i < count; i++) {
    if (proposeAsLeader(r, m.data[i] as Uint8Array) instanceof ProposalDroppedError) r.counters.proposalsDropped++;
  }
}
