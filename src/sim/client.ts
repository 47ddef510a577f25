/**
 * A simulated client of the replicated KV store, behind client sessions (dissertation §6.3).
 * Each client runs one operation at a time (read, write or compare-and-set on a small key set),
 * and clients run concurrently, so the history has overlapping operations for the
 * linearizability checker.
 *
 * Session: before its first command (and again after its session expired) a client REGISTERS:
 * a register command goes through the log, and its log index becomes the client's session id.
 * A register that gets no answer is retried, with no deadline; a retry that also commits merely
 * opens a session nobody uses, which is harmless. Registrations are not in the history.
 *
 * Per operation:
 *   1. It is recorded in the history at its call time, with a unique value for writes (so the
 *      checker can tell writes apart). A command through the log gets the session's next `seq`.
 *   2. The request goes to the node the client believes leads. A DEFINITE rejection (NotLeader,
 *      a proposal or read dropped before acceptance, an accepted entry superseded at its index)
 *      had no effect; silence for `attemptTimeoutUs` may or may not have. Either way the client
 *      RETRIES THE SAME (session, seq): at the hinted leader if there is one, else at another
 *      node (after a short backoff for a rejection). The session layer applies it at most once,
 *      and a retry of a command that was already applied gets the first result back: a command
 *      retried after a leader change applies exactly once.
 *   3. An answer from any attempt completes the operation (ok, output, return time).
 *   4. Without an answer by the operation's deadline (`opTimeoutUs` after its call) the outcome
 *      is UNKNOWN (ok and ret null): it may have taken effect, at any time after its call, or
 *      never. The client moves on to its next seq; a late copy of the old one is stale and
 *      changes nothing.
 *   5. An `expired` answer (the session was dropped, the command NOT applied by that entry): the
 *      outcome is unknown too (an earlier attempt may have been applied before the session
 *      expired), and the client registers anew before its next operation.
 *
 * Reads served through ReadIndex or the lease change nothing and carry no session.
 */
import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';
import type { NodeId } from '../core/raft/types.ts';
import { decodeKvResult, encodeKvCommand, type KvCommand, type KvResult } from '../machines/kv.ts';
import { decodeSessionOutcome, encodeSessionCommand } from '../machines/sessions.ts';
import type { AcknowledgedCommand } from './checkers/acknowledged-writes.ts';
import { clientEndpoint, type ClientMessage, type ClientRequestBody, type ClientResponse, type ReadMode } from './client-protocol.ts';
import { chance, pick, pickWeighted, sample, type Distribution } from './distributions.ts';
import type { HistoryOp } from './history.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';

export interface ClientWorkload {
  readonly keys: readonly string[];
  /** Pause between one operation's end and the next one's call. */
  readonly think: Distribution;
  /** An operation not answered within this (from its call) becomes unknown. */
  readonly opTimeoutUs: number;
  /** An attempt not answered within this is retried (same session and seq) at another node. */
  readonly attemptTimeoutUs: number;
  /** Wait before retrying a definite rejection that named no leader. */
  readonly retryBackoff: Distribution;
  readonly opWeights: { readonly read: number; readonly write: number; readonly cas: number };
  readonly readModeWeights: { readonly log: number; readonly index: number; readonly lease: number };
  /** Probability that a write deletes the key (writes null). */
  readonly deleteProbability: number;
  /**
   * Where an operation's first attempt goes: `sticky` to the node that answered last (a client
   * that tracks the leader), `home` to the client's own node (a tab talks to its own worker,
   * which forwards), `random` to any node (a load balancer). Retries follow leader hints.
   */
  readonly routingWeights: { readonly sticky: number; readonly home: number; readonly random: number };
  /**
   * Now and then a client dozes off between operations (a hidden tab), long enough on some seeds
   * for its session to expire; only until `calm()` (the liveness phase).
   */
  readonly naps: { readonly probability: number; readonly duration: Distribution } | null;
}

