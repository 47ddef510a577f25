/**
 * The membership component of a gossip node: SWIM (Das, Gupta, Motivala 2002) with Lifeguard
 * (Dadgar, Phillips, Currey 2018), over a bounded-degree mesh (gossipsub v1.1), with a phi
 * accrual detector per member. It owns this node's own state and incarnation, the member table,
 * the mesh, the probe cycle and the relays; it shares time, outbox, events, counters and the
 * dissemination queue with the other components through `GossipContext`.
 *
 * The work is split by concept: prober.ts runs the probe cycle (ping, ping-req, nack, suspicion
 * of a silent target), apply-update.ts decides what a piggybacked update does to our view
 * (SWIM §4.2's incarnation rules, refutation), handle-message.ts dispatches each message, and
 * mesh.ts is the mesh's set arithmetic. This file keeps the state and the transitions that
 * several of them share: a member changing state, joining, leaving, and the periodic duties.
 */
import { assert } from '../assert.ts';
import type { GossipContext } from './context.ts';
import type { PersistedCrdt } from './crdt-store.ts';
import { incarnationMax } from './limits.ts';
import { LocalHealth } from './local-health.ts';
import { MemberTable, type Member } from './member-table.ts';
import { Mesh } from './mesh.ts';
import type { GossipMessage, Piggyback, SyncEntry, SyncState } from './messages.ts';
import { shuffled } from '../prng.ts';
import { ProbeOrder } from './probe-order.ts';
import { endPeriod, expireRelays, maybeReconnect, maybeSendIndirect, probeCandidates, startProbe, type Probe, type Relay } from './prober.ts';
import { Suspicion } from './suspicion.ts';
import { isLive, type MemberState, type NodeId } from './types.ts';

/** What a node keeps across restarts: the highest incarnation it ever announced, and its CRDTs (ready.ts says when each is written). */
export interface GossipBoot {
  readonly incarnation: number;
  /** The CRDTs persisted by its Readies, the last record of each (name, type); none when absent. */
  readonly crdts?: readonly PersistedCrdt[];
}

export const emptyGossipBoot: GossipBoot = { incarnation: 0 };

/** This node's own state: joining until a seed answers, alive, or left. */
export type SelfState = 'joining' | 'alive' | 'left';

export class Membership {
  readonly table: MemberTable;
  readonly mesh: Mesh;
  readonly order = new ProbeOrder();
  /** The round robin of probes outside the mesh (prober.ts `outsideTarget`). */
  readonly outsideOrder = new ProbeOrder();
  /** Probe periods started, for the every-k-th outside probe. */
  periods = 0;
  readonly health: LocalHealth;
  /** Our incarnation (SWIM §4.2): only we raise it, to refute a suspicion; persisted by the host. */
  incarnation: number;
  state: SelfState = 'joining';
  /** A join was asked for (the node is active: it probes, answers, retries its seeds). */
  active = false;
  seeds: NodeId[] = [];
  lastJoinTick = 0;
  probe: Probe | null = null;
  /** Indirect probes we run for others, by the seq of our ping to the target. */
  readonly relays = new Map<number, Relay>();
  /** Members currently suspect (their suspicion timers are checked every tick). */
  readonly suspects = new Set<NodeId>();
  /** Live members we have heard from (their phi is checked every tick): about the mesh, not all n. */
  readonly watched = new Set<NodeId>();
  /** Members revived from dead since the last mesh heartbeat (bounded by the table). */
  readonly revived = new Set<NodeId>();
  /** The revived member grafted at the last heartbeat: still in the mesh at the next, the bridge holds. */
  private bridge: NodeId | null = null;
  /** Bumped whenever the relays we run change (links wanted follow them). */
  relaysVersion = 0;
  periodStartTick = 0;
  nextMeshTick = 0;
  nextSyncTick = 0;
  syncRepliesThisPeriod = 0;
  nextReconnectTick = 0;
  /** The dead member last pinged by reconnect (its link is wanted until the next attempt). */
  reconnect: { readonly target: NodeId; readonly seq: number } | null = null;
  /** When we last re-asserted our alive against a stale suspicion (at most once a period). */
  lastReassertTick = Number.NEGATIVE_INFINITY;
  private seq = 0;

