/**
 * The agents that live on this node (issue 14 item 2): handlers registered by the page, each
 * under an id and capabilities. While the node lives it sends every local agent's heartbeat
 * every `agentHeartbeatMs` (which renews the leases of the tasks it holds); when the tab closes
 * the worker goes with it, the heartbeats stop, and the replicated time expires the leases:
 * the tasks are requeued to other agents (tasks.ts) with new fencing tokens.
 *
 * A task assigned to a local agent (seen as the assignment is APPLIED here, in log order) is
 * handed to its handler once per assignment (task id and token); the handler's answer goes
 * back as `complete {task, token, result}`, a throw as `fail {task, token, error}`. The token
 * fences it: if the lease ran out meanwhile and the task went elsewhere, the machine refuses
 * the late result (STALE_TOKEN) and the new holder's counts.
 */
import { decodeServiceAnswer, encodeServiceCommand } from '../machines/services/codec.ts';
import type { AgentsResult } from '../machines/services/agents.ts';
import type { Change } from '../machines/services/part.ts';
import type { Task } from '../machines/services/tasks.ts';
import type { Value } from '../machines/services/value.ts';
import { errorText, settle } from './leader-duties.ts';
import type { ServicesPort, ServicesTimings } from './services-port.ts';

/** An agent's handler: gets an assigned task, answers its result (a throw fails it). */
export type AgentHandler = (task: Task) => Value | PromiseLike<Value>;

/** A task's result as the agent proposes it: `{ op: complete | fail, task, token, ... }`. */
type TaskReport = { readonly op: string; readonly task: string; readonly token: number; readonly [field: string]: unknown };

interface LocalAgent {
  readonly capabilities: readonly string[];
  readonly handler: AgentHandler;
}

export interface AgentHostMetrics {
  heartbeats: number;
  tasksRun: number;
  reregistered: number;
}

export class AgentHost {
  readonly metrics: AgentHostMetrics = { heartbeats: 0, tasksRun: 0, reregistered: 0 };
  private readonly agents = new Map<string, LocalAgent>();
  /** Assignments handed to a handler, "task#token" (bounded: oldest forgotten first). */
  private readonly handed = new Set<string>();
  private cancelBeat: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly port: ServicesPort,
    private readonly timings: ServicesTimings,
  ) {}

  get size(): number {
    return this.agents.size;
  }

  has(id: string): boolean {
    return this.agents.has(id);
  }

  /** Register (or re-register) a local agent; `done` gets the machine's answer. */
  register(id: string, capabilities: readonly string[], handler: AgentHandler, done: (r: AgentsResult | string) => void): void {
    this.agents.set(id, { capabilities, handler });
    this.proposeAgents({ op: 'register', id, capabilities: [...capabilities], node: this.port.self }, done);
    if (this.cancelBeat === null) this.scheduleBeat();
    // Tasks it held in an earlier life on this node are its again (the machine kept them).
    this.port.clock.after(0, () => this.scanHeld(id));
  }

  deregister(id: string, done: (r: AgentsResult | string) => void): void {
    this.agents.delete(id);
    this.proposeAgents({ op: 'deregister', id }, done);
  }

  private proposeAgents(command: object, done: (r: AgentsResult | string) => void): void {
    this.port.propose(encodeServiceCommand('agents', command), (r) => {
      if (!r.ok) {
        done(`${r.error.code}: ${r.error.message}`);
        return;
      }
      const a = decodeServiceAnswer<AgentsResult>(r.value);
      done(a.status === 'applied' ? a.result : a.status === 'rejected' ? a.reason : 'a time answer');
    });
  }

  private scheduleBeat(): void {
    this.cancelBeat = this.port.clock.after(this.timings.agentHeartbeatMs, () => {
      this.cancelBeat = null;
      if (this.stopped || this.agents.size === 0) return;
      for (const [id, agent] of this.agents) {
        this.metrics.heartbeats++;
        this.proposeAgents({ op: 'heartbeat', id }, (r) => {
          // Expired meanwhile (a long pause): register again, keeping the same handler.
          if (typeof r !== 'string' && r.status === 'refused' && r.code === 'UNKNOWN_AGENT' && this.agents.get(id) === agent) {
            this.metrics.reregistered++;
            this.proposeAgents({ op: 'register', id, capabilities: [...agent.capabilities], node: this.port.self }, () => undefined);
          }
        });
      }
      this.scheduleBeat();
    });
  }

  /** A change applied here: a task assigned to a local agent goes to its handler. */
  applied(change: Change): void {
    if (change.kind !== 'task' || change.state !== 'assigned') return;
    const task = this.port.machine.query({ service: 'agents', query: { q: 'task', id: change.id } }) as Task | null;
    if (task !== null) this.maybeRun(task);
  }

  /** After a snapshot install (or a registration): the tasks local agents hold, run if not yet. */
  rescan(): void {
    for (const id of this.agents.keys()) this.scanHeld(id);
  }

  private scanHeld(id: string): void {
    if (this.stopped || !this.agents.has(id)) return;
    const held = this.port.machine.query({ service: 'agents', query: { q: 'tasks', agent: id, state: 'assigned' } }) as readonly Task[];
    for (const t of held) this.maybeRun(t);
  }

  private maybeRun(task: Task): void {
    if (this.stopped || task.state !== 'assigned' || task.agent === null) return;
    const agent = this.agents.get(task.agent);
    if (agent === undefined) return;
    const mark = `${task.id}#${task.token}`;
    if (this.handed.has(mark)) return;
    this.handed.add(mark);
    if (this.handed.size > this.timings.waitersMax) this.handed.delete(this.handed.values().next().value as string);
    this.metrics.tasksRun++;
    const token = task.token;
    const agentId = task.agent;
    const finish = (outcome: { readonly result: Value } | { readonly error: string }): void => {
      if (this.stopped) return;
      const base = { task: task.id, token };
      try {
        this.report(agentId, 'result' in outcome ? { op: 'complete', ...base, result: outcome.result } : { op: 'fail', ...base, error: outcome.error });
      } catch (e) {
        this.report(agentId, { op: 'fail', ...base, error: `the agent's result is not a value: ${errorText(e)}` });
      }
    };
    let pending: Value | PromiseLike<Value>;
    try {
      pending = agent.handler(task);
    } catch (e) {
      finish({ error: errorText(e) });
      return;
    }
    settle(pending, (result) => finish({ result: result ?? null }), (e) => finish({ error: errorText(e) }));
  }

  /**
   * Propose a task's result; if the proposal fails (it may not be in the log), again every
   * `agentHeartbeatMs` while the agent (by id) lives here and this replica still shows the task
   * assigned under the result's token. Without this a lost result left the task assigned
   * forever: the agent's heartbeats kept renewing its lease (found by the services simulator,
   * issue 14 item 7).
   */
  private report(agentId: string, command: TaskReport): void {
    this.port.propose(encodeServiceCommand('agents', command), (r) => {
      if (r.ok) return;
      this.port.clock.after(this.timings.agentHeartbeatMs, () => {
        // By id: the agent registered again meanwhile (a new handler) still holds the task.
        if (this.stopped || !this.agents.has(agentId)) return;
        const now = this.port.machine.query({ service: 'agents', query: { q: 'task', id: command.task } }) as Task | null;
        if (now?.state === 'assigned' && now.token === command.token) this.report(agentId, command);
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancelBeat?.();
    this.cancelBeat = null;
  }
}
