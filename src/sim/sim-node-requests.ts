/**
 * The service side of the client protocol for one simulated Raft node (sim-node.ts): it takes a
 * client's request, proposes it or asks ReadIndex, remembers who waits for what, and answers
 * when the outcome is known. Kept apart from the driver loop because its state (the waiters) and
 * its rules (when an answer is definite, when a retry is safe) are a concept of their own.
 *
 * How an answer is found:
 *   - a write is recognized when applied by its (session, seq), or a registration by its nonce
 *     (`commandKey`): forwarded proposals and retries placed by another node have no index here;
 *   - a write the leader placed at (index, term) fails definitely (`superseded`) when another
 *     entry is applied at that index;
 *   - a read waits for its ReadIndex answer, then for the state machine to reach that index.
 *
 * Read request ids passed to `readIndex` come from a counter shared by the whole simulation, so
 * they are unique across nodes AND incarnations: a restarted node must not mistake a late answer
 * to its previous life's read for an answer to a new one (that would serve a stale index).
 */
import { assert } from '../core/assert.ts';
import { NotLeaderError } from '../core/raft/errors.ts';
import type { RaftNode } from '../core/raft/raft-node.ts';
import type { Entry, NodeId } from '../core/raft/types.ts';
import { encodeKvResult } from '../machines/kv.ts';
import { decodeSessionCommand, decodeSessionOutcome, encodeSessionOutcome, type SessionCommand, type SessionOutcome } from '../machines/sessions.ts';
import { clientEndpoint, type ClientMessage, type ClientOutcome, type ClientRequest, type ClientResponse, type RejectReason } from './client-protocol.ts';
import type { Network } from './network.ts';
import type { Sabotage } from './sim-node-sabotage.ts';
import type { SimNodeStats } from './sim-node-stats.ts';

/** What reads are served from: the node's state machine, as the node shows it (sim-node.ts). */
export interface ReadableReplica {
  readonly appliedIndex: number;
  localRead(key: string): string | null;
}

export interface RequestServiceOptions {
  readonly id: NodeId;
  readonly clientNet: Network<ClientMessage>;
  /** Sim-wide unique read request ids (see the file comment). */
  readonly nextReadId: () => number;
  /** Bound on client requests waiting for an answer; more are refused as `overloaded`. */
  readonly pendingRequestsMax: number;
  readonly replica: ReadableReplica;
  /** The node's counters (shared with the rest of the node). */
  readonly stats: SimNodeStats;
  readonly sabotaged: (bug: Sabotage) => boolean;
  /** True when a trace is wanted: the trace lines are only built then. */
  readonly tracing: boolean;
  readonly note: (what: string) => void;
}

interface ProposalWaiter {
  readonly req: ClientRequest;
  /** Where the leader put it; -1 when forwarded (then only its application tells). */
  readonly index: number;
  readonly term: number;
}

interface ReadWaiter {
  readonly req: ClientRequest;
  readonly key: string;
  readonly mode: 'index' | 'lease';
  /** The index the read waits for, -1 until the ReadIndex answer arrives. */
  index: number;
}

export class RequestService {
  private readonly proposals = new Map<string, ProposalWaiter>();
  private readonly proposalByIndex = new Map<number, string>();
  private readonly reads = new Map<number, ReadWaiter>();
  private readsAwaitingApply: ReadWaiter[] = [];

  constructor(private readonly o: RequestServiceOptions) {}

  /** A crash: every waiter is forgotten (its client hears nothing and retries). */
  clear(): void {
    this.proposals.clear();
    this.proposalByIndex.clear();
    this.reads.clear();
    this.readsAwaitingApply = [];
  }

  handle(raft: RaftNode, req: ClientRequest): void {
    if (this.proposals.size + this.reads.size >= this.o.pendingRequestsMax) {
      this.respondRejected(req, 'overloaded', null);
      return;
    }
    const body = req.body;
    if (body.kind === 'read') {
      this.startIndexRead(raft, req, body.key, body.mode);
      return;
    }
    const decoded = decodeSessionCommand(body.command);
    assert(decoded.ok, `${this.o.id}: client ${req.clientId} sent bytes that are not a session command`);
    const result = raft.propose(body.command);
    if (!result.ok) {
      const e = result.error;
      if (e instanceof NotLeaderError) this.respondRejected(req, 'not-leader', e.leaderHint);
      else this.respondRejected(req, 'proposal-dropped', null);
      return;
    }
    const key = commandKey(decoded.value);
    const old = this.proposals.get(key);
    if (old !== undefined) this.forgetProposal(key, old);
    const v = result.value;
    if ('index' in v) {
      this.proposals.set(key, { req, index: v.index, term: v.term });
      this.proposalByIndex.set(v.index, key);
      if (this.o.tracing) this.o.note(`client ${req.clientId} request ${req.requestId} ${key}: proposed at (${v.index}, ${v.term})`);
    } else {
      this.o.stats.forwarded++;
      this.proposals.set(key, { req, index: -1, term: 0 });
      if (this.o.tracing) this.o.note(`client ${req.clientId} request ${req.requestId} ${key}: forwarded to ${v.forwardedTo}`);
    }
  }

  // ---- writes ----------------------------------------------------------------------------------

  /** The leader accepted a request at (index, term), but a different entry was applied there. */
  supersedeAt(e: Entry): void {
    const key = this.proposalByIndex.get(e.index);
    if (key === undefined) return;
    this.proposalByIndex.delete(e.index);
    const waiter = this.proposals.get(key);
    if (waiter === undefined || waiter.index !== e.index || waiter.term === e.term) return;
    // Log Matching: an entry at this index of another term was committed, so (index, term) never
    // will be, and the leader put the command nowhere else. A definite failure: retry is safe.
    this.proposals.delete(key);
    this.respondRejected(waiter.req, 'superseded', null);
  }

