/**
 * Requests a leader accepts from its own clients and, forwarded, from followers' clients:
 * proposals and linearizable reads. Each refuses with a typed error rather than queueing
 * without bound.
 */
import { err, ok, type Result } from '../result.ts';
import { ProposalDroppedError, ReadDroppedError } from './errors.ts';
import type { Raft } from './raft.ts';
import type { Entry, NodeId } from './types.ts';

/**
 * Append a command as the leader. Answers the entry, or why it was refused: no Result wrapper,
 * because this runs once per command and the caller wraps its own answer (two objects fewer per
 * command on the hot path of `step({ local: 'propose' })`).
 */
export function proposeAsLeader(r: Raft, data: Uint8Array): Entry | ProposalDroppedError {
  if (data.byteLength > r.cfg.maxCommandBytes) return new ProposalDroppedError('too-large');
  // During a transfer the leader stops taking proposals, so the transferee can catch up and the
  // proposals go to the next leader instead (§3.10).
  if (r.leadTransferee !== null) return new ProposalDroppedError('transfer-in-progress');
  if (r.log.lastIndex() - r.log.committed >= r.cfg.maxUncommittedEntries) {
    return new ProposalDroppedError('uncommitted-limit');
  }
  return r.appendEntry('normal', data);
}

/**
 * Queue a read for the next heartbeat round (ReadIndex), or answer it at once under a valid
 * lease when the caller asked for a lease read.
 */
export function readAsLeader(r: Raft, requestId: number, from: NodeId, lease: boolean): Result<void, ReadDroppedError> {
  if (lease && leaseValid(r)) {
    r.answerRead({ requestId, from, round: 0 }, r.log.committed);
    return ok(undefined);
  }
  if (r.reads.isFull()) {
    r.counters.readsDropped++;
    return err(new ReadDroppedError('too many pending reads'));
  }
  // Reads that arrive while a round's heartbeats are still unsent join that round: they arrived
  // before it leaves, which is all ReadIndex needs.
  const round = r.reads.roundOpen ? r.reads.round : r.broadcastHeartbeat();
  r.reads.pending.push({ requestId, from, round });
  r.releaseReads();
  return ok(undefined);
}

/** Leader: the lease (§6.4.1) holds, so a read may be served at the commit index now. */
export function leaseValid(r: Raft): boolean {
  if (!r.cfg.checkQuorum || r.transferStartedThisTerm || !r.committedInCurrentTerm()) return false;
  if (r.reads.quorumRoundTick < 0) return false;
  const leaseTicks = r.cfg.electionTimeoutTicks - r.cfg.leaseDriftTicks;
  return r.now < r.reads.quorumRoundTick + leaseTicks;
}
