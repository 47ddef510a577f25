/**
 * The replication data plane of a gossip node: the second component on `GossipContext`, beside
 * `Membership`. It holds named CRDTs (crdt-store.ts) and replicates them without order:
 *
 * - Local updates (`update`, from the host through `step`) mint a delta (Almeida, Shoker and
 *   Baquero 2018 §4: a delta mutator), merge it here, and join it with the other local deltas of
 *   the same CRDT not yet sent (a delta group, §4.2), so that a burst of edits leaves as one delta.
 * - Push: deltas go to `deltaFanout` random mesh neighbours with a TTL of `deltaTtlHops`
 *   (the seed design's fanout 3, TTL 5). A receiver merges each delta it has not seen (by id: a
 *   52-bit digest of its name, type and encoding, so equal deltas are one delta and no counter
 *   needs persisting), and forwards it with TTL − 1 to mesh neighbours other than its sender, but
 *   only if it was news: a delta the causal context already covered (the merge changed nothing)
 *   stops there. Forwards are batched per tick and per neighbour (data-packing.ts); a longer
 *   `deltaFlushTicks` batches local deltas too, and more of each, for fewer messages per update
 *   (each node forwards an update once to `deltaFanout` neighbours: about 3·n messages for one
 *   update alone, shared by every update of the same flush).
 * - Pull: Merkle anti-entropy with one mesh neighbour per interval (anti-entropy.ts) repairs what
 *   push lost, after a partition, a pause or an offline stretch.
 *
 * Cost per update in proportion to the delta, not to the CRDT (merge-delta.ts): a delta is merged
 * by joining only the keys it can change, and is news when that changed a key or grew the causal
 * context, decided without encoding the state; the new state is staged in the store
 * (crdt-store.ts) and encoded only when something reads its encoding (persistence, anti-entropy);
 * its event carries the keys changed (crdt-change.ts), not the whole value.
 *
 * Durability (the Ready, ready.ts): a changed CRDT is handed to the host to persist, whole (its
 * canonical encoding): a local change with its Ready; changes merged from peers at most once per
 * `crdtPersistIntervalTicks` (the first after a quiet interval at once, a burst's later ones
 * together when the interval has passed). Data messages do NOT wait for that write.
 * A delta carries this node's dots (its replica's sequence numbers); sent ahead and lost in a
 * crash, the node boots from an older state. Were it to mint under the same replica id, it would
 * mint the same dots again for different updates (every peer that saw the first would take the
 * second as already seen; Almeida et al. 2018 §6 assume a replica never forgets its own dots),
 * and a G-Counter's own entry would restart below what peers hold, its next increments lost in
 * their max. So it never does: local updates are minted under `ctx.replica`, one replica id per
 * life of the node, and a life's first data waits only for its number to be durable
 * (gossip-node.ts says why that suffices). The lost tail stays with the peers and comes back.
 * That is also why writes of what peers sent may be coalesced: a change not yet written is held
 * by the peers it came from. A LOCAL change is written with its own Ready, never coalesced: its
 * delta leaves at once, but nothing tells us it arrived (a tab cut off without knowing it, or
 * reloaded before the push left: e2e/gossip.spec.ts's offline edit was lost across a reload when
 * local changes were coalesced too), and a user's edit must survive a reload.
 *
 * Messages from peers: only members of the membership view may send data (strangers' messages
 * are counted and dropped), states are decoded by the registry (hostile input: refusals counted
 * by reason), and a peer's state may never make a new CRDT past `crdtsMax` or `crdtBytesMax`.
 */
import { crdtType, wireEquals, type MergeOutcome } from '../crdt/crdt-types.ts';
import { isCrdtTypeName, type CrdtTypeName } from '../crdt/crdt-type-name.ts';
import { digestWire } from '../crdt/merkle-hash.ts';
import { crdtChange } from './crdt-change.ts';
import type { CrdtRefusal } from '../crdt/refusal.ts';
import { textProblem } from '../crdt/text.ts';
import type { WireValue } from '../crdt/wire-reader.ts';
import { assert } from '../assert.ts';
import { err, ok, type Result } from '../result.ts';
import { AntiEntropy } from './anti-entropy.ts';
import type { GossipContext } from './context.ts';
import { crdtDelta, opType, type CrdtOp } from './crdt-op.ts';
import { CrdtStore, emptyWire, storeKey, wireValues, type CrdtEntry, type PersistedCrdt } from './crdt-store.ts';
import { fits, itemBytes, pack } from './data-packing.ts';
import type { CrdtChangedEvent } from './events.ts';
import { crdtNameBytesMax, stateValuesMax } from './limits.ts';
import { GossipRefusedError } from './local-input.ts';
import type { DataMessage, DeltaItem, StateItem } from './messages.ts';
import { PushQueue } from './push-queue.ts';
import type { NodeId } from './types.ts';