  constructor(
    readonly ctx: GossipContext,
    boot: GossipBoot,
  ) {
    const cfg = ctx.cfg;
    assert(Number.isSafeInteger(boot.incarnation) && boot.incarnation >= 0 && boot.incarnation <= incarnationMax, 'boot incarnation out of range');
    this.incarnation = boot.incarnation;
    this.health = new LocalHealth(cfg.healthScoreMax);
    this.table = new MemberTable(cfg.membersMax, {
      arrivalWindowMax: cfg.arrivalWindowMax,
      samplesMin: cfg.phiSamplesMin,
      minStdDevTicks: cfg.phiMinStdDevTicks,
      acceptablePauseTicks: cfg.phiAcceptablePauseTicks,
    });
    this.mesh = new Mesh({ target: cfg.meshDegreeTarget, low: cfg.meshDegreeLow, high: cfg.meshDegreeHigh, backoffTicks: cfg.meshBackoffTicks });
  }

  get id(): NodeId {
    return this.ctx.cfg.id;
  }

  /** n of SWIM's formulas: the live members we know, ourselves included. */
  liveCount(): number {
    return this.table.liveCount() + 1;
  }

  /** The next probe sequence number (wraps far beyond any real use). */
  nextSeq(): number {
    this.seq = this.seq >= 2 ** 48 ? 1 : this.seq + 1;
    return this.seq;
  }

  // ---- local requests --------------------------------------------------------------------------

  /**
   * Join through `seeds` (members we know of). Every join announces a NEW incarnation, one above
   * the highest this node ever announced (the host persists it before the join leaves), so the
   * members that remember this node dead or left from an earlier life believe it at once.
   * With no seeds the node is the first member and alive at once.
   */
  join(seeds: readonly NodeId[]): boolean {
    if (this.active && this.state !== 'left') return false;
    if (this.incarnation >= incarnationMax) return false;
    this.incarnation++;
    this.active = true;
    this.seeds = seeds.filter((s) => s !== this.id).slice(0, this.ctx.cfg.joinSeedsMax);
    this.periodStartTick = this.ctx.now;
    this.nextMeshTick = this.ctx.now;
    this.nextSyncTick = this.ctx.now + this.ctx.cfg.syncIntervalTicks;
    this.nextReconnectTick = this.ctx.now + this.ctx.cfg.reconnectIntervalTicks;
    if (this.seeds.length === 0) {
      this.becomeSelf('alive');
      return true;
    }
    this.becomeSelf('joining');
    this.sendJoins();
    return true;
  }

  /**
   * Leave gracefully: tell every mesh neighbour at once (they spread it as a `left` update), so
   * nobody waits a suspicion timeout for us. The node then goes quiet until it joins again.
   */
  leave(): boolean {
    if (!this.active || this.state === 'left') return false;
    for (const peer of this.mesh.list()) this.ctx.send({ type: 'leave', from: this.id, to: peer, incarnation: this.incarnation });
    this.becomeSelf('left');
    this.probe = null;
    this.reconnect = null;
    this.relays.clear();
    this.relaysVersion++;
    for (const peer of this.mesh.list()) this.mesh.forget(peer);
    return true;
  }

  sendJoins(): void {
    this.lastJoinTick = this.ctx.now;
    for (const seed of this.seeds) this.ctx.send({ type: 'join', from: this.id, to: seed, incarnation: this.incarnation });
  }

  becomeSelf(state: SelfState): void {
    const previous = this.state;
    this.state = state;
    this.ctx.emit({ kind: 'member-changed', member: this.id, previous, state, incarnation: this.incarnation, phi: 0 });
    if (state === 'alive') this.ctx.broadcast({ kind: 'alive', member: this.id, incarnation: this.incarnation });
    if (state === 'left') this.ctx.broadcast({ kind: 'left', member: this.id, incarnation: this.incarnation });
  }

  // ---- time ------------------------------------------------------------------------------------

