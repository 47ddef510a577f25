/**
 * The gossip engine (DESIGN.md §7b): membership by SWIM + Lifeguard over a bounded-degree mesh,
 * phi accrual per member, behind the one engine contract (src/core/engine.ts): `step`, `tick`,
 * `hasReady` / `ready` / `advance`. Pure: the host owns links, storage and timers.
 *
 * It composes components on one `GossipContext` (time, outbox, events, counters, and the ONE
 * dissemination queue): `Membership` (SWIM, Lifeguard, the mesh) and `Replication`, the data
 * plane (named delta CRDTs pushed over the mesh and repaired by Merkle anti-entropy), whose
 * local inputs come through the same `step` and whose messages go to the same outbox.
 *
 * Persistence: its own incarnation must be durable BEFORE any message that claims it leaves
 * (`GossipReady`), so that a node restarting from disk never announces an incarnation twice.
 * The CRDTs changed are persisted too, but their data messages do NOT wait for that write: each
 * life of the node mints its dots and counter entries under a replica id of its own
 * (`replicaOfLife`), and only the FIRST data of a life waits, for the write that makes the life's
 * number durable. Membership it may forget, and learns again.
 *
 * Why a replica id per life, and why that is enough (Almeida, Shoker and Baquero 2018 §6 assume a
 * replica never forgets the dots it minted; we make a forgetful restart a new replica instead,
 * as Yjs gives every session a fresh client id and Riak KV a vnode an epoch after an unclean
 * start):
 *   1. Life L is numbered one above the incarnation it booted from (`life`), and its Readies
 *      persist an incarnation of at least L (`incarnationToPersist`) before any data message of
 *      the life leaves (`lifeDurable`). So the next life boots from an incarnation of at least
 *      L and is numbered above it: two lives that send data never share a replica id.
 *   2. A delta or state sent ahead of its write and lost in a crash holds dots (and counter
 *      entries) of life L only. No later life mints under L, so no dot is ever minted twice,
 *      whatever the disk lost: the peers that hold the lost tail keep it, and the restarted node
 *      merges it back from them like any peer's news (its causal context lacks those dots, so
 *      it cannot have removed them). A G-Counter or PN-Counter entry of L likewise only ever
 *      grows, by max, to the highest value L sent; the new life counts in an entry of its own,
 *      so no increment is hidden under a max (the value is the sum over entries, lives included).
 *   3. Waiting for the write would cost every update a disk write (an IndexedDB transaction:
 *      3-6 ms measured in the crdt-browser bench) between the edit and the peers; this costs one
 *      wait per life and one version-vector entry per life that writes a CRDT.
 * The cost of 3: vectors grow by one entry per life that updated the CRDT (replicasPerVectorMax
 * bounds them, 1,024); a reload is a new life. Life 1 keeps the member id as its replica id (a
 * node whose disk holds no incarnation has sent nothing under any life: data waits for it).
 */
import { assert } from '../assert.ts';
import type { Engine } from '../engine.ts';
import { ok, err, type Result } from '../result.ts';
import { resolveGossipConfig, type GossipConfig, type ResolvedGossipConfig } from './config.ts';
import { GossipContext } from './context.ts';
import type { GossipCounters } from './counters.ts';
import type { GossipEvent } from './events.ts';
import { handleMessage } from './handle-message.ts';
import { incarnationMax } from './limits.ts';
import {
  GossipRefusedError,
  isGossipLocalInput,
  type GossipInput,
  type GossipLocalInput,
  type GossipStepAccepted,
  type GossipStepRefused,
} from './local-input.ts';
import type { Member } from './member-table.ts';
import { Membership, emptyGossipBoot, type GossipBoot, type SelfState } from './membership.ts';
import { claimsIncarnationOf, isDataMessage, type GossipMessage } from './messages.ts';
import type { GossipReady } from './ready.ts';
import { Replication } from './replication.ts';
import { isLive } from './types.ts';
import { crdtTypes, type CrdtType, type CrdtTypeName, type CrdtValues } from '../crdt/crdt-types.ts';
import { compareText } from '../crdt/text.ts';
import type { MemberState, NodeId } from './types.ts';
import { isMemberId, readGossipMessage } from './validate-gossip.ts';

export interface GossipMemberStatus {
  readonly id: NodeId;
  readonly state: MemberState;
  readonly incarnation: number;
  /** Phi accrual of its arrivals now (0 with fewer than two arrivals). */
  readonly phi: number;
  /** While suspect: when it will be declared dead unless it refutes (Lifeguard §IV-B), and the confirmations so far. */
  readonly suspicionDeadlineTick: number | null;
  readonly confirmations: number;
  readonly inMesh: boolean;
}