export interface SimClientOptions {
  readonly id: number;
  /** The nodes a client may talk to now (the cluster's members; it changes with membership). */
  readonly directory: () => readonly NodeId[];
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly clientNet: Network<ClientMessage>;
  readonly workload: ClientWorkload;
  /** Sim-wide unique register nonces (a node recognizes its own register by it). */
  readonly nextNonce: () => number;
  /**
   * A reader for the nemesis's stale-read trap: it issues nothing unless pinned (`pin`), then
   * only reads outside the log, with no session.
   */
  readonly trapReader?: boolean;
}

export interface ClientStats {
  ops: number;
  ok: number;
  failed: number;
  unknown: number;
  attempts: number;
  rejections: number;
  /** Attempts that got no answer in time and were retried. */
  attemptTimeouts: number;
  registrations: number;
  /** Operations answered `expired` (then unknown; the client registered anew). */
  expired: number;
  naps: number;
}

interface Registration {
  readonly kind: 'register';
  readonly requestId: number;
  readonly body: ClientRequestBody;
  attempt: number;
  /** An attempt is out and not yet rejected or timed out. */
  awaiting: boolean;
}

interface Operation {
  readonly kind: 'op';
  readonly requestId: number;
  readonly command: KvCommand;
  /** Through the log: the session and seq it carries; null for ReadIndex and lease reads. */
  readonly session: number | null;
  readonly seq: number;
  readonly body: ClientRequestBody;
  readonly record: HistoryOp;
  attempt: number;
  awaiting: boolean;
}

type Pending = Registration | Operation;

export class SimClient {
  readonly id: number;
  readonly endpoint: string;
  /** Every operation, in call order (records are completed in place when they return). */
  readonly history: HistoryOp[] = [];
  /** Every command through the log whose outcome the client received. */
  readonly acknowledged: AcknowledgedCommand[] = [];
  readonly stats: ClientStats = { ops: 0, ok: 0, failed: 0, unknown: 0, attempts: 0, rejections: 0, attemptTimeouts: 0, registrations: 0, expired: 0, naps: 0 };
  private requestIdSeq = 0;
  private current: Pending | null = null;
  private issuing = false;
  private napsOn = true;
  private napping = false;
  /** Only the latest scheduled wake-up may begin the next operation. */
  private wakeSeq = 0;
  private session: number | null = null;
  private seq = 0;
  private target: NodeId;
  /** The client's own node (see `routingWeights`). */
  private home: NodeId;
  /** The last value this client saw per key (for plausible cas expectations). */
  private readonly lastSeen = new Map<string, string | null>();
  /** Until then, little thought between operations (see `steerAwayFrom`, `steerTo`). */
  private burstUntilUs = 0;
  /** Where first attempts go until then (see `steerTo`). */
  private steeredTo: { readonly node: NodeId; readonly untilUs: number } | null = null;
  /** Pinned by the nemesis (the stale-read trap): every operation until then is a read sent first there. */
  private pinned: { readonly node: NodeId; readonly untilUs: number; readonly mode: 'index' | 'lease' } | null = null;

  constructor(private readonly o: SimClientOptions) {
    this.id = o.id;
    this.endpoint = clientEndpoint(o.id);
    const nodes = o.directory();
    this.home = nodes[o.id % nodes.length] as NodeId;
    this.target = this.home;
  }

  start(): void {
    this.issuing = true;
    if (this.o.trapReader !== true) this.scheduleNext();
  }

  /** No more naps; a nap in progress ends now (the liveness phase). */
  calm(): void {
    this.napsOn = false;
    if (!this.napping) return;
    this.napping = false;
    this.scheduleNext();
  }

  /** Issue no new operation; the current one still finishes or times out (a registration stops). */
  stopIssuing(): void {
    this.issuing = false;
    if (this.current?.kind === 'register') this.current = null;
  }

