/**
 * SWIM's failure detector (§3.1, §4.3), one protocol period at a time:
 *
 *   1. At the start of a period, ping ONE member, chosen by randomized round robin (§4.3).
 *   2. No ack within the probe timeout: ask k other members to ping it for us (ping-req), so a
 *      lossy or congested path between the two of us alone does not condemn it.
 *   3. No ack, direct or relayed, by the end of the period: suspect it (§4.2); the suspicion
 *      spreads, and the target refutes or is declared dead when it expires (membership.ts).
 *
 * Lifeguard (§IV-A) stretches the timeout and the period by our local health score, and scores
 * the outcome: an ack is evidence we are fine (-1); a failure with relays that did not even
 * send a nack is evidence WE are the problem (+1 per missing nack).
 *
 * WHOM we probe: only members we hold a link to, i.e. our mesh neighbours (gossipsub's D), unless
 * the host says links are cheap (`probeBeyondMesh`). SWIM assumes anyone can ping anyone; a
 * browser tab cannot hold n - 1 WebRTC links in a swarm of hundreds. The mesh is symmetric and
 * every live member keeps about D neighbours, each probing it once per pass of its own
 * round robin (at most 2·D_hi - 1 periods apart, §4.3), so a failed member is still probed about
 * once a period in all and first suspected within a few periods; the suspicion then crosses the
 * mesh by piggyback and push, as every other update does.
 *
 * Beyond the mesh, at a low rate (`probeOutsideMeshPeriods`): every k-th period the probe goes to
 * a live member outside our mesh that we have not heard from for k periods. Without it a member
 * in NOBODY's mesh (a crashed member that a node missed the death of, learned again from that
 * node's view after the others forgot it) would be probed by nobody and held alive forever.
 *
 * Reconnect (Serf's reconnect, with SWIM §4.2's refutation): every `reconnectIntervalTicks` we
 * ping one member we hold dead, its death piggybacked first. A member alive after all (the other
 * side of a partition that outlasted a suspicion) refutes with a higher incarnation, and its ack
 * brings the refutation back to us, with our own death as it holds it, which we refute in turn.
 *
 * Relays: a ping-req makes us ping the target under a seq of our own; its ack is forwarded to
 * the prober, and if none comes in time we send a nack (memberlist's behaviour), which tells the
 * prober that we, at least, are reachable.
 */
import type { AckMessage, NackMessage, PingReqMessage } from './messages.ts';
import type { Membership } from './membership.ts';
import { shuffled } from '../prng.ts';
import { isLive, type NodeId } from './types.ts';

/** The probe of the current period. */
export interface Probe {
  readonly target: NodeId;
  readonly seq: number;
  readonly startTick: number;
  acked: boolean;
  /** The ping-reqs went out (at most once per period). */
  indirect: boolean;
  relays: readonly NodeId[];
  /** Relays that sent a nack (a set: a relay counts once, whatever it repeats). */
  readonly nackers: Set<NodeId>;
}

/** An indirect probe we run for `origin`. */
export interface Relay {
  readonly origin: NodeId;
  readonly originSeq: number;
  readonly target: NodeId;
  readonly deadlineTick: number;
}

/** The members this node may probe now: live mesh neighbours, or every live member when links are cheap. */
export function probeCandidates(ms: Membership): Set<NodeId> {
  const live = ms.table.liveIds();
  if (ms.ctx.cfg.probeBeyondMesh) return live;
  const out = new Set<NodeId>();
  for (const id of ms.mesh.view()) if (live.has(id)) out.add(id);
  return out;
}

/** Step 1: ping the next member of the round robin (or, every k-th period, one outside the mesh). */
export function startProbe(ms: Membership): void {
  const ctx = ms.ctx;
  ms.periods++;
  const target = outsideTarget(ms) ?? ms.order.next(probeCandidates(ms), ctx.prng);
  if (target === null) {
    ms.probe = null;
    return;
  }
  const seq = ms.nextSeq();
  ms.probe = { target, seq, startTick: ctx.now, acked: false, indirect: false, relays: [], nackers: new Set() };
  ctx.send({ type: 'ping', from: ms.id, to: target, seq, mesh: ms.mesh.has(target), updates: ms.piggybackFor(target) });
}

