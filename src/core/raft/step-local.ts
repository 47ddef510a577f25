/**
 * The local requests of a node's own host (local-input.ts), as `RaftNode.step` takes them:
 * propose, read, campaign, forget a leader, join, hand over leadership, change membership. Each
 * answers a typed result; none throws on a refusal.
 */
import { assert } from '../assert.ts';
import { err, ok, type Result } from '../result.ts';
import { isMember } from './conf-change.ts';
import { NotLeaderError, ProposalDroppedError } from './errors.ts';
import { proposeAsLeader, readAsLeader } from './leader-requests.ts';
import type { RaftLocalInput, RaftStepAccepted, RaftStepRefused, ReadMode } from './local-input.ts';
import type { Raft } from './raft.ts';
import type { NodeId } from './types.ts';

const accepted: RaftStepAccepted = { kind: 'accepted' };
const unchanged: RaftStepAccepted = { kind: 'unchanged' };

export function stepLocal(r: Raft, input: RaftLocalInput): Result<RaftStepAccepted, RaftStepRefused> {
  switch (input.local) {
    case 'propose':
      return proposeLocal(r, input.data);
    case 'propose-batch':
      return proposeBatchLocal(r, input.data);
    case 'read':
      return readLocal(r, input.requestId, input.mode);
    case 'campaign':
      if (r.role === 'leader') return ok(unchanged);
      r.campaign(r.cfg.preVote ? 'pre-election' : 'election');
      return ok(accepted);
    case 'forget-leader':
      return ok(forgetLeaderLocal(r, input.leader, input.suspected === true) ? accepted : unchanged);
    case 'join':
      return ok(requestJoinLocal(r, input.via) ? accepted : unchanged);
    case 'transfer-leadership':
      return transferLocal(r, input.to, input.urgent);
    case 'conf-change': {
      if (r.role !== 'leader') return err(new NotLeaderError(r.leader));
      const changed = r.proposeConfChange(input.change);
      return changed.ok ? ok({ kind: 'appended', index: changed.value.index, term: changed.value.term }) : changed;
    }
    default: {
      const never: never = input;
      return never;
    }
  }
}

function proposeLocal(r: Raft, data: Uint8Array): Result<RaftStepAccepted, RaftStepRefused> {
  if (r.role === 'leader') {
    const appended = proposeAsLeader(r, data);
    return appended instanceof ProposalDroppedError ? err(appended) : ok({ kind: 'appended', index: appended.index, term: appended.term });
  }
  if (r.role === 'follower' && r.leader !== null && r.cfg.forwardProposals) {
    if (data.byteLength > r.cfg.maxCommandBytes) return err(new ProposalDroppedError('too-large'));
    forwardProposal(r, r.leader, data);
    return ok({ kind: 'forwarded', to: r.leader });
  }
  return err(new NotLeaderError(r.leader));
}

/**
 * Commands in order, as `proposeLocal` takes one each, but one answer for all: on the leader they
 * are appended until one is refused (the rest are not, so that what is appended keeps the
 * batch's order); a follower forwards them all, or none when one is too large to. An empty
 * batch is our caller's bug.
 */
function proposeBatchLocal(r: Raft, data: readonly Uint8Array[]): Result<RaftStepAccepted, RaftStepRefused> {
  assert(data.length > 0, 'an empty batch of proposals');
  if (r.role === 'leader') {
    const firstIndex = r.log.lastIndex() + 1;
    for (let i = 0; i < data.length; i++) {
      const appended = proposeAsLeader(r, data[i] as Uint8Array);
      if (!(appended instanceof ProposalDroppedError)) continue;
      if (i === 0) return err(appended);
      return ok({ kind: 'appended-batch', firstIndex, count: i, term: r.term, refused: appended });
    }
    return ok({ kind: 'appended-batch', firstIndex, count: data.length, term: r.term, refused: null });
  }
  if (r.role === 'follower' && r.leader !== null && r.cfg.forwardProposals) {
    for (let i = 0; i < data.length; i++) {
      if ((data[i] as Uint8Array).byteLength > r.cfg.maxCommandBytes) return err(new ProposalDroppedError('too-large'));
    }
    for (let i = 0; i < data.length; i++) forwardProposal(r, r.leader, data[i] as Uint8Array);
    return ok({ kind: 'forwarded', to: r.leader });
  }
  return err(new NotLeaderError(r.leader));
}

