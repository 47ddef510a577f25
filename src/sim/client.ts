/**
 * A simulated client of the replicated KV store. Each client runs one operation at a time
 * (read, write or compare-and-set on a small key set), and clients run concurrently, so the
 * history has overlapping operations for the linearizability checker.
 *
 * Per operation:
 *   1. It is recorded in the history at its call time, with a unique value for writes (so the
 *      checker can tell writes apart).
 *   2. The request goes to the node the client believes leads. A DEFINITE rejection (NotLeader,
 *      a proposal or read dropped before acceptance, an accepted entry superseded at its index)
 *      had no effect, so the client retries, at the hinted leader if there is one, else at
 *      another node after a short backoff. Retries keep the request id.
 *   3. An answer completes the operation (ok, output, return time).
 *   4. Silence until the operation's deadline makes it UNKNOWN (ok and ret null): it may have
 *      taken effect, at any time after its call, or never. The client moves on to a NEW
 *      operation and never re-submits the old one, since without sessions a second copy could
 *      apply twice. (Its request id is retired; the KV machine's per-client request ids make a
 *      late duplicate of it harmless.)
 */
import type { Prng } from '../core/prng.ts';
import type { NodeId } from '../core/raft/types.ts';
import type { KvCommand } from '../machines/kv.ts';
import type { AcknowledgedWrite } from './checkers/acknowledged-writes.ts';
import { clientEndpoint, type ClientMessage, type ClientResponse, type ReadMode } from './client-protocol.ts';
import { chance, pick, pickWeighted, sample, type Distribution } from './distributions.ts';
import type { HistoryOp } from './history.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';

export interface ClientWorkload {
  readonly keys: readonly string[];
  /** Pause between one operation's end and the next one's call. */
  readonly think: Distribution;
  /** An operation not answered within this becomes unknown. */
  readonly opTimeoutUs: number;
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
}

export interface SimClientOptions {
  readonly id: number;
  readonly nodes: readonly NodeId[];
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly clientNet: Network<ClientMessage>;
  readonly workload: ClientWorkload;
}

export interface ClientStats {
  ops: number;
  ok: number;
  failed: number;
  unknown: number;
  attempts: number;
  rejections: number;
}

interface CurrentOp {
  readonly requestId: number;
  readonly command: KvCommand;
  readonly readMode: ReadMode;
  readonly record: HistoryOp;
  attempt: number;
  /** An attempt is out and not yet rejected. */
  awaiting: boolean;
}

export class SimClient {
  readonly id: number;
  readonly endpoint: string;
  /** Every operation, in call order (records are completed in place when they return). */
  readonly history: HistoryOp[] = [];
  readonly acknowledged: AcknowledgedWrite[] = [];
  readonly stats: ClientStats = { ops: 0, ok: 0, failed: 0, unknown: 0, attempts: 0, rejections: 0 };
  private requestIdSeq = 0;
  private current: CurrentOp | null = null;
  private issuing = false;
  private target: NodeId;
  /** The client's own node (see `routingWeights`). */
  private readonly home: NodeId;
  /** The last value this client saw per key (for plausible cas expectations). */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(private readonly o: SimClientOptions) {
    this.id = o.id;
    this.endpoint = clientEndpoint(o.id);
    this.home = o.nodes[o.id % o.nodes.length] as NodeId;
    this.target = this.home;
  }

  start(): void {
    this.issuing = true;
    this.scheduleNext();
  }

  /** Issue no new operation; the current one still finishes or times out. */
  stopIssuing(): void {
    this.issuing = false;
  }

  get idle(): boolean {
    return this.current === null;
  }

  private scheduleNext(): void {
    if (!this.issuing) return;
    this.o.scheduler.after(sample(this.o.prng, this.o.workload.think), () => {
      if (this.issuing && this.current === null) this.begin();
    });
  }

