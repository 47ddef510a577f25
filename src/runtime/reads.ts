/**
 * Linearizable and lease reads of one node's local callers (dissertation §6.4). A read asks the
 * core for a read index (ReadIndex, or the leader's lease), then waits until the local state
 * machine has applied that index; serving the read from the machine then is linearizable.
 * A read the leader dropped, or that got no answer (a lost message, no leader yet), is asked
 * again under a new request id every `retryMs` until `timeoutMs`.
 *
 * Request ids carry a random epoch so that an answer addressed to this node's previous life
 * (before a restart) cannot be mistaken for one of ours.
 */
import type { RaftNode, ReadMode } from '../core/raft/raft-node.ts';
import type { ReadState } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import type { Clock } from './clock.ts';
import { NodeError } from './errors.ts';

/** A read may be served now (ok), or it could not be confirmed (TIMEOUT, STOPPED). */
export type ReadDone = (outcome: Result<void, NodeError>) => void;

interface PendingRead {
  readonly mode: ReadMode;
  readonly done: ReadDone;
  readonly deadlineMs: number;
  lastAskMs: number;
  /** The index to wait for once known, else -1. */
  index: number;
  readonly ids: number[];
}

const requestsPerEpoch = 0x10_0000;

export class ReadTracker {
  private readonly byId = new Map<number, PendingRead>();
  private readonly waiting = new Set<PendingRead>();
  private readonly epochBase: number;
  private counter = 0;

  constructor(
    private readonly node: RaftNode,
    /** What the state machine has applied: not the core's `applied`, which runs ahead of it. */
    private readonly appliedIndex: () => number,
    private readonly clock: Clock,
    private readonly options: { readonly timeoutMs: number; readonly retryMs: number; readonly seed: number; readonly pendingMax: number },
  ) {
    this.epochBase = (options.seed % 0x7fff_ffff) * requestsPerEpoch;
  }

  /** Called back (never through a promise: see proposals.ts) once a read may be served. */
  read(mode: ReadMode, done: ReadDone): void {
    if (this.waiting.size >= this.options.pendingMax) {
      done(err(new NodeError('READ_DROPPED', `too many pending reads (${this.options.pendingMax})`)));
      return;
    }
    const now = this.clock.now();
    const p: PendingRead = { mode, done, deadlineMs: now + this.options.timeoutMs, lastAskMs: now, index: -1, ids: [] };
    this.waiting.add(p);
    this.ask(p);
  }

  private ask(p: PendingRead): void {
    const id = this.epochBase + (this.counter++ % requestsPerEpoch);
    p.ids.push(id);
    p.lastAskMs = this.clock.now();
    this.byId.set(id, p);
    // Without a leader the request is refused; the timer asks again.
    this.node.step({ local: 'read', requestId: id, mode: p.mode });
  }

  onReadStates(states: readonly ReadState[], dropped: readonly number[]): void {
    for (const s of states) {
      const p = this.byId.get(s.requestId);
      if (p === undefined || p.index >= 0) continue;
      p.index = s.index;
      this.maybeResolve(p);
    }
    for (const id of dropped) {
      const p = this.byId.get(id);
      // Ask again at the next timer: a new leader may be elected by then.
      if (p !== undefined && p.index < 0) p.lastAskMs = -Infinity;
    }
  }

  /** The state machine applied more entries: answer the reads that waited for them. */
  onApplied(): void {
    for (const p of this.waiting) if (p.index >= 0) this.maybeResolve(p);
  }

  private maybeResolve(p: PendingRead): void {
    if (p.index < 0 || this.appliedIndex() < p.index) return;
    this.finish(p);
    p.done(ok(undefined));
  }

  private finish(p: PendingRead): void {
    this.waiting.delete(p);
    for (const id of p.ids) this.byId.delete(id);
  }

  onTimer(): void {
    const now = this.clock.now();
    for (const p of this.waiting) {
      if (now >= p.deadlineMs) {
        this.finish(p);
        p.done(err(new NodeError('TIMEOUT', 'the read could not be confirmed in time')));
      } else if (p.index < 0 && now - p.lastAskMs >= this.options.retryMs) {
        this.ask(p);
      }
    }
  }

  failAll(error: NodeError): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    this.byId.clear();
    for (const p of waiting) p.done(err(error));
  }
}
