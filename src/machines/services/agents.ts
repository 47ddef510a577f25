/**
 * The agents part (issue 14 item 2): the agent registry (./agent-registry.ts), routing
 * (./routing.ts) and the leased task queue (./tasks.ts) as one replicated machine, because an
 * assignment depends on both (who is registered, what each holds).
 *
 * Commands (every field validated; all checked before anything changes):
 *   register {id, capabilities, node}       deregister {id}
 *   heartbeat {id, load?, latencyMs?, successRate?}   (renews the leases of every task it holds)
 *   submit {id?, capabilities, payload?, strategy?, leaseMs?}
 *   broadcast {id?, capabilities, payload?, leaseMs?}  (one pinned copy per able agent: a swarm
 *     is the agents sharing a capability, e.g. `swarm:alpha`)
 *   renew {task, token}   complete {task, token, result?}   fail {task, token, error, requeue?}
 * An agent silent for `agentTtlMs` of replicated time is removed when time advances, and its
 * tasks requeued; a lease not renewed for the task's `leaseMs` requeues the task to another
 * agent. Queries: agent, agents (all of some capabilities), route (the agent a strategy would
 * pick now), task, tasks (by agent and/or state).
 */
import { assert } from '../../core/assert.ts';
import { AgentRegistry, type Agent } from './agent-registry.ts';
import { Fields, MalformedCommandError, opOf } from './fields.ts';
import type { ApplyContext } from './part.ts';
import { defaultLoadWeights, routingStrategies, type RoutingStrategy } from './routing.ts';
import { TaskQueue, type Task, type TaskLimits, type TaskState } from './tasks.ts';
import { refuse, ValuePart, type Refusal } from './value-part.ts';
import type { Value } from './value.ts';
import { agentsFromValue, saveAgents, taskFromValue } from './agents-snapshot.ts';

export const agentIdCharsMax = 128;
export const capabilityCharsMax = 64;
export const capabilitiesMax = 32;
export const taskErrorCharsMax = 4096;
const intMax = Number.MAX_SAFE_INTEGER;

export interface AgentsOptions extends TaskLimits {
  readonly agentsMax: number;
  /** An agent with no heartbeat for this long (replicated time) is removed. */
  readonly agentTtlMs: number;
  readonly taskLeaseMsDefault: number;
  readonly taskLeaseMsMax: number;
}

export const agentsDefaults: AgentsOptions = {
  agentsMax: 10_000,
  agentTtlMs: 30_000,
  tasksMax: 10_000,
  pendingMax: 10_000,
  tasksPerAgentMax: 64,
  taskAttemptsMax: 5,
  taskLeaseMsDefault: 10_000,
  taskLeaseMsMax: 3_600_000,
  loadWeights: defaultLoadWeights,
  cursorsMax: 1024,
  assignScanMax: 256,
};

export type AgentsCommand =
  | { readonly op: 'register'; readonly id: string; readonly capabilities: readonly string[]; readonly node: string }
  | { readonly op: 'deregister'; readonly id: string }
  | { readonly op: 'heartbeat'; readonly id: string; readonly load?: number; readonly latencyMs?: number; readonly successRate?: number }
  | { readonly op: 'submit' | 'broadcast'; readonly id?: string; readonly capabilities: readonly string[]; readonly payload: Value; readonly strategy: RoutingStrategy; readonly leaseMs: number }
  | { readonly op: 'renew'; readonly task: string; readonly token: number }
  | { readonly op: 'complete'; readonly task: string; readonly token: number; readonly result: Value }
  | { readonly op: 'fail'; readonly task: string; readonly token: number; readonly error: string; readonly requeue: boolean };

export type AgentsRefusalCode = 'AGENTS_FULL' | 'UNKNOWN_AGENT' | 'UNKNOWN_TASK' | 'EXISTS' | 'FULL' | 'QUEUE_FULL' | 'STALE_TOKEN' | 'NOT_ASSIGNED' | 'NO_AGENT';

export type AgentsResult =
  | { readonly status: 'registered' | 'heartbeat'; readonly agent: Agent; readonly renewed: number }
  | { readonly status: 'deregistered'; readonly requeued: readonly string[] }
  | { readonly status: 'submitted' | 'renewed' | 'completed' | 'failed' | 'requeued'; readonly task: Task }
  | { readonly status: 'broadcast'; readonly tasks: readonly Task[]; readonly skipped: readonly string[] }
  | (Refusal<AgentsRefusalCode> & { readonly task?: Task });

const ops = ['register', 'deregister', 'heartbeat', 'submit', 'broadcast', 'renew', 'complete', 'fail'] as const;

export class AgentsPart extends ValuePart<AgentsCommand, AgentsResult> {
  readonly options: AgentsOptions;
  registry = new AgentRegistry();
  queue: TaskQueue;