/**
 * Forward a command to the leader in the `propose` message this Ready already holds for it when
 * that has room (at most `proposalsPerMessageMax` commands, which the leader appends from one
 * message, and `maxBytesPerAppend` bytes), else in a new one. One message per command made a
 * follower that callers keep writing to (a page whose tab lost leadership) send thousands of
 * frames a second, each tagged and checked on its own, and the leader step each alone.
 */
function forwardProposal(r: Raft, leader: NodeId, data: Uint8Array): void {
  const last = r.msgs.at(-1);
  if (last?.type === 'propose' && last.to === leader && last.data.length < r.cfg.proposalsPerMessageMax) {
    let bytes = data.byteLength;
    for (const d of last.data) bytes += d.byteLength;
    if (bytes <= r.cfg.maxBytesPerAppend) {
      r.msgs[r.msgs.length - 1] = { ...last, data: [...last.data, data] };
      return;
    }
  }
  r.send({ type: 'propose', from: r.id, to: leader, term: 0, data: [data] });
}

function readLocal(r: Raft, requestId: number, mode: ReadMode): Result<RaftStepAccepted, RaftStepRefused> {
  assert(Number.isSafeInteger(requestId), 'requestId must be a safe integer');
  if (r.role === 'leader') {
    const asked = readAsLeader(r, requestId, r.id, mode === 'lease');
    return asked.ok ? ok(accepted) : asked;
  }
  if (r.role === 'follower' && r.leader !== null) {
    r.send({ type: 'read-index', from: r.id, to: r.leader, term: 0, requestId, lease: mode === 'lease' });
    return ok(accepted);
  }
  return err(new NotLeaderError(r.leader));
}

function transferLocal(r: Raft, to: NodeId, urgent: boolean): Result<RaftStepAccepted, RaftStepRefused> {
  if (r.role === 'leader') {
    r.transferLeadership(to, urgent);
    return ok(accepted);
  }
  if (r.leader !== null) {
    r.send({ type: 'transfer-leader', from: r.id, to: r.leader, term: 0, transferee: to });
    return ok({ kind: 'forwarded', to: r.leader });
  }
  return err(new NotLeaderError(null));
}

function requestJoinLocal(r: Raft, peers: readonly NodeId[]): boolean {
  if (isMember(r.log.config(), r.id)) return false;
  for (const to of peers) if (to !== r.id) r.send({ type: 'join', from: r.id, to, term: 0, node: r.id });
  return true;
}

function forgetLeaderLocal(r: Raft, leader: NodeId, suspected: boolean): boolean {
  // A follower that has not yet heard who leads (leader unknown) may still hold the lease.
  if (r.role !== 'follower' || (r.leader !== null && r.leader !== leader)) return false;
  r.leader = null;
  // Only a certain loss ignores the leader's messages still in flight for the rest of its term.
  // A suspicion may be wrong (a phi detector on a loaded machine): ignoring a live leader for its
  // whole term cut this follower off until the next election. Followed again, a leader that is
  // really gone sends nothing more, and the same lease given up lets this node grant or win the
  // pre-vote once its detector suspects again; one that is alive just goes on leading, since
  // the other voters, hearing it, refuse the pre-vote (§9.6).
  r.forgottenLeader = suspected ? null : leader;
  r.lastLeaderContactTick = r.now - r.cfg.electionTimeoutTicks;
  return true;
}