/**
 * Every `probeOutsideMeshPeriods`-th period: a live member outside the mesh, silent toward us for
 * that many periods, by its own round robin (SWIM §4.3's order, so each is reached in bounded
 * time); null otherwise, and the period probes the mesh as usual.
 */
function outsideTarget(ms: Membership): NodeId | null {
  const cfg = ms.ctx.cfg;
  const k = cfg.probeOutsideMeshPeriods;
  if (k === 0 || cfg.probeBeyondMesh) return null;
  // A member we hold SUSPECT outside our mesh is probed every other period until it is cleared:
  // the ping carries its suspicion first (Lifeguard's buddy system, §IV-C), and its ack brings
  // back its refutation. Otherwise a refutation that ran out of retransmits before reaching us
  // (no mesh neighbour of ours relayed it) left the suspicion to expire into a false death
  // (npm run sim -- --protocol gossip --seeds 1 --start 25 --nodes 25, after 0db8c4e).
  if (ms.periods % 2 === 0) {
    const suspects = new Set<NodeId>();
    for (const m of ms.table.values()) if (m.state === 'suspect' && !ms.mesh.has(m.id)) suspects.add(m.id);
    if (suspects.size > 0) return ms.outsideOrder.next(suspects, ms.ctx.prng);
  }
  if (ms.periods % k !== 0) return null;
  const silentTicks = k * cfg.probeIntervalTicks;
  const candidates = new Set<NodeId>();
  for (const m of ms.table.values()) {
    if (!isLive(m.state) || ms.mesh.has(m.id)) continue;
    const last = m.detector.lastArrival;
    if (last === null || ms.ctx.now - last >= silentTicks) candidates.add(m.id);
  }
  return ms.outsideOrder.next(candidates, ms.ctx.prng);
}

/**
 * Reconnect: ping one member we hold dead within `deadRetainTicks` (the table forgets it after),
 * chosen at random. Its link is wanted until the next attempt (membership.ts linksWanted).
 */
export function maybeReconnect(ms: Membership): void {
  const ctx = ms.ctx;
  const interval = ctx.cfg.reconnectIntervalTicks;
  if (interval === 0 || ctx.now < ms.nextReconnectTick) return;
  ms.nextReconnectTick = ctx.now + interval;
  const dead = [...ms.table.values()].filter((m) => m.state === 'dead').map((m) => m.id).sort();
  if (dead.length === 0) {
    if (ms.reconnect !== null) ms.relaysVersion++;
    ms.reconnect = null;
    return;
  }
  const target = dead[ctx.prng.nextInt(dead.length)] as NodeId;
  const seq = ms.nextSeq();
  ms.reconnect = { target, seq };
  ms.relaysVersion++;
  ctx.counters.reconnects++;
  ctx.send({ type: 'ping', from: ms.id, to: target, seq, mesh: false, updates: ms.piggybackFor(target) });
}

/** Step 2: once the (health-scaled) probe timeout passed with no ack, ask k relays. */
export function maybeSendIndirect(ms: Membership): void {
  const ctx = ms.ctx;
  const p = ms.probe;
  if (p === null || p.acked || p.indirect) return;
  if (ctx.now - p.startTick < ms.health.scale(ctx.cfg.probeTimeoutTicks)) return;
  p.indirect = true;
  const pool = [...probeCandidates(ms)].filter((id) => id !== p.target).sort();
  p.relays = shuffled(ctx.prng, pool).slice(0, ctx.cfg.indirectProbesK);
  for (const relay of p.relays) {
    ctx.send({ type: 'ping-req', from: ms.id, to: relay, seq: p.seq, target: p.target, updates: ms.piggybackFor(relay) });
  }
}