  constructor(options: Partial<AgentsOptions> = {}) {
    super();
    this.options = { ...agentsDefaults, ...options };
    const o = this.options;
    for (const [name, v] of Object.entries(o)) if (typeof v === 'number') assert(Number.isSafeInteger(v) && v > 0, `${name} is a positive integer`);
    assert(o.taskLeaseMsDefault <= o.taskLeaseMsMax, 'taskLeaseMsDefault <= taskLeaseMsMax');
    this.queue = new TaskQueue(this.registry, o);
  }

  protected parse(value: Value): AgentsCommand {
    return parseAgentsCommand(value, this.options);
  }

  protected run(c: AgentsCommand, ctx: ApplyContext): AgentsResult {
    switch (c.op) {
      case 'register':
        return this.register(c, ctx);
      case 'deregister': {
        if (this.registry.get(c.id) === undefined) return refuse('UNKNOWN_AGENT', `no agent ${c.id}`);
        const requeued = this.removeAgent(c.id, 'AGENT_DEREGISTERED', ctx);
        this.queue.assignPending(ctx);
        return { status: 'deregistered', requeued };
      }
      case 'heartbeat':
        return this.heartbeat(c, ctx);
      case 'submit':
      case 'broadcast':
        return this.submit(c, ctx);
      default:
        return this.report(c, ctx);
    }
  }

  private register(c: Extract<AgentsCommand, { op: 'register' }>, ctx: ApplyContext): AgentsResult {
    const old = this.registry.get(c.id);
    if (old === undefined && this.registry.size >= this.options.agentsMax) return refuse('AGENTS_FULL', `${this.registry.size} agents registered`);
    const agent: Agent = {
      id: c.id,
      capabilities: c.capabilities,
      node: c.node,
      load: old?.load ?? 0,
      latencyMs: old?.latencyMs ?? 0,
      successRate: old?.successRate ?? 1,
      registeredIndex: old?.registeredIndex ?? ctx.index,
      lastSeenMs: ctx.timeMs,
      active: old?.active ?? 0,
      assignedTotal: old?.assignedTotal ?? 0,
    };
    this.registry.put(agent);
    const renewed = this.renewHeld(c.id, ctx);
    ctx.report({ kind: 'agent', id: c.id });
    this.queue.assignPending(ctx);
    return { status: 'registered', agent, renewed };
  }

  private heartbeat(c: Extract<AgentsCommand, { op: 'heartbeat' }>, ctx: ApplyContext): AgentsResult {
    const agent = this.registry.get(c.id);
    if (agent === undefined) return refuse('UNKNOWN_AGENT', `no agent ${c.id}: register again`);
    agent.lastSeenMs = ctx.timeMs;
    if (c.load !== undefined) agent.load = c.load;
    if (c.latencyMs !== undefined) agent.latencyMs = c.latencyMs;
    if (c.successRate !== undefined) agent.successRate = c.successRate;
    this.queue.touched(agent);
    const renewed = this.renewHeld(c.id, ctx);
    ctx.report({ kind: 'agent', id: c.id });
    return { status: 'heartbeat', agent, renewed };
  }

  private renewHeld(agentId: string, ctx: ApplyContext): number {
    const held = this.queue.heldBy(agentId);
    for (const task of held) task.leaseExpiresMs = ctx.timeMs + task.leaseMs;
    return held.length;
  }

  private removeAgent(id: string, reason: string, ctx: ApplyContext): string[] {
    const held = this.queue.heldBy(id);
    this.registry.remove(id);
    for (const task of held) this.queue.requeue(task, reason, ctx);
    ctx.report({ kind: 'agent', id });
    return held.map((t) => t.id);
  }

  private submit(c: Extract<AgentsCommand, { op: 'submit' | 'broadcast' }>, ctx: ApplyContext): AgentsResult {
    const base = c.id ?? `t${ctx.index}`;
    if (c.op === 'submit') {
      const existing = this.queue.tasks.get(base);
      if (existing !== undefined) return { ...refuse('EXISTS', `task ${base} exists`), task: existing };
      if (!this.queue.canQueue()) return refuse('QUEUE_FULL', `${this.queue.pending.size} tasks wait for an agent`);
      if (!this.queue.makeRoom(1, ctx)) return refuse('FULL', `${this.queue.tasks.size} tasks in flight`);
      const task = newTask(base, c, false, ctx);
      this.queue.add(task, ctx);
      return { status: 'submitted', task };
    }
    const able = this.registry.withAll(c.capabilities);
    const targets = able.filter((a) => a.active < this.options.tasksPerAgentMax);
    const skipped = able.filter((a) => a.active >= this.options.tasksPerAgentMax).map((a) => a.id);
    if (targets.length === 0) return refuse('NO_AGENT', 'no agent with room has those capabilities');
    const ids = targets.map((a) => `${base}/${a.id}`);
    const clash = ids.find((id) => this.queue.tasks.has(id));
    if (clash !== undefined) return refuse('EXISTS', `task ${clash} exists`);
    if (!this.queue.makeRoom(targets.length, ctx)) return refuse('FULL', `no room for ${targets.length} tasks`);
    const tasks = targets.map((agent, i) => {
      const task = newTask(ids[i] as string, c, true, ctx);
      this.queue.add(task, ctx, agent);
      return task;
    });
    return { status: 'broadcast', tasks, skipped };
  }

