/**
 * Proposals of one node's local callers, made exactly-once with client sessions (dissertation
 * §6.3, `src/machines/sessions.ts`), and retried until they are applied.
 *
 * A caller's command gets a session from a pool (each session carries one command at a time;
 * more concurrent callers open more sessions, registering each through the log) and a sequence
 * number. The command is proposed, and proposed again every `retryMs` while it is not applied:
 * the leader may have changed, a forwarded proposal may have been dropped. The session layer
 * applies it once whatever the number of copies committed; the caller hears the result the
 * first time this node applies it (REJECTED if the state machine threw on it, alike on every
 * replica). After `timeoutMs` the caller gets TIMEOUT: the command may or may not have been
 * applied.
 *
 * Callers are called back (`done`), never through promises: the driver runs inside the
 * deterministic simulator, whose virtual time would not wait for a promise's microtask.
 *
 * A command this node appended to its own log as leader is NOT resubmitted on the timer while
 * this node still leads in that term: a leader never drops an entry of its own term (Leader
 * Append-Only), so it commits unless leadership changes, and a change of leader resubmits
 * everything at once (`resubmitAll`). Retried on the timer anyway, a leader under load (4,096
 * commands in flight, each taking longer than `retryMs`) copied about a fifth of its log twice
 * (the browser benchmark: 136,507 entries written for about 112,000 commands and sessions), and
 * every copy was encoded, sent, written and applied on every node for nothing.
 */
import { createPrng, type Prng } from '../core/prng.ts';
import { encodeSessionCommand, type SessionCommand, type SessionOutcome } from '../machines/sessions.ts';
import type { Clock } from './clock.ts';
import { err, ok, type Result } from '../core/result.ts';
import { NodeError } from './errors.ts';

/** A proposal applied: the state machine's result, and the session and seq that carried it. */
export interface ProposalApplied {
  readonly result: Uint8Array;
  readonly session: number;
  readonly seq: number;
}

/** What a proposal comes to: applied, or why not (TIMEOUT and SESSION_EXPIRED: maybe applied). */
export type ProposalDone = (outcome: Result<ProposalApplied, NodeError>) => void;

export interface ProposalOptions {
  readonly timeoutMs: number;
  readonly retryMs: number;
  /** Commands waiting or in flight; beyond it `propose` refuses at once. */
  readonly pendingMax: number;
  /** Sessions this node opens for its callers (each carries one command at a time). */
  readonly sessionsMax: number;
  /**
   * The session layer's expiry (log entries of disuse); a session idle for half of it is not
   * reused: its next command could find it expired and get SESSION_EXPIRED for nothing.
   */
  readonly sessionExpiryEntries: number;
}

interface Pending {
  readonly bytes: Uint8Array;
  readonly done: ProposalDone;
  readonly deadlineMs: number;
  lastSubmitMs: number;
  /** Resubmissions so far; each waits twice as long as the one before (up to 8 retryMs). */
  retries: number;
  /** The term in which this node, as leader, appended the last copy to its own log; 0: it did not. */
  appendedTerm: number;
}

interface WaitingCommand {
  readonly payload: Uint8Array;
  readonly done: ProposalDone;
  readonly deadlineMs: number;
}

interface ClientSession {
  readonly clientId: number;
  nextSeq: number;
  /** The index of the last entry this session's commands were applied at (its register's at first). */
  lastIndex: number;
}

export class ProposalTracker {
  private readonly idle: ClientSession[] = [];
  private sessionCount = 0;
  /** Commands waiting for a session, in order (a FIFO: `shift` on a long array costs O(n)). */
  private readonly waiting = new Fifo<WaitingCommand>();
  /** In flight, by "clientId:seq". */
  private readonly inFlight = new Map<string, Pending & { session: ClientSession }>();
  /** Registrations in flight, by nonce. */
  private readonly registering = new Map<number, Pending>();
  private readonly nonces: Prng;
  private nextScanMs = 0;
  /** The highest index this node has applied a session command at. */
  private appliedIndex = 0;

