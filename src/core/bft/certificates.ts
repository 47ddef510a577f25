/**
 * Checks of the certificates a view change carries (PBFT §4.4): the shape first (counts, distinct
 * signers who are replicas, sequence numbers within the window the checkpoint allows, views below
 * the new one), then what only the host can check: every signature, and that each batch's
 * requests hash to the digest its pre-prepare signed. A Byzantine replica cannot then claim a
 * request prepared that did not (it would need 2F signed prepares, F + 1 of them honest), move
 * the low watermark to a checkpoint nobody proved, or swap the requests of a genuine
 * certificate.
 *
 * `computeNewViewPrePrepares` is the deterministic choice of PBFT §4.4 (the set O): the new primary
 * makes it from the view-changes it holds, every backup makes it again from the same view-changes
 * and must find the new-view's O equal.
 */
import { primaryOf, type ResolvedBftConfig } from './config.ts';
import type { DigestPayload, SignedPayload, VerifyItem } from './proof-requests.ts';
import type { SignedViewChange, ViewChangeBody } from './messages.ts';
import type { CheckpointCertificate, Digest, PreparedCertificate, SignedRequest } from './types.ts';

function distinctReplicas(ids: readonly string[], cfg: ResolvedBftConfig): boolean {
  return new Set(ids).size === ids.length && ids.every((id) => cfg.replicas.includes(id));
}

export function checkpointCertProblem(c: CheckpointCertificate, cfg: ResolvedBftConfig): string | null {
  if (c.seq % cfg.checkpointIntervalSeqs !== 0 || c.seq === 0) return 'checkpoint seq';
  if (c.proofs.length < 2 * cfg.f + 1) return 'checkpoint proofs';
  if (!distinctReplicas(c.proofs.map((p) => p.replica), cfg)) return 'checkpoint signers';
  if (c.proofs.some((p) => p.seq !== c.seq || p.stateDigest !== c.stateDigest)) return 'checkpoint mismatch';
  return null;
}

function batchProblem(requests: readonly SignedRequest[], cfg: ResolvedBftConfig): string | null {
  if (requests.length > cfg.batchRequestsMax || requests.reduce((n, r) => n + r.op.length, 0) > cfg.batchBytesMax) return 'batch size';
  if (new Set(requests.map((r) => r.digest)).size !== requests.length) return 'batch duplicate';
  return null;
}

export function preparedCertProblem(p: PreparedCertificate, below: number, cfg: ResolvedBftConfig): string | null {
  const v = p.prePrepare.view;
  if (v >= below) return 'prepared view';
  if (p.prepares.length < 2 * cfg.f) return 'prepares';
  const primary = primaryOf(cfg.replicas, v);
  if (!distinctReplicas(p.prepares.map((x) => x.replica), cfg) || p.prepares.some((x) => x.replica === primary)) return 'prepare signers';
  return batchProblem(p.requests, cfg);
}

/** What is wrong with the shape of a view-change for `newView` (null: nothing; the signatures are still to check). */
export function viewChangeProblem(b: ViewChangeBody, cfg: ResolvedBftConfig): string | null {
  const low = b.checkpoint?.seq ?? 0;
  if (b.checkpoint !== null) {
    const p = checkpointCertProblem(b.checkpoint, cfg);
    if (p !== null) return p;
  }
  if (b.prepared.length > cfg.watermarkWindowSeqs) return 'prepared count';
  let last = low;
  for (const p of b.prepared) {
    const seq = p.prePrepare.seq;
    if (seq <= last || seq > low + cfg.watermarkWindowSeqs) return 'prepared seq';
    last = seq;
    const problem = preparedCertProblem(p, b.newView, cfg);
    if (problem !== null) return problem;
  }
  return null;
}

export function requestPayload(r: SignedRequest): SignedPayload {
  return { kind: 'request', client: r.client, timestamp: r.timestamp, op: r.op, readOnly: r.readOnly };
}

