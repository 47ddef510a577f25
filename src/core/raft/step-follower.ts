/**
 * Follower message handling: accept appends and heartbeats from the leader of the term, campaign
 * on TimeoutNow, forward what only the leader can do.
 */
import type { AppendMessage, HeartbeatMessage, Message, SnapshotMessage } from './messages.ts';
import type { Raft } from './raft.ts';
import { ignoreSecondLeader } from './membership-guard.ts';

/**
 * A leader a failure oracle declared gone (`forgetLeader`) is not followed again in its term: its
 * messages still in flight when it went must not bring back its lease (followers), nor pull a
 * campaign back under it (pre-candidates). Counts what it ignores.
 */
export function ignoreForgottenLeader(r: Raft, m: Message): boolean {
  if (m.from !== r.forgottenLeader || (m.type !== 'append' && m.type !== 'heartbeat' && m.type !== 'snapshot')) return false;
  r.counters.messagesIgnored++;
  return true;
}

export function stepFollower(r: Raft, m: Message): void {
  if (ignoreForgottenLeader(r, m) || ignoreSecondLeader(r, m)) return;
  switch (m.type) {
    case 'append':
      heardFromLeader(r, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      heardFromLeader(r, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      heardFromLeader(r, m.from);
      handleSnapshot(r, m);
      return;
    case 'timeout-now':
      // §3.10: the leader says our log is up to date and asks us to campaign at once, skipping
      // pre-vote; the votes carry `transfer` so that voters' leases do not block them.
      if (m.from === r.leader) r.campaign('transfer');
      else r.counters.messagesIgnored++;
      return;
    case 'read-index-response':
      if (m.index >= 0) r.readStates.push({ requestId: m.requestId, index: m.index });
      else r.droppedReads.push(m.requestId);
      return;
    case 'transfer-leader':
    case 'join':
      if (r.leader !== null && r.leader !== m.from) r.send({ ...m, from: r.id, to: r.leader });
      else r.counters.messagesIgnored++;
      return;
    case 'read-index':
      // The sender thinks we lead; we do not. Tell it the read is dropped so it retries.
      r.send({ type: 'read-index-response', from: r.id, to: m.from, term: 0, requestId: m.requestId, index: -1 });
      return;
    case 'propose':
      // A proposal forwarded to a node that is no longer the leader: dropped. Forwarding it on
      // could loop; the client times out and retries, as with any lost message.
      r.counters.proposalsDropped += m.data.length;
      return;
    case 'append-response':
    case 'snapshot-response':
    case 'heartbeat-response':
    case 'vote':
    case 'pre-vote':
    case 'vote-response':
    case 'pre-vote-response':
      r.counters.messagesIgnored++;
      return;
    default: {
      const never: never = m;
      return never;
    }
  }
}

function heardFromLeader(r: Raft, leader: string): void {
  r.electionElapsed = 0;
  r.leader = leader;
  r.lastLeaderContactTick = r.now;
}

/** AppendEntries receiver (Raft paper §5.3, Figure 2). */
export function handleAppend(r: Raft, m: AppendMessage): void {
  const log = r.log;
  let prevIndex = m.prevIndex;
  let prevTerm = m.prevTerm;
  let entries = m.entries;
  if (prevIndex < log.committed) {
    // A delayed or duplicated append overlapping what we already committed: committed entries
    // match the leader's log, so continue from our commit index with what is new.
    const skip = Math.min(entries.length, log.committed - prevIndex);
    entries = entries.slice(skip);
    prevIndex = log.committed;
    prevTerm = log.term(prevIndex) as number;
    if (entries.length === 0) {
      // We hold all of it. Acknowledge what the append carried, not our commit index: a leader
      // refuses an acknowledgement beyond what it sent us (a forged one could commit an entry
      // no follower holds), and our commit may come from an earlier leader.
      const index = m.prevIndex + m.entries.length;
      r.send({ type: 'append-response', from: r.id, to: m.from, term: r.term, index, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
  }
  const lastNew = log.maybeAppend(prevIndex, prevTerm, entries);
  if (lastNew >= 0) {
    log.commitTo(Math.min(m.commit, lastNew));
    r.refreshConfig();
    r.send({ type: 'append-response', from: r.id, to: m.from, term: r.term, index: lastNew, reject: false, hintIndex: 0, hintTerm: 0 });
    return;
  }
  // Fast backtracking: name our last entry at or below prevIndex whose term is at most the
  // leader's prevTerm; everything between it and prevIndex cannot match.
  const hint = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
  r.send({
    type: 'append-response',
    from: r.id,
    to: m.from,
    term: r.term,
    index: m.prevIndex,
    reject: true,
    hintIndex: hint.index,
    hintTerm: hint.term,
  });
}

export function handleHeartbeat(r: Raft, m: HeartbeatMessage): void {
  // The leader caps `commit` at what it knows we hold; the min guards a log shortened by a crash.
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: 'heartbeat-response', from: r.id, to: m.from, term: r.term, round: m.round });
}

/**
 * InstallSnapshot receiver (dissertation §5.4.1), in chunks. Chunks must arrive in order; a
 * chunk out of order is answered with how much we hold, so the leader resumes from there. The
 * final answer is sent only after the Ready carrying the snapshot is durable.
 */
export function handleSnapshot(r: Raft, m: SnapshotMessage): void {
  const { meta } = m;
  const answer = (received: number, done: boolean): void => {
    r.send({ type: 'snapshot-response', from: r.id, to: m.from, term: r.term, index: meta.index, received, done });
  };
  if (meta.index <= r.log.committed) {
    // We already hold everything the snapshot covers.
    r.incomingSnapshot = null;
    answer(m.offset + m.data.byteLength, true);
    return;
  }
  let incoming = r.incomingSnapshot;
  if (incoming === null || incoming.index !== meta.index || incoming.term !== meta.term) {
    if (m.offset !== 0) {
      answer(0, false);
      return;
    }
    incoming = { index: meta.index, term: meta.term, received: 0, chunks: [] };
    r.incomingSnapshot = incoming;
  }
  if (m.offset !== incoming.received) {
    answer(incoming.received, false);
    return;
  }
  if (incoming.received + m.data.byteLength > r.cfg.maxSnapshotBytes) {
    r.incomingSnapshot = null;
    r.counters.messagesIgnored++;
    return;
  }
  // Copy: the chunk may be a view into a buffer the transport reuses.
  incoming.chunks.push(m.data.slice());
  incoming.received += m.data.byteLength;
  if (!m.done) {
    answer(incoming.received, false);
    return;
  }
  const data = new Uint8Array(incoming.received);
  let at = 0;
  for (const chunk of incoming.chunks) {
    data.set(chunk, at);
    at += chunk.byteLength;
  }
  r.incomingSnapshot = null;
  // Checked whole, before it changes anything: one this node cannot restore is refused, not
  // installed (unanswered: the leader sends it again once its snapshot times out).
  if (r.cfg.checkSnapshot !== null && r.cfg.checkSnapshot({ meta, data }) !== null) {
    r.counters.snapshotsRefused++;
    return;
  }
  r.log.restore({ meta, data });
  r.refreshConfig();
  answer(incoming.received, true);
}
