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
import { roomFor, type NormalCaseHooks, maybePropose } from './normal-case.ts';
import type { ReplicaState } from './replica-state.ts';
import type { CheckpointCertificate, Digest } from './types.ts';

/** The host's state digest after executing a checkpoint seq: sign it and send it (PBFT §4.3). */
export function checkpointExecuted(s: ReplicaState, seq: number, stateDigest: Digest, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  s.ownStateDigests.set(seq, stateDigest);
  if (!ctx.broker.hasRoom(null)) {
    ctx.counters.cryptoBusy++;
    return;
  }
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
  if (cp.replica !== m.from) {
    ctx.counters.wrongSender++;
    return;
  }
  if (cp.seq % ctx.cfg.checkpointIntervalSeqs !== 0 || cp.seq <= s.low || cp.seq > s.low + 2 * ctx.cfg.watermarkWindowSeqs || s.checkpoints.get(cp.seq)?.has(m.from) === true) {
    ctx.counters.checkpointsIgnored++;
    return;
  }
  if (!roomFor(s, m.from)) return;
  ctx.broker.verify([{ signer: m.from, payload: { kind: 'checkpoint', seq: cp.seq, stateDigest: cp.stateDigest, replica: m.from }, signature: cp.signature }], m.from, ([valid]) => {
    if (valid !== true) {
      ctx.counters.badSignatures++;
      return;
    }
    if (cp.seq <= s.low || s.checkpoints.get(cp.seq)?.has(m.from) === true) return;
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
