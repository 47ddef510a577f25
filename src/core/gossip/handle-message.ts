/**
 * One message from a peer, already validated (validate-gossip.ts), dispatched by type.
 *
 * Who may send what: only members we know may ping-req, nack, push, graft, prune and leave; the
 * rest is counted in `messagesFromNonMembers` and dropped, so a stranger cannot make us relay,
 * grow our mesh or mark anybody left. A stranger may `join` (that is how members begin) and
 * `sync` (the answer to our join, and the push-pull that heals a view after a long partition in
 * which one side forgot the other); both are bounded by `membersMax`. A stranger's ping is
 * acknowledged without its updates, and answered with a `sync` asking for its list: it knows us,
 * so we missed its arrival (or forgot it), and its list starts with itself. Who may talk to us at
 * all is the runtime's business (authenticated links).
 *
 * Every message from a member is an arrival for its phi accrual detector.
 */
import { applyUpdate } from './apply-update.ts';
import type { Membership } from './membership.ts';
import { updatesOf, type MembershipMessage, type SyncMessage } from './messages.ts';
import { handleAck, handleNack, handlePingReq } from './prober.ts';

export function handleMessage(ms: Membership, m: MembershipMessage): void {
  const ctx = ms.ctx;
  if (m.to !== ms.id || m.from === ms.id) {
    ctx.counters.messagesMisrouted++;
    return;
  }
  // A node that left, or never asked to join, takes part in nothing.
  if (!ms.active || ms.state === 'left') {
    ctx.counters.messagesWhileInactive++;
    return;
  }
  const sender = ms.table.get(m.from);
  if (sender === undefined) {
    handleFromStranger(ms, m);
    return;
  }
  ms.arrived(sender);
  for (const u of updatesOf(m)) applyUpdate(ms, u);
  switch (m.type) {
    case 'ping':
      ctx.send({ type: 'ack', from: ms.id, to: m.from, seq: m.seq, updates: ms.piggybackFor(m.from) });
      if (m.mesh !== ms.mesh.has(m.from)) repairMeshLink(ms, m.from, m.mesh);
      return;
    case 'ack':
      handleAck(ms, m);
      return;
    case 'ping-req':
      handlePingReq(ms, m);
      return;
    case 'nack':
      handleNack(ms, m);
      return;
    case 'push':
      return;
    case 'join':
      handleJoin(ms, m.from, m.incarnation);
      return;
    case 'sync':
      handleSync(ms, m);
      return;
    case 'graft':
      handleGraft(ms, m.from);
      return;
    case 'prune':
      ms.mesh.remove(m.from, ctx.now);
      return;
    case 'leave':
      applyUpdate(ms, { kind: 'left', member: m.from, incarnation: m.incarnation });
      return;
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** A graft from a live member is accepted unless we back off from it (or are at the hard cap); else pruned back. */
function handleGraft(ms: Membership, from: string): void {
  const ctx = ms.ctx;
  const sender = ms.table.get(from);
  const live = sender !== undefined && (sender.state === 'alive' || sender.state === 'suspect');
  if (live && ms.mesh.acceptGraft(from, ctx.now)) return;
  ctx.counters.graftsRefused++;
  ctx.send({ type: 'prune', from: ms.id, to: from });
  // We hold it dead and it talks to us: tell it (our sync names it dead), so it refutes with a
  // higher incarnation (SWIM §4.2) instead of being refused by us for good.
  if (sender?.state === 'dead') ms.maybeSendSync(from, false);
}

/**
 * A neighbour's ping says it holds us in its mesh and we do not hold it, or the reverse: a graft
 * or prune was lost. Take it as the lost message: a graft (accepted or pruned back), or a prune.
 */
function repairMeshLink(ms: Membership, from: string, inTheirs: boolean): void {
  if (inTheirs) {
    handleGraft(ms, from);
  } else {
    ms.mesh.remove(from, ms.ctx.now);
  }
}

function handleFromStranger(ms: Membership, m: MembershipMessage): void {
  const ctx = ms.ctx;
  switch (m.type) {
    case 'join':
      handleJoin(ms, m.from, m.incarnation);
      return;
    case 'sync':
      handleSync(ms, m);
      return;
    case 'ping':
      ctx.counters.messagesFromNonMembers++;
      ctx.send({ type: 'ack', from: ms.id, to: m.from, seq: m.seq, updates: [] });
      // It knows us and we do not know it: we missed its arrival (or forgot it in a partition).
      // Ask for its list, which starts with itself (within this period's budget of syncs).
      ms.maybeSendSync(m.from, true);
      return;
    default:
      ctx.counters.messagesFromNonMembers++;
  }
}

/** A node asks in: it is alive at the incarnation it announces; tell it whom we know (bounded). */
function handleJoin(ms: Membership, from: string, incarnation: number): void {
  applyUpdate(ms, { kind: 'alive', member: from, incarnation });
  const member = ms.table.get(from);
  // Refused (table full, incarnation jump) or stale: no answer, the joiner retries elsewhere.
  if (member === undefined || member.state !== 'alive' || member.incarnation !== incarnation) return;
  ms.arrived(member);
  ms.maybeSendSync(from, false);
}

/**
 * A list of members: merge it as alive, suspect, dead and left updates. The sender vouches for
 * itself (its own entry is alive). If we were joining, we are in: the seed spreads our arrival,
 * and we graft our first mesh neighbours at once rather than at the next heartbeat.
 */
function handleSync(ms: Membership, m: SyncMessage): void {
  for (const e of m.members) {
    switch (e.state) {
      case 'alive':
        applyUpdate(ms, { kind: 'alive', member: e.member, incarnation: e.incarnation });
        break;
      case 'suspect':
        applyUpdate(ms, { kind: 'alive', member: e.member, incarnation: e.incarnation });
        applyUpdate(ms, { kind: 'suspect', member: e.member, incarnation: e.incarnation, by: m.from });
        break;
      // SWIM §4.2's ordering decides, as for any update: a death or leave at the incarnation we
      // hold alive wins, one below it is stale, and a member we do not know is not learned
      // from its death (nothing to time out or forget).
      case 'dead':
        applyUpdate(ms, { kind: 'dead', member: e.member, incarnation: e.incarnation, by: m.from });
        break;
      case 'left':
        applyUpdate(ms, { kind: 'left', member: e.member, incarnation: e.incarnation });
        break;
      default: {
        const never: never = e.state;
        return never;
      }
    }
  }
  if (ms.state === 'joining') {
    ms.becomeSelf('alive');
    ms.maintain();
    // The seed's view may itself be partial (it joined moments ago): pull a neighbour's list
    // after one period instead of a whole sync interval.
    ms.nextSyncTick = Math.min(ms.nextSyncTick, ms.ctx.now + ms.ctx.cfg.probeIntervalTicks);
  }
  if (m.wantReply && ms.table.get(m.from) !== undefined) ms.maybeSendSync(m.from, false);
}
