/**
 * Pull: Merkle anti-entropy between mesh neighbours (DeCandia et al. 2007 §4.7; the exchange and
 * its messages are src/core/crdt/merkle-exchange.ts and merkle-messages.ts). Push (replication.ts)
 * is fast but may lose a delta: a message lost, a node paused or offline, a partition, a TTL
 * spent. Every `antiEntropyIntervalTicks` this node compares its store's Merkle tree with the next
 * mesh neighbour's (in turn, so every neighbour within D intervals), level by level, descending
 * only where hashes differ, then exchanges the states of the differing names only:
 *
 *   1. initiator → `crdt-merkle` hashes-request (root), answered by the 16 child hashes; the
 *      initiator compares them with its own and asks about the differing children one level
 *      down, and so on to the leaves, whose (name, digest) entries it compares.
 *   2. initiator → `crdt-states`: its states of the differing names, and the names it wants.
 *   3. responder: merges them, answers `crdt-states` with its states of the wanted names that
 *      still differ from what it was sent.
 *
 * k differing names cost about 16·k·depth hashes plus k states, whatever the store's size. One
 * exchange of ours at a time, at most `antiEntropyRequestsInFlightMax` requests in flight, given
 * up after `antiEntropyTimeoutTicks` of silence; the responder keeps no state per exchange and
 * answers at most `antiEntropyAnswersPerIntervalMax` messages per interval. A node with nothing
 * starts no exchange (nothing to offer; its neighbours' exchanges fill it), so a swarm without
 * CRDTs sends no data message at all.
 */
import { isCrdtTypeName } from '../crdt/crdt-type-name.ts';
import { wireEquals } from '../crdt/crdt-types.ts';
import { merkleMessageBytes, msgpackBytes } from '../crdt/merkle-cost.ts';
import { answerRequest, takeResponse } from '../crdt/merkle-exchange.ts';
import {
  decodeMerkleMessage,
  encodeMerkleMessage,
  type LeavesResponse,
  type MerkleMessage,
  type MerkleRequest,
  type MerkleResponse,
} from '../crdt/merkle-messages.ts';
import { placementHash } from '../crdt/merkle-hash.ts';
import { textProblem } from '../crdt/text.ts';
import type { GossipContext } from './context.ts';
import type { CrdtStore, CrdtEntry } from './crdt-store.ts';
import { fits, itemBytes, pack } from './data-packing.ts';
import { crdtNameBytesMax, merkleLeavesPerRequestMax, merkleNodesPerRequestMax, seqMax, stateValuesMax, wantPerMessageMax } from './limits.ts';
import type { CrdtMerkleMessage, CrdtRef, CrdtStatesMessage, StateItem } from './messages.ts';
import type { NodeId } from './types.ts';

/** What anti-entropy needs of the rest of the node. */
export interface AntiEntropyHost {
  /** Mesh neighbours, sorted. */
  mesh(): readonly NodeId[];
  /** Merge a peer's state (a refusal is counted there). */
  merge(item: StateItem): void;
}

interface Exchange {
  readonly id: number;
  readonly peer: NodeId;
  lastHeardTick: number;
  inFlight: number;
  readonly queue: MerkleRequest[];
  readonly keys: Set<string>;
}

interface MeasuredState {
  readonly item: StateItem;
  readonly bytes: number;
  readonly values: number;
}

export class AntiEntropy {
  private exchange: Exchange | null = null;
  private lastExchangeId = 0;
  private nextTick: number;
  private answersLeft: number;
  private turn = 0;
  /** Neighbours that asked us a Merkle request lately, and when: they are comparing with us already. */
  private readonly askedBy = new Map<NodeId, number>();

  constructor(
    private readonly ctx: GossipContext,
    private readonly store: CrdtStore,
    private readonly host: AntiEntropyHost,
  ) {
    // A phase per node, from its id (no PRNG draw: a swarm without CRDTs must not change its
    // membership's random choices), so that neighbours started together do not all compare at
    // the same tick, each with the other, twice over.
    const interval = ctx.cfg.antiEntropyIntervalTicks;
    this.nextTick = ctx.now + interval + (placementHash(ctx.self) % interval);
    this.answersLeft = ctx.cfg.antiEntropyAnswersPerIntervalMax;
  }

