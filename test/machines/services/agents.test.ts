/**
 * The agents part: the registry answers lookups by id, by one capability and by all of several,
 * in id order, and keeps its indexes right through re-registration and removal; each routing
 * strategy picks the agent it promises (round-robin in turn, least-used by tasks in hand,
 * load-aware by the default score and by configured weights) and skips full agents; a task's
 * lease expires at a time command and the task moves to ANOTHER agent under a larger fencing
 * token, and the old holder's late result is refused with STALE_TOKEN; heartbeats renew leases;
 * silent agents expire; broadcast gives each able agent its own copy; every bound refuses with
 * its code; a snapshot restores a machine that goes on exactly as the original.
 */
import { describe, expect, it } from 'vitest';
import type { Agent } from '../../../src/machines/services/agent-registry.ts';
import { AgentsPart, type AgentsOptions, type AgentsResult } from '../../../src/machines/services/agents.ts';
import { CompositeMachine } from '../../../src/machines/services/composite.ts';
import type { Task } from '../../../src/machines/services/tasks.ts';
import { Driver } from './harness.ts';

function setup(options: Partial<AgentsOptions> = {}): { d: Driver; agents: AgentsPart; machine: CompositeMachine } {
  const agents = new AgentsPart(options);
  const machine = new CompositeMachine({ agents });
  return { d: new Driver(machine), agents, machine };
}

const register = (id: string, capabilities: string[], node = 'n1'): object => ({ op: 'register', id, capabilities, node });
type Submitted = { status: string; task: Task; code?: string };

describe('agents: registry', () => {
  it('looks agents up by id, by one capability and by all of several, in id order', () => {
    const { d, agents } = setup();
    d.run('agents', register('c', ['code', 'py']));
    d.run('agents', register('a', ['code', 'ts']));
    d.run('agents', register('b', ['search']));
    expect(agents.agent('a')?.capabilities).toEqual(['code', 'ts']);
    expect(agents.agent('zz')).toBeNull();
    const ids = (list: unknown): string[] => (list as readonly Agent[]).map((a) => a.id);
    expect(ids(agents.query({ q: 'agents', capabilities: ['code'] }))).toEqual(['a', 'c']);
    expect(ids(agents.query({ q: 'agents', capabilities: ['py', 'code'] }))).toEqual(['c']);
    expect(ids(agents.query({ q: 'agents', capabilities: ['code', 'search'] }))).toEqual([]);
    expect(ids(agents.query({ q: 'agents', capabilities: ['nothing', 'code'] }))).toEqual([]);
    expect(ids(agents.query({ q: 'agents' }))).toEqual(['a', 'b', 'c']);
    // Re-registration moves the agent between indexes; deregistration removes it.
    d.run('agents', register('a', ['search']));
    expect(ids(agents.agentsWith(['code']))).toEqual(['c']);
    expect(ids(agents.agentsWith(['search']))).toEqual(['a', 'b']);
    d.run('agents', { op: 'deregister', id: 'b' });
    expect(ids(agents.agentsWith(['search']))).toEqual(['a']);
    expect(d.run('agents', { op: 'deregister', id: 'b' })).toMatchObject({ code: 'UNKNOWN_AGENT' });
  });

  it('refuses beyond agentsMax, and a heartbeat of an unknown agent', () => {
    const { d } = setup({ agentsMax: 2 });
    d.run('agents', register('a', ['x']));
    d.run('agents', register('b', ['x']));
    expect(d.run('agents', register('c', ['x']))).toMatchObject({ status: 'refused', code: 'AGENTS_FULL' });
    expect(d.run('agents', register('a', ['y'])).status).toBe('registered');
    expect(d.run('agents', { op: 'heartbeat', id: 'zz' })).toMatchObject({ code: 'UNKNOWN_AGENT' });
  });

  it('removes an agent silent for agentTtlMs when time advances, and requeues what it held', () => {
    const { d, agents } = setup({ agentTtlMs: 1_000, taskLeaseMsDefault: 60_000 });
    d.time(100);
    d.run('agents', register('a', ['x']));
    d.run('agents', register('b', ['x']));
    const t = d.run<Submitted>('agents', { op: 'submit', id: 't', capabilities: ['x'] }).task;
    d.time(900);
    d.run('agents', { op: 'heartbeat', id: t.agent === 'a' ? 'b' : 'a' });
    d.time(1_100);
    expect(agents.agent(t.agent as string)).toBeNull();
    expect(agents.task('t')).toMatchObject({ state: 'assigned', agent: t.agent === 'a' ? 'b' : 'a' });
    expect(d.lastChanges.map((c) => c.kind)).toContain('agent');
  });
});

