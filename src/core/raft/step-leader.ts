/**
 * Leader message handling: replication progress and flow control, fast backtracking, commit,
 * forwarded proposals and reads, leadership transfer.
 */
import type { AppendResponseMessage, Message, SnapshotResponseMessage } from './messages.ts';
import type { Progress } from './progress.ts';
import type { Raft } from './raft.ts';
import type { NodeId } from './types.ts';
import { admitJoin, proposeForwarded } from './admission.ts';
import { readAsLeader } from './leader-requests.ts';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append-response': {
      const pr = progressOf(r, m.from);
      if (pr === undefined || refuseAppendAck(r, m, pr)) return;
      heardFrom(r, pr);
      handleAppendResponse(r, m, pr);
      return;
    }
    case 'snapshot-response': {
      const pr = progressOf(r, m.from);
      if (pr === undefined || refuseSnapshotAck(r, m, pr)) return;
      heardFrom(r, pr);
      handleSnapshotResponse(r, m, pr);
      return;
    }
    case 'heartbeat-response': {
      const pr = progressOf(r, m.from);
      if (pr === undefined) return;
      heardFrom(r, pr);
      // A probe that went unanswered (lost) may be retried now that the follower is reachable.
      pr.probeSent = false;
      if (pr.match < r.log.lastIndex()) r.sendCatchUpAppend(m.from, pr);
      else if (pr.sentCommit < r.log.committed) r.needsAppendFlush = true;
      if (m.round > pr.ackedRound && m.round <= r.reads.round) {
        pr.ackedRound = m.round;
        r.updateQuorumRound();
      }
      return;
    }
    case 'propose':
      proposeForwarded(r, m);
      return;
    case 'read-index':
      if (!readAsLeader(r, m.requestId, m.from, m.lease).ok) {
        r.send({ type: 'read-index-response', from: r.id, to: m.from, term: 0, requestId: m.requestId, index: -1 });
      }
      return;
    case 'transfer-leader':
      r.transferLeadership(m.transferee);
      return;
    case 'join':
      admitJoin(r, m.node);
      return;
    case 'append':
    case 'snapshot':
    case 'heartbeat':
    case 'timeout-now':
    case 'vote':
    case 'pre-vote':
    case 'vote-response':
    case 'pre-vote-response':
    case 'read-index-response':
      break;
    default: {
      const never: never = m;
      return never;
    }
  }
  r.counters.messagesIgnored++;
}

/**
 * The leader's record of a follower. Only members have one (`Raft.refreshConfig` keeps the map
 * in line with the configuration), so an answer from anyone else is counted and ignored: it
 * never counts toward a commit, a read's quorum or check-quorum.
 */
function progressOf(r: Raft, from: NodeId): Progress | undefined {
  const pr = r.progress.get(from);
  if (pr === undefined) r.counters.messagesFromNonMembers++;
  return pr;
}

/**
 * A follower can only acknowledge, or reject, what it was sent: an answer naming an index beyond
 * the last one this leader sent it (`sentIndexMax`) is refused and counted. Believed, such an
 * answer raised `match` past what the follower holds, and with the followers gone a forged one
 * made the leader commit (and report) a write that only the leader held (Raft paper Figure 2:
 * matchIndex is what the follower is KNOWN to hold).
 */
function refuseAppendAck(r: Raft, m: AppendResponseMessage, pr: Progress): boolean {
  if (m.index <= pr.sentIndexMax) return false;
  r.counters.acksRefused++;
  return true;
}

/**
 * A follower says it installed a snapshot (or already held all of it) only for a snapshot it was
 * sent: the one this leader is sending it (`snapshotIndex`). Any other index that would raise
 * `match` is refused and counted (an answer about an older snapshot this leader has since
 * replaced is refused too; the follower then takes the newer one).
 */
function refuseSnapshotAck(r: Raft, m: SnapshotResponseMessage, pr: Progress): boolean {
  if (!m.done || m.index <= pr.match || (pr.snapshotIndex > 0 && m.index === pr.snapshotIndex)) return false;
  r.counters.acksRefused++;
  return true;
}

function handleAppendResponse(r: Raft, m: AppendResponseMessage, pr: Progress): void {
  if (m.reject) {
    if (m.index >= pr.match && m.hintIndex < pr.match && pr.state !== 'snapshot') {
      // A fresh rejection below what it acknowledged: the follower lost its log (Progress.forgetMatch).
      r.counters.followersLostLog++;
      pr.forgetMatch(m.hintIndex);
      r.needsAppendFlush = true;
      return;
    }
    // Fast backtracking: the follower named its last entry (hintIndex, hintTerm) that may match;
    // skip to our last entry at or below it whose term is at most hintTerm.
    let probe = m.hintIndex;
    if (m.hintTerm > 0) probe = r.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
    if (pr.maybeDecrTo(m.index, probe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      r.needsAppendFlush = true;
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
  if (!updated) {
    if (pr.state === 'replicate' && !pr.inflights.isFull()) r.needsAppendFlush = true;
    return;
  }
  if (pr.state === 'probe') pr.becomeReplicate();
  else if (pr.state === 'snapshot' && pr.match >= pr.snapshotIndex) pr.becomeProbe();
  r.needsAppendFlush = true;
  r.maybeCommit();
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) r.sendTimeoutNow(m.from);
}

function heardFrom(r: Raft, pr: Progress): void {
  pr.recentActive = true;
  pr.lastResponseTick = r.now;
}

function handleSnapshotResponse(r: Raft, m: SnapshotResponseMessage, pr: Progress): void {
  if (m.done) {
    // Installed (the answer left only after the snapshot was durable): replicate from there.
    if (pr.match < m.index) pr.match = m.index;
    if (pr.state === 'snapshot') {
      pr.becomeProbe();
      pr.catchingUp = true;
    }
    r.needsAppendFlush = true;
    r.maybeCommit();
    return;
  }
  if (pr.state !== 'snapshot' || m.index !== pr.snapshotIndex) return;
  // A duplicate of an answer already acted on: the chunk it asked for is in flight.
  if (m.received === pr.snapshotAcked && pr.snapshotChunkInFlight) return;
  // Resume from what the follower holds (after a lost or reordered chunk it may be less).
  pr.snapshotAcked = m.received;
  pr.snapshotChunkInFlight = false;
  r.needsAppendFlush = true;
}
