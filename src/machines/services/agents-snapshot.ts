/**
 * The agents part's state as values and back. A snapshot comes from storage or a peer: every
 * field of every agent and task is checked on the way in (a bad snapshot is refused whole,
 * never half-loaded).
 */
import type { Agent, AgentRegistry } from './agent-registry.ts';
import { Fields, MalformedCommandError } from './fields.ts';
import { routingStrategies } from './routing.ts';
import type { Task } from './tasks.ts';
import type { Value } from './value.ts';

const intMax = Number.MAX_SAFE_INTEGER;
const idCharsMax = 1024;

/** Agents in registration order (the registry's insertion order is part of the state). */
export function saveAgents(registry: AgentRegistry): Value {
  return [...registry.inOrder()] as unknown as Value[];
}

export function agentsFromValue(v: Value): Agent[] {
  if (!Array.isArray(v)) throw new MalformedCommandError('agents must be a list');
  return (v as readonly Value[]).map((raw) => {
    const f = new Fields(raw, 'a snapshot agent');
    const agent: Agent = {
      id: f.string('id', idCharsMax),
      capabilities: f.stringSet('capabilities', 1024, idCharsMax),
      node: f.string('node', idCharsMax),
      load: f.number('load', 0, Number.MAX_VALUE),
      latencyMs: f.number('latencyMs', 0, Number.MAX_VALUE),
      successRate: f.number('successRate', 0, 1),
      registeredIndex: f.int('registeredIndex', 0, intMax),
      lastSeenMs: f.int('lastSeenMs', 0, intMax),
      active: f.int('active', 0, intMax),
      assignedTotal: f.int('assignedTotal', 0, intMax),
    };
    f.done();
    return agent;
  });
}

export function taskFromValue(raw: Value): Task {
  const f = new Fields(raw, 'a snapshot task');
  const agent = f.value('agent');
  const error = f.value('error');
  if (!(agent === null || typeof agent === 'string')) throw new MalformedCommandError('task agent');
  if (!(error === null || typeof error === 'string')) throw new MalformedCommandError('task error');
  const task: Task = {
    id: f.string('id', idCharsMax * 2),
    capabilities: f.stringSet('capabilities', 1024, idCharsMax),
    payload: f.value('payload'),
    strategy: f.oneOf('strategy', routingStrategies),
    leaseMs: f.int('leaseMs', 1, intMax),
    pinned: f.boolean('pinned'),
    submittedIndex: f.int('submittedIndex', 0, intMax),
    state: f.oneOf('state', ['pending', 'assigned', 'done', 'failed'] as const),
    agent,
    token: f.int('token', 0, intMax),
    leaseExpiresMs: f.int('leaseExpiresMs', 0, intMax),
    attempts: f.int('attempts', 0, intMax),
    result: f.value('result'),
    error,
  };
  f.done();
  return task;
}