  tick(): void {
    const ctx = this.ctx;
    if (!this.active || this.state === 'left') return;
    if (this.state === 'joining') {
      if (ctx.now - this.lastJoinTick >= ctx.cfg.joinRetryTicks) this.sendJoins();
      return;
    }
    maybeSendIndirect(this);
    if (ctx.now - this.periodStartTick >= this.health.scale(ctx.cfg.probeIntervalTicks)) {
      endPeriod(this);
      this.periodStartTick = ctx.now;
      this.syncRepliesThisPeriod = 0;
      startProbe(this);
    }
    expireRelays(this);
    this.expireSuspicions();
    if (ctx.now >= this.nextMeshTick) {
      this.nextMeshTick = ctx.now + ctx.cfg.meshHeartbeatTicks;
      this.maintain();
    }
    if (ctx.now >= this.nextSyncTick) {
      this.nextSyncTick = ctx.now + ctx.cfg.syncIntervalTicks;
      this.pushPull();
    }
    maybeReconnect(this);
    this.checkPhi();
    this.maybePush();
  }

  /** Suspicions whose (Lifeguard-shortened) timeout passed unrefuted become dead (SWIM §4.2, "confirm"). */
  private expireSuspicions(): void {
    for (const id of [...this.suspects]) {
      const m = this.table.get(id);
      if (m === undefined || m.suspicion === null) {
        this.suspects.delete(id);
        continue;
      }
      if (this.ctx.now < m.suspicion.deadlineTick()) continue;
      this.ctx.counters.membersDeclaredDead++;
      this.changeMember(m, 'dead', m.incarnation);
      this.ctx.broadcast({ kind: 'dead', member: id, incarnation: m.incarnation, by: this.id });
    }
  }

  /** The mesh heartbeat (gossipsub v1.1), and forgetting members dead or left long enough. */
  maintain(): void {
    const ctx = this.ctx;
    for (const id of this.table.reap(ctx.now, ctx.cfg.deadRetainTicks)) this.mesh.forget(id);
    const live = this.table.liveIds();
    const changes = this.mesh.heartbeat(live, ctx.now, ctx.prng);
    for (const to of changes.graft) ctx.send({ type: 'graft', from: this.id, to });
    for (const to of changes.prune) ctx.send({ type: 'prune', from: this.id, to });
    this.maybeBridge(live);
  }

  /**
   * Members came back from dead (a partition that outlasted a suspicion healed, and they
   * refuted): graft one of them, at random, if the mesh is below D_hi. Each side of the healed
   * split kept a full mesh of its own, so no heartbeat would graft across, and the data plane,
   * which pushes and pulls over the mesh only, would stay split though the views agree. One
   * graft that holds is enough to join the two meshes and never makes the heartbeat prune; one
   * refused (it did not hold us alive yet, and pruned us back) is followed by another revived
   * member at the next heartbeat, until one holds or none is left.
   */
  private maybeBridge(live: ReadonlySet<NodeId>): void {
    if (this.bridge !== null && this.mesh.has(this.bridge)) this.revived.clear();
    this.bridge = null;
    for (const id of [...this.revived]) if (!live.has(id) || this.mesh.has(id)) this.revived.delete(id);
    if (this.revived.size === 0) return;
    const candidates = [...this.revived].sort();
    const to = candidates[this.ctx.prng.nextInt(candidates.length)] as NodeId;
    this.revived.delete(to);
    if (!this.mesh.graftOne(to, this.ctx.now)) return;
    this.bridge = to;
    this.ctx.send({ type: 'graft', from: this.id, to });
  }

  /**
   * Anti-entropy for the view (memberlist's push-pull): our live list to one random neighbour,
   * asking for its list back. Piggybacking forgets an update once it was sent enough times; a
   * member that missed it (or that one side forgot during a long partition) learns it here.
   */
  private pushPull(): void {
    const candidates = [...probeCandidates(this)].sort();
    if (candidates.length === 0) return;
    const to = candidates[this.ctx.prng.nextInt(candidates.length)] as NodeId;
    this.ctx.send({ type: 'sync', from: this.id, to, members: this.syncEntries(), wantReply: true });
  }

