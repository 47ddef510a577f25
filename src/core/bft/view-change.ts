/**
 * View changes (PBFT §4.4, liveness §4.5.2) with the timers that start them: PBFT's request timer
 * and Aardvark's slow-primary rule (NSDI'09 §4.3: with requests waiting, a primary must issue
 * pre-prepares at a steady pace, or backups vote it out; Aardvark also raises the expected
 * throughput over time, which we leave out: a primary that is merely slower than its peers
 * stays).
 *
 *   1. A backup that suspects the primary moves to view v + 1 at once (it takes no normal-case
 *      message of view v any more), persists the view, and sends a SIGNED view-change carrying its
 *      stable checkpoint's proof and its prepared certificates.
 *   2. A replica that holds F + 1 valid view-changes for views above its own joins the smallest of
 *      them (§4.5.2): F + 1 include an honest replica, so a Byzantine few cannot force changes.
 *   3. The primary of v + 1, with 2F + 1 valid view-changes (its own among them), computes O
 *      (certificates.ts), signs each pre-prepare of O and sends the new-view with the
 *      view-changes it used.
 *   4. A backup checks every signature and digest of the new-view, recomputes O from its V, takes
 *      it only if equal, and prepares each pre-prepare of O.
 *   5. Without a new view within the timeout (doubled per consecutive change) it moves on to v + 2.
 *      The timer starts only once 2F + 1 replicas (ourselves among them) are known to be at v + 1
 *      or beyond (PBFT §4.5.2: "waits for 2f + 1 view-change messages for view v + 1 and then
 *      starts its timer"). A timer started alone runs out of phase with the others': measured in
 *      simulator seed 243 (4 replicas, one silent), a replica restarted mid-change (its doubling
 *      reset) went through views 4-7 on 2-16 s timeouts while the other two honest replicas sat
 *      on 8-32 s timeouts for views 4-6; they were never at one view long enough for a quorum.
 *      With the rule, a replica ahead alone waits (no timer) until the others join it by their
 *      own timers or by the F + 1 rule of step 2. Lost view-changes are resent on status
 *      (retransmit.ts), so every replica at a view learns who else is there.
 */
import { computeNewViewPrePrepares, viewChangeChecks, viewChangeProblem, type NewViewPick } from './certificates.ts';
import type { ViewChangeReason } from './events.ts';
import { viewMax } from './limits.ts';
import type { NewViewMessage, NewViewPrePrepare, SignedViewChange, ViewChangeMessage } from './messages.ts';
import { acceptAsBackup, installPrePrepare, maybeExecute, maybePropose, roomFor, type NormalCaseHooks } from './normal-case.ts';
import { makeStable } from './checkpoints.ts';
import type { ReplicaState } from './replica-state.ts';
import type { Digest, PrePrepareHeader } from './types.ts';
import { requestPayload } from './certificates.ts';

/** Move to `newView` and ask for it (step 1). */
export function startViewChange(s: ReplicaState, newView: number, reason: ViewChangeReason, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (newView <= ctx.view || newView > viewMax) return;
  s.suspected.push(ctx.primary());
  if (s.suspected.length > 16) s.suspected.shift();
  ctx.view = newView;
  ctx.viewChanging = true;
  s.newViewDone = false;
  s.proposing = false;
  s.ownViewChange = null;
  s.viewChangesInARow++;
  s.viewChangeDeadlineTick = null;
  // Normal-case state of the old view is void; what prepared survives in the certificates.
  for (const seq of [...s.slots.keys()]) s.slots.delete(seq);
  for (const p of s.pending.values()) p.seq = null;
  for (const v of [...s.viewChanges.keys()]) if (v < newView) s.viewChanges.delete(v);
  ctx.counters.viewChangesStarted++;
  ctx.emit({ kind: 'view-change-started', view: newView, reason });
  signOwnViewChange(s, hooks);
}

/** Sign and send our view-change for the view we are moving to (retried from `tick` when the broker was full). */
function signOwnViewChange(s: ReplicaState, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (!ctx.viewChanging || s.ownViewChange !== null) return;
  const newView = ctx.view;
  const prepared = [...s.preparedCerts.values()].filter((c) => c.prePrepare.seq > s.low).sort((a, b) => a.prePrepare.seq - b.prePrepare.seq);
  const body = { newView, replica: ctx.id, checkpoint: s.stable, prepared };
  s.ownViewChange = { body, signature: new Uint8Array(0) };
  ctx.broker.sign([{ kind: 'view-change', body }], null, ([signature]) => {
    if (ctx.view !== newView || !ctx.viewChanging) return;
    const vc: SignedViewChange = { body, signature: signature as Uint8Array };
    s.ownViewChange = vc;
    hold(s, vc);
    ctx.broadcast({ type: 'view-change', viewChange: vc }, true);
    maybeNewView(s, hooks);
  });
}

