/**
 * The coordination services' runtime on one node (issue 14): what turns the pure services
 * machine (src/machines/services/) into services a page can use. It is told of every command
 * the node applies (`applied`, in log order, on every replica) and takes the machine's change
 * report at once; from it:
 *   - watches fire with their new answer (./watch-query.ts): change feeds in log order;
 *   - callers waiting for an outcome (a tool call's, a task's) get the COMMITTED outcome as
 *     their own node applies it, whichever node ran the tool;
 *   - the leader's duties (./leader-duties.ts): time, tool starts and runs, takeover;
 *   - local agents get their assigned tasks (./agent-host.ts).
 * Proposals this triggers are made after the apply, never inside it (`clock.after(0)`): the
 * apply runs inside the driver's Ready, which must not be re-entered.
 */
import type { TaggedError } from '../core/error-code.ts';
import type { Result } from '../core/result.ts';
import { decodeServiceAnswer, encodeServiceCommand } from '../machines/services/codec.ts';
import type { Change } from '../machines/services/part.ts';
import type { Task } from '../machines/services/tasks.ts';
import type { ToolCall, ToolsResult } from '../machines/services/tools.ts';
import type { Value } from '../machines/services/value.ts';
import { AgentHost, type AgentHandler } from './agent-host.ts';
import { LeaderDuties, type ToolHandler, type ToolRegistration } from './leader-duties.ts';
import { tagged, type ServicesPort, type ServicesTimings } from './services-port.ts';
import { checkWatchQuery, watchAnswer, watchMatches, type WatchQuery } from './watch-query.ts';

/** A watch fired: its id, the log index of the command that changed the answer, the answer. */
export interface ServicesWatchEvent {
  readonly type: 'service-watch';
  readonly watch: number;
  readonly index: number;
  readonly answer: unknown;
}

const finalCallStates: ReadonlySet<string> = new Set(['completed', 'failed', 'indeterminate']);
const finalTaskStates: ReadonlySet<string> = new Set(['done', 'failed']);

interface Waiter<T> {
  readonly done: (r: Result<T>) => void;
  readonly cancel: () => void;
}

export interface ToolCallOptions {
  readonly key: string;
  /** The tool's policy when this node does not have it registered (default: this node's, else false). */
  readonly idempotent?: boolean;
  readonly timeoutMs: number;
}

export class ServicesHost {
  readonly leader: LeaderDuties;
  readonly agents: AgentHost;
  private readonly tools = new Map<string, ToolRegistration>();
  private readonly watches = new Map<number, WatchQuery>();
  private readonly callWaiters = new Map<string, Waiter<ToolCall>[]>();
  private readonly taskWaiters = new Map<string, Waiter<Task>[]>();
  private waiterCount = 0;
  private lastIndex = 0;
  private stopped = false;

  constructor(
    private readonly port: ServicesPort,
    private readonly timings: ServicesTimings,
    private readonly emit: (e: ServicesWatchEvent) => void,
  ) {
    this.leader = new LeaderDuties(port, timings, this.tools);
    this.agents = new AgentHost(port, timings);
  }

  /** A committed command was applied at `index`: take what it changed, now, before the next. */
  applied(index: number): void {
    this.lastIndex = index;
    const changes = this.port.machine.takeChanges();
    if (changes.length === 0 || this.stopped) return;
    this.fireWatches(changes, index);
    for (const c of changes) {
      if (c.kind === 'tool-call' && finalCallStates.has(c.state)) this.settleCall(c.key);
      if (c.kind === 'task' && finalTaskStates.has(c.state)) this.settleTask(c.id);
    }
    // Proposals after the Ready, not inside it.
    this.port.clock.after(0, () => {
      if (this.stopped) return;
      for (const c of changes) {
        this.leader.applied(c);
        this.agents.applied(c);
      }
    });
  }