  /** Phi crossings of `phiThreshold`, either way, become events (the runtime's leader watch). */
  private checkPhi(): void {
    const threshold = this.ctx.cfg.phiThreshold;
    for (const id of this.watched) {
      const m = this.table.get(id);
      if (m === undefined || !isLive(m.state)) {
        this.watched.delete(id);
        continue;
      }
      const phi = m.detector.phi(this.ctx.now);
      const suspected = phi >= threshold;
      if (suspected === m.phiSuspected) continue;
      m.phiSuspected = suspected;
      this.ctx.emit({ kind: 'member-phi', member: m.id, phi, suspected });
    }
  }

  /**
   * Eager push: updates never sent yet go at once to `pushFanout` random mesh neighbours,
   * instead of waiting for the next probe to carry them. The mesh is connected, so news crosses
   * it in about its diameter of hops; the retransmit limit still bounds each update's cost.
   */
  private maybePush(): void {
    const ctx = this.ctx;
    if (ctx.cfg.pushFanout === 0 || ctx.queue.freshCount() === 0 || this.mesh.size === 0) return;
    const n = this.liveCount();
    for (const to of shuffled(ctx.prng, this.mesh.list()).slice(0, ctx.cfg.pushFanout)) {
      const updates = ctx.piggyback(n);
      if (updates.length === 0) break;
      ctx.send({ type: 'push', from: this.id, to, updates });
    }
  }

  // ---- member transitions ----------------------------------------------------------------------

  /** A message (or, by the host's word, other traffic) from `m` arrived now: phi's evidence. */
  arrived(m: Member): void {
    m.detector.arrived(this.ctx.now);
    if (isLive(m.state)) this.watched.add(m.id);
  }

  /** Move `m` to `state` at `incarnation`: suspicion, mesh and events follow. */
  changeMember(m: Member, state: MemberState, incarnation: number): void {
    const previous = m.state;
    m.state = state;
    m.incarnation = incarnation;
    m.changedAtTick = this.ctx.now;
    if (state !== 'suspect') {
      m.suspicion = null;
      this.suspects.delete(m.id);
    }
    if (previous === 'dead' && isLive(state)) this.revived.add(m.id);
    if (!isLive(state)) {
      // No backoff: a dead member that refutes may be grafted again at once.
      this.mesh.forget(m.id);
      m.phiSuspected = false;
    }
    this.ctx.emit({ kind: 'member-changed', member: m.id, previous, state, incarnation, phi: m.detector.phi(this.ctx.now) });
  }

  /** `m` is suspect at `incarnation`, first raised by `by`: start Lifeguard's timer (§IV-B). */
  suspectMember(m: Member, incarnation: number, by: NodeId): void {
    const cfg = this.ctx.cfg;
    // Confirmations we may hope for: at most the other live members beside the suspect and us (memberlist).
    const k = Math.min(cfg.suspicionConfirmationsK, Math.max(0, this.liveCount() - 2));
    this.changeMember(m, 'suspect', incarnation);
    m.suspicion = new Suspicion(this.ctx.now, by, k, cfg.suspicionMinTicks, cfg.suspicionMaxTicks);
    this.suspects.add(m.id);
    this.ctx.broadcast({ kind: 'suspect', member: m.id, incarnation, by });
  }

  /**
   * Someone claims we are suspect, dead or left, or claims a higher incarnation of us: raise our
   * incarnation above the claim and say we are alive (SWIM §4.2). `accused` (suspect or dead,
   * not a stale alive) is evidence that others cannot reach us in time (Lifeguard §IV-A: +1).
   */
  refute(claimedIncarnation: number, accused: boolean): void {
    const ctx = this.ctx;
    const next = Math.max(this.incarnation, claimedIncarnation) + 1;
    if (next > incarnationMax) {
      ctx.counters.refutationsImpossible++;
      return;
    }
    this.incarnation = next;
    ctx.counters.refutations++;
    if (accused) this.health.apply(1);
    ctx.broadcast({ kind: 'alive', member: this.id, incarnation: next });
    ctx.emit({ kind: 'member-changed', member: this.id, previous: this.state, state: this.state, incarnation: next, phi: 0 });
  }

