/**
 * A simulated client of the replicated KV store: an application calling a node's driver, as a
 * page calls the node in its worker. Each client runs one operation at a time (read, write or
 * compare-and-set on a small key set), and clients run concurrently, so the history has
 * overlapping operations for the linearizability checker.
 *
 * Per operation:
 *   1. It is recorded in the history at its call time, with a unique value for writes (so the
 *      checker can tell writes apart).
 *   2. It goes to a node (sticky to the last that answered, the client's own, or any): a write,
 *      a compare-and-set or a `log` read is proposed through that node's driver, whose client
 *      sessions make it exactly-once however often the driver resubmits it (dissertation §6.3);
 *      an `index` or `lease` read waits for the node's ReadIndex or lease, then reads the key in
 *      that node's state machine. A call and its answer each take a small delay (a postMessage).
 *   3. A node that is down or paused takes nothing: a DEFINITE refusal, and the same operation
 *      goes to another node after a short backoff. So does a proposal the driver refused before
 *      proposing it (too many pending).
 *   4. An answer completes the operation (ok, output, return time). A driver that gave up
 *      (TIMEOUT, SESSION_EXPIRED), or stopped (its node crashed) with the operation in flight,
 *      leaves the outcome UNKNOWN (ok and ret null): it may have taken effect, at any time after
 *      the call, or never. So does silence until the operation's deadline (`opTimeoutUs`). The
 *      client moves on to its next operation; it never retries an operation that may have taken
 *      effect elsewhere (its session lives in the node it went to).
 *
 * A client may also be steered by the nemesis (aimed-*.ts): pinned to a node and reading there
 * (the stale-read trap; a `trapReader` does nothing else), steered away from a node or to it.
 */
import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';
import type { NodeId } from '../core/raft/types.ts';
import type { Result } from '../core/result.ts';
import { decodeKvResult, encodeKvCommand, type KvCommand, type KvResult } from '../machines/kv.ts';
import type { NodeError } from '../runtime/errors.ts';
import type { ProposalApplied } from '../runtime/proposals.ts';
import type { AcknowledgedCommand } from './checkers/acknowledged-writes.ts';
import { chance, pick, pickWeighted, sample, type Distribution } from './distributions.ts';
import type { HistoryOp } from './history.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimNode } from './sim-node.ts';

/**
 * How a read is served: `log` proposes a read command through the log; `index` asks ReadIndex
 * (a quorum heartbeat round) and reads locally once applied; `lease` uses the leader lease.
 */
export type ReadMode = 'log' | 'index' | 'lease';

export interface ClientWorkload {
  readonly keys: readonly string[];
  /** Pause between one operation's end and the next one's call. */
  readonly think: Distribution;
  /** An operation not answered within this (from its call) becomes unknown. */
  readonly opTimeoutUs: number;
  /** Wait before trying another node after a definite refusal. */
  readonly retryBackoff: Distribution;
  /** One way of a call to a node or of its answer (the page to its worker). */
  readonly callDelay: Distribution;
  readonly opWeights: { readonly read: number; readonly write: number; readonly cas: number };
  readonly readModeWeights: { readonly log: number; readonly index: number; readonly lease: number };
  /** Probability that a write deletes the key (writes null). */
  readonly deleteProbability: number;
  /**
   * Where an operation goes: `sticky` to the node that answered last, `home` to the client's
   * own node (a tab talks to its own worker), `random` to any node (a load balancer).
   */
  readonly routingWeights: { readonly sticky: number; readonly home: number; readonly random: number };
  /**
   * Now and then a client dozes off between operations (a hidden tab), long enough on some seeds
   * for sessions to expire; only until `calm()` (the liveness phase).
   */
  readonly naps: { readonly probability: number; readonly duration: Distribution } | null;
}

export interface SimClientOptions {
  readonly id: number;
  /** The nodes a client may talk to now (the cluster's members; it changes with membership). */
  readonly directory: () => readonly NodeId[];
  readonly node: (id: NodeId) => SimNode | undefined;
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly workload: ClientWorkload;
  /** A reader for the nemesis's stale-read trap: it issues nothing unless pinned (`pin`). */
  readonly trapReader?: boolean;
}