  /**
   * `submit` proposes the bytes and answers the term in which this node appended them to its own
   * log as leader, or 0 (forwarded, or refused); `leaderTerm` answers this node's term while it
   * leads, else 0.
   */
  constructor(
    private readonly submit: (bytes: Uint8Array) => number,
    private readonly leaderTerm: () => number,
    private readonly clock: Clock,
    private readonly options: ProposalOptions,
    nonceSeed: number,
  ) {
    // A node recognises its own registration by the nonce when it sees it applied, so nonces
    // must not collide with those of other nodes or of this node's earlier lives: 53 random bits.
    this.nonces = createPrng(nonceSeed);
  }

  get pendingCount(): number {
    return this.waiting.length + this.inFlight.size;
  }

  propose(payload: Uint8Array, done: ProposalDone): void {
    if (this.pendingCount >= this.options.pendingMax) {
      done(err(new NodeError('PROPOSAL_DROPPED', `too many pending proposals (${this.options.pendingMax})`)));
      return;
    }
    this.waiting.push({ payload, done, deadlineMs: this.clock.now() + this.options.timeoutMs });
    this.assignSessions();
  }

  /** Give waiting commands idle sessions, opening new sessions while under the limit. */
  private assignSessions(): void {
    while (this.waiting.length > 0) {
      const session = this.idle.pop();
      if (session === undefined) break;
      if (this.appliedIndex - session.lastIndex > this.options.sessionExpiryEntries / 2) {
        // Idle too long: it may expire before this command commits. Open a fresh one instead.
        this.sessionCount--;
        continue;
      }
      const command = this.waiting.shift();
      const seq = session.nextSeq++;
      const bytes = encodeSessionCommand({ type: 'request', clientId: session.clientId, seq, payload: command.payload });
      const pending = { ...command, bytes, lastSubmitMs: this.clock.now(), retries: 0, appendedTerm: 0, session };
      this.inFlight.set(`${session.clientId}:${seq}`, pending);
      pending.appendedTerm = this.submit(bytes);
    }
    const wanted = Math.min(this.waiting.length, this.options.sessionsMax - this.sessionCount) - this.registering.size;
    for (let i = 0; i < wanted; i++) this.register();
  }

  private register(): void {
    const nonce = 1 + (this.nonces.nextInt(0x1f_ffff) * 0x1_0000_0000 + this.nonces.nextUint32());
    const bytes = encodeSessionCommand({ type: 'register', nonce });
    const pending: Pending = {
      bytes,
      done: () => undefined,
      deadlineMs: this.clock.now() + this.options.timeoutMs,
      lastSubmitMs: this.clock.now(),
      retries: 0,
      appendedTerm: 0,
    };
    this.registering.set(nonce, pending);
    pending.appendedTerm = this.submit(bytes);
  }

  /** A committed entry at `index` was applied by this node's session machine: `command` (decoded; null if malformed) with `outcome`. */
  onApplied(command: SessionCommand | null, outcome: SessionOutcome, index: number): void {
    if (index > this.appliedIndex) this.appliedIndex = index;
    if (command === null || (this.inFlight.size === 0 && this.registering.size === 0)) return;
    if (command.type === 'register') {
      if (command.nonce === undefined || outcome.status !== 'registered' || !this.registering.delete(command.nonce)) return;
      this.sessionCount++;
      this.idle.push({ clientId: outcome.clientId, nextSeq: 1, lastIndex: index });
      this.assignSessions();
      return;
    }
    const key = `${command.clientId}:${command.seq}`;
    const pending = this.inFlight.get(key);
    if (pending === undefined) return;
    switch (outcome.status) {
      case 'applied':
      case 'duplicate':
        this.inFlight.delete(key);
        pending.session.lastIndex = index;
        this.idle.push(pending.session);
        pending.done(ok({ result: outcome.result, session: command.clientId, seq: command.seq }));
        this.assignSessions();
        return;
      case 'rejected':
        this.inFlight.delete(key);
        pending.session.lastIndex = index;
        this.idle.push(pending.session);
        pending.done(err(new NodeError('REJECTED', `the state machine refused the command: ${outcome.reason}`)));
        this.assignSessions();
        return;
      case 'expired':
        // The session is gone: its command was not applied now, and whether an earlier copy
        // was is unknown. Drop the session; the caller learns the outcome is unknown.
        this.inFlight.delete(key);
        this.sessionCount--;
        pending.done(err(new NodeError('SESSION_EXPIRED', 'the client session expired; the command may or may not have been applied')));
        this.assignSessions();
        return;
      case 'stale':
      case 'malformed':
      case 'registered':
        return;
      default: {
        const never: never = outcome;
        return never;
      }
    }
  }

