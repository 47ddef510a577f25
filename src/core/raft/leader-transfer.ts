/**
 * Leadership transfer (dissertation §3.10): the leader stops taking proposals, brings the
 * transferee up to date, and sends it TimeoutNow, on which it campaigns at once (its votes carry
 * `transfer`, so voters' leases do not stop them). A transfer not done within an election timeout
 * is abandoned (tick.ts). `urgent` is for a leader about to go (its page is closing): it does not
 * wait for the transferee's acknowledgement.
 */
import { assert } from '../assert.ts';
import type { Progress } from './progress.ts';
import type { Raft } from './raft.ts';
import type { NodeId } from './types.ts';

export function transferLeadership(r: Raft, transferee: NodeId, urgent: boolean): void {
  assert(r.role === 'leader', 'only the leader transfers leadership');
  if (transferee === r.id || !r.voters.includes(transferee)) return;
  if (r.leadTransferee === transferee && !urgent) return;
  r.leadTransferee = transferee;
  r.transferStartedThisTerm = true;
  // The transfer must finish within an election timeout, or it is abandoned (tickHeartbeat).
  r.electionElapsed = 0;
  const pr = r.progress.get(transferee) as Progress;
  const last = r.log.lastIndex();
  if (pr.match === last) {
    r.sendTimeoutNow(transferee);
    return;
  }
  r.needsAppendFlush = true;
  if (!urgent) return;
  // A leader that is going away cannot wait for the acknowledgement. Links deliver in order,
  // so once every entry is on its way to the transferee (appended to the messages before
  // TimeoutNow), it holds them when it campaigns. If one is lost, its campaign fails on the
  // voters' log check and an ordinary election follows: slower, never unsafe.
  // Only a follower in replicate state has a log known to match up to what was sent (a fresh
  // leader's probes say nothing yet).
  r.flushAppends();
  if (pr.state === 'replicate' && pr.next > last) r.sendTimeoutNow(transferee);
}
