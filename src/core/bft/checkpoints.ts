/**
 * Checkpoints, watermarks and garbage collection (PBFT §4.3). Every K sequence numbers a replica
 * signs the digest of its state (the host computes it after executing the batch) and sends it to
 * all; 2F + 1 matching signed checkpoints make it stable, a proof anyone can check. The stable
 * checkpoint is the low watermark h; the log below it is discarded; the high watermark is h + L.
 *
 * Bounded: checkpoints are held only for multiples of K in (h, h + 2L] (a replica ahead of us by
 * more than that is beyond what we can use before a state transfer), one per replica per seq.
 */
import type { CheckpointMessage } from './messages.ts';
import { roomFor, type NormalCaseHooks, maybeExecute, maybePropose } from './normal-case.ts';
import type { ReplicaState } from './replica-state.ts';
import type { CheckpointCertificate, Digest } from './types.ts';

/** The host's state digest after executing a checkpoint seq: sign it and send it (PBFT §4.3). */
export function checkpointExecuted(s: ReplicaState, seq: number, stateDigest: Digest, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  s.ownStateDigests.set(seq, stateDigest);
  ctx.broker.sign([{ kind: 'checkpoint', seq, stateDigest, replica: ctx.id }], null, ([signature]) => {
    if (seq <= s.low) return;
    const cp = { replica: ctx.id, seq, stateDigest, signature: signature as Uint8Array };
    holdCheckpoint(s, cp);
    ctx.broadcast({ type: 'checkpoint', checkpoint: cp }, false);
    checkStable(s, seq, hooks);
  });
}

function holdCheckpoint(s: ReplicaState, cp: CheckpointMessage['checkpoint']): void {
  let bySender = s.checkpoints.get(cp.seq);
  if (bySender === undefined) s.checkpoints.set(cp.seq, (bySender = new Map()));
  bySender.set(cp.replica, cp);
}

export function handleCheckpoint(s: ReplicaState, m: CheckpointMessage, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const cp = m.checkpoint;
  if (!ctx.isReplica(m.from) || m.from === ctx.id) {
    ctx.counters.messagesMisrouted++;
    return;
  }
  // Another replica's checkpoint may be relayed (retransmit.ts serves a replica that is behind the
  // stable checkpoint with its proofs): the signature is checked against the replica it names.
  if (!ctx.isReplica(cp.replica) || cp.replica === ctx.id) {
    ctx.counters.wrongSender++;
    return;
  }
  if (cp.seq % ctx.cfg.checkpointIntervalSeqs !== 0 || cp.seq <= s.low || cp.seq > Math.max(s.low, s.lastHandedOut) + 2 * ctx.cfg.watermarkWindowSeqs || s.checkpoints.get(cp.seq)?.has(cp.replica) === true) {
    ctx.counters.checkpointsIgnored++;
    return;
  }
  if (!roomFor(s, m.from)) return;
  ctx.broker.verify([{ signer: cp.replica, payload: { kind: 'checkpoint', seq: cp.seq, stateDigest: cp.stateDigest, replica: cp.replica }, signature: cp.signature }], m.from, ([valid]) => {
    if (valid !== true) {
      ctx.counters.badSignatures++;
      return;
    }
    if (cp.seq <= s.low || s.checkpoints.get(cp.seq)?.has(cp.replica) === true) return;
    holdCheckpoint(s, cp);
    checkStable(s, cp.seq, hooks);
  });
}

/** 2F + 1 matching checkpoints for `seq`: it becomes stable. */
function checkStable(s: ReplicaState, seq: number, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const held = s.checkpoints.get(seq);
  if (held === undefined || seq <= s.low) return;
  const byDigest = new Map<Digest, CheckpointMessage['checkpoint'][]>();
  for (const cp of held.values()) byDigest.set(cp.stateDigest, [...(byDigest.get(cp.stateDigest) ?? []), cp]);
  for (const [stateDigest, proofs] of byDigest) {
    if (proofs.length >= ctx.quorum) {
      makeStable(s, { seq, stateDigest, proofs: proofs.slice(0, ctx.quorum) }, hooks);
      return;
    }
  }
}

/**
 * Move the low watermark to a stable checkpoint (ours or proven by a view-change) and discard
 * what lies at or below it (PBFT §4.3): slots, prepared certificates, checkpoints, accepted
 * pre-prepares. A replica that has not executed that far is behind: it needs the state from a
 * peer (`state-behind`), the log to replay is gone.
 */
export function makeStable(s: ReplicaState, cert: CheckpointCertificate, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (cert.seq <= s.low) return;
  s.stable = cert;
  ctx.stableToPersist = cert;
  ctx.stableClients = s.clientSnapshots.get(cert.seq) ?? null;
  for (const seq of s.clientSnapshots.keys()) if (seq <= cert.seq) s.clientSnapshots.delete(seq);
  ctx.discardBelowSeq = cert.seq;
  for (const seq of s.slots.keys()) if (seq <= cert.seq) s.slots.delete(seq);
  for (const seq of s.preparedCerts.keys()) if (seq <= cert.seq) s.preparedCerts.delete(seq);
  for (const seq of s.checkpoints.keys()) if (seq <= cert.seq) s.checkpoints.delete(seq);
  for (const seq of s.ownStateDigests.keys()) if (seq < cert.seq) s.ownStateDigests.delete(seq);
  for (const key of s.accepted.keys()) if (Number(key.slice(key.indexOf('/') + 1)) <= cert.seq) s.accepted.delete(key);
  if (s.nextSeq <= cert.seq) s.nextSeq = cert.seq + 1;
  ctx.counters.checkpointsStable++;
  ctx.emit({ kind: 'checkpoint-stable', seq: cert.seq, stateDigest: cert.stateDigest });
  const own = s.ownStateDigests.get(cert.seq);
  if (s.lastHandedOut < cert.seq || (own !== undefined && own !== cert.stateDigest)) ctx.emit({ kind: 'state-behind', seq: cert.seq, stateDigest: cert.stateDigest });
  maybePropose(s, hooks);
}

/**
 * The host installed the state of the stable checkpoint `seq` fetched from a peer (PBFT §5.3.2's
 * state transfer is the host's: it checks the state against `stateDigest`, which 2F + 1 signed
 * checkpoints certify) with the exactly-once table persisted beside it: execution resumes after
 * `seq`. The table is not covered by the state digest; a host should take it from F + 1 peers
 * that agree.
 */
export function stateTransferred(s: ReplicaState, seq: number, stateDigest: string, clients: readonly (readonly [string, number])[], hooks: NormalCaseHooks): boolean {
  if (s.stable === null || s.stable.seq !== seq || s.stable.stateDigest !== stateDigest || s.lastHandedOut >= seq || s.executing.size > 0) return false;
  s.lastHandedOut = s.lastExecuted = seq;
  for (const [client, timestamp] of clients) s.clients.executing(client, timestamp);
  for (const [d, p] of s.pending) if (p.request.timestamp <= s.clients.lastTimestamp(p.request.client)) s.pending.delete(d);
  s.ownStateDigests.set(seq, stateDigest);
  s.lastProgressTick = s.ctx.now;
  maybeExecute(s, hooks);
  return true;
}