  private begin(): void {
    const { prng, workload, scheduler } = this.o;
    const requestId = ++this.requestIdSeq;
    const key = pick(prng, workload.keys);
    const kind = pickWeighted(prng, [
      ['read', workload.opWeights.read],
      ['write', workload.opWeights.write],
      ['cas', workload.opWeights.cas],
    ] as const);
    const value = chance(prng, workload.deleteProbability) ? null : `${this.id}.${requestId}`;
    let command: KvCommand;
    let record: HistoryOp;
    const base = { client: this.id, key, output: null, ok: null, call: scheduler.nowUs, ret: null };
    if (kind === 'read') {
      command = { op: 'read', clientId: this.id, requestId, key };
      record = { ...base, op: 'read', value: null, expected: null };
    } else if (kind === 'write') {
      command = { op: 'write', clientId: this.id, requestId, key, value };
      record = { ...base, op: 'write', value, expected: null };
    } else {
      const expected = this.guessExpected(key);
      command = { op: 'cas', clientId: this.id, requestId, key, expected, value: value ?? `${this.id}.${requestId}` };
      record = { ...base, op: 'cas', value: command.value, expected };
    }
    const readMode = pickWeighted(prng, [
      ['log', workload.readModeWeights.log],
      ['index', workload.readModeWeights.index],
      ['lease', workload.readModeWeights.lease],
    ] as const);
    const route = pickWeighted(prng, [
      ['sticky', workload.routingWeights.sticky],
      ['home', workload.routingWeights.home],
      ['random', workload.routingWeights.random],
    ] as const);
    if (route === 'home') this.target = this.home;
    else if (route === 'random') this.target = pick(prng, this.o.nodes);
    this.history.push(record);
    this.stats.ops++;
    this.current = { requestId, command, readMode, record, attempt: 0, awaiting: false };
    scheduler.after(workload.opTimeoutUs, () => this.timeout(requestId));
    this.sendAttempt();
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
    const op = this.current;
    if (op === null) return;
    op.attempt++;
    op.awaiting = true;
    this.stats.attempts++;
    this.o.clientNet.send(this.endpoint, this.target, {
      kind: 'request',
      request: { clientId: this.id, requestId: op.requestId, attempt: op.attempt, command: op.command, readMode: op.readMode },
    });
  }

  onResponse(r: ClientResponse): void {
    const op = this.current;
    if (op === null || r.requestId !== op.requestId) return; // a late answer to an older operation
    if (r.outcome.type === 'done') {
      this.complete(op, r);
      return;
    }
    // Only a rejection of the attempt in flight counts; an older attempt was already handled.
    if (r.attempt !== op.attempt || !op.awaiting) return;
    op.awaiting = false;
    this.stats.rejections++;
    const hint = r.outcome.leaderHint;
    let delayUs: number;
    if (hint !== null && hint !== r.node && this.o.nodes.includes(hint)) {
      this.target = hint;
      delayUs = 100 + this.o.prng.nextInt(2000);
    } else {
      this.target = this.otherNode(r.node);
      delayUs = sample(this.o.prng, this.o.workload.retryBackoff);
    }
    const { requestId, attempt } = op;
    this.o.scheduler.after(delayUs, () => {
      const cur = this.current;
      if (cur !== null && cur.requestId === requestId && cur.attempt === attempt && !cur.awaiting) this.sendAttempt();
    });
  }

  private complete(op: CurrentOp, r: ClientResponse): void {
    if (r.outcome.type !== 'done') return;
    const result = r.outcome.result;
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
      default: {
        const never: never = result;
        return never;
      }
    }
    if (rec.ok) this.stats.ok++;
    else this.stats.failed++;
    if (op.command.op !== 'read') {
      this.acknowledged.push({ clientId: this.id, requestId: op.requestId, op: op.command.op, key: rec.key, ackUs: now });
    }
    this.target = r.node;
    this.current = null;
    this.scheduleNext();
  }

  private timeout(requestId: number): void {
    const op = this.current;
    if (op === null || op.requestId !== requestId) return;
    // Unknown outcome: ok and ret stay null. Never re-submitted.
    this.stats.unknown++;
    this.current = null;
    this.target = pick(this.o.prng, this.o.nodes);
    this.scheduleNext();
  }

  private otherNode(not: NodeId): NodeId {
    const others = this.o.nodes.filter((n) => n !== not);
    return others.length === 0 ? not : pick(this.o.prng, others);
  }
}
