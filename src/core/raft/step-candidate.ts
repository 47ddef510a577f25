/**
 * Pre-candidate and candidate message handling: count votes, and give way to a leader of the
 * same term.
 */
import type { Message } from './messages.ts';
import type { Raft } from './raft.ts';
import { handleAppend, handleHeartbeat, handleSnapshot, ignoreForgottenLeader } from './step-follower.ts';

export function stepCandidate(r: Raft, m: Message): void {
  // Found by the driver's oracle test: the gone leader's in-flight messages pulled a campaign
  // the oracle started back under it, with a fresh lease.
  if (ignoreForgottenLeader(r, m)) return;
  switch (m.type) {
    case 'append':
      r.becomeFollower(r.term, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(r.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.becomeFollower(r.term, m.from);
      handleSnapshot(r, m);
      return;
    case 'vote-response':
    case 'pre-vote-response': {
      // Only answers to the kind of request this role sent count (a late vote answer reaching a
      // new pre-candidate must not be counted as a pre-vote).
      const expected = r.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
      if (m.type !== expected) {
        r.counters.messagesIgnored++;
        return;
      }
      r.poll(m.from, !m.reject);
      return;
    }
    case 'read-index':
      r.send({ type: 'read-index-response', from: r.id, to: m.from, term: 0, requestId: m.requestId, index: -1 });
      return;
    case 'propose':
      r.counters.proposalsDropped += m.data.length;
      return;
    case 'timeout-now':
    case 'append-response':
    case 'snapshot-response':
    case 'heartbeat-response':
    case 'vote':
    case 'pre-vote':
    case 'read-index-response':
    case 'transfer-leader':
    case 'join':
      r.counters.messagesIgnored++;
      return;
    default: {
      const never: never = m;
      return never;
    }
  }
}