/** Keep one view-change per sender, its highest (bounded by N). */
function hold(s: ReplicaState, vc: SignedViewChange): void {
  const { newView, replica } = vc.body;
  for (const [v, bySender] of s.viewChanges) if (v < newView) bySender.delete(replica);
  let bySender = s.viewChanges.get(newView);
  if (bySender === undefined) s.viewChanges.set(newView, (bySender = new Map()));
  bySender.set(replica, vc);
}

function heldView(s: ReplicaState, replica: string): number {
  let best = -1;
  for (const [v, bySender] of s.viewChanges) if (bySender.has(replica) && v > best) best = v;
  return best;
}

/**
 * Check view-changes in full at the host: signatures of each and of its certificates, and the
 * batch digests of its prepared certificates (`extraDigests` are hashed too, their digests handed
 * back). `done` gets one flag per view-change.
 */
function checkViewChanges(s: ReplicaState, vcs: readonly SignedViewChange[], sender: string, extraItems: Parameters<ReplicaState['ctx']['broker']['verify']>[0], extraDigests: Parameters<ReplicaState['ctx']['broker']['digest']>[0], done: (ok: boolean[], extraOk: boolean, digests: readonly Digest[]) => void): void {
  const { ctx } = s;
  const checks = viewChangeChecks(vcs, ctx.cfg, s.verified);
  const items = [...checks.items, ...extraItems];
  if (items.length > ctx.cfg.verifyItemsPerRequestMax) {
    done(vcs.map(() => false), false, []);
    return;
  }
  let valid: readonly boolean[] | null = null;
  let digests: readonly Digest[] | null = null;
  const join = (): void => {
    if (valid === null || digests === null) return;
    const ok = vcs.map(() => true);
    checks.owners.forEach((owner, i) => {
      if (valid?.[i] !== true) ok[owner] = false;
    });
    checks.expected.forEach((e, i) => {
      if (digests?.[i] !== e.digest) ok[e.owner] = false;
    });
    const extraOk = valid.slice(checks.items.length).every((v) => v);
    done(ok, extraOk, digests.slice(checks.expected.length));
  };
  ctx.broker.verify(items, sender, (v) => {
    valid = v;
    join();
  });
  ctx.broker.digest([...checks.digests, ...extraDigests], null, (d) => {
    digests = d;
    join();
  });
}

export function handleViewChange(s: ReplicaState, m: ViewChangeMessage, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const vc = m.viewChange;
  const b = vc.body;
  if (!ctx.isReplica(m.from) || m.from === ctx.id) {
    ctx.counters.messagesMisrouted++;
    return;
  }
  if (b.replica !== m.from) {
    ctx.counters.wrongSender++;
    return;
  }
  if (b.newView < ctx.view || (b.newView === ctx.view && !ctx.viewChanging) || b.newView > viewMax || heldView(s, m.from) >= b.newView) {
    ctx.counters.staleView++;
    return;
  }
  if (viewChangeProblem(b, ctx.cfg) !== null) {
    ctx.counters.viewChangesRefused++;
    return;
  }
  if (!roomFor(s, m.from)) return;
  checkViewChanges(s, [vc], m.from, [], [], ([ok]) => {
    if (ok !== true) {
      ctx.counters.viewChangesRefused++;
      return;
    }
    if (b.newView < ctx.view || heldView(s, m.from) >= b.newView) return;
    hold(s, vc);
    for (const r of b.prepared.flatMap((c) => c.requests)) s.markVerified(r.digest);
    maybeJoin(s, hooks);
    maybeNewView(s, hooks);
  });
}

/** PBFT §4.5.2: F + 1 replicas ask for views above ours: join the smallest. */
function maybeJoin(s: ReplicaState, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  const above: number[] = [];
  for (const [v, bySender] of s.viewChanges) if (v > ctx.view || (v === ctx.view && !ctx.viewChanging)) for (const r of bySender.keys()) if (r !== ctx.id) above.push(v);
  if (above.length < ctx.f + 1) return;
  above.sort((a, b) => a - b);
  startViewChange(s, above[0] as number, 'joined', hooks);
}