  /**
   * The stale-read trap (TESTING.md): until `untilUs`, every operation is a `mode` read whose
   * first attempt goes to `node` (a leader the nemesis cut off from its peers), one after another
   * with little thought between. A node that may no longer lead must not answer them.
   */
  pin(node: NodeId, untilUs: number, mode: 'index' | 'lease'): void {
    this.pinned = { node, untilUs, mode };
    // Between operations (thinking, not napping): the first read is called now.
    if (this.issuing && this.current === null && !this.napping) {
      this.wakeSeq++;
      this.begin();
    }
  }

  /**
   * A load balancer's health check failed for `node`: the next attempts go elsewhere, and until
   * `untilUs` the client works without pause (a burst of traffic while the trap is set).
   */
  steerAwayFrom(node: NodeId, untilUs: number): void {
    this.burstUntilUs = untilUs;
    if (this.target !== node) return;
    this.target = this.otherNode(node);
    // An attempt waiting there goes again elsewhere now (the same session and seq: safe).
    const cur = this.current;
    if (cur !== null && cur.awaiting) {
      cur.awaiting = false;
      this.sendAttempt();
    }
  }

  /** Until `untilUs`, every first attempt goes to `node`, with little thought between operations. */
  steerTo(node: NodeId, untilUs: number): void {
    this.burstUntilUs = untilUs;
    this.target = node;
    this.steeredTo = { node, untilUs };
  }

  private pinnedNow(): { readonly node: NodeId; readonly mode: 'index' | 'lease' } | null {
    if (this.pinned !== null && this.o.scheduler.nowUs >= this.pinned.untilUs) this.pinned = null;
    return this.pinned;
  }

  get idle(): boolean {
    return this.current === null;
  }

  /** The session id in use (null before registering, or after it expired). */
  get sessionId(): number | null {
    return this.session;
  }

  private scheduleNext(): void {
    if (!this.issuing) return;
    if (this.o.trapReader === true && this.pinnedNow() === null) return;
    const { prng, workload } = this.o;
    const wake = ++this.wakeSeq;
    let delayUs = sample(prng, workload.think);
    if (this.pinnedNow() !== null || this.o.scheduler.nowUs < this.burstUntilUs) delayUs = Math.min(delayUs, 2000 + prng.nextInt(10_000));
    this.napping = this.napsOn && workload.naps !== null && chance(prng, workload.naps.probability);
    if (this.napping && workload.naps !== null) {
      this.stats.naps++;
      delayUs += sample(prng, workload.naps.duration);
    }
    this.o.scheduler.after(delayUs, () => {
      if (wake !== this.wakeSeq) return;
      this.napping = false;
      if (this.issuing && this.current === null) this.begin();
    });
  }

  private begin(): void {
    this.pickRoute();
    // A trap reader reads outside the log (no session), and only while pinned.
    if (this.o.trapReader === true) {
      if (this.pinnedNow() !== null) this.beginOp(0);
    }
    else if (this.session === null) this.beginRegister();
    else this.beginOp(this.session);
  }

  private beginRegister(): void {
    const body: ClientRequestBody = { kind: 'command', command: encodeSessionCommand({ type: 'register', nonce: this.o.nextNonce() }) };
    this.current = { kind: 'register', requestId: ++this.requestIdSeq, body, attempt: 0, awaiting: false };
    this.sendAttempt();
  }