export interface ClientStats {
  ops: number;
  ok: number;
  failed: number;
  unknown: number;
  /** Definite refusals (a node down or paused, a proposal refused before proposing). */
  rejections: number;
  /** Operations whose session expired (then unknown). */
  expired: number;
  naps: number;
}

interface Operation {
  readonly requestId: number;
  readonly command: KvCommand;
  /** `log` for commands and log reads; else the read's mode. */
  readonly mode: ReadMode;
  readonly record: HistoryOp;
}

export class SimClient {
  readonly id: number;
  readonly history: HistoryOp[] = [];
  /** Commands through the log whose outcome this client received, with the session that carried each. */
  readonly acknowledged: AcknowledgedCommand[] = [];
  readonly stats: ClientStats = { ops: 0, ok: 0, failed: 0, unknown: 0, rejections: 0, expired: 0, naps: 0 };
  private current: Operation | null = null;
  private issuing = false;
  private napsOn = true;
  private napping = false;
  private requestIdSeq = 0;
  /** Only the latest scheduled wake-up may begin the next operation. */
  private wakeSeq = 0;
  private target: NodeId;
  /** The client's own node (see `routingWeights`). */
  private home: NodeId;
  /** The last value this client saw per key (for plausible cas expectations). */
  private readonly lastSeen = new Map<string, string | null>();
  /** Until then, little thought between operations (see `steerAwayFrom`, `steerTo`). */
  private burstUntilUs = 0;
  /** Where operations go until then (see `steerTo`). */
  private steeredTo: { readonly node: NodeId; readonly untilUs: number } | null = null;
  /** Pinned by the nemesis (the stale-read trap): every operation until then is a read there. */
  private pinned: { readonly node: NodeId; readonly untilUs: number; readonly mode: 'index' | 'lease' } | null = null;