  /**
   * Someone says we are suspect or dead at an incarnation below ours: we refuted it already, but
   * the claim still travels, so some members may not have our refutation (it was sent while we
   * were cut off, and its retransmits ran out). Spread our alive at our current incarnation
   * again (SWIM §4.2: it overrides every claim below it), at most once a probe period.
   */
  reassert(): void {
    const ctx = this.ctx;
    if (ctx.now - this.lastReassertTick < ctx.cfg.probeIntervalTicks) return;
    this.lastReassertTick = ctx.now;
    ctx.counters.reassertions++;
    ctx.broadcast({ kind: 'alive', member: this.id, incarnation: this.incarnation });
  }

  /**
   * What to put first on a message to `to` (Lifeguard §IV-C, the buddy system, widened): if we
   * believe `to` suspect or dead, tell it so, so it can refute now rather than when gossip
   * happens to reach it.
   */
  buddyFor(to: NodeId): Piggyback | null {
    const m = this.table.get(to);
    if (m === undefined) return null;
    const by = m.suspicion?.firstBy ?? this.id;
    if (m.state === 'suspect') return { kind: 'suspect', member: to, incarnation: m.incarnation, by };
    if (m.state === 'dead') return { kind: 'dead', member: to, incarnation: m.incarnation, by };
    return null;
  }

  /** The piggyback for a message to `to`: the buddy update first, then the queue's freshest. */
  piggybackFor(to: NodeId): Piggyback[] {
    return this.ctx.piggyback(this.liveCount(), this.buddyFor(to));
  }

  /**
   * Members as `sync` entries within `syncMembersMax`, ourselves first: live members (a random
   * subset), then dead and left ones we still retain (memberlist's push-pull carries every
   * state), so a member that missed a death or a leave learns it instead of keeping, and later
   * spreading, a ghost. The table reaps the gone after `deadRetainTicks`, which bounds them.
   */
  syncEntries(): SyncEntry[] {
    const cfg = this.ctx.cfg;
    const byId = (a: Member, b: Member): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const all = [...this.table.values()].sort(byId);
    const live = shuffled(
      this.ctx.prng,
      all.filter((m) => isLive(m.state)),
    );
    const gone = shuffled(
      this.ctx.prng,
      all.filter((m) => m.state === 'dead' || m.state === 'left'),
    );
    const chosen = [...live, ...gone].slice(0, cfg.syncMembersMax - 1);
    return [{ member: this.id, incarnation: this.incarnation, state: 'alive' }, ...chosen.map((m) => ({ member: m.id, incarnation: m.incarnation, state: syncStateOf(m) }))];
  }

  /** Answer with a `sync` unless this period's budget of them is spent. */
  maybeSendSync(to: NodeId, wantReply: boolean): void {
    if (this.syncRepliesThisPeriod >= this.ctx.cfg.syncRepliesPerPeriodMax) {
      this.ctx.counters.syncsRefused++;
      return;
    }
    this.syncRepliesThisPeriod++;
    const m: GossipMessage = { type: 'sync', from: this.id, to, members: this.syncEntries(), wantReply };
    this.ctx.send(m);
  }

  /**
   * The peers this node wants links to: its mesh, the target and relays of the probe under way,
   * the targets of relays it runs, the dead member last pinged by reconnect, and its seeds while
   * joining. Sorted; bounded by 2·meshDegreeHigh + 2 + indirectProbesK + relaysPendingMax + joinSeedsMax.
   */
  /** Changes whenever `linksWanted()` may have (cheap: the engine asks on every `hasReady`). */
  linksSignature(): string {
    const p = this.probe;
    return `${this.mesh.version}|${p?.seq ?? 0}|${p?.indirect ?? false}|${this.relaysVersion}|${this.reconnect?.seq ?? 0}|${this.state}|${this.active}`;
  }

  linksWanted(): NodeId[] {
    const want = new Set(this.mesh.view());
    if (this.probe !== null) {
      want.add(this.probe.target);
      for (const r of this.probe.relays) want.add(r);
    }
    for (const r of this.relays.values()) want.add(r.target);
    if (this.reconnect !== null) want.add(this.reconnect.target);
    if (this.state === 'joining' && this.active) for (const s of this.seeds) want.add(s);
    return [...want].sort();
  }
}

/** A member's state as a sync entry names it (the table never holds `joining`: that is a node's own state). */
function syncStateOf(m: Member): SyncState {
  assert(m.state !== 'joining', 'a member in the table is never joining');
  return m.state;
}
