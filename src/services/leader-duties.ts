/**
 * What only the leader's runtime does for the services (issue 14): it proposes the replicated
 * time, and it runs tool calls exactly once.
 *
 * TIME. While this node leads it proposes a `time` command every `timeIntervalMs` (its wall
 * clock, never below what it proposed before), and one at once when it becomes leader, so that
 * leases expire soon after a failover too. The machine ignores a time that does not advance
 * (a new leader whose clock is behind changes nothing until its clock passes: leases then last
 * longer, never shorter). One time proposal in flight at most.
 *
 * TOOLS (src/machines/services/tools.ts has the protocol). On applying `requested` while it
 * leads, the leader proposes `started` in its term; on applying ITS OWN accepted `started`
 * (holder = this node and this term, a start this runtime proposed) it runs the handler, once,
 * and proposes `completed` with the result or `failed` with the error. The handler runs only
 * after the start is committed: a leader deposed before that never runs it. Decision: the
 * LEADER runs every call (the issue says so); a leader without a handler for the tool commits
 * `failed` ("no handler on the leader") rather than leaving the caller waiting, so apps
 * register their tools on every node that may lead.
 *
 * TAKEOVER. A new leader's first time command is applied only after every entry of earlier
 * terms (Raft's leader completeness: they precede it in the log), so the tools part's
 * `takeover` query then lists every call without outcome: requested ones are started;
 * started ones of an idempotent tool are started again in this term (which fences the old
 * holder) and run; any other is marked `indeterminate`, never run twice.
 */
import { timeCommand } from '../machines/services/composite.ts';
import { decodeServiceAnswer, encodeServiceCommand } from '../machines/services/codec.ts';
import type { Change } from '../machines/services/part.ts';
import type { TakeoverAction, ToolCall } from '../machines/services/tools.ts';
import type { Value } from '../machines/services/value.ts';
import type { ServicesPort, ServicesTimings } from './services-port.ts';

/** A tool's handler; it runs in the page that registered it (the worker reaches it through comlink). */
export type ToolHandler = (args: Value, call: { readonly key: string; readonly tool: string; readonly term: number }) => Value | PromiseLike<Value>;

/** A tool transition this runtime proposes: `{ op, key, node, term, ... }`. */
type ToolTransition = { readonly op: string; readonly key: string; readonly term: number; readonly [field: string]: unknown };

export interface ToolRegistration {
  readonly handler: ToolHandler;
  readonly idempotent: boolean;
}

export interface LeaderDutiesMetrics {
  timeProposed: number;
  toolStartsProposed: number;
  toolRuns: number;
  toolIndeterminateProposed: number;
  takeovers: number;
}

export class LeaderDuties {
  readonly metrics: LeaderDutiesMetrics = { timeProposed: 0, toolStartsProposed: 0, toolRuns: 0, toolIndeterminateProposed: 0, takeovers: 0 };
  /** The term this node leads in, while it does (null: not leading). */
  private leadingTerm: number | null = null;
  private cancelTick: (() => void) | null = null;
  private timeInFlight = false;
  private lastTimeMs = 0;
  /** Starts this runtime proposed, key -> term (only its own accepted starts run the handler). */
  private readonly startsProposed = new Map<string, number>();
  /** Runs begun, by "key@term": a start applied twice (never) or replayed still runs once. */
  private readonly runs = new Set<string>();
  private stopped = false;

  constructor(
    private readonly port: ServicesPort,
    private readonly timings: ServicesTimings,
    private readonly tools: ReadonlyMap<string, ToolRegistration>,
  ) {}

  /** The node's role or term may have changed (called after each Ready, deferred out of it). */
  roleChanged(): void {
    if (this.stopped) return;
    const leading = this.port.isLeader() ? this.port.term() : null;
    if (leading === this.leadingTerm) return;
    this.leadingTerm = leading;
    this.cancelTick?.();
    this.cancelTick = null;
    this.startsProposed.clear();
    if (leading === null) return;
    // A new leader: a time command at once, then the takeover once it is applied.
    this.proposeTime(() => this.takeover(leading));
    this.scheduleTick();
  }

  private scheduleTick(): void {
    this.cancelTick = this.port.clock.after(this.timings.timeIntervalMs, () => {
      this.cancelTick = null;
      if (this.stopped || this.leadingTerm === null) return;
      this.proposeTime(null);
      this.scheduleTick();
    });
  }

  private proposeTime(then: (() => void) | null): void {
    if (this.timeInFlight && then === null) return;
    this.timeInFlight = true;
    const timeMs = Math.max(Math.floor(this.port.wallMs()), this.lastTimeMs + 1);
    this.lastTimeMs = timeMs;
    this.metrics.timeProposed++;
    this.port.propose(timeCommand(timeMs), (r) => {
      this.timeInFlight = false;
      if (r.ok) then?.();
      else if (then !== null) this.retryTakeover(then);
    });
  }

  /**
   * A new leader's first time command failed (timed out, so it may still commit, or was
   * dropped): the takeover waits on it, and without another try it never ran in this term, so a
   * call left started by the old leader stayed started and its callers waited for good (found by
   * the services simulator with snapshots, a loaded leader). Tried again every
   * `timeIntervalMs` while this node leads in that term; one proposal in flight at a time.
   */
  private retryTakeover(then: () => void): void {
    const term = this.leadingTerm;
    if (term === null) return;
    this.port.clock.after(this.timings.timeIntervalMs, () => {
      if (this.leads(term)) this.proposeTime(then);
    });
  }