/** Step 3: the new primary with 2F + 1 view-changes sends the new-view. */
function maybeNewView(s: ReplicaState, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (!ctx.viewChanging || ctx.primary() !== ctx.id || s.newViewDone || s.ownViewChange === null || s.ownViewChange.signature.length === 0) return;
  const held = s.viewChanges.get(ctx.view);
  if (held === undefined || held.size < ctx.quorum) return;
  const others = ctx.cfg.replicas.filter((r) => r !== ctx.id && held.has(r)).slice(0, ctx.quorum - 1);
  const vcs = [s.ownViewChange, ...others.map((r) => held.get(r) as SignedViewChange)];
  const view = ctx.view;
  s.newViewDone = true;
  const { checkpoint, picks } = computeNewViewPrePrepares(vcs);
  ctx.broker.digest([{ kind: 'batch', requestDigests: [] }], null, ([nullDigest]) => {
    const digests = picks.map((p) => p.digest ?? (nullDigest as Digest));
    const payloads = picks.map((p, i) => ({ kind: 'pre-prepare' as const, view, seq: p.seq, digest: digests[i] as Digest }));
    const finish = (signatures: readonly Uint8Array[]): void => {
      if (ctx.view !== view || !ctx.viewChanging) return;
      const prePrepares: NewViewPrePrepare[] = picks.map((p, i) => ({ header: { view, seq: p.seq, digest: digests[i] as Digest, signature: signatures[i] as Uint8Array }, requests: p.requests }));
      s.lastNewView = { view, viewChanges: vcs, prePrepares };
      ctx.broadcast({ type: 'new-view', ...s.lastNewView }, true);
      enterView(s, view, checkpoint, prePrepares, true, hooks);
    };
    if (payloads.length === 0) finish([]);
    else ctx.broker.sign(payloads, null, finish);
  });
}

/** Step 4: a backup checks a new-view in full, and enters its view. */
export function handleNewView(s: ReplicaState, m: NewViewMessage, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  // From its primary, or relayed by any replica to one that missed it (retransmit.ts): every part is signed.
  if (!ctx.isReplica(m.from) || m.from === ctx.id || ctx.primary(m.view) === ctx.id) {
    ctx.counters.messagesMisrouted++;
    return;
  }
  if (m.view < ctx.view || (m.view === ctx.view && !ctx.viewChanging) || m.view > viewMax) {
    ctx.counters.staleView++;
    return;
  }
  const vcs = m.viewChanges;
  const signers = vcs.map((vc) => vc.body.replica);
  const shapeBad =
    vcs.length < ctx.quorum ||
    new Set(signers).size !== signers.length ||
    !signers.every((r) => ctx.isReplica(r)) ||
    vcs.some((vc) => vc.body.newView !== m.view || viewChangeProblem(vc.body, ctx.cfg) !== null) ||
    m.prePrepares.some((p) => p.header.view !== m.view);
  if (shapeBad || !roomFor(s, m.from)) {
    if (shapeBad) ctx.counters.newViewsRefused++;
    return;
  }
  const { checkpoint, picks } = computeNewViewPrePrepares(vcs);
  const extraItems = m.prePrepares.flatMap((p) => [
    { signer: ctx.primary(m.view), payload: { kind: 'pre-prepare' as const, view: m.view, seq: p.header.seq, digest: p.header.digest }, signature: p.header.signature },
    ...p.requests.filter((r) => !s.verified.has(r.digest)).map((r) => ({ signer: r.client, payload: requestPayload(r), signature: r.signature })),
  ]);
  const extraDigests = [{ kind: 'batch' as const, requestDigests: [] }, ...m.prePrepares.map((p) => ({ kind: 'batch' as const, requestDigests: p.requests.map((r) => r.digest) }))];
  checkViewChanges(s, vcs, m.from, extraItems, extraDigests, (ok, extraOk, digests) => {
    const [nullDigest, ...batchDigests] = digests;
    if (!ok.every((x) => x) || !extraOk || !sameO(picks, m.prePrepares, batchDigests, nullDigest as Digest)) {
      ctx.counters.newViewsRefused++;
      return;
    }
    if (m.view < ctx.view || (m.view === ctx.view && !ctx.viewChanging)) return;
    if (m.view > ctx.view) {
      ctx.view = m.view;
      s.proposing = false;
      for (const seq of [...s.slots.keys()]) s.slots.delete(seq);
      for (const p of s.pending.values()) p.seq = null;
    }
    for (const r of m.prePrepares.flatMap((p) => p.requests)) s.markVerified(r.digest);
    s.lastNewView = { view: m.view, viewChanges: m.viewChanges, prePrepares: m.prePrepares };
    enterView(s, m.view, checkpoint, m.prePrepares, false, hooks);
  });
}

