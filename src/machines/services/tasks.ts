/**
 * The task queue of the agents part: a submitted task is assigned by a routing strategy to an
 * able agent with room; the agent holds it under a LEASE it renews by heartbeat; when the lease
 * expires (its tab closed, crashed or was partitioned away) the task is requeued to ANOTHER
 * agent (backup promotion). Each assignment carries a fencing token, strictly increasing across
 * all assignments, so that a late result from a holder whose lease expired is refused
 * (`STALE_TOKEN`): no task is held by two agents under valid tokens at once (the leased-lock
 * argument of Gray and Cheriton 1989; the fencing token of Chubby's sequencers).
 *
 * Lease time is the replicated time (./part.ts): expiry happens when a time command advances
 * it, at the same command on every replica. Every collection is bounded: tasks in all, tasks
 * waiting for an agent, tasks per agent, attempts per task; finished tasks leave oldest first
 * when room is needed.
 */
import { assert } from '../../core/assert.ts';
import { allOfCacheMax, type Agent, type AgentRegistry } from './agent-registry.ts';
import type { ApplyContext } from './part.ts';
import { RouteTrees } from './route-index.ts';
import { Cursors, roundRobin, type LoadWeights, type RoutingStrategy } from './routing.ts';
import type { Value } from './value.ts';

export type TaskState = 'pending' | 'assigned' | 'done' | 'failed';

export interface Task {
  readonly id: string;
  readonly capabilities: readonly string[];
  readonly payload: Value;
  readonly strategy: RoutingStrategy;
  readonly leaseMs: number;
  /** A broadcast copy: for its one agent only, never requeued to another. */
  readonly pinned: boolean;
  readonly submittedIndex: number;
  state: TaskState;
  agent: string | null;
  /** The fencing token of the current (or last) assignment; 0 before any. */
  token: number;
  leaseExpiresMs: number;
  /** Assignments made so far. */
  attempts: number;
  result: Value;
  error: string | null;
}

export interface TaskLimits {
  readonly tasksMax: number;
  readonly pendingMax: number;
  readonly tasksPerAgentMax: number;
  readonly taskAttemptsMax: number;
  readonly loadWeights: LoadWeights;
  readonly cursorsMax: number;
  /** Waiting tasks looked at per command when trying to assign them (bounds a command's work). */
  readonly assignScanMax: number;
}

export class TaskQueue {
  tasks = new Map<string, Task>();
  /** Waiting for an agent, in submission order. */
  pending = new Set<string>();
  /** Assigned, in assignment order. */
  assigned = new Set<string>();
  /** Done or failed, in finishing order: the eviction order. */
  finished = new Set<string>();
  byAgent = new Map<string, Set<string>>();
  cursors: Cursors;
  tokenNext = 1;
  /** Least-used and load-aware choices without a scan (a cache of the registry, not state). */
  private readonly trees: RouteTrees;
  private treesVersion = -1;

  constructor(
    private readonly registry: AgentRegistry,
    private readonly limits: TaskLimits,
  ) {
    assert(limits.pendingMax <= limits.tasksMax, 'pendingMax <= tasksMax');
    this.cursors = new Cursors(limits.cursorsMax);
    // Every capability's list and every cached all-of list, twice over.
    this.trees = new RouteTrees(limits.tasksPerAgentMax, limits.loadWeights, 4 * allOfCacheMax);
  }

  /** Drops the route trees when the registry's membership changed (their lists are stale). */
  private syncTrees(): void {
    if (this.treesVersion === this.registry.membershipVersion) return;
    this.trees.clear();
    this.treesVersion = this.registry.membershipVersion;
  }

  /** An agent's routing numbers changed (a heartbeat; an assignment or release here). */
  touched(agent: Agent): void {
    this.syncTrees();
    this.trees.touched(agent);
  }

  /** Room for `n` more tasks, evicting the oldest finished; false when in-flight tasks fill it. */
  makeRoom(n: number, ctx: ApplyContext): boolean {
    const excess = this.tasks.size + n - this.limits.tasksMax;
    if (excess > this.finished.size) return false;
    for (let i = 0; i < excess; i++) {
      const id = this.finished.values().next().value as string;
      this.finished.delete(id);
      this.tasks.delete(id);
      ctx.report({ kind: 'task', id, state: 'dropped' });
    }
    return true;
  }

  canQueue(): boolean {
    return this.pending.size < this.limits.pendingMax;
  }

  /** Adds a new task (room made by the caller) and tries to assign it. */
  add(task: Task, ctx: ApplyContext, pinnedTo: Agent | null = null): void {
    assert(!this.tasks.has(task.id), 'a new task id');
    this.tasks.set(task.id, task);
    if (pinnedTo !== null) this.assign(task, pinnedTo, ctx);
    else if (!this.tryAssign(task, null, ctx)) this.enqueue(task, ctx);
  }