  /**
   * A new leader is known: resubmit everything in flight now rather than after `retryMs` (a
   * proposal made while there was no leader, or forwarded to the one that went, was dropped).
   * Copies that did get through are absorbed by the sessions.
   */
  resubmitAll(): void {
    const now = this.clock.now();
    for (const p of this.registering.values()) {
      p.lastSubmitMs = now;
      p.appendedTerm = this.submit(p.bytes);
    }
    for (const p of this.inFlight.values()) {
      p.lastSubmitMs = now;
      p.appendedTerm = this.submit(p.bytes);
    }
  }

  /**
   * How long `p` waits before it is submitted again: `retryMs`, doubling with each retry up to
   * 8 times that. A command that is merely slow (a loaded leader, a long queue) must not be
   * copied into the log again and again: under overload, fixed-interval retries multiply the
   * load they are waiting on (congestion collapse). A new leader resubmits at once anyway.
   */
  private retryDelayMs(p: Pending): number {
    return this.options.retryMs * 2 ** Math.min(p.retries, 3);
  }

  /** Whether `p` should be submitted again now: not while it sits in this leader's log of its term. */
  private dueForRetry(p: Pending, now: number, leaderTerm: number): boolean {
    if (p.appendedTerm !== 0 && p.appendedTerm === leaderTerm) return false;
    return now - p.lastSubmitMs >= this.retryDelayMs(p);
  }

  /** Called periodically: resubmit what has waited long enough (`retryDelayMs`), time out what is past its deadline. */
  onTimer(): void {
    const now = this.clock.now();
    // Scanning thousands of commands in flight on every tick costs more than it finds: a quarter
    // of `retryMs` is precise enough for retries and deadlines alike.
    if (now < this.nextScanMs) return;
    this.nextScanMs = now + this.options.retryMs / 4;
    const leaderTerm = this.leaderTerm();
    for (const [key, p] of this.inFlight) {
      if (now >= p.deadlineMs) {
        this.inFlight.delete(key);
        // The session may still apply this command later; it must not carry another one.
        this.sessionCount--;
        p.done(err(new NodeError('TIMEOUT', 'the proposal was not applied in time; it may still be')));
      } else if (this.dueForRetry(p, now, leaderTerm)) {
        p.lastSubmitMs = now;
        p.retries++;
        p.appendedTerm = this.submit(p.bytes);
      }
    }
    for (const [nonce, p] of this.registering) {
      if (now >= p.deadlineMs) this.registering.delete(nonce);
      else if (this.dueForRetry(p, now, leaderTerm)) {
        p.lastSubmitMs = now;
        p.retries++;
        p.appendedTerm = this.submit(p.bytes);
      }
    }
    while (this.waiting.length > 0 && now >= this.waiting.peek().deadlineMs) {
      this.waiting.shift().done(err(new NodeError('TIMEOUT', 'no session could be opened in time')));
    }
    this.assignSessions();
  }

  failAll(error: NodeError): void {
    const inFlight = [...this.inFlight.values()];
    const waiting: WaitingCommand[] = [];
    while (this.waiting.length > 0) waiting.push(this.waiting.shift());
    this.inFlight.clear();
    this.registering.clear();
    for (const p of inFlight) p.done(err(error));
    for (const w of waiting) w.done(err(error));
  }
}

/** A first-in first-out queue with O(1) `shift`: an array and a head index, compacted now and then. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T {
    if (this.length === 0) throw new RangeError('peek on an empty queue');
    return this.items[this.head] as T;
  }

  shift(): T {
    const item = this.peek();
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
