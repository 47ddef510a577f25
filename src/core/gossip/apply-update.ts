/**
 * What one piggybacked update does to this node's view: SWIM's ordering of claims (§4.2), as
 * memberlist refines it. A member's incarnation orders everything said about it; within one
 * incarnation, suspect overrides alive, dead overrides suspect, and left overrides dead (a
 * goodbye explains the silence better than a failure). Only the member itself raises its
 * incarnation, which is how it refutes: alive at a higher incarnation overrides any claim at a
 * lower one.
 *
 *   alive(i)    unknown: learn it. known at j < i: alive at i (clears a suspicion, revives).
 *   suspect(i)  unknown: ignored (nobody to time out). j > i, dead or left: ignored. suspect at
 *               i already: a confirmation (Lifeguard §IV-B). Otherwise suspect at i.
 *   dead(i)     unknown: ignored. j > i, or dead/left at >= i: ignored. Otherwise dead at i.
 *   left(i)     unknown: ignored. j > i, or left at >= i: ignored. Otherwise left at i.
 *
 * About this node itself, any suspect, dead or left claim at or above our incarnation, and any
 * alive claim above it, is refuted (membership.ts `refute`); a suspect or dead claim below it
 * (one we refuted already, still travelling) makes us spread our current alive again.
 *
 * Whatever changed our view is queued to spread further (infection-style, §4.1); what did not
 * is dropped there, which is what makes the epidemic die out. An update moving a member's
 * incarnation more than `incarnationJumpMax` above what we know is refused and counted.
 */
import { incarnationJumpMax } from './limits.ts';
import type { Membership } from './membership.ts';
import type { MemberUpdate } from './messages.ts';

export function applyUpdate(ms: Membership, u: MemberUpdate): void {
  const ctx = ms.ctx;
  if (u.member === ms.id) {
    applyAboutSelf(ms, u);
    return;
  }
  const known = ms.table.get(u.member);
  if (known !== undefined && u.incarnation > known.incarnation + incarnationJumpMax) {
    ctx.counters.incarnationJumpsRefused++;
    return;
  }
  if (known === undefined) {
    if (u.kind !== 'alive') {
      ctx.counters.updatesIgnored++;
      return;
    }
    const added = ms.table.add(u.member, 'alive', u.incarnation, ctx.now);
    if (added === null) {
      ctx.counters.membersRefused++;
      return;
    }
    ctx.emit({ kind: 'member-changed', member: u.member, previous: null, state: 'alive', incarnation: u.incarnation, phi: 0 });
    ctx.broadcast(u);
    return;
  }
  const j = known.incarnation;
  const gone = known.state === 'dead' || known.state === 'left';
  switch (u.kind) {
    case 'alive':
      if (u.incarnation <= j) break;
      ms.changeMember(known, 'alive', u.incarnation);
      ctx.broadcast(u);
      return;
    case 'suspect':
      if (u.incarnation < j || (gone && u.incarnation <= j)) break;
      if (known.state === 'suspect' && u.incarnation === j) {
        // The same suspicion from another member: a confirmation, spread further only if it was news.
        if (known.suspicion?.confirm(u.by) === true) {
          ctx.broadcast(u);
          return;
        }
        break;
      }
      ms.suspectMember(known, u.incarnation, u.by);
      return;
    case 'dead':
      if (u.incarnation < j || (gone && u.incarnation <= j)) break;
      ms.changeMember(known, 'dead', u.incarnation);
      ctx.broadcast(u);
      return;
    case 'left':
      if (u.incarnation < j || (known.state === 'left' && u.incarnation <= j)) break;
      ms.changeMember(known, 'left', u.incarnation);
      ctx.broadcast(u);
      return;
    default: {
      const never: never = u;
      return never;
    }
  }
  ctx.counters.updatesIgnored++;
}

/** Claims about ourselves: refute what says we are gone or reuses a higher incarnation of ours. */
function applyAboutSelf(ms: Membership, u: MemberUpdate): void {
  const ctx = ms.ctx;
  // A node that left (or never joined) says nothing more; its next join announces a new incarnation.
  if (!ms.active || ms.state === 'left') {
    ctx.counters.updatesIgnored++;
    return;
  }
  const stale = u.kind === 'alive' ? u.incarnation <= ms.incarnation : u.incarnation < ms.incarnation;
  if (stale) {
    ctx.counters.updatesIgnored++;
    // A suspicion or death we already refuted is still travelling: whoever sent it to us may not
    // hold our refutation yet, so say it again (bounded in membership.ts `reassert`).
    if (u.kind === 'suspect' || u.kind === 'dead') ms.reassert();
    return;
  }
  if (u.incarnation > ms.incarnation + incarnationJumpMax) {
    ctx.counters.incarnationJumpsRefused++;
    return;
  }
  ms.refute(u.incarnation, u.kind === 'suspect' || u.kind === 'dead');
}
