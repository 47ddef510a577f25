/**
 * PBFT's normal case (OSDI'99 §4.2, TOCS §4.2, batching §5.1.4): requests, pre-prepare, prepare,
 * commit, execution in sequence order, replies, read-only requests (TOCS §5.1.3).
 *
 * With Aardvark's rules (NSDI'09 §4.1): clients sign requests; the primary checks a request's
 * signature before it orders it, backups check every request of a pre-prepare, and a pre-prepare
 * holding a request that fails, or whose batch digest is not its batch's, is evidence against the
 * primary: the backup votes to change view. A signature is valid for every replica or for none,
 * so a client cannot make a request that some replicas accept and others refuse (the "big MAC"
 * attack of MAC authenticators).
 *
 * Every signature check, digest and signature is asked of the host (crypto-broker.ts); each
 * continuation looks again at the view and the slot when the answer comes, since the replica may
 * have moved on meanwhile.
 */
import type { BftRefusedError } from './local-input.ts';
import { BftRefusedError as Refused, type ExecutionResult } from './local-input.ts';
import type { CommitMessage, PrePrepareMessage, PrepareMessage, RequestMessage } from './messages.ts';
import { err, ok, type Result } from '../result.ts';
import { acceptedKey, type ReplicaState, type Slot } from './replica-state.ts';
import type { Digest, PrePrepareHeader, SignedRequest } from './types.ts';
import type { ViewChangeReason } from './events.ts';
import type { ExecutedBatch } from './ready.ts';

/** The view-change entry point, wired by the replica (view-change.ts), so that this file needs not import it. */
export interface NormalCaseHooks {
  suspectPrimary(reason: ViewChangeReason): void;
  checkpointExecuted(seq: number, stateDigest: Digest): void;
  /** A view was entered: normal-case messages held for it may be stepped now. */
  viewEntered(): void;
}

export function requestKey(r: { readonly client: string; readonly timestamp: number }): string {
  return `${r.client}/${r.timestamp}`;
}

function requestPayload(r: SignedRequest): { kind: 'request'; client: string; timestamp: number; op: Uint8Array; readOnly: boolean } {
  return { kind: 'request', client: r.client, timestamp: r.timestamp, op: r.op, readOnly: r.readOnly };
}

/** A request from a client, or relayed by a backup (PBFT §4.1). */
export function handleRequest(s: ReplicaState, m: RequestMessage, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const req = m.request;
  const fromReplica = ctx.isReplica(m.from);
  if (!fromReplica && m.from !== req.client) {
    ctx.counters.wrongSender++;
    return;
  }
  if (req.readOnly) {
    handleRead(s, m.from, req);
    return;
  }
  const last = s.clients.get(req.client);
  if (last !== undefined && req.timestamp <= last.timestamp) {
    // PBFT §4.1: the last request again is answered from the cache; anything older is stale.
    if (req.timestamp === last.timestamp && last.reply !== null && !fromReplica) {
      ctx.counters.repliesResent++;
      ctx.send(req.client, { type: 'reply', timestamp: req.timestamp, readOnly: false, ...last.reply }, false);
    } else ctx.counters.requestsStale++;
    return;
  }
  const held = s.pending.get(req.digest);
  if (held !== undefined) {
    // A client's retransmission: relay it to the primary again (PBFT §4.1), the timer keeps running.
    if (!fromReplica && !ctx.viewChanging && ctx.primary() !== ctx.id) ctx.send(ctx.primary(), { type: 'request', request: req }, false);
    return;
  }
  if (s.verified.has(req.digest)) {
    admit(s, req, fromReplica, hooks);
    return;
  }
  if (!roomFor(s, m.from)) return;
  ctx.broker.verify([{ signer: req.client, payload: requestPayload(req), signature: req.signature }], m.from, (valid) => {
    if (valid[0] !== true) {
      ctx.counters.requestsInvalid++;
      return;
    }
    s.markVerified(req.digest);
    if (!s.pending.has(req.digest) && req.timestamp > s.clients.lastTimestamp(req.client)) admit(s, req, fromReplica, hooks);
  }, !fromReplica);
}

