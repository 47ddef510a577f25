/**
 * Receiver-based retransmission (TOCS §5.2): PBFT's normal case sends each message once, so a
 * lost pre-prepare, prepare or commit would leave a replica unable to execute that seq (and all
 * after it) until a view change or a state transfer. Instead every replica sends a small
 * `status` to all every `statusIntervalTicks`; a peer that sees it behind answers with what it
 * holds of the current view for the seqs above the sender's last executed one: the pre-prepare
 * (as primary: the batch with the primary's signature), its own signed prepare, its commit. The
 * receiver handles them as any other (duplicates cost a map lookup). A replica in an older view,
 * or still changing to ours, gets our view's new-view (every part of it is signed, so anyone may
 * relay it); while we change view, a peer not yet at our target view gets our view-change. A
 * replica behind our stable checkpoint gets its signed proofs (relayed checkpoints
 * are checked against the replica that signed them), becomes `state-behind` and asks its host for
 * a state transfer.
 *
 * Bounded: each peer is served at most once per interval, with at most the window's seqs.
 */
import type { StatusMessage } from './messages.ts';
import type { ReplicaState } from './replica-state.ts';

export function sendStatus(s: ReplicaState): void {
  const { ctx } = s;
  ctx.broadcast({ type: 'status', view: ctx.view, viewChanging: ctx.viewChanging, lastExecutedSeq: s.lastExecuted, stableSeq: s.low }, false);
}

/**
 * A replica changing view resends its signed view-change to a peer below its target view or
 * changing to it (TOCS §5.2 retransmits view-changes too): a lost one would keep the new primary
 * short of 2F + 1, and the peers short of the quorum that starts their new-view timer
 * (view-change.ts step 5) or of the F + 1 that make them join.
 */
function resendViewChange(s: ReplicaState, m: StatusMessage): void {
  const { ctx } = s;
  const own = s.ownViewChange;
  if (own === null || own.signature.length === 0 || m.view > ctx.view || (m.view === ctx.view && !m.viewChanging)) return;
  s.servedTick.set(m.from, ctx.now);
  ctx.counters.viewChangesResent++;
  ctx.send(m.from, { type: 'view-change', viewChange: own }, true);
}

export function handleStatus(s: ReplicaState, m: StatusMessage): void {
  const { ctx } = s;
  if (!ctx.isReplica(m.from) || m.from === ctx.id) {
    ctx.counters.messagesMisrouted++;
    return;
  }
  const last = s.servedTick.get(m.from);
  if (last !== undefined && ctx.now - last < ctx.cfg.statusIntervalTicks) return;
  if (ctx.viewChanging) {
    resendViewChange(s, m);
    return;
  }
  const behindInView = m.view < ctx.view || (m.view === ctx.view && m.viewChanging);
  if (behindInView) {
    if (s.lastNewView === null || s.lastNewView.view !== ctx.view) return;
    s.servedTick.set(m.from, ctx.now);
    ctx.counters.newViewsRelayed++;
    ctx.send(m.from, { type: 'new-view', ...s.lastNewView }, false);
    return;
  }
  if (m.lastExecutedSeq < s.low && s.stable !== null) {
    // Behind our stable checkpoint: the log it needs is gone here; its proofs tell it to fetch the state.
    s.servedTick.set(m.from, ctx.now);
    for (const p of s.stable.proofs) if (p.replica !== m.from) ctx.send(m.from, { type: 'checkpoint', checkpoint: p }, false);
    ctx.counters.retransmissions += s.stable.proofs.length;
  }
  if (m.view !== ctx.view) return;
  let sent = 0;
  const from = Math.max(m.lastExecutedSeq, s.low) + 1;
  for (let seq = from; seq <= s.high; seq++) {
    const slot = s.slots.get(seq);
    if (slot?.pp === null || slot?.pp.header.view !== ctx.view) continue;
    const { header, requests } = slot.pp;
    if (ctx.primary() === ctx.id) ctx.send(m.from, { type: 'pre-prepare', header, requests }, false);
    const own = slot.prepares.get(ctx.id);
    if (own !== undefined && own.view === ctx.view) ctx.send(m.from, { type: 'prepare', view: ctx.view, seq, digest: own.digest, signature: own.signature }, false);
    if (slot.sentCommit) ctx.send(m.from, { type: 'commit', view: ctx.view, seq, digest: header.digest }, false);
    sent++;
  }
  if (sent > 0) {
    s.servedTick.set(m.from, ctx.now);
    ctx.counters.retransmissions += sent;
  }
}