  constructor(private readonly o: SimClientOptions) {
    this.id = o.id;
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

  /** Issue no new operation; the current one still finishes or times out. */
  stopIssuing(): void {
    this.issuing = false;
  }

  get idle(): boolean {
    return this.current === null;
  }

  /**
   * The stale-read trap (TESTING.md): until `untilUs`, every operation is a `mode` read at `node`
   * (a leader the nemesis cut off from its peers), one after another with little thought between.
   * A node that may no longer lead must not answer them.
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
   * A load balancer's health check failed for `node`: the next operations go elsewhere, and until
   * `untilUs` the client works without pause (a burst of traffic while the trap is set).
   */
  steerAwayFrom(node: NodeId, untilUs: number): void {
    this.burstUntilUs = untilUs;
    if (this.target === node) this.target = this.otherNode(node);
  }

  /** Until `untilUs`, every operation goes to `node`, with little thought between operations. */
  steerTo(node: NodeId, untilUs: number): void {
    this.burstUntilUs = untilUs;
    this.target = node;
    this.steeredTo = { node, untilUs };
  }

  private pinnedNow(): { readonly node: NodeId; readonly mode: 'index' | 'lease' } | null {
    if (this.pinned !== null && this.o.scheduler.nowUs >= this.pinned.untilUs) this.pinned = null;
    return this.pinned;
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
    if (this.o.trapReader === true && this.pinnedNow() === null) return;
    this.pickRoute();
    const op = this.newOperation();
    this.history.push(op.record);
    this.stats.ops++;
    this.current = op;
    const requestId = op.requestId;
    this.o.scheduler.after(this.o.workload.opTimeoutUs, () => {
      if (this.current?.requestId === requestId) this.abandon();
    });
    this.call(op);
  }

  private newOperation(): Operation {
    const { prng, workload, scheduler } = this.o;
    const requestId = ++this.requestIdSeq;
    const key = pick(prng, workload.keys);
    const kind = pickWeighted(prng, [
      ['read', workload.opWeights.read],
      ['write', workload.opWeights.write],
      ['cas', workload.opWeights.cas],
    ] as const);
    const base = { client: this.id, key, output: null, ok: null, call: scheduler.nowUs, ret: null };
    const pin = this.pinnedNow();
    if (pin !== null) {
      // The trap: a read at the pinned node, outside the log.
      this.target = pin.node;
      return { requestId, command: { op: 'read', key }, mode: pin.mode, record: { ...base, op: 'read', value: null, expected: null } };
    }
    const value = chance(prng, workload.deleteProbability) ? null : `${this.id}.${requestId}`;
    const readMode: ReadMode = pickWeighted(prng, [
      ['log', workload.readModeWeights.log],
      ['index', workload.readModeWeights.index],
      ['lease', workload.readModeWeights.lease],
    ] as const);
    if (kind === 'read') return { requestId, command: { op: 'read', key }, mode: readMode, record: { ...base, op: 'read', value: null, expected: null } };
    if (kind === 'write') return { requestId, command: { op: 'write', key, value }, mode: 'log', record: { ...base, op: 'write', value, expected: null } };
    const expected = this.guessExpected(key);
    const casValue = value ?? `${this.id}.${requestId}`;
    return { requestId, command: { op: 'cas', key, expected, value: casValue }, mode: 'log', record: { ...base, op: 'cas', value: casValue, expected } };
  }

  /** Call the target node (after the call's delay); a node that takes nothing is a definite refusal. */
  private call(op: Operation): void {
    const { scheduler, prng, workload } = this.o;
    scheduler.after(sample(prng, workload.callDelay), () => {
      if (this.current !== op) return;
      const node = this.o.node(this.target);
      const answer = <T>(fn: (r: T) => void) => (r: T): void => {
        scheduler.after(sample(prng, workload.callDelay), () => {
          if (this.current === op) fn(r);
        });
      };
      let taken = false;
      if (node !== undefined) {
        if (op.mode === 'log') taken = node.submit(encodeKvCommand(op.command), answer((r: Result<ProposalApplied, NodeError>) => this.onCommand(op, node.id, r)));
        else {
          // The value is read when the node says the read may be served; the answer then takes
          // its way back (the node may crash meanwhile: what it served stands).
          const back = answer((r: Result<string | null, NodeError>) => this.onRead(op, node.id, r));
          taken = node.read(op.mode, (r) => back(r.ok ? { ok: true, value: node.localRead(op.record.key) } : r));
        }
      }
      if (!taken) this.refused(op);
    });
  }

  private onCommand(op: Operation, nodeId: NodeId, r: Result<ProposalApplied, NodeError>): void {
    if (!r.ok) {
      this.onError(op, r.error);
      return;
    }
    const decoded = decodeKvResult(r.value.result);
    assert(decoded.ok, `client ${this.id}: undecodable KV result`);
    this.complete(op, nodeId, decoded.value);
    if (op.command.op !== 'read') {
      this.acknowledged.push({ client: this.id, session: r.value.session, seq: r.value.seq, op: op.command.op, key: op.record.key, ackUs: this.o.scheduler.nowUs });
    }
  }

  private onRead(op: Operation, node: NodeId, r: Result<string | null, NodeError>): void {
    if (!r.ok) {
      this.onError(op, r.error);
      return;
    }
    this.complete(op, node, { op: 'read', value: r.value });
  }

  private onError(op: Operation, error: NodeError): void {
    switch (error.code) {
      case 'PROPOSAL_DROPPED':
        // Refused before it was proposed: nothing happened.
        this.refused(op);
        return;
      case 'SESSION_EXPIRED':
        this.stats.expired++;
        this.abandon();
        return;
      case 'TIMEOUT':
      case 'STOPPED':
        this.abandon();
        return;
      default:
        assert(false, `client ${this.id}: unexpected ${error.code} from a node: ${error.message}`);
    }
  }

  /** A definite refusal: the same operation goes to another node after a short backoff. */
  private refused(op: Operation): void {
    this.stats.rejections++;
    if (this.pinnedNow() === null) this.target = this.otherNode(this.target);
    this.o.scheduler.after(sample(this.o.prng, this.o.workload.retryBackoff), () => {
      if (this.current === op) this.call(op);
    });
  }

  private complete(op: Operation, node: NodeId, result: KvResult): void {
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
    if (this.pinnedNow() === null) this.target = node;
    this.current = null;
    this.scheduleNext();
  }

  /** The current operation's outcome is unknown: ok and ret stay null. Move on, elsewhere. */
  private abandon(): void {
    this.stats.unknown++;
    this.current = null;
    this.target = pick(this.o.prng, this.o.directory());
    this.scheduleNext();
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

  private otherNode(not: NodeId): NodeId {
    const others = this.o.directory().filter((n) => n !== not);
    return others.length === 0 ? not : pick(this.o.prng, others);
  }
}