/** Whether a crypto request may be asked for `sender`; counts the refusal when not. */
export function roomFor(s: ReplicaState, sender: string): boolean {
  const { ctx } = s;
  const isClient = !ctx.isReplica(sender);
  if (ctx.broker.hasRoom(sender, isClient)) return true;
  if (isClient && ctx.broker.clientsFull) ctx.counters.cryptoBusy++;
  else ctx.counters.perSenderDropped++;
  return false;
}

function admit(s: ReplicaState, req: SignedRequest, fromReplica: boolean, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (s.pending.size >= ctx.cfg.pendingRequestsMax) {
    ctx.counters.requestsDropped++;
    return;
  }
  if (![...s.pending.values()].some((p) => p.seq === null)) s.lastPrePrepareTick = ctx.now;
  s.pending.set(req.digest, { request: req, sinceTick: ctx.now, seq: null });
  if (!fromReplica && !ctx.viewChanging && ctx.primary() !== ctx.id) ctx.send(ctx.primary(), { type: 'request', request: req }, false);
  maybePropose(s, hooks);
}

function handleRead(s: ReplicaState, from: string, req: SignedRequest): void {
  const { ctx } = s;
  const key = requestKey(req);
  if (s.readsOutstanding.has(key)) return;
  if (s.readsOutstanding.size >= ctx.cfg.readsPendingMax) {
    ctx.counters.readsDropped++;
    return;
  }
  if (!roomFor(s, from)) return;
  s.readsOutstanding.add(key);
  ctx.broker.verify([{ signer: req.client, payload: requestPayload(req), signature: req.signature }], from, (valid) => {
    if (valid[0] !== true) {
      s.readsOutstanding.delete(key);
      ctx.counters.requestsInvalid++;
      return;
    }
    ctx.reads.push({ request: req });
  }, !ctx.isReplica(from));
}

/** The host ran a read-only request: reply at once (TOCS §5.1.3, the client needs 2F + 1 alike). */
export function handleReadResult(s: ReplicaState, client: string, timestamp: number, outcome: 'ok' | 'rejected', result: Uint8Array): boolean {
  const key = `${client}/${timestamp}`;
  if (!s.readsOutstanding.delete(key)) {
    s.ctx.counters.readsDropped++;
    return false;
  }
  s.ctx.send(client, { type: 'reply', view: s.ctx.view, timestamp, readOnly: true, outcome, result }, false);
  return true;
}

/**
 * The primary orders the next batch (TOCS §5.1.4): while fewer than `batchesInFlightMax` batches
 * are unexecuted and the next seq is within the high watermark, the unordered pending requests,
 * up to `batchRequestsMax` and `batchBytesMax`, become one pre-prepare. One batch is digested and
 * signed at a time; requests arriving meanwhile make the next batch fuller.
 */
export function maybePropose(s: ReplicaState, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (!ctx.isPrimary() || s.proposing || !s.newViewDone) return;
  if (s.nextSeq - 1 - s.lastHandedOut >= ctx.cfg.batchesInFlightMax || s.nextSeq > s.high) return;
  const batch: SignedRequest[] = [];
  let bytes = 0;
  for (const p of s.pending.values()) {
    if (p.seq !== null) continue;
    if (batch.length >= ctx.cfg.batchRequestsMax || bytes + p.request.op.length > ctx.cfg.batchBytesMax) break;
    batch.push(p.request);
    bytes += p.request.op.length;
  }
  if (batch.length === 0) return;
  s.proposing = true;
  const view = ctx.view;
  const seq = s.nextSeq++;
  for (const r of batch) (s.pending.get(r.digest) as { seq: number | null }).seq = seq;
  const abandon = (): void => {
    s.proposing = false;
    for (const r of batch) {
      const p = s.pending.get(r.digest);
      if (p !== undefined && p.seq === seq) p.seq = null;
    }
  };
  ctx.broker.digest([{ kind: 'batch', requestDigests: batch.map((r) => r.digest) }], null, ([digest]) => {
    if (ctx.view !== view || !ctx.isPrimary()) return abandon();
    ctx.broker.sign([{ kind: 'pre-prepare', view, seq, digest: digest as Digest }], null, ([signature]) => {
      s.proposing = false;
      if (ctx.view !== view || !ctx.isPrimary()) return abandon();
      const header: PrePrepareHeader = { view, seq, digest: digest as Digest, signature: signature as Uint8Array };
      installPrePrepare(s, header, batch);
      ctx.counters.batchesProposed++;
      ctx.broadcast({ type: 'pre-prepare', header, requests: batch }, true);
      maybePropose(s, hooks);
    });
  });
}