  /** Chooses an agent by the task's strategy (not `exclude`); assigns and answers true, or false. */
  private tryAssign(task: Task, exclude: string | null, ctx: ApplyContext): boolean {
    const agent = this.route(task.capabilities, task.strategy, exclude, true);
    if (agent === null) return false;
    this.assign(task, agent, ctx);
    return true;
  }

  /** The agent a strategy picks now; `advance` moves the round-robin cursor (commands only). */
  route(capabilities: readonly string[], strategy: RoutingStrategy, exclude: string | null, advance: boolean): Agent | null {
    const candidates = this.registry.withAll(capabilities);
    if (strategy !== 'round-robin') {
      this.syncTrees();
      return this.trees.tree(candidates, strategy).choose(exclude);
    }
    const input = { candidates, tasksPerAgentMax: this.limits.tasksPerAgentMax, exclude };
    const key = capabilities.join('\u0000');
    const { agent, next } = roundRobin(input, this.cursors.get(key));
    if (advance && agent !== null) this.cursors.set(key, next);
    return agent;
  }

  private assign(task: Task, agent: Agent, ctx: ApplyContext): void {
    this.pending.delete(task.id);
    task.state = 'assigned';
    task.agent = agent.id;
    task.token = this.tokenNext++;
    task.leaseExpiresMs = ctx.timeMs + task.leaseMs;
    task.attempts++;
    agent.active++;
    agent.assignedTotal++;
    this.touched(agent);
    this.assigned.delete(task.id);
    this.assigned.add(task.id);
    let held = this.byAgent.get(agent.id);
    if (held === undefined) this.byAgent.set(agent.id, (held = new Set()));
    held.add(task.id);
    ctx.report({ kind: 'task', id: task.id, state: 'assigned' });
  }

  private enqueue(task: Task, ctx: ApplyContext): void {
    task.state = 'pending';
    task.agent = null;
    this.pending.add(task.id);
    ctx.report({ kind: 'task', id: task.id, state: 'pending' });
  }

  /** The task leaves its agent (finished, requeued or the agent gone). */
  private release(task: Task): void {
    if (task.agent === null) return;
    const agent = this.registry.get(task.agent);
    if (agent !== undefined) {
      agent.active--;
      this.touched(agent);
    }
    const held = this.byAgent.get(task.agent);
    held?.delete(task.id);
    if (held?.size === 0) this.byAgent.delete(task.agent);
    this.assigned.delete(task.id);
  }

  finish(task: Task, state: 'done' | 'failed', result: Value, error: string | null, ctx: ApplyContext): void {
    this.release(task);
    this.pending.delete(task.id);
    task.state = state;
    task.result = result;
    task.error = error;
    task.leaseExpiresMs = 0;
    this.finished.add(task.id);
    ctx.report({ kind: 'task', id: task.id, state });
  }

  /**
   * The holder lost the task (lease expired, agent gone, agent gave it back): to another agent
   * (backup promotion), else waiting; failed once it had taskAttemptsMax assignments, or if it
   * was a broadcast copy (pinned to its agent).
   */
  requeue(task: Task, reason: string, ctx: ApplyContext): void {
    const previous = task.agent;
    if (task.pinned || task.attempts >= this.limits.taskAttemptsMax) {
      this.finish(task, 'failed', null, reason, ctx);
      return;
    }
    this.release(task);
    if (!this.tryAssign(task, previous, ctx)) this.enqueue(task, ctx);
  }

  /** The tasks an agent holds (a snapshot of the set: callers may requeue while iterating). */
  heldBy(agentId: string): Task[] {
    return [...(this.byAgent.get(agentId) ?? [])].map((id) => this.tasks.get(id) as Task);
  }

  /** Leases that ran out at the replicated time: requeue their tasks, in assignment order. */
  expireLeases(ctx: ApplyContext): void {
    const due: Task[] = [];
    for (const id of this.assigned) {
      const task = this.tasks.get(id) as Task;
      if (task.leaseExpiresMs <= ctx.timeMs) due.push(task);
    }
    for (const task of due) this.requeue(task, 'LEASE_EXPIRED', ctx);
  }

  /** Try waiting tasks (oldest first, at most assignScanMax of them) on the agents there are now. */
  assignPending(ctx: ApplyContext): void {
    if (this.pending.size === 0 || this.registry.size === 0) return;
    let scanned = 0;
    for (const id of [...this.pending]) {
      if (scanned++ >= this.limits.assignScanMax) break;
      this.tryAssign(this.tasks.get(id) as Task, null, ctx);
    }
  }
}