/**
 * Everything the host must check of `vcs`: signatures (`items`, with `owners[i]` the index of the
 * view-change item i belongs to) and the batch digests of every prepared certificate
 * (`digests`, with the expected digest and owner of each).
 */
export function viewChangeChecks(vcs: readonly SignedViewChange[], cfg: ResolvedBftConfig, verified: ReadonlySet<Digest>): {
  items: VerifyItem[];
  owners: number[];
  digests: DigestPayload[];
  expected: { digest: Digest; owner: number }[];
} {
  const items: VerifyItem[] = [];
  const owners: number[] = [];
  const digests: DigestPayload[] = [];
  const expected: { digest: Digest; owner: number }[] = [];
  vcs.forEach((vc, owner) => {
    const b = vc.body;
    const add = (item: VerifyItem): void => {
      items.push(item);
      owners.push(owner);
    };
    add({ signer: b.replica, payload: { kind: 'view-change', body: b }, signature: vc.signature });
    for (const p of b.checkpoint?.proofs ?? []) add({ signer: p.replica, payload: { kind: 'checkpoint', seq: p.seq, stateDigest: p.stateDigest, replica: p.replica }, signature: p.signature });
    for (const c of b.prepared) {
      const h = c.prePrepare;
      add({ signer: primaryOf(cfg.replicas, h.view), payload: { kind: 'pre-prepare', view: h.view, seq: h.seq, digest: h.digest }, signature: h.signature });
      for (const x of c.prepares) add({ signer: x.replica, payload: { kind: 'prepare', view: h.view, seq: h.seq, digest: h.digest, replica: x.replica }, signature: x.signature });
      for (const r of c.requests) if (!verified.has(r.digest)) add({ signer: r.client, payload: requestPayload(r), signature: r.signature });
      digests.push({ kind: 'batch', requestDigests: c.requests.map((r) => r.digest) });
      expected.push({ digest: h.digest, owner });
    }
  });
  return { items, owners, digests, expected };
}

/** One pre-prepare the new view must carry: the batch of the highest-view certificate for `seq`, or the null request. */
export interface NewViewPick {
  readonly seq: number;
  /** null: the null request (an empty batch, whose digest the host gives). */
  readonly digest: Digest | null;
  readonly requests: readonly SignedRequest[];
}

/**
 * PBFT §4.4: min-s is the highest stable checkpoint among V, max-s the highest prepared seq (at
 * least min-s); for every seq between, the batch of the certificate with the highest view, or the
 * null request. Deterministic in V, whatever order it comes in.
 */
export function computeNewViewPrePrepares(vcs: readonly SignedViewChange[]): { checkpoint: CheckpointCertificate | null; picks: NewViewPick[] } {
  let checkpoint: CheckpointCertificate | null = null;
  for (const vc of vcs) {
    const c = vc.body.checkpoint;
    if (c !== null && (checkpoint === null || c.seq > checkpoint.seq)) checkpoint = c;
  }
  const minS = checkpoint?.seq ?? 0;
  const best = new Map<number, PreparedCertificate>();
  let maxS = minS;
  for (const vc of vcs) {
    for (const c of vc.body.prepared) {
      const seq = c.prePrepare.seq;
      if (seq <= minS) continue;
      const held = best.get(seq);
      // Two certificates of one view for one seq cannot differ (2F + 1 prepares each would need an honest replica to prepare both): either will do; take the smaller digest so the choice is the same everywhere.
      if (held === undefined || c.prePrepare.view > held.prePrepare.view || (c.prePrepare.view === held.prePrepare.view && c.prePrepare.digest < held.prePrepare.digest)) best.set(seq, c);
      if (seq > maxS) maxS = seq;
    }
  }
  const picks: NewViewPick[] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    const c = best.get(seq);
    picks.push(c === undefined ? { seq, digest: null, requests: [] } : { seq, digest: c.prePrepare.digest, requests: c.requests });
  }
  return { checkpoint, picks };
}