/** Record an accepted (or, as primary, issued) pre-prepare: in the log, for persistence, and its requests as ordered. */
export function installPrePrepare(s: ReplicaState, header: PrePrepareHeader, requests: readonly SignedRequest[]): Slot {
  const { ctx } = s;
  const slot = s.slot(header.seq);
  slot.pp = { header, requests };
  s.accepted.set(acceptedKey(header.view, header.seq), header.digest);
  ctx.prePrepared.push({ view: header.view, seq: header.seq, digest: header.digest });
  s.lastPrePrepareTick = ctx.now;
  for (const r of requests) {
    const p = s.pending.get(r.digest);
    if (p !== undefined) p.seq = header.seq;
    else if (s.pending.size < ctx.cfg.pendingRequestsMax && r.timestamp > s.clients.lastTimestamp(r.client)) s.pending.set(r.digest, { request: r, sinceTick: ctx.now, seq: header.seq });
  }
  return slot;
}

/** Why a pre-prepare cannot be taken in this view, before any crypto (null: go on). */
function prePrepareProblem(s: ReplicaState, m: PrePrepareMessage): keyof ReplicaState['ctx']['counters'] | null {
  const { ctx } = s;
  const h = m.header;
  if (m.from !== ctx.primary(h.view) || m.from === ctx.id) return 'notPrimary';
  if (h.view < ctx.view || (h.view === ctx.view && ctx.viewChanging)) return 'staleView';
  if (h.view > ctx.view) return 'futureView';
  if (!s.inWindow(h.seq)) return 'outsideWatermarks';
  if (m.requests.length > ctx.cfg.batchRequestsMax || m.requests.reduce((n, r) => n + r.op.length, 0) > ctx.cfg.batchBytesMax) return 'prePreparesRefused';
  if (new Set(m.requests.map((r) => r.digest)).size !== m.requests.length) return 'prePreparesRefused';
  return null;
}

/** A backup checks a pre-prepare (PBFT §4.2; Aardvark §4.1), then prepares. */
export function handlePrePrepare(s: ReplicaState, m: PrePrepareMessage, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const h = m.header;
  const problem = prePrepareProblem(s, m);
  if (problem !== null) {
    (ctx.counters[problem] as number)++;
    return;
  }
  const prev = s.accepted.get(acceptedKey(h.view, h.seq));
  if (prev !== undefined) {
    if (prev !== h.digest) ctx.counters.equivocations++;
    return;
  }
  const slot = s.slot(h.seq);
  if (slot.checking || !roomFor(s, m.from)) return;
  const unchecked = m.requests.filter((r) => !s.verified.has(r.digest));
  const items = [
    { signer: m.from, payload: { kind: 'pre-prepare' as const, view: h.view, seq: h.seq, digest: h.digest }, signature: h.signature },
    ...unchecked.map((r) => ({ signer: r.client, payload: requestPayload(r), signature: r.signature })),
  ];
  slot.checking = true;
  ctx.broker.verify(items, m.from, (valid) => {
    if (valid[0] !== true) {
      slot.checking = false;
      ctx.counters.badSignatures++;
      return;
    }
    if (valid.some((v) => !v)) {
      slot.checking = false;
      ctx.counters.requestsInvalid++;
      ctx.counters.prePreparesRefused++;
      if (ctx.view === h.view) hooks.suspectPrimary('bad-pre-prepare');
      return;
    }
    for (const r of unchecked) s.markVerified(r.digest);
    ctx.broker.digest([{ kind: 'batch', requestDigests: m.requests.map((r) => r.digest) }], null, ([digest]) => {
      slot.checking = false;
      if (digest !== h.digest) {
        ctx.counters.badBatchDigests++;
        ctx.counters.prePreparesRefused++;
        if (ctx.view === h.view) hooks.suspectPrimary('bad-pre-prepare');
        return;
      }
      if (prePrepareProblem(s, m) !== null || s.accepted.has(acceptedKey(h.view, h.seq))) return;
      acceptAsBackup(s, h, m.requests, hooks);
    });
  });
}