  private beginOp(session: number): void {
    const { prng, workload, scheduler } = this.o;
    const requestId = ++this.requestIdSeq;
    const key = pick(prng, workload.keys);
    const kind = pickWeighted(prng, [
      ['read', workload.opWeights.read],
      ['write', workload.opWeights.write],
      ['cas', workload.opWeights.cas],
    ] as const);
    const pin = this.pinnedNow();
    if (pin !== null) {
      // The trap: a read at the pinned node, bypassing the log.
      this.target = pin.node;
      const record: HistoryOp = { client: this.id, key, output: null, ok: null, call: scheduler.nowUs, ret: null, op: 'read', value: null, expected: null };
      const op: Operation = { kind: 'op', requestId, command: { op: 'read', key }, session: null, seq: 0, body: { kind: 'read', key, mode: pin.mode }, record, attempt: 0, awaiting: false };
      this.startOp(op);
      return;
    }
    const value = chance(prng, workload.deleteProbability) ? null : `${this.id}.${requestId}`;
    let command: KvCommand;
    let record: HistoryOp;
    const base = { client: this.id, key, output: null, ok: null, call: scheduler.nowUs, ret: null };
    if (kind === 'read') {
      command = { op: 'read', key };
      record = { ...base, op: 'read', value: null, expected: null };
    } else if (kind === 'write') {
      command = { op: 'write', key, value };
      record = { ...base, op: 'write', value, expected: null };
    } else {
      const expected = this.guessExpected(key);
      command = { op: 'cas', key, expected, value: value ?? `${this.id}.${requestId}` };
      record = { ...base, op: 'cas', value: command.value, expected };
    }
    const readMode: ReadMode = pickWeighted(prng, [
      ['log', workload.readModeWeights.log],
      ['index', workload.readModeWeights.index],
      ['lease', workload.readModeWeights.lease],
    ] as const);
    let op: Operation;
    if (command.op === 'read' && readMode !== 'log') {
      op = { kind: 'op', requestId, command, session: null, seq: 0, body: { kind: 'read', key, mode: readMode }, record, attempt: 0, awaiting: false };
    } else {
      const seq = ++this.seq;
      const bytes = encodeSessionCommand({ type: 'request', clientId: session, seq, payload: encodeKvCommand(command) });
      op = { kind: 'op', requestId, command, session, seq, body: { kind: 'command', command: bytes }, record, attempt: 0, awaiting: false };
    }
    this.startOp(op);
  }

  private startOp(op: Operation): void {
    this.history.push(op.record);
    this.stats.ops++;
    this.current = op;
    const requestId = op.requestId;
    this.o.scheduler.after(this.o.workload.opTimeoutUs, () => this.deadline(requestId));
    this.sendAttempt();
  }

  private pickRoute(): void {
    const { prng, workload } = this.o;
    const route = pickWeighted(prng, [
      ['sticky', workload.routingWeights.sticky],
      ['home', workload.routingWeights.home],
      ['random', workload.routingWeights.random],
    ] as const);
    const nodes = this.o.directory();
    if (this.steeredTo !== null && this.o.scheduler.nowUs < this.steeredTo.untilUs) {
      this.target = this.steeredTo.node;
      return;
    }
    if (!nodes.includes(this.home)) this.home = pick(prng, nodes);
    if (route === 'home') this.target = this.home;
    else if (route === 'random' || !nodes.includes(this.target)) this.target = pick(prng, nodes);
  }

  private guessExpected(key: string): string | null {
    const { prng } = this.o;
    if (this.lastSeen.has(key) && chance(prng, 0.75)) return this.lastSeen.get(key) ?? null;
    // Sometimes a value of another client's recent write, or absence.
    const others = this.history.filter((op) => op.key === key && op.value !== null).slice(-8);
    if (others.length > 0 && chance(prng, 0.7)) return pick(prng, others).value;
    return null;
  }

  private sendAttempt(): void {
    const p = this.current;
    if (p === null) return;
    p.attempt++;
    p.awaiting = true;
    this.stats.attempts++;
    this.o.clientNet.send(this.endpoint, this.target, {
      kind: 'request',
      request: { clientId: this.id, requestId: p.requestId, attempt: p.attempt, body: p.body },
    });
    const { requestId, attempt } = p;
    this.o.scheduler.after(this.o.workload.attemptTimeoutUs, () => {
      const cur = this.current;
      if (cur === null || cur.requestId !== requestId || cur.attempt !== attempt || !cur.awaiting) return;
      // Silence: the attempt may have been applied or not. Retrying the same command is safe.
      this.stats.attemptTimeouts++;
      cur.awaiting = false;
      this.target = this.otherNode(this.target);
      this.sendAttempt();
    });
  }