export interface GossipStatus {
  readonly id: NodeId;
  readonly state: SelfState;
  readonly incarnation: number;
  /** Lifeguard §IV-A local health score, 0..healthScoreMax (0 is healthy). */
  readonly healthScore: number;
  readonly tick: number;
  /** Every member known, this node excluded, sorted by id. */
  readonly members: readonly GossipMemberStatus[];
  readonly mesh: readonly NodeId[];
  /** The member probed in the current period, if any. */
  readonly probing: NodeId | null;
  /** Updates waiting in the dissemination queue. */
  readonly queued: number;
  /** CRDTs held, and the bytes of their encoded states. */
  readonly crdts: number;
  readonly crdtBytes: number;
  readonly counters: Readonly<GossipCounters>;
}

const stepped: GossipStepAccepted = { kind: 'stepped' };

export class GossipNode implements Engine<GossipInput, GossipStepAccepted, GossipStepRefused, GossipReady> {
  private readonly ctx: GossipContext;
  private readonly membership: Membership;
  private readonly replication: Replication;
  private readyOutstanding = false;
  /** The incarnation handed to the host last (durable once that Ready is handled). */
  private incarnationHandedOut: number;
  /** The links asked for last, joined (to see a change without keeping a second set). */
  private linksHandedOut = '';
  /** `Membership.linksSignature()` when the links were last computed: unchanged, no need to look. */
  private linksSignature = '';
  /** This life's number: one above the incarnation booted from (see the header). */
  private readonly life: number;
  /** The incarnation booted from (every earlier life was numbered at most this). */
  private readonly incarnationHandedOutAtBoot: number;
  /** Whether an incarnation of at least `life` is durable: until then this life's data waits for the write. */
  private lifeDurable = false;
  /** Whether this life made a CRDT update (only then must the life be durable before data leaves). */
  private lifeUsed = false;
  /** The outstanding Ready persists an incarnation of at least `life`: durable once it is advanced. */
  private readyMakesLifeDurable = false;

  constructor(config: GossipConfig, boot: GossipBoot = emptyGossipBoot) {
    const cfg: ResolvedGossipConfig = resolveGossipConfig(config);
    this.ctx = new GossipContext(cfg, cfg.prng);
    const ms = (this.membership = new Membership(this.ctx, boot));
    this.replication = new Replication(
      this.ctx,
      {
        // Suspect neighbours stay in the mesh (SWIM may yet clear them), but data sent to one is likely lost.
        mesh: () => ms.mesh.list().filter((id) => ms.table.get(id)?.state === 'alive'),
        isMember: (id) => {
          const m = ms.table.get(id);
          return m !== undefined && isLive(m.state);
        },
        active: () => ms.active && ms.state === 'alive',
        arrived: (id) => {
          const m = ms.table.get(id);
          if (m !== undefined) ms.arrived(m);
        },
      },
      boot.crdts ?? [],
    );
    this.incarnationHandedOut = boot.incarnation;
    this.incarnationHandedOutAtBoot = boot.incarnation;
    this.life = Math.min(boot.incarnation + 1, incarnationMax);
    this.ctx.replica = replicaOfLife(this.ctx.cfg.id, this.life);
  }

  get id(): NodeId {
    return this.ctx.cfg.id;
  }

  /** One unit of logical time: probe periods, timeouts, suspicion and mesh heartbeats count ticks. */
  tick(): void {
    this.ctx.now++;
    this.membership.tick();
    this.replication.tick();
  }

  /**
   * Feed one input: a peer's message, or a local request (local-input.ts). A message is
   * validated first (validate-gossip.ts; the codec did it already, this is defence in depth and
   * the guard for hosts without one); a refused one is counted by code and answered `dropped`.
   * Never throws on a peer's input.
   */
  step(input: GossipInput): Result<GossipStepAccepted, GossipStepRefused> {
    if (isGossipLocalInput(input)) return this.stepLocal(input);
    const read = readGossipMessage(input);
    if (!read.ok) {
      this.ctx.counters.refused[read.error.code]++;
      return ok({ kind: 'dropped', code: read.error.code });
    }
    const m = read.value;
    if (isDataMessage(m)) this.replication.handle(m);
    else handleMessage(this.membership, m);
    return ok(stepped);
  }