/** Take a checked pre-prepare and send our signed prepare (also for the pre-prepares of a new view). */
export function acceptAsBackup(s: ReplicaState, h: PrePrepareHeader, requests: readonly SignedRequest[], hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const slot = installPrePrepare(s, h, requests);
  checkSlot(s, slot, hooks);
  ctx.broker.sign([{ kind: 'prepare', view: h.view, seq: h.seq, digest: h.digest, replica: ctx.id }], null, ([signature]) => {
    if (ctx.view !== h.view || ctx.viewChanging || slot.pp?.header.digest !== h.digest || s.slots.get(h.seq) !== slot) return;
    slot.prepares.set(ctx.id, { view: h.view, digest: h.digest, signature: signature as Uint8Array });
    ctx.broadcast({ type: 'prepare', view: h.view, seq: h.seq, digest: h.digest, signature: signature as Uint8Array }, true);
    checkSlot(s, slot, hooks);
  });
}

function phaseProblem(s: ReplicaState, m: PrepareMessage | CommitMessage): keyof ReplicaState['ctx']['counters'] | null {
  const { ctx } = s;
  if (!ctx.isReplica(m.from) || m.from === ctx.id) return 'messagesMisrouted';
  if (m.view < ctx.view || (m.view === ctx.view && ctx.viewChanging)) return 'staleView';
  if (m.view > ctx.view) return 'futureView';
  if (!s.inWindow(m.seq)) return 'outsideWatermarks';
  return null;
}

/** A backup's prepare (PBFT §4.2): its signature is checked before it counts, since it may go into a certificate. */
export function handlePrepare(s: ReplicaState, m: PrepareMessage, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const problem = phaseProblem(s, m) ?? (m.from === ctx.primary(m.view) ? 'notPrimary' : null);
  if (problem !== null) {
    (ctx.counters[problem] as number)++;
    return;
  }
  const slot = s.slot(m.seq);
  if (slot.prepares.has(m.from) || slot.prepared) return;
  if (slot.pp !== null && slot.pp.header.digest !== m.digest) {
    ctx.counters.digestMismatches++;
    return;
  }
  if (!roomFor(s, m.from)) return;
  ctx.broker.verify([{ signer: m.from, payload: { kind: 'prepare', view: m.view, seq: m.seq, digest: m.digest, replica: m.from }, signature: m.signature }], m.from, ([valid]) => {
    if (valid !== true) {
      ctx.counters.badSignatures++;
      return;
    }
    if (ctx.view !== m.view || s.slots.get(m.seq) !== slot) return;
    slot.prepares.set(m.from, { view: m.view, digest: m.digest, signature: m.signature });
    checkSlot(s, slot, hooks);
  });
}

/** A commit (PBFT §4.2): link-authenticated, never forwarded, so no signature. */
export function handleCommit(s: ReplicaState, m: CommitMessage, hooks: NormalCaseHooks): void {
  const problem = phaseProblem(s, m);
  if (problem !== null) {
    (s.ctx.counters[problem] as number)++;
    return;
  }
  const slot = s.slot(m.seq);
  if (slot.commits.has(m.from)) return;
  slot.commits.set(m.from, { view: m.view, digest: m.digest });
  checkSlot(s, slot, hooks);
}