describe('agents: routing strategies', () => {
  function fleet(options: Partial<AgentsOptions> = {}): ReturnType<typeof setup> {
    const s = setup({ taskLeaseMsDefault: 60_000, ...options });
    for (const id of ['a', 'b', 'c']) s.d.run('agents', register(id, ['x']));
    return s;
  }
  const submit = (d: Driver, strategy: string, id?: string): Submitted => d.run<Submitted>('agents', { op: 'submit', capabilities: ['x'], strategy, ...(id === undefined ? {} : { id }) });

  it('round-robin takes the agents in turn', () => {
    const { d } = fleet();
    expect([1, 2, 3, 4].map(() => submit(d, 'round-robin').task.agent)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('least-used picks the agent with the fewest tasks in hand', () => {
    const { d } = fleet();
    const first = submit(d, 'least-used', 'one');
    const second = submit(d, 'least-used', 'two');
    expect([first.task.agent, second.task.agent]).toEqual(['a', 'b']);
    d.run('agents', { op: 'complete', task: 'one', token: first.task.token });
    expect(submit(d, 'least-used').task.agent).toBe('c');
    // a (0 in hand, 1 ever) and c (1 in hand): a.
    expect(submit(d, 'least-used').task.agent).toBe('a');
  });

  it('load-aware picks the lowest 0.5·load/10 + 0.3·latency/1000 + 0.2·(1−success)·10, weights configurable', () => {
    const beat = (d: Driver, id: string, load: number, latencyMs: number, successRate: number): void => void d.run('agents', { op: 'heartbeat', id, load, latencyMs, successRate });
    const { d, agents } = fleet();
    beat(d, 'a', 8, 100, 1); // 0.4 + 0.03 + 0 = 0.43
    beat(d, 'b', 2, 900, 1); // 0.1 + 0.27 + 0 = 0.37
    beat(d, 'c', 0, 0, 0.8); // 0 + 0 + 0.4 = 0.4
    expect(agents.query({ q: 'route', capabilities: ['x'], strategy: 'load-aware' })).toBe('b');
    expect(submit(d, 'load-aware').task.agent).toBe('b');
    const latencyOnly = fleet({ loadWeights: { load: 0, latency: 1, failure: 0 } });
    beat(latencyOnly.d, 'a', 9, 10, 0);
    beat(latencyOnly.d, 'b', 0, 500, 1);
    beat(latencyOnly.d, 'c', 0, 400, 1);
    expect(submit(latencyOnly.d, 'load-aware').task.agent).toBe('a');
  });

  it('skips agents holding tasksPerAgentMax tasks; without room the task waits, and is assigned when an agent comes', () => {
    const { d, agents } = setup({ tasksPerAgentMax: 1, pendingMax: 1, taskLeaseMsDefault: 60_000 });
    d.run('agents', register('a', ['x']));
    expect(submit(d, 'least-used', 't1').task.agent).toBe('a');
    expect(submit(d, 'least-used', 't2').task).toMatchObject({ state: 'pending', agent: null });
    expect(d.run('agents', { op: 'submit', capabilities: ['x'] })).toMatchObject({ code: 'QUEUE_FULL' });
    d.run('agents', register('b', ['x']));
    expect(agents.task('t2')).toMatchObject({ state: 'assigned', agent: 'b' });
  });
});

describe('agents: leased tasks', () => {
  function two(): ReturnType<typeof setup> {
    const s = setup({ taskLeaseMsDefault: 1_000, agentTtlMs: 100_000 });
    s.d.time(10);
    s.d.run('agents', register('a', ['x']));
    s.d.run('agents', register('b', ['x']));
    return s;
  }

  it('requeues to another agent when the lease expires; the old holder`s late result is refused', () => {
    const { d, agents } = two();
    const first = d.run<Submitted>('agents', { op: 'submit', id: 't', capabilities: ['x'] }).task;
    expect(first).toMatchObject({ agent: 'a', leaseExpiresMs: 1_010 });
    d.time(1_009);
    expect(agents.task('t')?.agent).toBe('a');
    d.time(1_010);
    const moved = agents.task('t') as Task;
    expect(moved).toMatchObject({ state: 'assigned', agent: 'b', attempts: 2 });
    expect(moved.token).toBeGreaterThan(first.token);
    expect(d.lastChanges).toContainEqual({ service: 'agents', kind: 'task', id: 't', state: 'assigned' });
    expect(d.run('agents', { op: 'complete', task: 't', token: first.token, result: 'late' })).toMatchObject({ status: 'refused', code: 'STALE_TOKEN' });
    expect(d.run('agents', { op: 'renew', task: 't', token: first.token })).toMatchObject({ code: 'STALE_TOKEN' });
    expect(d.run('agents', { op: 'complete', task: 't', token: moved.token, result: 'ok' })).toMatchObject({ status: 'completed', task: { state: 'done', result: 'ok' } });
    expect(d.run('agents', { op: 'complete', task: 't', token: moved.token })).toMatchObject({ code: 'NOT_ASSIGNED' });
  });

  it('a heartbeat (or renew) keeps the lease', () => {
    const { d, agents } = two();
    const t = d.run<Submitted>('agents', { op: 'submit', id: 't', capabilities: ['x'] }).task;
    d.time(800);
    d.run('agents', { op: 'heartbeat', id: 'a' });
    d.time(1_500);
    d.run('agents', { op: 'renew', task: 't', token: t.token });
    d.time(2_400);
    expect(agents.task('t')).toMatchObject({ agent: 'a', token: t.token });
  });

  it('fails a task after taskAttemptsMax assignments, and a failed report can requeue', () => {
    const { d, agents } = setup({ taskLeaseMsDefault: 100, taskAttemptsMax: 2, agentTtlMs: 1e6 });
    d.run('agents', register('a', ['x']));
    d.run('agents', register('b', ['x']));
    const t = d.run<Submitted>('agents', { op: 'submit', id: 't', capabilities: ['x'] }).task;
    d.run('agents', { op: 'fail', task: 't', token: t.token, error: 'busy', requeue: true });
    expect(agents.task('t')).toMatchObject({ state: 'assigned', agent: 'b', attempts: 2 });
    d.time(1_000);
    expect(agents.task('t')).toMatchObject({ state: 'failed', error: 'LEASE_EXPIRED' });
  });

  it('broadcast gives each able agent its own pinned copy, which fails rather than moves', () => {
    const { d, agents } = two();
    d.run('agents', register('c', ['y']));
    const r = d.run<{ status: string; tasks: Task[] }>('agents', { op: 'broadcast', id: 'all', capabilities: ['x'], payload: 'hi' });
    expect(r.tasks.map((t) => [t.id, t.agent])).toEqual([['all/a', 'a'], ['all/b', 'b']]);
    d.run('agents', { op: 'complete', task: 'all/a', token: (r.tasks[0] as Task).token });
    d.time(5_000);
    expect(agents.task('all/b')).toMatchObject({ state: 'failed', error: 'LEASE_EXPIRED' });
    expect(d.run('agents', { op: 'broadcast', capabilities: ['nobody'] })).toMatchObject({ code: 'NO_AGENT' });
  });

  it('keeps at most tasksMax tasks: finished ones leave first, then FULL', () => {
    const { d, agents } = setup({ tasksMax: 2, pendingMax: 2 });
    d.run('agents', register('a', ['x']));
    const t1 = d.run<Submitted>('agents', { op: 'submit', id: 't1', capabilities: ['x'] }).task;
    d.run('agents', { op: 'complete', task: 't1', token: t1.token });
    d.run('agents', { op: 'submit', id: 't2', capabilities: ['x'] });
    d.run('agents', { op: 'submit', id: 't3', capabilities: ['x'] });
    expect(agents.task('t1')).toBeNull();
    expect(d.run('agents', { op: 'submit', id: 't4', capabilities: ['x'] })).toMatchObject({ code: 'FULL' });
    expect(d.run('agents', { op: 'submit', id: 't3', capabilities: ['x'] })).toMatchObject({ code: 'EXISTS' });
  });

  it('restores from a snapshot a machine that goes on exactly as the original', () => {
    const { d, machine } = two();
    d.run('agents', { op: 'submit', id: 't', capabilities: ['x'], strategy: 'round-robin' });
    d.run('agents', { op: 'submit', id: 'u', capabilities: ['x'], strategy: 'round-robin' });
    d.run('agents', { op: 'heartbeat', id: 'b', load: 3, latencyMs: 20, successRate: 0.9 });
    const copy = setup({ taskLeaseMsDefault: 1_000, agentTtlMs: 100_000 });
    copy.machine.restore(machine.snapshot());
    copy.d.index = d.index;
    expect(copy.machine.snapshot()).toEqual(machine.snapshot());
    const next = (x: Driver): AgentsResult[] => [
      x.run<AgentsResult>('agents', { op: 'submit', id: 'v', capabilities: ['x'] }),
      (x.time(2_000), x.run<AgentsResult>('agents', { op: 'deregister', id: 'a' })),
    ];
    expect(next(copy.d)).toEqual(next(d));
    expect(copy.machine.digest()).toBe(machine.digest());
  });
});