  onResponse(r: ClientResponse): void {
    const p = this.current;
    if (p === null || r.requestId !== p.requestId) return; // a late answer to an older operation
    if (r.outcome.type === 'done') {
      if (p.kind === 'register') this.registered(r.outcome.result);
      else this.complete(p, r, r.outcome.result);
      return;
    }
    // Only a rejection of the attempt in flight counts; an older attempt was already handled.
    if (r.attempt !== p.attempt || !p.awaiting) return;
    p.awaiting = false;
    this.stats.rejections++;
    const hint = r.outcome.leaderHint;
    let delayUs: number;
    if (hint !== null && hint !== r.node && this.o.directory().includes(hint)) {
      this.target = hint;
      delayUs = 100 + this.o.prng.nextInt(2000);
    } else {
      this.target = this.otherNode(r.node);
      delayUs = sample(this.o.prng, this.o.workload.retryBackoff);
    }
    const { requestId, attempt } = p;
    this.o.scheduler.after(delayUs, () => {
      const cur = this.current;
      if (cur !== null && cur.requestId === requestId && cur.attempt === attempt && !cur.awaiting) this.sendAttempt();
    });
  }

  private registered(result: Uint8Array): void {
    const outcome = decodeSessionOutcome(result);
    assert(outcome.ok && outcome.value.status === 'registered', `client ${this.id}: a register was answered with ${outcome.ok ? outcome.value.status : 'garbage'}`);
    this.session = outcome.value.clientId;
    this.seq = 0;
    this.stats.registrations++;
    this.current = null;
    if (this.issuing) this.beginOp(this.session);
  }

  private complete(op: Operation, r: ClientResponse, bytes: Uint8Array): void {
    let resultBytes = bytes;
    if (op.body.kind === 'command') {
      const outcome = decodeSessionOutcome(bytes);
      assert(outcome.ok, `client ${this.id}: undecodable session outcome`);
      const o = outcome.value;
      if (o.status === 'expired') {
        // Not applied by that entry, but an earlier attempt may have been: unknown. New session.
        this.stats.expired++;
        this.abandon();
        if (this.session === op.session) this.session = null;
        return;
      }
      assert(o.status === 'applied' || o.status === 'duplicate', `client ${this.id}: command answered with ${o.status}`);
      resultBytes = o.result;
    }
    const decoded = decodeKvResult(resultBytes);
    assert(decoded.ok, `client ${this.id}: undecodable KV result`);
    const result: KvResult = decoded.value;
    const rec = op.record;
    const now = this.o.scheduler.nowUs;
    rec.ret = now;
    switch (result.op) {
      case 'read':
        rec.ok = true;
        rec.output = result.value;
        this.lastSeen.set(rec.key, result.value);
        break;
      case 'write':
        rec.ok = true;
        this.lastSeen.set(rec.key, rec.value);
        break;
      case 'cas':
        rec.ok = result.ok;
        rec.output = result.observed;
        this.lastSeen.set(rec.key, result.ok ? rec.value : result.observed);
        break;
      case 'invalid':
        assert(false, `client ${this.id}: the KV machine could not decode a command it sent`);
        break;
      default: {
        const never: never = result;
        return never;
      }
    }
    if (rec.ok) this.stats.ok++;
    else this.stats.failed++;
    if (op.session !== null) {
      this.acknowledged.push({ client: this.id, session: op.session, seq: op.seq, op: op.command.op, key: rec.key, ackUs: now });
    }
    this.target = r.node;
    this.current = null;
    this.scheduleNext();
  }

  /** The operation's deadline passed without an answer: unknown outcome. */
  private deadline(requestId: number): void {
    const op = this.current;
    if (op === null || op.requestId !== requestId) return;
    this.abandon();
    this.target = pick(this.o.prng, this.o.directory());
  }

  /** The current operation's outcome is unknown: ok and ret stay null. Move on. */
  private abandon(): void {
    this.stats.unknown++;
    this.current = null;
    this.scheduleNext();
  }

  private otherNode(not: NodeId): NodeId {
    const others = this.o.directory().filter((n) => n !== not);
    return others.length === 0 ? not : pick(this.o.prng, others);
  }
}