/** Prepared (pre-prepare + 2F matching prepares) sends our commit; committed-local (2F + 1 commits) executes. */
export function checkSlot(s: ReplicaState, slot: Slot, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const pp = slot.pp;
  if (pp === null) return;
  const { view, digest, seq } = pp.header;
  if (!slot.prepared) {
    const primary = ctx.primary(view);
    const matching = [...slot.prepares].filter(([r, p]) => r !== primary && p.view === view && p.digest === digest);
    for (const [r, p] of slot.prepares) if (p.digest !== digest) slot.prepares.delete(r);
    if (matching.length < 2 * ctx.f) return;
    slot.prepared = true;
    const cert = { prePrepare: pp.header, requests: pp.requests, prepares: matching.slice(0, 2 * ctx.f).map(([replica, p]) => ({ replica, signature: p.signature })) };
    s.preparedCerts.set(seq, cert);
    ctx.prepared.push(cert);
    slot.commits.set(ctx.id, { view, digest });
    slot.sentCommit = true;
    ctx.broadcast({ type: 'commit', view, seq, digest }, true);
  }
  if (slot.committed) return;
  let commits = 0;
  for (const c of slot.commits.values()) if (c.view === view && c.digest === digest) commits++;
  if (commits < ctx.quorum) return;
  slot.committed = true;
  maybeExecute(s, hooks);
}

/** Hand committed batches to the host in sequence order, each request at most once per client timestamp. */
export function maybeExecute(s: ReplicaState, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  for (;;) {
    const seq = s.lastHandedOut + 1;
    const slot = s.slots.get(seq);
    if (slot?.committed !== true || slot.pp === null) break;
    const requests: SignedRequest[] = [];
    const clients = new Set<string>();
    for (const r of slot.pp.requests) {
      if (r.timestamp > s.clients.lastTimestamp(r.client)) {
        s.clients.executing(r.client, r.timestamp);
        requests.push(r);
        clients.add(r.client);
      } else ctx.counters.duplicatesSkipped++;
      s.pending.delete(r.digest);
    }
    for (const [d, p] of s.pending) if (clients.has(p.request.client) && p.request.timestamp <= s.clients.lastTimestamp(p.request.client)) s.pending.delete(d);
    const batch: ExecutedBatch = { seq, view: slot.pp.header.view, requests, checkpoint: seq % ctx.cfg.checkpointIntervalSeqs === 0 };
    ctx.executed.push(batch);
    // Durable in this Ready, before any reply to it can leave (ready.ts `CommittedBatch`).
    ctx.committed.push({ header: slot.pp.header, requests: slot.pp.requests });
    if (batch.checkpoint) s.clientSnapshots.set(seq, s.clients.timestamps());
    s.executing.set(seq, batch);
    s.lastHandedOut = seq;
    s.lastProgressTick = ctx.now;
    ctx.counters.batchesExecuted++;
    ctx.counters.requestsExecuted += requests.length;
  }
  maybePropose(s, hooks);
}

/** The host applied the batch at `seq`: cache and send the replies, and checkpoint if asked. */
export function handleExecuted(s: ReplicaState, seq: number, results: readonly ExecutionResult[], stateDigest: Digest | null, hooks: NormalCaseHooks): Result<null, BftRefusedError> {
  const { ctx } = s;
  const batch = s.executing.get(seq);
  if (batch === undefined || seq !== s.lastExecuted + 1) return err(new Refused('bad-argument', `executed ${seq}, expected ${s.lastExecuted + 1}`));
  if (results.length !== batch.requests.length || results.some((r, i) => r.client !== batch.requests[i]?.client || r.timestamp !== batch.requests[i]?.timestamp)) {
    return err(new Refused('bad-argument', `results of ${seq} do not match its requests`));
  }
  if (batch.checkpoint !== (stateDigest !== null)) return err(new Refused('bad-argument', `seq ${seq} ${batch.checkpoint ? 'needs' : 'takes no'} state digest`));
  s.executing.delete(seq);
  s.lastExecuted = seq;
  for (const r of results) {
    const reply = { view: ctx.view, outcome: r.outcome, result: r.result };
    s.clients.replied(r.client, r.timestamp, reply);
    ctx.send(r.client, { type: 'reply', timestamp: r.timestamp, readOnly: false, ...reply }, false);
  }
  if (stateDigest !== null) hooks.checkpointExecuted(seq, stateDigest);
  return ok(null);
}