  /** A session command was applied with `outcome`: answer its client if it waits here. */
  commandApplied(command: SessionCommand, outcome: SessionOutcome): void {
    const key = commandKey(command);
    const waiter = this.proposals.get(key);
    if (waiter === undefined) return;
    this.forgetProposal(key, waiter);
    // A stale command's client has moved on and waits for nothing.
    if (outcome.status !== 'stale') this.respondDone(waiter.req, encodeSessionOutcome(outcome));
  }

  /**
   * A snapshot up to `index` was installed. Requests this node placed at indices it covers:
   * whether they were committed there is not visible here. Forget them; their clients retry, and
   * the session layer answers.
   */
  forgetCoveredBy(index: number): void {
    for (const [at, key] of this.proposalByIndex) {
      if (at > index) continue;
      this.proposalByIndex.delete(at);
      const waiter = this.proposals.get(key);
      if (waiter !== undefined && waiter.index === at) this.proposals.delete(key);
    }
  }

  private forgetProposal(key: string, waiter: ProposalWaiter): void {
    this.proposals.delete(key);
    if (waiter.index >= 0 && this.proposalByIndex.get(waiter.index) === key) this.proposalByIndex.delete(waiter.index);
  }

  // ---- reads -----------------------------------------------------------------------------------

  private startIndexRead(raft: RaftNode, req: ClientRequest, key: string, mode: 'index' | 'lease'): void {
    if (this.o.sabotaged('local-reads')) {
      this.respondDone(req, encodeKvResult({ op: 'read', value: this.o.replica.localRead(key) }));
      return;
    }
    const readId = this.o.nextReadId();
    const result = raft.readIndex(readId, mode === 'lease' ? 'lease' : 'linearizable');
    if (!result.ok) {
      const e = result.error;
      if (e instanceof NotLeaderError) this.respondRejected(req, 'not-leader', e.leaderHint);
      else this.respondRejected(req, 'read-dropped', null);
      return;
    }
    this.reads.set(readId, { req, key, mode, index: -1 });
    if (this.o.tracing) this.o.note(`client ${req.clientId} request ${req.requestId} read: ReadIndex ${readId} (${mode})`);
  }

  onReadState(readId: number, index: number): void {
    const w = this.reads.get(readId);
    // Unknown: a duplicate answer, or one for a read this incarnation never asked.
    if (w === undefined || w.index >= 0) return;
    this.reads.delete(readId);
    w.index = index;
    if (index <= this.o.replica.appliedIndex) this.serveRead(w);
    else this.readsAwaitingApply.push(w);
  }

  onReadDropped(readId: number): void {
    const w = this.reads.get(readId);
    if (w === undefined || w.index >= 0) return;
    this.reads.delete(readId);
    this.respondRejected(w.req, 'read-dropped', null);
  }

  serveReadsUpTo(applied: number): void {
    if (this.readsAwaitingApply.length === 0) return;
    const waiting: ReadWaiter[] = [];
    for (const w of this.readsAwaitingApply) {
      if (w.index <= applied) this.serveRead(w);
      else waiting.push(w);
    }
    this.readsAwaitingApply = waiting;
  }

  private serveRead(w: ReadWaiter): void {
    if (w.mode === 'lease') this.o.stats.leaseReads++;
    else this.o.stats.indexReads++;
    this.respondDone(w.req, encodeKvResult({ op: 'read', value: this.o.replica.localRead(w.key) }));
  }

  // ---- answers ---------------------------------------------------------------------------------

  private respondDone(req: ClientRequest, result: Uint8Array): void {
    if (this.o.tracing) {
      const what = req.body.kind === 'read' ? 'read served' : describeOutcome(result);
      this.o.note(`client ${req.clientId} request ${req.requestId}: done (${what})`);
    }
    this.respond(req, { type: 'done', result });
  }

  private respondRejected(req: ClientRequest, reason: RejectReason, leaderHint: NodeId | null): void {
    this.o.stats.rejected[reason]++;
    if (this.o.tracing) this.o.note(`client ${req.clientId} request ${req.requestId}: rejected ${reason}${leaderHint === null ? '' : ` (try ${leaderHint})`}`);
    this.respond(req, { type: 'rejected', reason, leaderHint });
  }

  private respond(req: ClientRequest, outcome: ClientOutcome): void {
    this.o.clientNet.send(this.o.id, clientEndpoint(req.clientId), { kind: 'response', response: clientResponse(req, this.o.id, outcome) });
  }
}

/**
 * How a node recognizes a client's command when it is applied (after forwarding, or as a retry
 * placed by another node): a request by its (session, seq), a register by its nonce.
 */
function commandKey(command: SessionCommand): string {
  return command.type === 'request' ? `s${command.clientId}:${command.seq}` : `r${command.nonce ?? 0}`;
}

function describeOutcome(bytes: Uint8Array): string {
  const decoded = decodeSessionOutcome(bytes);
  if (!decoded.ok) return 'an undecodable outcome';
  const o = decoded.value;
  return o.status === 'registered' ? `registered session ${o.clientId}` : o.status;
}

function clientResponse(req: ClientRequest, node: NodeId, outcome: ClientOutcome): ClientResponse {
  return { clientId: req.clientId, requestId: req.requestId, attempt: req.attempt, node, outcome };
}