  /** Whether an exchange of ours is under way (tests, status). */
  get busy(): boolean {
    return this.exchange !== null;
  }

  tick(): void {
    const { ctx } = this;
    const ex = this.exchange;
    if (ex !== null && ctx.now - ex.lastHeardTick >= ctx.cfg.antiEntropyTimeoutTicks) {
      ctx.counters.antiEntropyTimeouts++;
      this.exchange = null;
    }
    if (ctx.now < this.nextTick) return;
    this.nextTick = ctx.now + ctx.cfg.antiEntropyIntervalTicks;
    this.answersLeft = ctx.cfg.antiEntropyAnswersPerIntervalMax;
    this.maybeStart();
  }

  /**
   * Start an exchange with the next mesh neighbour in turn, unless one is under way or we hold
   * nothing; a neighbour that asked us a request within the last interval is comparing with us
   * already (whatever it finds, it sends us and asks us for), and is passed over.
   */
  maybeStart(): void {
    this.store.refreshAll();
    if (this.exchange !== null || this.store.tree.size === 0) return;
    const mesh = this.host.mesh();
    const since = this.ctx.now - this.ctx.cfg.antiEntropyIntervalTicks;
    for (const [peer, tick] of this.askedBy) if (tick < since || !mesh.includes(peer)) this.askedBy.delete(peer);
    const candidates = mesh.filter((peer) => !this.askedBy.has(peer));
    if (candidates.length === 0) return;
    const peer = candidates[this.turn++ % candidates.length] as NodeId;
    this.lastExchangeId = this.lastExchangeId >= seqMax ? 1 : this.lastExchangeId + 1;
    this.exchange = { id: this.lastExchangeId, peer, lastHeardTick: this.ctx.now, inFlight: 0, queue: [{ type: 'hashes-request', level: 0, nodes: [0] }], keys: new Set() };
    this.ctx.counters.antiEntropyStarted++;
    this.pump();
  }

  // ---- messages --------------------------------------------------------------------------------

  handleMerkle(m: CrdtMerkleMessage): void {
    this.store.refreshAll();
    const decoded = decodeMerkleMessage(m.message);
    if (!decoded.ok) {
      this.refused(m.from, m.exchange);
      return;
    }
    const message = decoded.value;
    if (message.type === 'hashes-request' || message.type === 'leaves-request') this.answer(m.from, m.exchange, message);
    else this.take(m.from, m.exchange, message);
  }

  /** A peer's states (the end of its exchange, or the answer to ours): merge them; answer what it wants. */
  handleStates(m: CrdtStatesMessage): void {
    for (const item of m.states) this.host.merge(item);
    this.store.refreshAll();
    if (m.want.length === 0) return;
    const sent = new Map<string, StateItem>();
    for (const item of m.states) sent.set(`${item.crdt}/${item.name}`, item);
    const entries: CrdtEntry[] = [];
    for (const ref of m.want) {
      const entry = this.store.get(`${ref.crdt}/${ref.name}`);
      if (entry === undefined || this.store.isEmpty(entry)) continue;
      const theirs = sent.get(entry.key);
      // It sent us what we hold now (ours was below or equal to its): nothing to tell it.
      if (theirs !== undefined && wireEquals(theirs.state, entry.wire)) continue;
      entries.push(entry);
    }
    this.sendStates(m.from, m.exchange, entries, [], true);
  }

  // ---- the answering side ----------------------------------------------------------------------

  private answer(from: NodeId, exchange: number, request: MerkleRequest): void {
    const { ctx } = this;
    if (this.answersLeft <= 0) {
      ctx.counters.antiEntropyAnswersRefused++;
      return;
    }
    // Our own requests name at most these many; a larger one would make an answer past our bounds.
    const named = request.type === 'hashes-request' ? request.nodes.length > merkleNodesPerRequestMax : request.leaves.length > merkleLeavesPerRequestMax;
    if (named) {
      ctx.counters.antiEntropyRefused++;
      return;
    }
    const response = answerRequest(this.store.tree, request);
    if (!response.ok) {
      ctx.counters.antiEntropyRefused++;
      return;
    }
    this.answersLeft--;
    if (this.askedBy.size < this.ctx.cfg.meshDegreeHigh * 2 || this.askedBy.has(from)) this.askedBy.set(from, ctx.now);
    const message = response.value.type === 'leaves' ? trimLeaves(response.value, ctx.cfg.dataMessageBytesMax) : response.value;
    this.sendMerkle(from, exchange, message);
  }