  private leads(term: number): boolean {
    return !this.stopped && this.leadingTerm === term && this.port.isLeader() && this.port.term() === term;
  }

  private takeover(term: number): void {
    if (!this.leads(term)) return;
    this.metrics.takeovers++;
    const actions = this.port.machine.query({ service: 'tools', query: { q: 'takeover' } }) as readonly TakeoverAction[];
    for (const a of actions) {
      if (a.action === 'mark-indeterminate') {
        this.metrics.toolIndeterminateProposed++;
        this.proposeTools({ op: 'indeterminate', key: a.key, node: this.port.self, term });
      } else this.start(a.key, term);
    }
  }

  private start(key: string, term: number): void {
    if (this.startsProposed.get(key) === term) return;
    this.startsProposed.set(key, term);
    this.metrics.toolStartsProposed++;
    this.proposeTools({ op: 'started', key, node: this.port.self, term });
  }

  /**
   * Propose a tool transition of `term`; if the proposal fails (TIMEOUT, dropped: it may not
   * be in the log), propose it again every `timeIntervalMs` while this node still leads in
   * `term` and the call still waits for it. Without this a lost `completed` left the call
   * started (and its callers waiting) until the next leader's takeover, and a lost `started`
   * left it requested: found by the services simulator (issue 14 item 7). A copy applied
   * twice is refused by the machine the second time (the call moved on), changing nothing.
   */
  private proposeTools(command: ToolTransition): void {
    this.port.propose(encodeServiceCommand('tools', command), (r) => {
      if (r.ok) return;
      this.port.clock.after(this.timings.timeIntervalMs, () => {
        if (this.leads(command.term) && this.stillWaits(command)) this.proposeTools(command);
      });
    });
  }

  private stillWaits(command: ToolTransition): boolean {
    const call = this.port.machine.query({ service: 'tools', query: { q: 'call', key: command.key } }) as ToolCall | null;
    if (call === null) return false;
    if (command.op === 'started') return call.state === 'requested' || (call.state === 'started' && (call.holder?.term ?? 0) < command.term);
    if (command.op === 'indeterminate') return call.state === 'started';
    return call.state === 'started' && call.holder?.node === this.port.self && call.holder.term === command.term;
  }

  /** A tools change was applied here (in log order). */
  applied(change: Change): void {
    if (change.kind !== 'tool-call' || this.leadingTerm === null) return;
    const term = this.leadingTerm;
    if (change.state === 'requested') {
      if (this.leads(term)) this.start(change.key, term);
      return;
    }
    if (change.state !== 'started' || this.startsProposed.get(change.key) !== term) return;
    const call = this.port.machine.query({ service: 'tools', query: { q: 'call', key: change.key } }) as ToolCall | null;
    if (call?.state !== 'started' || call.holder?.node !== this.port.self || call.holder.term !== term) return;
    const run = `${call.key}@${term}`;
    if (this.runs.has(run)) return;
    this.runs.add(run);
    if (this.runs.size > this.timings.waitersMax) this.runs.delete(this.runs.values().next().value as string);
    this.run(call, term);
  }

  private run(call: ToolCall, term: number): void {
    const finish = (outcome: { readonly result: Value } | { readonly error: string }): void => {
      const base = { key: call.key, node: this.port.self, term };
      try {
        this.proposeTools('result' in outcome ? { op: 'completed', ...base, result: outcome.result } : { op: 'failed', ...base, error: outcome.error });
      } catch (e) {
        // The handler answered something that is not a value (a function, a cycle, NaN...).
        this.proposeTools({ op: 'failed', ...base, error: `the handler's result is not a value: ${errorText(e)}` });
      }
    };
    const tool = this.tools.get(call.tool);
    if (tool === undefined) {
      finish({ error: `no handler for tool ${call.tool} on the leader ${this.port.self}` });
      return;
    }
    this.metrics.toolRuns++;
    let pending: Value | PromiseLike<Value>;
    try {
      pending = tool.handler(call.args, { key: call.key, tool: call.tool, term });
    } catch (e) {
      finish({ error: errorText(e) });
      return;
    }
    settle(pending, (result) => finish({ result: result ?? null }), (e) => finish({ error: errorText(e) }));
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
    this.cancelTick = null;
  }
}

/**
 * Follow a handler's answer: a plain value at once; a thenable through its OWN `then` (a native
 * promise settles as with `Promise.resolve(p).then`, in a microtask; the simulator's results,
 * which settle in virtual time, settle when the simulator says, with no microtask it cannot
 * drive). A `then` that throws fails the run.
 */
export function settle(pending: Value | PromiseLike<Value>, ok: (v: Value) => void, fail: (e: unknown) => void): void {
  if (!isThenable(pending)) {
    ok(pending);
    return;
  }
  try {
    pending.then(ok, fail);
  } catch (e) {
    fail(e);
  }
}

function isThenable(v: unknown): v is PromiseLike<Value> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export function errorText(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.slice(0, 4096);
}

/** The tools part's answer to a proposal, or null when it was not applied as a tools result. */
export function toolsAnswer<R>(bytes: Uint8Array): R | null {
  const a = decodeServiceAnswer<R>(bytes);
  return a.status === 'applied' ? a.result : null;
}