  /** renew, complete, fail: fenced by the assignment's token. */
  private report(c: Extract<AgentsCommand, { op: 'renew' | 'complete' | 'fail' }>, ctx: ApplyContext): AgentsResult {
    const task = this.queue.tasks.get(c.task);
    if (task === undefined) return refuse('UNKNOWN_TASK', `no task ${c.task}`);
    if (task.state !== 'assigned') return { ...refuse('NOT_ASSIGNED', `task ${c.task} is ${task.state}`), task };
    if (c.token !== task.token) return { ...refuse('STALE_TOKEN', `token ${c.token} is not the current assignment's (${task.token})`), task };
    if (c.op === 'renew') {
      task.leaseExpiresMs = ctx.timeMs + task.leaseMs;
      ctx.report({ kind: 'task', id: task.id, state: 'assigned' });
      return { status: 'renewed', task };
    }
    if (c.op === 'complete') this.queue.finish(task, 'done', c.result, null, ctx);
    else if (c.requeue) this.queue.requeue(task, c.error, ctx);
    else this.queue.finish(task, 'failed', null, c.error, ctx);
    this.queue.assignPending(ctx);
    const status = c.op === 'complete' ? 'completed' : (task.state as TaskState) === 'failed' ? 'failed' : 'requeued';
    return { status, task };
  }

  advanceTime(ctx: ApplyContext): void {
    const silent: string[] = [];
    for (const agent of this.registry.inOrder()) if (agent.lastSeenMs + this.options.agentTtlMs <= ctx.timeMs) silent.push(agent.id);
    for (const id of silent) this.removeAgent(id, 'AGENT_EXPIRED', ctx);
    this.queue.expireLeases(ctx);
    this.queue.assignPending(ctx);
  }

  // ---- reads (shared objects: read, never change) ----

  agent(id: string): Agent | null {
    return this.registry.get(id) ?? null;
  }

  /** Agents with all of `capabilities` (sorted, distinct); [] for every agent. */
  agentsWith(capabilities: readonly string[]): readonly Agent[] {
    return this.registry.withAll(capabilities);
  }

  task(id: string): Task | null {
    return this.queue.tasks.get(id) ?? null;
  }

  query(query: unknown): unknown {
    const { op, fields: f } = opOf(query as Value, ['agent', 'agents', 'route', 'task', 'tasks'] as const, 'an agents query', 'q');
    let answer: unknown;
    if (op === 'agent') answer = this.agent(f.string('id', agentIdCharsMax));
    else if (op === 'agents') answer = this.agentsWith(f.has('capabilities') ? f.stringSet('capabilities', capabilitiesMax, capabilityCharsMax) : []);
    else if (op === 'route') {
      const caps = f.stringSet('capabilities', capabilitiesMax, capabilityCharsMax);
      answer = this.queue.route(caps, f.oneOf('strategy', routingStrategies), null, false)?.id ?? null;
    } else if (op === 'task') answer = this.task(f.string('id', agentIdCharsMax * 2));
    else answer = this.tasksBy(f);
    f.done();
    return answer;
  }

  private tasksBy(f: Fields): Task[] {
    const agent = f.optionalString('agent', agentIdCharsMax);
    const state = f.has('state') ? f.oneOf<TaskState>('state', ['pending', 'assigned', 'done', 'failed']) : undefined;
    const limit = f.optionalInt('limit', 1, 1000) ?? 100;
    const source = agent !== undefined ? this.queue.heldBy(agent) : this.queue.tasks.values();
    const out: Task[] = [];
    for (const t of source) {
      if (out.length >= limit) break;
      if (state === undefined || t.state === state) out.push(t);
    }
    return out;
  }

  protected save(): Value {
    const q = this.queue;
    return {
      agents: saveAgents(this.registry),
      tasks: [...q.tasks.values()] as unknown as Value[],
      pending: [...q.pending],
      assigned: [...q.assigned],
      finished: [...q.finished],
      cursors: q.cursors.entries(),
      tokenNext: q.tokenNext,
    };
  }

