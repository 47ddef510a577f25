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
 * exchange of ours at a time, at most `antiEntropyRequestsInFlightMax` requests in flight; the
 * responder keeps no state per exchange and answers at most `antiEntropyAnswersPerIntervalMax`
 * messages per interval. A node with nothing starts no exchange (nothing to offer; its
 * neighbours' exchanges fill it), so a swarm without CRDTs sends no data message at all.
 *
 * A node FAR behind (offline while its peers made thousands of CRDTs, or new to a swarm that
 * holds them) needs a walk of more requests than one interval's answers: 3,000 differing names
 * at depth 4 take about 110 requests against 64 answers. The responder refuses the rest
 * silently, and a walk that then started over from the root at the next interval met the same
 * wall every time and never finished (test/core/gossip/anti-entropy-catch-up.test.ts: 3,000 and
 * 4,000 names never converged, 1.7-2.5 MB spent on walks thrown away). So a walk is resumable:
 *
 *   - It goes depth first (the newest requests first), so names are found from the first leaves
 *     on, and what waits to be asked stays small: at most `stackRequestsMax` requests, past which
 *     the walk is cut short (what was found is sent; the next exchange finds the rest).
 *   - Names found are sent in chunks of `dataItemsPerMessageMax` (our states and the names we
 *     want), not all at the end, so a walk that stops still delivers what it found.
 *   - A round that heard answers and then falls silent for `antiEntropyTimeoutTicks` (the
 *     responder's budget is spent, or a message was lost) is parked, not given up: its requests
 *     in flight go back on the stack and the walk goes on with the same peer at our next
 *     interval: at most `roundsMax` of our intervals and that many intervals' worth of answers
 *     (a peer claiming a deep tree differs everywhere would keep us walking 16^depth leaves).
 *     A round that heard nothing is a timeout, as before.
 *   - Answers must match a request in flight (a response echoes what it answers), so a late
 *     answer to a parked request, or one we never asked, is counted as unexpected and unused.
 */
import { wireEquals } from '../crdt/crdt-types.ts';
import { merkleMessageBytes } from '../crdt/merkle-cost.ts';
import { answerRequest, takeResponse } from '../crdt/merkle-exchange.ts';
import {
  decodeMerkleMessage,
  encodeMerkleMessage,
  type MerkleMessage,
  type MerkleRequest,
  type MerkleResponse,
} from '../crdt/merkle-messages.ts';
import { placementHash } from '../crdt/merkle-hash.ts';
import { merkleFanout } from '../crdt/merkle.ts';
import type { GossipContext } from './context.ts';
import type { CrdtStore, CrdtEntry } from './crdt-store.ts';
import { fits, itemBytes, pack } from './data-packing.ts';
import { dataItemsPerMessageMax, merkleLeavesPerRequestMax, merkleNodesPerRequestMax, seqMax, stateValuesMax, wantPerMessageMax } from './limits.ts';
import type { CrdtMerkleMessage, CrdtRef, CrdtStatesMessage, StateItem } from './messages.ts';
import type { NodeId } from './types.ts';
import { answers, envelopeBytes, refOfKey, split, trimLeaves } from './anti-entropy-parts.ts';

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
  /** Requests sent and not answered yet (at most antiEntropyRequestsInFlightMax). */
  readonly inFlight: MerkleRequest[];
  /** Requests to send, the last one first (depth first); at most `stackRequestsMax`. */
  readonly stack: MerkleRequest[];
  /** Names found to differ and not sent yet (fewer than dataItemsPerMessageMax between sends). */
  readonly keys: Set<string>;
  /** Names found to differ over the whole exchange (at most crdtsMax: see take). */
  found: number;
  /** Answers taken (at most `roundsMax` intervals' worth of a responder's budget). */
  answers: number;
  /** Our intervals the exchange has run in, this one included (at most `roundsMax`). */
  rounds: number;
  /** Whether an answer arrived in this round. */
  heard: boolean;
  /** Waiting for our next interval to go on (a round fell silent after answers). */
  parked: boolean;
}

/**
 * Most rounds one exchange runs: enough for the largest honest walk at the defaults (two stores
 * of crdtsMax (4,096) different names, about 260 requests at 64 answers per interval) with room
 * for lost messages; past it the exchange ends with what it found (sent already), so one slow
 * neighbour cannot hold our turn forever and a larger difference is finished by later exchanges.
 */
export const roundsMax = 8;

/**
 * Most requests waiting in one exchange's stack. One answer adds at most 16 requests (a
 * `hashes` answer of 64 nodes has 1,024 children, asked 64 at a time), and depth first keeps
 * about 16 per level per request in flight; a walk that would pass it is cut short.
 */
export function stackRequestsMax(requestsInFlightMax: number, depth: number): number {
  return merkleFanout * requestsInFlightMax * (depth + 1);
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

  /** Whether an exchange of ours is under way, or parked until our next interval (tests, status). */
  get busy(): boolean {
    return this.exchange !== null;
  }

  /** Requests our exchange holds, to send or in flight (tests: they stay bounded). */
  get requestsHeld(): number {
    return this.exchange === null ? 0 : this.exchange.stack.length + this.exchange.inFlight.length;
  }

  /** Rounds our exchange has run in (0 without one). */
  get rounds(): number {
    return this.exchange?.rounds ?? 0;
  }

  tick(): void {
    const { ctx } = this;
    const ex = this.exchange;
    if (ex !== null && !ex.parked && ctx.now - ex.lastHeardTick >= ctx.cfg.antiEntropyTimeoutTicks) this.fallSilent(ex);
    if (ctx.now < this.nextTick) return;
    this.nextTick = ctx.now + ctx.cfg.antiEntropyIntervalTicks;
    this.answersLeft = ctx.cfg.antiEntropyAnswersPerIntervalMax;
    this.onInterval();
  }

  /**
   * No answer for a timeout. After answers in this round, the peer's budget is spent or a message
   * was lost: send what was found, put the unanswered requests back, and go on at our next
   * interval. A round that heard nothing (the peer is gone or mute) is given up.
   */
  private fallSilent(ex: Exchange): void {
    this.flush(ex);
    if (!ex.heard) {
      this.ctx.counters.antiEntropyTimeouts++;
      this.exchange = null;
      return;
    }
    ex.stack.push(...ex.inFlight.reverse());
    ex.inFlight.length = 0;
    ex.parked = true;
  }

  /**
   * Our interval: the exchange under way goes into its next round (a parked one goes on), unless
   * it has had `roundsMax` rounds, answered or not (so a peer dribbling answers holds our turn
   * that long at most), or its peer left our mesh; then it ends with what it found, and a new
   * one may start.
   */
  private onInterval(): void {
    this.store.refreshAll();
    const ex = this.exchange;
    if (ex !== null) {
      if (ex.rounds < roundsMax && this.host.mesh().includes(ex.peer)) {
        ex.rounds++;
        if (ex.parked) this.resume(ex);
        return;
      }
      this.finish(ex);
    }
    this.maybeStart();
  }

  /**
   * Start an exchange with the next mesh neighbour in turn, unless we hold nothing; a neighbour
   * that asked us a request within the last interval is comparing with us already (whatever it
   * finds, it sends us and asks us for), and is passed over.
   */
  private maybeStart(): void {
    if (this.exchange !== null || this.store.tree.size === 0) return;
    const mesh = this.host.mesh();
    const since = this.ctx.now - this.ctx.cfg.antiEntropyIntervalTicks;
    for (const [peer, tick] of this.askedBy) if (tick < since || !mesh.includes(peer)) this.askedBy.delete(peer);
    const candidates = mesh.filter((peer) => !this.askedBy.has(peer));
    if (candidates.length === 0) return;
    const peer = candidates[this.turn++ % candidates.length] as NodeId;
    this.lastExchangeId = this.lastExchangeId >= seqMax ? 1 : this.lastExchangeId + 1;
    this.exchange = {
      id: this.lastExchangeId,
      peer,
      lastHeardTick: this.ctx.now,
      inFlight: [],
      stack: [{ type: 'hashes-request', level: 0, nodes: [0] }],
      keys: new Set(),
      found: 0,
      answers: 0,
      rounds: 1,
      heard: false,
      parked: false,
    };
    this.ctx.counters.antiEntropyStarted++;
    this.pump();
  }

  private resume(ex: Exchange): void {
    ex.parked = false;
    ex.heard = false;
    ex.lastHeardTick = this.ctx.now;
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
    const at = ex === null || ex.peer !== from || ex.id !== exchange ? -1 : ex.inFlight.findIndex((request) => answers(response, request));
    if (ex === null || at < 0) {
      this.ctx.counters.antiEntropyUnexpected++;
      return;
    }
    ex.inFlight.splice(at, 1);
    ex.lastHeardTick = this.ctx.now;
    ex.heard = true;
    ex.answers++;
    const step = takeResponse(this.store.tree, response);
    if (!step.ok) {
      this.refused(from, exchange);
      return;
    }
    const requests = step.value.requests.flatMap(split);
    // Depth first: the first of these is asked next.
    for (let i = requests.length - 1; i >= 0; i--) ex.stack.push(requests[i] as MerkleRequest);
    for (const key of step.value.keys) ex.keys.add(key);
    ex.found += step.value.keys.length;
    if (ex.keys.size >= dataItemsPerMessageMax) this.flush(ex);
    // We could hold no more names than crdtsMax: a peer claiming more differ is cut short there;
    // so is a walk past its stack's bound, or past what an honest responder answers in roundsMax
    // intervals (a peer claiming a deep tree differs everywhere would keep us walking 16^depth
    // leaves). The next exchange finds the rest.
    const cfg = this.ctx.cfg;
    if (ex.found >= cfg.crdtsMax || ex.answers >= roundsMax * cfg.antiEntropyAnswersPerIntervalMax || ex.stack.length > stackRequestsMax(cfg.antiEntropyRequestsInFlightMax, this.store.tree.depth)) {
      ex.stack.length = 0;
      ex.inFlight.length = 0;
    }
    this.pump();
  }

  /** Send what the exchange may have in flight; finish it when nothing is left to ask. */
  private pump(): void {
    const ex = this.exchange;
    if (ex === null || ex.parked) return;
    while (ex.inFlight.length < this.ctx.cfg.antiEntropyRequestsInFlightMax && ex.stack.length > 0) {
      const request = ex.stack.pop() as MerkleRequest;
      ex.inFlight.push(request);
      this.sendMerkle(ex.peer, ex.id, request);
    }
    if (ex.inFlight.length === 0 && ex.stack.length === 0) this.finish(ex);
  }

  /** The walk is done or cut short: send our states of the last differing names found, and ask for theirs. */
  private finish(ex: Exchange): void {
    this.exchange = null;
    this.ctx.counters.antiEntropyCompleted++;
    this.flush(ex);
  }

  /** Our states of the differing names found since the last flush, and the names we want. */
  private flush(ex: Exchange): void {
    if (ex.keys.size === 0) return;
    this.store.refreshAll();
    this.ctx.counters.antiEntropyNamesDiffering += ex.keys.size;
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
    ex.keys.clear();
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