/** The new-view's O is the one its V gives, and each batch hashes to the digest its header signs. */
function sameO(picks: readonly NewViewPick[], got: readonly NewViewPrePrepare[], batchDigests: readonly Digest[], nullDigest: Digest): boolean {
  if (picks.length !== got.length) return false;
  return picks.every((p, i) => {
    const g = got[i] as NewViewPrePrepare;
    const want = p.digest ?? nullDigest;
    return g.header.seq === p.seq && g.header.digest === want && batchDigests[i] === want;
  });
}

function enterView(s: ReplicaState, view: number, checkpoint: NewViewMessage['viewChanges'][number]['body']['checkpoint'], prePrepares: readonly NewViewPrePrepare[], asPrimary: boolean, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  ctx.viewChanging = false;
  s.newViewDone = true;
  s.viewChangesInARow = 0;
  ctx.counters.viewsEntered++;
  ctx.emit({ kind: 'view-changed', view, primary: ctx.primary(view) });
  if (checkpoint !== null) makeStable(s, checkpoint, hooks);
  let maxS = s.low;
  for (const p of prePrepares) {
    const h: PrePrepareHeader = p.header;
    if (h.seq > maxS) maxS = h.seq;
    if (h.seq <= s.low) continue;
    if (asPrimary) installPrePrepare(s, h, p.requests);
    else acceptAsBackup(s, h, p.requests, hooks);
  }
  s.nextSeq = maxS + 1;
  for (const v of [...s.viewChanges.keys()]) if (v <= view) s.viewChanges.delete(v);
  s.lastPrePrepareTick = ctx.now;
  s.lastProgressTick = ctx.now;
  s.watched = null;
  maybeExecute(s, hooks);
  maybePropose(s, hooks);
  hooks.viewEntered();
}

/** Step 5's timer starts once 2F + 1 replicas (each counted once, by its highest view-change held) are at our target view or beyond. */
function maybeStartNewViewTimer(s: ReplicaState): void {
  const { ctx } = s;
  if (s.viewChangeDeadlineTick !== null) return;
  let atOrBeyond = 0;
  for (const [v, bySender] of s.viewChanges) if (v >= ctx.view) atOrBeyond += bySender.size;
  if (atOrBeyond < ctx.quorum) return;
  s.viewChangeDeadlineTick = ctx.now + ctx.cfg.viewChangeTimeoutTicks * 2 ** Math.min(s.viewChangesInARow - 1, 10);
}

/** The timers (PBFT §4.4, §4.5.2; Aardvark §4.3), once per tick. */
export function tickViewTimers(s: ReplicaState, hooks: NormalCaseHooks): void {
  const { ctx } = s;
  if (ctx.viewChanging) {
    signOwnViewChange(s, hooks);
    maybeNewView(s, hooks);
    maybeStartNewViewTimer(s);
    if (s.viewChangeDeadlineTick !== null && ctx.now >= s.viewChangeDeadlineTick) startViewChange(s, ctx.view + 1, 'new-view-timeout', hooks);
    return;
  }
  if (ctx.isPrimary()) {
    maybePropose(s, hooks);
    return;
  }
  // A replica behind the stable checkpoint cannot execute until its host transfers the state; its
  // requests waiting say nothing about the primary.
  if (s.lastHandedOut < s.low) return;
  let first: Digest | null = null;
  let oldestUnordered: number | null = null;
  for (const [digest, p] of s.pending) {
    if (first === null) first = digest;
    if (p.seq === null) {
      oldestUnordered = p.sinceTick;
      break;
    }
  }
  if (s.watched === null || !s.pending.has(s.watched)) {
    s.watched = first;
    s.watchedSinceTick = Math.max(ctx.now, s.lastProgressTick);
  }
  if (s.watched !== null && ctx.now - s.watchedSinceTick >= ctx.cfg.requestTimeoutTicks) startViewChange(s, ctx.view + 1, 'request-timeout', hooks);
  else if (oldestUnordered !== null && ctx.now - Math.max(oldestUnordered, s.lastPrePrepareTick) >= ctx.cfg.prePrepareIntervalTicksMax) startViewChange(s, ctx.view + 1, 'slow-primary', hooks);
}