  /** The machine became a snapshot's state: every watch fires again; waiters look again. */
  reset(index: number): void {
    this.lastIndex = index;
    this.port.machine.takeChanges();
    if (this.stopped) return;
    for (const [id, q] of this.watches) this.fire(id, q, null, index);
    for (const key of [...this.callWaiters.keys()]) this.settleCall(key);
    for (const id of [...this.taskWaiters.keys()]) this.settleTask(id);
    this.port.clock.after(0, () => this.agents.rescan());
  }

  /** Role or term may have moved. */
  roleChanged(): void {
    this.port.clock.after(0, () => this.leader.roleChanged());
  }

  private fireWatches(changes: readonly Change[], index: number): void {
    for (const [id, q] of this.watches) {
      // One event per command for a state; per record or key for the audit log and prefixes.
      const each = q.kind === 'audit' || q.kind === 'prefix';
      for (const c of changes) {
        if (!watchMatches(q, c)) continue;
        this.fire(id, q, c.kind === 'overflow' ? null : c, index);
        if (!each || c.kind === 'overflow') break;
      }
    }
  }

  private fire(id: number, q: WatchQuery, change: Change | null, index: number): void {
    let answer: unknown;
    try {
      answer = watchAnswer(q, change, this.port.machine);
    } catch (e) {
      answer = { error: e instanceof Error ? e.message : String(e) };
    }
    this.emit({ type: 'service-watch', watch: id, index, answer });
  }

  watch(id: number, query: unknown): Result<number> {
    const q = checkWatchQuery(query);
    if (typeof q === 'string') return { ok: false, error: tagged('CONFIG', q) };
    if (!this.watches.has(id) && this.watches.size >= this.timings.watchesMax) return { ok: false, error: tagged('PROPOSAL_DROPPED', `${this.watches.size} watches on this node`) };
    this.watches.set(id, q);
    // The answer now, so that the page starts from the state its events build on.
    this.fire(id, q, null, this.lastIndex);
    return { ok: true, value: this.lastIndex };
  }

  unwatch(id: number): void {
    this.watches.delete(id);
  }

  registerTool(name: string, handler: ToolHandler, idempotent: boolean): Result<void> {
    if (!this.tools.has(name) && this.tools.size >= this.timings.handlersMax) return { ok: false, error: tagged('CONFIG', `${this.tools.size} tools registered here`) };
    this.tools.set(name, { handler, idempotent });
    return { ok: true, value: undefined };
  }

  unregisterTool(name: string): void {
    this.tools.delete(name);
  }

  registerAgent(id: string, capabilities: readonly string[], handler: AgentHandler, done: (r: Result<unknown>) => void): void {
    if (!this.agents.has(id) && this.agents.size >= this.timings.handlersMax) {
      done({ ok: false, error: tagged('CONFIG', `${this.agents.size} agents registered here`) });
      return;
    }
    this.agents.register(id, capabilities, handler, (r) => done(typeof r === 'string' ? { ok: false, error: tagged('REJECTED', r) } : { ok: true, value: r }));
  }

  deregisterAgent(id: string, done: (r: Result<unknown>) => void): void {
    this.agents.deregister(id, (r) => done(typeof r === 'string' ? { ok: false, error: tagged('REJECTED', r) } : { ok: true, value: r }));
  }