  private stepLocal(input: GossipLocalInput): Result<GossipStepAccepted, GossipStepRefused> {
    switch (input.local) {
      case 'join': {
        const bad = input.seeds.find((s) => !isMemberId(s));
        if (bad !== undefined) return err(new GossipRefusedError('invalid-seed', `seed ${JSON.stringify(String(bad).slice(0, 32))} is not a member id`));
        if (this.membership.incarnation >= incarnationMax) return err(new GossipRefusedError('incarnation-exhausted', `incarnation ${incarnationMax}`));
        return ok({ kind: this.membership.join(input.seeds) ? 'accepted' : 'unchanged' });
      }
      case 'leave':
        return ok({ kind: this.membership.leave() ? 'accepted' : 'unchanged' });
      case 'heard': {
        const m = this.membership.table.get(input.member);
        if (m === undefined) return ok({ kind: 'unchanged' });
        this.membership.arrived(m);
        return ok({ kind: 'accepted' });
      }
      case 'crdt-open': {
        const r = this.replication.open(input.name, input.crdt);
        return r.ok ? ok({ kind: r.value }) : r;
      }
      case 'crdt-update': {
        // A life numbered no higher than an earlier one would share its replica id (header).
        if (this.life <= this.incarnationHandedOutAtBoot) return err(new GossipRefusedError('incarnation-exhausted', `incarnation ${incarnationMax}`));
        const r = this.replication.update(input.name, input.op);
        if (r.ok && r.value === 'accepted') this.lifeUsed = true;
        return r.ok ? ok({ kind: r.value }) : r;
      }
      default: {
        const never: never = input;
        return never;
      }
    }
  }

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    const ctx = this.ctx;
    return (
      ctx.outbox.length > 0 ||
      ctx.events.length > 0 ||
      this.incarnationToPersist() !== this.incarnationHandedOut ||
      this.replication.hasWork() ||
      this.linksChanged()
    );
  }

  /** Whether the links wanted differ from those handed out (looked at only when their inputs changed). */
  private linksChanged(): boolean {
    const signature = this.membership.linksSignature();
    if (signature === this.linksSignature) return false;
    if (this.membership.linksWanted().join('\n') !== this.linksHandedOut) return true;
    this.linksSignature = signature;
    return false;
  }

  /** Take the next batch of work. See `GossipReady` for the order in which the host must do it. */
  ready(): GossipReady {
    assert(!this.readyOutstanding, 'ready() called before advance()');
    const ctx = this.ctx;
    this.replication.flushLocal();
    const data = this.replication.takeChanges();
    for (const e of data.events) ctx.emit(e);
    const toPersist = this.incarnationToPersist();
    const incarnation = toPersist !== this.incarnationHandedOut ? toPersist : null;
    const mustPersist = incarnation !== null || data.persist.length > 0;
    const messages = ctx.outbox;
    // What must wait for the write: claims of a new incarnation, and data until this life's number is durable (header).
    const claims = (m: GossipMessage): boolean => (incarnation !== null && claimsIncarnationOf(m, this.id)) || (this.lifeUsed && !this.lifeDurable && isDataMessage(m));
    const before = mustPersist ? messages.filter((m) => !claims(m)) : messages;
    const after = mustPersist ? messages.filter(claims) : [];
    const links = withLinksFor(this.membership.linksWanted(), messages);
    const linksKey = links.join('\n');
    const events: readonly GossipEvent[] = ctx.events;
    const rd: GossipReady = {
      mustPersist,
      incarnation,
      crdts: data.persist,
      messages,
      messagesBeforeWrite: before,
      messagesAfterWrite: after,
      events,
      // Events promise nothing about this node's disk: all may be delivered at once.
      appliedBeforeWrite: events.length,
      linksWanted: linksKey === this.linksHandedOut ? null : links,
    };
    ctx.outbox = [];
    ctx.events = [];
    if (incarnation !== null) this.incarnationHandedOut = incarnation;
    this.readyMakesLifeDurable = incarnation !== null && incarnation >= this.life;
    this.linksHandedOut = linksKey;
    this.linksSignature = this.membership.linksSignature();
    this.readyOutstanding = true;
    return rd;
  }

  /** The last Ready has been persisted, sent and delivered. */
  advance(): void {
    assert(this.readyOutstanding, 'advance() without ready()');
    this.readyOutstanding = false;
    // A Ready that persists an incarnation is advanced only once its write is durable (ready.ts).
    if (this.readyMakesLifeDurable) this.lifeDurable = true;
    this.readyMakesLifeDurable = false;
  }

  /**
   * The incarnation the disk must hold: the one announced, and, once this life made an update,
   * at least the life's number (an offline edit before the join announced it needs it too).
   */
  private incarnationToPersist(): number {
    return this.lifeUsed ? Math.max(this.membership.incarnation, this.life) : this.membership.incarnation;
  }

  /** The replica id this life's CRDT updates are minted under (see the header). */
  replicaId(): string {
    return this.ctx.replica;
  }

  /** The members this node knows and their states, mesh, health and counters. */
  status(): GossipStatus {
    const ms = this.membership;
    const now = this.ctx.now;
    const members = [...ms.table.values()].map((m) => this.memberStatus(m, now)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      id: this.id,
      state: ms.state,
      incarnation: ms.incarnation,
      healthScore: ms.health.score,
      tick: now,
      members,
      mesh: ms.mesh.list(),
      probing: ms.probe?.target ?? null,
      queued: this.ctx.queue.size,
      crdts: this.replication.store.size,
      crdtBytes: this.replication.store.bytes,
      counters: { ...this.ctx.counters, refused: { ...this.ctx.counters.refused }, crdtRefused: { ...this.ctx.counters.crdtRefused } },
    };
  }

  /** The value of the CRDT (`name`, `crdt`), or its type's empty value when not held. */
  crdtValue<N extends CrdtTypeName>(name: string, crdt: N): CrdtValues[N] {
    const entry = this.replication.store.get(`${crdt}/${name}`);
    const type = crdtTypes[crdt] as unknown as CrdtType<unknown, CrdtValues[N]>;
    return entry === undefined ? type.value(type.empty()) : type.value(entry.state);
  }

  /** The CRDTs held, as (name, type), sorted by type then name. */
  crdtNames(): { readonly name: string; readonly crdt: CrdtTypeName }[] {
    return [...this.replication.store.values()].map((e) => ({ name: e.name, crdt: e.crdt })).sort((a, b) => compareText(`${a.crdt}/${a.name}`, `${b.crdt}/${b.name}`));
  }

  /**
   * The root hash of the Merkle tree over every non-empty CRDT held: two nodes holding equal
   * CRDTs have equal roots (the simulator's and the tests' convergence check).
   */
  crdtRootHash(): number {
    this.replication.store.refreshAll();
    return this.replication.store.tree.rootHash();
  }

  /** One member as `status()` shows it, or undefined when unknown (cheaper than `status()`). */
  member(id: NodeId): GossipMemberStatus | undefined {
    const m = this.membership.table.get(id);
    return m === undefined ? undefined : this.memberStatus(m, this.ctx.now);
  }

  /** The mesh neighbours, sorted (cheaper than `status()`). */
  mesh(): NodeId[] {
    return this.membership.mesh.list();
  }

  private memberStatus(m: Member, now: number): GossipMemberStatus {
    return {
      id: m.id,
      state: m.state,
      incarnation: m.incarnation,
      phi: m.detector.phi(now),
      suspicionDeadlineTick: m.suspicion?.deadlineTick() ?? null,
      confirmations: m.suspicion?.confirmations ?? 0,
      inMesh: this.membership.mesh.has(m.id),
    };
  }

  /** Phi of one member now (0 when unknown or never heard): cheaper than `status()` for a host watching a leader. */
  phi(member: NodeId): number {
    return this.membership.table.get(member)?.detector.phi(this.ctx.now) ?? 0;
  }

  /** The configuration in force (defaults filled in). */
  config(): ResolvedGossipConfig {
    return this.ctx.cfg;
  }
}

/**
 * The links wanted, plus the receivers of the messages in this Ready that need one (a ping, a
 * ping-req, a push, a graft). A Ready that batches many ticks (a host catching up after its
 * timers were throttled) may hold the ping of a probe or reconnect that has since moved on to
 * another target; its link is wanted for this Ready, and dropped by the next if nothing else
 * wants it.
 */
function withLinksFor(wanted: NodeId[], messages: readonly GossipMessage[]): NodeId[] {
  const extra = new Set<NodeId>();
  const have = new Set(wanted);
  for (const m of messages) {
    if ((m.type === 'ping' || m.type === 'ping-req' || m.type === 'push' || m.type === 'graft') && !have.has(m.to)) extra.add(m.to);
  }
  return extra.size === 0 ? wanted : [...wanted, ...extra].sort();
}

/**
 * The replica id of life `life` of member `id`: the member id itself for the first life, else
 * the member id, U+0001 and the life's number. A member id holds no control character
 * (validate-gossip.ts), so no member's id is another's life.
 */
export function replicaOfLife(id: NodeId, life: number): string {
  return life <= 1 ? id : `${id}\u0001${life}`;
}