/** What the data plane needs of the membership component. */
export interface DataPeers {
  /** Mesh neighbours this node believes alive (not suspect), sorted. */
  mesh(): readonly NodeId[];
  /** Whether `id` is a member in our view (only members may send data). */
  isMember(id: NodeId): boolean;
  /** Whether this node takes part in the swarm (joined, not left). */
  active(): boolean;
  /** A message from member `id` arrived: evidence for its phi detector. */
  arrived(id: NodeId): void;
}

/** A delta waiting to be pushed. */
interface Outgoing {
  readonly item: DeltaItem;
  readonly bytes: number;
  readonly values: number;
}

/** What one Ready hands the host: the CRDTs to persist and their change events. */
export interface DataChanges {
  readonly persist: readonly PersistedCrdt[];
  /** Whether a local update is among them: data messages must then wait for the write. */
  readonly local: boolean;
  readonly events: readonly CrdtChangedEvent[];
}

export class Replication {
  readonly store: CrdtStore;
  readonly antiEntropy: AntiEntropy;
  /** Local deltas not pushed yet, joined per CRDT (at most one per CRDT held). */
  private readonly localDeltas = new Map<string, unknown>();
  /** Deltas waiting for their links' turns (push-queue.ts; at most `deltasPendingMax`). */
  private readonly pushQueue: PushQueue<Outgoing>;
  /** Ids of deltas seen lately, oldest first (at most `deltaIdsSeenMax`). */
  private readonly seen = new Set<number>();
  /** CRDTs changed since the last Ready: whether by a local update, and the keys touched (null: not a keyed type). */
  private readonly changed = new Map<string, { origin: 'local' | 'remote'; touched: Set<string> | null }>();
  /** CRDTs changed and not yet handed to the host to persist (at most one per CRDT held). */
  private readonly unpersisted = new Set<string>();
  /** When CRDTs were last handed to the host to persist (coalescing: `crdtPersistIntervalTicks`). */
  private persistedAtTick = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: GossipContext,
    private readonly peers: DataPeers,
    boot: readonly PersistedCrdt[],
  ) {
    const cfg = ctx.cfg;
    this.store = new CrdtStore(cfg.crdtsMax, cfg.crdtBytesMax, cfg.antiEntropyTreeDepth);
    this.pushQueue = new PushQueue(ctx.prng, cfg.deltasPendingMax);
    this.antiEntropy = new AntiEntropy(ctx, this.store, { mesh: () => peers.mesh(), merge: (item) => this.merge(item) });
    for (const p of boot) this.restore(p);
  }

  /**
   * A persisted CRDT back in the store. Our own disk, written by our own Readies: a record that
   * does not decode is a storage fault, and the node must not run on without it (it may hold our
   * own dots, which we would mint again), so it is asserted (DESIGN.md §5: a storage error stops
   * the node).
   */
  private restore(p: PersistedCrdt): void {
    assert(isCrdtTypeName(p.crdt) && nameRefusal(p.name) === null, 'a persisted CRDT names no CRDT type of the registry, or a bad name');
    const type = crdtType(p.crdt);
    const decoded = type.decode(p.state);
    assert(decoded.ok, `persisted CRDT ${p.crdt}/${p.name.slice(0, 32)} does not decode`);
    const key = storeKey(p.name, p.crdt);
    const entry = this.store.get(key) ?? this.store.create(p.name, p.crdt);
    this.store.put(entry, decoded.value, type.encode(decoded.value));
  }

  // ---- local requests --------------------------------------------------------------------------

  /** Hold the CRDT (`name`, `crdt`) from now on, empty if new: 'accepted', or 'unchanged' if held. */
  open(name: string, crdt: CrdtTypeName): Result<'accepted' | 'unchanged', GossipRefusedError> {
    const bad = nameRefusal(name);
    if (bad !== null) return err(bad);
    if (!isCrdtTypeName(crdt)) return err(crdtRefused(null));
    if (this.store.get(storeKey(name, crdt)) !== undefined) return ok('unchanged');
    if (!this.store.room(0)) return err(new GossipRefusedError('crdts-full', `crdtsMax ${this.ctx.cfg.crdtsMax} or crdtBytesMax ${this.ctx.cfg.crdtBytesMax}`));
    this.store.create(name, crdt);
    return ok('accepted');
  }

  /**
   * Apply `op` to the CRDT (`name`, `op.type`), creating it if new; its delta will be pushed.
   * The new state is staged, not encoded (crdt-store.ts): its size is bounded by the state's
   * before plus the delta's, and only when that bound passes a limit is it encoded to decide.
   */
  update(name: string, op: CrdtOp): Result<'accepted' | 'unchanged', GossipRefusedError> {
    const bad = nameRefusal(name);
    if (bad !== null) return err(bad);
    const crdt = opType(op);
    if (crdt === null) return err(crdtRefused(null));
    const key = storeKey(name, crdt);
    const type = crdtType(crdt);
    const held = this.store.get(key);
    const delta = crdtDelta(held?.state ?? type.empty(), this.ctx.replica, op);
    if (!delta.ok) return err(crdtRefused(delta.error));
    const deltaWire = type.encode(delta.value);
    // An empty delta (the remove of an element nobody added) changes nothing.
    if (wireEquals(deltaWire, emptyWire(crdt))) return ok('unchanged');
    // msgpack array headers may widen (1 to 3 bytes) as a join grows: the slack covers them.
    const grow = { bytes: itemBytes('', deltaWire) + 16, values: wireValues(deltaWire) };
    const before = held === undefined ? { bytes: 0, values: 0 } : this.store.boundOf(held);
    let merged: MergeOutcome<unknown>;
    if (this.withinBounds(held, before.bytes + grow.bytes, before.values + grow.values)) {
      // Accepted whatever the join holds: the store's state may be updated in place (merge-delta.ts).
      merged = type.mergeDelta(held?.state ?? type.empty(), delta.value, held !== undefined);
      this.store.stage(held ?? this.store.create(name, crdt), merged.state, grow.bytes, grow.values);
    } else {
      // Maybe refused: the held state must stay as it is, so the join is a copy.
      merged = type.mergeDelta(held?.state ?? type.empty(), delta.value);
      const wire = type.encode(merged.state);
      const refusal = this.sizeRefusal(held, wire);
      if (refusal !== null) return err(refusal);
      this.store.put(held ?? this.store.create(name, crdt), merged.state, wire);
    }
    this.noteChange(key, 'local', merged);
    const pending = this.localDeltas.get(key);
    if (this.ctx.cfg.deltaFanout > 0) this.localDeltas.set(key, pending === undefined ? delta.value : type.merge(pending, delta.value));
    return ok('accepted');
  }

  /** Whether a state of at most `bytes` and `values` (replacing `held`'s) is within the state's and the store's bounds. */
  private withinBounds(held: CrdtEntry | undefined, bytes: number, values: number): boolean {
    const cfg = this.ctx.cfg;
    if (values > stateValuesMax || bytes > cfg.crdtStateBytesMax) return false;
    const growth = bytes - (held === undefined ? 0 : this.store.boundOf(held).bytes);
    if (held === undefined && !this.store.room(bytes)) return false;
    return this.store.bytes + growth <= cfg.crdtBytesMax;
  }

  /** Why a local update to `wire` may not be made (the state's bounds, the store's), or null. */
  private sizeRefusal(held: CrdtEntry | undefined, wire: WireValue): GossipRefusedError | null {
    const cfg = this.ctx.cfg;
    const values = wireValues(wire);
    const bytes = itemBytes('', wire);
    if (values > stateValuesMax || bytes > cfg.crdtStateBytesMax) {
      return new GossipRefusedError('crdt-too-large', `the state would be ${bytes} bytes and ${values} values (crdtStateBytesMax ${cfg.crdtStateBytesMax}, stateValuesMax ${stateValuesMax})`);
    }
    if (!this.withinBounds(held, bytes, values)) return new GossipRefusedError('crdts-full', `crdtsMax ${cfg.crdtsMax}, crdtBytesMax ${cfg.crdtBytesMax}`);
    return null;
  }

  // ---- peers' messages -------------------------------------------------------------------------

  /** A validated data message from a peer (validate-gossip.ts did the shape; states are decoded here). */
  handle(m: DataMessage): void {
    const { ctx } = this;
    if (m.to !== ctx.self || m.from === ctx.self) {
      ctx.counters.messagesMisrouted++;
      return;
    }
    if (!this.peers.active()) {
      ctx.counters.messagesWhileInactive++;
      return;
    }
    if (!this.peers.isMember(m.from)) {
      ctx.counters.messagesFromNonMembers++;
      return;
    }
    this.peers.arrived(m.from);
    switch (m.type) {
      case 'crdt-push':
        for (const delta of m.deltas) this.receiveDelta(m.from, delta);
        return;
      case 'crdt-merkle':
        this.antiEntropy.handleMerkle(m);
        return;
      case 'crdt-states':
        this.antiEntropy.handleStates(m);
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  private receiveDelta(from: NodeId, delta: DeltaItem): void {
    const { ctx } = this;
    ctx.counters.deltasReceived++;
    const id = deltaId(delta);
    if (this.seen.has(id)) {
      ctx.counters.deltasDuplicate++;
      // Its sender holds it: our forward, if it still waits, need not go back there.
      this.pushQueue.heldBy(id, from);
      return;
    }
    this.remember(id);
    if (!this.merge(delta) || delta.ttl <= 1) return;
    const item: DeltaItem = { ...delta, ttl: delta.ttl - 1 };
    this.enqueue(id, { item, bytes: itemBytes(item.name, item.state), values: wireValues(item.state) }, from);
  }

  /** Merge a peer's state or delta; true when it held news. Refusals and a full store are counted. */
  merge(item: StateItem): boolean {
    const { ctx } = this;
    const type = crdtType(item.crdt);
    const decoded = type.decode(item.state);
    if (!decoded.ok) {
      ctx.counters.crdtRefused[decoded.error.reason]++;
      return false;
    }
    const key = storeKey(item.name, item.crdt);
    const held = this.store.get(key);
    // News without encoding the state (merge-delta.ts): only the keys the delta can change are joined.
    // The store owns the held state: a large map is joined in place (merge-delta.ts). An existing CRDT always takes the join.
    const merged = type.mergeDelta(held?.state ?? type.empty(), decoded.value, held !== undefined);
    if (!merged.changed) {
      ctx.counters.statesStale++;
      return false;
    }
    // A join holds no more than both sides: the state grew by at most the item's size (slack as in `update`).
    const grow = { bytes: itemBytes(item.name, item.state) + 16, values: wireValues(item.state) };
    let entry = held;
    if (entry === undefined) {
      if (!this.store.room(grow.bytes)) {
        ctx.counters.crdtsRefused++;
        return false;
      }
      entry = this.store.create(item.name, item.crdt);
    }
    this.store.stage(entry, merged.state, grow.bytes, grow.values);
    ctx.counters.statesMerged++;
    this.noteChange(key, 'remote', merged);
    return true;
  }

  /** Remember that the CRDT `key` changed in this Ready (a local update makes it `local`), and the keys the merge touched. */
  private noteChange(key: string, origin: 'local' | 'remote', merged: MergeOutcome<unknown>): void {
    let change = this.changed.get(key);
    if (change === undefined) this.changed.set(key, (change = { origin, touched: merged.touched === null ? null : new Set() }));
    if (origin === 'local') change.origin = 'local';
    if (change.touched !== null && merged.touched !== null) for (const k of merged.touched) change.touched.add(k);
  }

  private remember(id: number): void {
    if (this.seen.size >= this.ctx.cfg.deltaIdsSeenMax) {
      const oldest = this.seen.values().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    this.seen.add(id);
  }

  /** Queue a delta for `deltaFanout` mesh neighbours, not its sender (`from`, null for our own). */
  private enqueue(id: number, out: Outgoing, from: NodeId | null): void {
    const { ctx } = this;
    if (!fits(out.values)) {
      ctx.counters.deltasDropped++;
      return;
    }
    const r = this.pushQueue.add(id, out, this.peers.mesh(), from === null ? [] : [from], ctx.cfg.deltaFanout, ctx.now);
    if (r.dropped || (r.targets === 0 && from === null)) ctx.counters.deltasDropped++;
    if (from !== null) ctx.counters.deltasForwarded += r.targets;
  }

  // ---- time and the Ready ------------------------------------------------------------------------

  /**
   * The end of a tick: anti-entropy keeps its schedule, and the links free again (push-queue.ts:
   * each carries one push per `deltaFlushTicks` at most) carry what waits for them.
   */
  tick(): void {
    this.antiEntropy.tick();
    this.send(this.pushQueue.due(this.ctx.now, this.peers.mesh(), this.ctx.cfg.deltaFlushTicks));
  }

  /** Whether the next Ready has data work: changes to persist, or local deltas to send at once and someone to send them to. */
  hasWork(): boolean {
    return this.changed.size > 0 || (this.localDeltas.size > 0 && this.peers.mesh().length > 0) || (this.unpersisted.size > 0 && this.persistDue());
  }

  /** Whether the coalescing interval since the last write handed out has passed, or this node left (a page closing leaves: write what waits). */
  private persistDue(): boolean {
    return this.ctx.now >= this.persistedAtTick + this.ctx.cfg.crdtPersistIntervalTicks || !this.peers.active();
  }

  /**
   * Local deltas leave with each Ready, with the full TTL: at once over the links idle for a
   * period, at their links' next turns over busy ones (push-queue.ts). With no mesh neighbour
   * they wait, joined per CRDT.
   */
  flushLocal(): void {
    // A period of one tick paces nothing: an edit leaves with its Ready, not at the next tick.
    const period = this.ctx.cfg.deltaFlushTicks > 1 ? this.ctx.cfg.deltaFlushTicks : 0;
    if (this.takeLocal()) this.send(this.pushQueue.due(this.ctx.now, this.peers.mesh(), period));
  }

  /** The local deltas to push now (see `flushLocal`), encoded with the full TTL, queued, and forgotten here; whether any were. */
  private takeLocal(): boolean {
    if (this.localDeltas.size === 0 || this.peers.mesh().length === 0) return false;
    for (const [key, delta] of this.localDeltas) {
      const entry = this.store.get(key);
      assert(entry !== undefined, 'a local delta of a CRDT not held');
      const state = entry.type.encode(delta);
      const item: DeltaItem = { name: entry.name, crdt: entry.crdt, ttl: this.ctx.cfg.deltaTtlHops, state };
      // Our own delta coming back from a neighbour is dropped unread.
      const id = deltaId(item);
      this.remember(id);
      this.enqueue(id, { item, bytes: itemBytes(item.name, state), values: wireValues(state) }, null);
    }
    this.localDeltas.clear();
    return true;
  }

  /** What is due to each neighbour, packed into as few push messages as the bounds allow. */
  private send(due: ReadonlyMap<NodeId, readonly Outgoing[]>): void {
    const { ctx } = this;
    for (const [to, list] of due) {
      for (const group of pack(list, ctx.cfg.dataMessageBytesMax)) {
        ctx.counters.pushMessagesSent++;
        ctx.counters.pushBytesSent += 48 + 3 * (ctx.self.length + to.length) + group.reduce((sum, o) => sum + o.bytes, 0);
        ctx.send({ type: 'crdt-push', from: ctx.self, to, deltas: group.map((o) => o.item) });
      }
    }
  }

  /**
   * One event per CRDT changed since the last Ready, with what changed (crdt-change.ts; no
   * encoding), and the CRDTs to persist, whole: every one changed and not yet written, when a
   * local change is among them, the interval since the last write has passed, or a local delta
   * waits unsent (see the header).
   */
  takeChanges(): DataChanges {
    const events: CrdtChangedEvent[] = [];
    let local = false;
    for (const [key, change] of this.changed) {
      const entry = this.store.get(key);
      assert(entry !== undefined, 'a changed CRDT not held');
      if (change.origin === 'local') local = true;
      events.push({ kind: 'crdt-changed', name: entry.name, crdt: entry.crdt, origin: change.origin, change: crdtChange(entry.crdt, entry.state, change.touched) });
      this.unpersisted.add(key);
    }
    this.changed.clear();
    if (this.unpersisted.size === 0 || !(local || this.persistDue() || this.localDeltas.size > 0)) return { persist: [], local, events };
    const persist: PersistedCrdt[] = [];
    for (const key of this.unpersisted) {
      const entry = this.store.get(key);
      assert(entry !== undefined, 'an unpersisted CRDT not held');
      persist.push({ name: entry.name, crdt: entry.crdt, state: this.store.wireOf(entry) });
    }
    this.unpersisted.clear();
    this.persistedAtTick = this.ctx.now;
    return { persist, local, events };
  }
}

/** A delta's id: the 52-bit digest of its type, name and encoding (equal deltas are one delta). */
export function deltaId(item: DeltaItem): number {
  return digestWire([item.crdt, item.name, item.state]);
}

function nameRefusal(name: unknown): GossipRefusedError | null {
  if (typeof name === 'string' && textProblem(name, crdtNameBytesMax, false) === null) return null;
  return new GossipRefusedError('crdt-argument', `a CRDT name is 1 to ${crdtNameBytesMax} bytes of well-formed text`);
}

function crdtRefused(refusal: CrdtRefusal | null): GossipRefusedError {
  if (refusal === null) return new GossipRefusedError('crdt-argument', 'no CRDT type of the registry named');
  return new GossipRefusedError('crdt-argument', refusal.message, refusal.code, refusal.reason);
}