/** Step 3, at the end of the period: a probe with no ack makes its target suspect, and scores our health. */
export function endPeriod(ms: Membership): void {
  const ctx = ms.ctx;
  const p = ms.probe;
  ms.probe = null;
  if (p === null || p.acked) return;
  ctx.counters.probesFailed++;
  // Lifeguard §IV-A (memberlist): with relays, each missing nack counts against us; with none to
  // ask, any failed probe does.
  ms.health.apply(p.relays.length > 0 ? p.relays.length - p.nackers.size : 1);
  const m = ms.table.get(p.target);
  if (m === undefined) return;
  if (m.state === 'alive') {
    ms.suspectMember(m, m.incarnation, ms.id);
  } else if (m.state === 'suspect' && m.suspicion !== null && m.suspicion.confirm(ms.id)) {
    // Someone else suspected it first; our failed probe is an independent confirmation (Lifeguard §IV-B).
    ctx.broadcast({ kind: 'suspect', member: m.id, incarnation: m.incarnation, by: ms.id });
  }
}

/** An ack: of our probe (direct or relayed), of a ping we relay (forward it), or of nothing. */
export function handleAck(ms: Membership, m: AckMessage): void {
  const ctx = ms.ctx;
  const p = ms.probe;
  if (p !== null && m.seq === p.seq && (m.from === p.target || p.relays.includes(m.from))) {
    if (p.acked) return; // a duplicate, or the direct ack after a relayed one
    p.acked = true;
    ctx.counters.probesAcked++;
    ms.health.apply(-1);
    return;
  }
  const r = ms.reconnect;
  if (r !== null && m.seq === r.seq && m.from === r.target) return; // its updates did the work
  const relay = ms.relays.get(m.seq);
  if (relay !== undefined && m.from === relay.target) {
    ms.relays.delete(m.seq);
    ms.relaysVersion++;
    ctx.send({ type: 'ack', from: ms.id, to: relay.origin, seq: relay.originSeq, updates: ms.piggybackFor(relay.origin) });
    return;
  }
  ctx.counters.acksUnexpected++;
}

/** A relay of ours heard nothing from the target: it is reachable, at least. */
export function handleNack(ms: Membership, m: NackMessage): void {
  const p = ms.probe;
  if (p !== null && m.seq === p.seq && m.target === p.target && p.relays.includes(m.from)) {
    p.nackers.add(m.from);
    return;
  }
  ms.ctx.counters.acksUnexpected++;
}

/** Probe `target` for `m.from` (SWIM §3.1), within `relaysPendingMax`, and only a member we know. */
export function handlePingReq(ms: Membership, m: PingReqMessage): void {
  const ctx = ms.ctx;
  const target = ms.table.get(m.target);
  if (ms.relays.size >= ctx.cfg.relaysPendingMax || target === undefined || target.state === 'left') {
    ctx.counters.relaysRefused++;
    return;
  }
  const seq = ms.nextSeq();
  ms.relaysVersion++;
  ms.relays.set(seq, { origin: m.from, originSeq: m.seq, target: m.target, deadlineTick: ctx.now + ms.health.scale(ctx.cfg.probeTimeoutTicks) });
  ctx.send({ type: 'ping', from: ms.id, to: m.target, seq, mesh: ms.mesh.has(m.target), updates: ms.piggybackFor(m.target) });
}

/** Relays whose target stayed silent: nack the prober. */
export function expireRelays(ms: Membership): void {
  const ctx = ms.ctx;
  for (const [seq, relay] of ms.relays) {
    if (relay.deadlineTick > ctx.now) continue;
    ms.relays.delete(seq);
    ms.relaysVersion++;
    const nack: NackMessage = { type: 'nack', from: ms.id, to: relay.origin, seq: relay.originSeq, target: relay.target };
    ctx.send(nack);
  }
}