  // ---- the asking side -------------------------------------------------------------------------

  private take(from: NodeId, exchange: number, response: MerkleResponse): void {
    const ex = this.exchange;
    if (ex === null || ex.peer !== from || ex.id !== exchange || ex.inFlight === 0) {
      this.ctx.counters.antiEntropyUnexpected++;
      return;
    }
    ex.inFlight--;
    ex.lastHeardTick = this.ctx.now;
    const step = takeResponse(this.store.tree, response);
    if (!step.ok) {
      this.refused(from, exchange);
      return;
    }
    for (const request of step.value.requests) ex.queue.push(...split(request));
    for (const key of step.value.keys) ex.keys.add(key);
    // We could hold no more names than crdtsMax: a peer claiming more differ is cut short there.
    if (ex.keys.size >= this.ctx.cfg.crdtsMax) {
      ex.queue.length = 0;
      ex.inFlight = 0;
    }
    this.pump();
  }

  /** Send what the exchange may have in flight; finish it when nothing is left to ask. */
  private pump(): void {
    const ex = this.exchange;
    if (ex === null) return;
    while (ex.inFlight < this.ctx.cfg.antiEntropyRequestsInFlightMax && ex.queue.length > 0) {
      this.sendMerkle(ex.peer, ex.id, ex.queue.shift() as MerkleRequest);
      ex.inFlight++;
    }
    if (ex.inFlight === 0 && ex.queue.length === 0) this.finish(ex);
  }

  /** The walk is done: send our states of the differing names, and ask for theirs. */
  private finish(ex: Exchange): void {
    const { ctx } = this;
    this.store.refreshAll();
    this.exchange = null;
    ctx.counters.antiEntropyCompleted++;
    ctx.counters.antiEntropyNamesDiffering += ex.keys.size;
    const entries: CrdtEntry[] = [];
    const want: CrdtRef[] = [];
    for (const key of [...ex.keys].sort()) {
      const ref = refOfKey(key);
      // A key that is no store key of ours came from a peer's leaf: nothing we could want or hold.
      if (ref === null) continue;
      want.push(ref);
      const entry = this.store.get(key);
      if (entry !== undefined && !this.store.isEmpty(entry)) entries.push(entry);
    }
    this.sendStates(ex.peer, ex.id, entries, want, false);
  }

  /** A Merkle message we cannot use: count it, and give up our exchange with that peer. */
  private refused(from: NodeId, exchange: number): void {
    this.ctx.counters.antiEntropyRefused++;
    const ex = this.exchange;
    if (ex !== null && ex.peer === from && ex.id === exchange) this.exchange = null;
  }

  // ---- sending ---------------------------------------------------------------------------------

  private sendMerkle(to: NodeId, exchange: number, message: MerkleMessage): void {
    const { ctx } = this;
    ctx.counters.antiEntropyMessagesSent++;
    ctx.counters.antiEntropyBytesSent += merkleMessageBytes(message) + envelopeBytes(ctx.self, to);
    ctx.send({ type: 'crdt-merkle', from: ctx.self, to, exchange, message: encodeMerkleMessage(message) });
  }

  /**
   * States and wanted names to `to`, in as many messages as the bounds need. An answer (`answer`)
   * spends the interval's budget, one per message; what the budget does not cover is not sent.
   */
  private sendStates(to: NodeId, exchange: number, entries: readonly CrdtEntry[], want: readonly CrdtRef[], answer: boolean): void {
    const { ctx } = this;
    const measured: MeasuredState[] = [];
    for (const e of entries) {
      if (e.values > stateValuesMax || e.bytes > ctx.cfg.crdtStateBytesMax || !fits(e.values)) {
        ctx.counters.statesUnshippable++;
        continue;
      }
      measured.push({ item: { name: e.name, crdt: e.crdt, state: e.wire }, bytes: itemBytes(e.name, e.wire), values: e.values });
    }
    const groups = pack(measured, ctx.cfg.dataMessageBytesMax);
    const messages = Math.max(groups.length, Math.ceil(want.length / wantPerMessageMax));
    for (let i = 0; i < messages; i++) {
      if (answer) {
        if (this.answersLeft <= 0) {
          ctx.counters.antiEntropyAnswersRefused++;
          return;
        }
        this.answersLeft--;
      }
      const group = groups[i] ?? [];
      const wanted = want.slice(i * wantPerMessageMax, (i + 1) * wantPerMessageMax);
      ctx.counters.antiEntropyMessagesSent++;
      ctx.counters.antiEntropyBytesSent += envelopeBytes(ctx.self, to) + group.reduce((sum, s) => sum + s.bytes, 0) + wanted.reduce((sum, r) => sum + r.name.length + 24, 0);
      ctx.send({ type: 'crdt-states', from: ctx.self, to, exchange, states: group.map((s) => s.item), want: wanted });
    }
  }
}