  /**
   * Call a tool: propose `requested` (forwarded to the leader like any proposal) and wait for
   * the committed outcome as this node applies it. A key seen before answers its stored call.
   */
  callTool(tool: string, args: Value, options: ToolCallOptions, done: (r: Result<ToolCall>) => void): void {
    const idempotent = options.idempotent ?? this.tools.get(tool)?.idempotent ?? false;
    let bytes: Uint8Array;
    try {
      bytes = encodeServiceCommand('tools', { op: 'requested', key: options.key, tool, args, node: this.port.self, term: this.port.term(), idempotent });
    } catch (e) {
      done({ ok: false, error: tagged('CONFIG', `the call's arguments are not a value: ${e instanceof Error ? e.message : String(e)}`) });
      return;
    }
    if (!this.addWaiter(this.callWaiters, options.key, options.timeoutMs, done)) return;
    this.port.propose(bytes, (r) => {
      if (!r.ok) {
        this.failWaiters(this.callWaiters, options.key, r.error);
        return;
      }
      const a = decodeServiceAnswer<ToolsResult>(r.value);
      if (a.status !== 'applied') this.failWaiters(this.callWaiters, options.key, tagged('REJECTED', a.status === 'rejected' ? a.reason : 'not a tools answer'));
      else if (a.result.status === 'refused') this.failWaiters(this.callWaiters, options.key, tagged('REJECTED', `${a.result.code}: ${a.result.message}`));
      else this.settleCall(options.key);
    });
  }

  /** Wait until task `id` is done or failed, as this node applies it. */
  waitTask(id: string, timeoutMs: number, done: (r: Result<Task>) => void): void {
    if (this.addWaiter(this.taskWaiters, id, timeoutMs, done)) this.settleTask(id);
  }

  private addWaiter<T>(map: Map<string, Waiter<T>[]>, key: string, timeoutMs: number, done: (r: Result<T>) => void): boolean {
    if (this.stopped) {
      done({ ok: false, error: tagged('STOPPED', 'the node is stopped') });
      return false;
    }
    if (this.waiterCount >= this.timings.waitersMax) {
      done({ ok: false, error: tagged('PROPOSAL_DROPPED', `${this.waiterCount} callers wait here already`) });
      return false;
    }
    let list = map.get(key);
    if (list === undefined) map.set(key, (list = []));
    const waiter: Waiter<T> = {
      done,
      cancel: this.port.clock.after(timeoutMs, () => {
        if (this.removeWaiter(map, key, waiter)) done({ ok: false, error: tagged('TIMEOUT', `no outcome for ${key} in ${timeoutMs} ms; it may still come (ask again with the same key)`) });
      }),
    };
    list.push(waiter);
    this.waiterCount++;
    return true;
  }

  private removeWaiter<T>(map: Map<string, Waiter<T>[]>, key: string, waiter: Waiter<T>): boolean {
    const list = map.get(key);
    const i = list?.indexOf(waiter) ?? -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) map.delete(key);
    this.waiterCount--;
    return true;
  }

  private takeWaiters<T>(map: Map<string, Waiter<T>[]>, key: string): Waiter<T>[] {
    const list = map.get(key) ?? [];
    map.delete(key);
    this.waiterCount -= list.length;
    for (const w of list) w.cancel();
    return list;
  }

  private failWaiters<T>(map: Map<string, Waiter<T>[]>, key: string, error: TaggedError): void {
    for (const w of this.takeWaiters(map, key)) w.done({ ok: false, error });
  }

  private settleCall(key: string): void {
    if (!this.callWaiters.has(key)) return;
    const call = this.port.machine.query({ service: 'tools', query: { q: 'call', key } }) as ToolCall | null;
    if (call === null || !finalCallStates.has(call.state)) return;
    for (const w of this.takeWaiters(this.callWaiters, key)) w.done({ ok: true, value: call });
  }

  private settleTask(id: string): void {
    if (!this.taskWaiters.has(id)) return;
    const task = this.port.machine.query({ service: 'agents', query: { q: 'task', id } }) as Task | null;
    if (task === null || !finalTaskStates.has(task.state)) return;
    for (const w of this.takeWaiters(this.taskWaiters, id)) w.done({ ok: true, value: { ...task } });
  }

  stop(): void {
    this.stopped = true;
    this.leader.stop();
    this.agents.stop();
    const error = tagged('STOPPED', 'the node stopped');
    for (const key of [...this.callWaiters.keys()]) this.failWaiters(this.callWaiters, key, error);
    for (const id of [...this.taskWaiters.keys()]) this.failWaiters(this.taskWaiters, id, error);
  }
}