  protected load(state: Value): void {
    const f = new Fields(state, 'agents snapshot');
    const agents = agentsFromValue(f.value('agents'));
    const rawTasks = f.value('tasks');
    const pending = listOf(f.value('pending'));
    const assigned = listOf(f.value('assigned'));
    const finished = listOf(f.value('finished'));
    const cursors = f.value('cursors');
    const tokenNext = f.int('tokenNext', 1, intMax);
    f.done();
    if (!Array.isArray(rawTasks) || !Array.isArray(cursors)) throw new MalformedCommandError('agents snapshot lists');
    const registry = new AgentRegistry();
    for (const a of agents) registry.put(a);
    const queue = new TaskQueue(registry, this.options);
    for (const raw of rawTasks as readonly Value[]) {
      const t = taskFromValue(raw);
      queue.tasks.set(t.id, t);
    }
    for (const [set, ids] of [[queue.pending, pending], [queue.assigned, assigned], [queue.finished, finished]] as const) {
      for (const id of ids) {
        if (!queue.tasks.has(id)) throw new MalformedCommandError(`snapshot lists unknown task ${id}`);
        set.add(id);
      }
    }
    for (const id of assigned) {
      const t = queue.tasks.get(id) as Task;
      if (t.agent === null) throw new MalformedCommandError(`assigned task ${id} without agent`);
      let held = queue.byAgent.get(t.agent);
      if (held === undefined) queue.byAgent.set(t.agent, (held = new Set()));
      held.add(id);
    }
    queue.cursors.load((cursors as readonly Value[]).map((e) => cursorFromValue(e)));
    queue.tokenNext = tokenNext;
    this.registry = registry;
    this.queue = queue;
  }
}

function listOf(v: Value): string[] {
  if (!Array.isArray(v) || !(v as readonly Value[]).every((x) => typeof x === 'string')) throw new MalformedCommandError('a list of ids');
  return v as string[];
}

function cursorFromValue(e: Value): [string, number] {
  if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number') throw new MalformedCommandError('a cursor');
  return [e[0] as string, e[1] as number];
}

function newTask(id: string, c: Extract<AgentsCommand, { op: 'submit' | 'broadcast' }>, pinned: boolean, ctx: ApplyContext): Task {
  return {
    id,
    capabilities: c.capabilities,
    payload: c.payload,
    strategy: c.strategy,
    leaseMs: c.leaseMs,
    pinned,
    submittedIndex: ctx.index,
    state: 'pending',
    agent: null,
    token: 0,
    leaseExpiresMs: 0,
    attempts: 0,
    result: null,
    error: null,
  };
}

export function parseAgentsCommand(value: Value, o: AgentsOptions): AgentsCommand {
  const { op, fields: f } = opOf(value, ops, 'an agents command');
  let c: AgentsCommand;
  switch (op) {
    case 'register':
      c = { op, id: f.string('id', agentIdCharsMax), capabilities: f.stringSet('capabilities', capabilitiesMax, capabilityCharsMax), node: f.string('node', agentIdCharsMax) };
      break;
    case 'deregister':
      c = { op, id: f.string('id', agentIdCharsMax) };
      break;
    case 'heartbeat': {
      const load = f.has('load') ? f.number('load', 0, 1e6) : undefined;
      const latencyMs = f.has('latencyMs') ? f.number('latencyMs', 0, 1e9) : undefined;
      const successRate = f.has('successRate') ? f.number('successRate', 0, 1) : undefined;
      c = { op, id: f.string('id', agentIdCharsMax), ...(load === undefined ? {} : { load }), ...(latencyMs === undefined ? {} : { latencyMs }), ...(successRate === undefined ? {} : { successRate }) };
      break;
    }
    case 'submit':
    case 'broadcast': {
      const id = f.optionalString('id', agentIdCharsMax);
      const capabilities = f.stringSet('capabilities', capabilitiesMax, capabilityCharsMax);
      const payload = f.optionalValue('payload') ?? null;
      const strategy = op === 'submit' && f.has('strategy') ? f.oneOf('strategy', routingStrategies) : 'round-robin';
      const leaseMs = f.optionalInt('leaseMs', 1, o.taskLeaseMsMax) ?? o.taskLeaseMsDefault;
      c = { op, capabilities, payload, strategy, leaseMs, ...(id === undefined ? {} : { id }) };
      break;
    }
    case 'renew':
      c = { op, task: f.string('task', agentIdCharsMax * 2), token: f.int('token', 1, intMax) };
      break;
    case 'complete':
      c = { op, task: f.string('task', agentIdCharsMax * 2), token: f.int('token', 1, intMax), result: f.optionalValue('result') ?? null };
      break;
    case 'fail':
      c = { op, task: f.string('task', agentIdCharsMax * 2), token: f.int('token', 1, intMax), error: f.string('error', taskErrorCharsMax, 0), requeue: f.optionalBoolean('requeue', false) };
      break;
    default: {
      const never: never = op;
      return never;
    }
  }
  f.done();
  return c;
}