/** The CRDT a store key names, or null when it is no store key (`<type>/<name>`). */
export function refOfKey(key: string): CrdtRef | null {
  const at = key.indexOf('/');
  if (at < 0) return null;
  const crdt = key.slice(0, at);
  const name = key.slice(at + 1);
  if (!isCrdtTypeName(crdt) || textProblem(name, crdtNameBytesMax, false) !== null) return null;
  return { name, crdt };
}

/** Bytes of a body's fixed part: type, ids, exchange number, keys (an upper bound). */
function envelopeBytes(from: NodeId, to: NodeId): number {
  return 48 + 3 * (from.length + to.length);
}

/** A request of the exchange cut to what our answers' bounds allow (merkle-exchange.ts batches by 1,024). */
function split(request: MerkleRequest): MerkleRequest[] {
  const out: MerkleRequest[] = [];
  if (request.type === 'hashes-request') {
    for (let i = 0; i < request.nodes.length; i += merkleNodesPerRequestMax) {
      out.push({ type: 'hashes-request', level: request.level, nodes: request.nodes.slice(i, i + merkleNodesPerRequestMax) });
    }
  } else {
    for (let i = 0; i < request.leaves.length; i += merkleLeavesPerRequestMax) {
      out.push({ type: 'leaves-request', leaves: request.leaves.slice(i, i + merkleLeavesPerRequestMax) });
    }
  }
  return out;
}

/**
 * A leaves answer cut to about `bytesMax`: whole leaves in order while they fit, the rest listed
 * as unanswered (asked again); a first leaf larger than the bound alone is cut at it, as
 * merkle-exchange.ts cuts one past `entriesPerResponseMax` (its keys beyond the cut are compared
 * at a later exchange, once the others were repaired: about one key per leaf at a fitting depth).
 */
function trimLeaves(response: LeavesResponse, bytesMax: number): LeavesResponse {
  let bytes = 64;
  let answered = 0;
  let entries = 0;
  for (const leaf of response.leaves) {
    let leafBytes = 0;
    let leafEntries = 0;
    while (entries + leafEntries < response.entries.length && response.entries[entries + leafEntries]?.[0] === leaf) {
      const [, key, digest] = response.entries[entries + leafEntries] as readonly [number, string, number];
      leafBytes += msgpackBytes([leaf, key, digest]);
      leafEntries++;
    }
    if (bytes + leafBytes > bytesMax) {
      if (answered === 0) return { ...response, leaves: [leaf], entries: cutLeaf(response, leaf, bytesMax), unanswered: [...response.leaves.slice(1), ...response.unanswered] };
      break;
    }
    bytes += leafBytes;
    entries += leafEntries;
    answered++;
  }
  if (answered === response.leaves.length) return response;
  return {
    type: 'leaves',
    leaves: response.leaves.slice(0, answered),
    entries: response.entries.slice(0, entries),
    unanswered: [...response.leaves.slice(answered), ...response.unanswered],
  };
}

function cutLeaf(response: LeavesResponse, leaf: number, bytesMax: number): LeavesResponse['entries'] {
  const out: LeavesResponse['entries'][number][] = [];
  let bytes = 64;
  for (const entry of response.entries) {
    if (entry[0] !== leaf) break;
    bytes += msgpackBytes([...entry]);
    if (bytes > bytesMax && out.length > 0) break;
    out.push(entry);
  }
  return out;
}
