/**
 * The route trees (src/machines/services/route-index.ts) choose exactly what a scan of the
 * candidates chooses (routing.ts's leastUsed and loadAware: the smallest key, ties to the earlier
 * agent in id order, full agents skipped, the excluded holder skipped) after every command of
 * random histories: registrations and re-registrations with other capabilities, deregistrations,
 * heartbeats changing load, latency and success rate (with ties on purpose: few distinct values),
 * tasks submitted, completed, failed, requeued, and time passing so leases expire and silent
 * agents leave. Checked for every capability requirement, both strategies, each exclusion, with
 * a small tasksPerAgentMax so agents fill up. And the choice a task gets is the tree's.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import { AgentsPart } from '../../../src/machines/services/agents.ts';
import { CompositeMachine } from '../../../src/machines/services/composite.ts';
import { defaultLoadWeights, leastUsed, loadAware } from '../../../src/machines/services/routing.ts';
import type { Task } from '../../../src/machines/services/tasks.ts';
import { Driver } from './harness.ts';

const caps = ['a', 'b', 'c'];
const requirements = [[], ['a'], ['b'], ['c'], ['a', 'b'], ['a', 'c'], ['b', 'c'], ['a', 'b', 'c']];
const agentIds = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6'];

function step(d: Driver, agents: AgentsPart, p: Prng, submitted: string[], i: number): void {
  const pick = <T>(xs: readonly T[]): T => xs[p.nextInt(xs.length)] as T;
  const id = pick(agentIds);
  switch (p.nextInt(8)) {
    case 0:
      d.answer('agents', { op: 'register', id, capabilities: caps.filter(() => p.nextInt(2) === 0), node: 'n' });
      return;
    case 1:
      if (p.nextInt(4) === 0) d.answer('agents', { op: 'deregister', id });
      return;
    case 2:
    case 3:
      d.answer('agents', { op: 'heartbeat', id, load: p.nextInt(3), latencyMs: 100 * p.nextInt(3), successRate: pick([1, 0.5]) });
      return;
    case 4:
    case 5: {
      const r = d.answer<{ status: string; task?: Task }>('agents', { op: 'submit', capabilities: pick(requirements.slice(1, 4)), strategy: pick(['least-used', 'load-aware']), leaseMs: 500 });
      if (r.status === 'applied' && r.result.task !== undefined) submitted.push(r.result.task.id);
      return;
    }
    case 6: {
      const task = submitted.length === 0 ? undefined : (submitted[p.nextInt(submitted.length)] as string);
      if (task === undefined) return;
      const op = pick(['complete', 'complete', 'fail']);
      // Mostly the current token (the holder's result), sometimes a stale one.
      const token = p.nextInt(4) === 0 ? 1 + p.nextInt(i) : (agents.queue.tasks.get(task)?.token ?? 1);
      d.answer('agents', { op, task, token, ...(op === 'fail' ? { error: 'e', requeue: p.nextInt(2) === 0 } : { result: null }) });
      return;
    }
    default:
      d.time(i * 40);
  }
}

describe('route trees', () => {
  it('choose exactly what the scan chooses after every command', () => {
    let checks = 0;
    let nonNull = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const p = createPrng(seed);
      const agents = new AgentsPart({ tasksPerAgentMax: 2, agentTtlMs: 3_000 });
      const d = new Driver(new CompositeMachine({ agents }));
      const submitted: string[] = [];
      for (let i = 1; i <= 600; i++) {
        step(d, agents, p, submitted, i);
        for (const req of requirements) {
          const candidates = agents.registry.withAll(req);
          for (const exclude of [null, ...candidates.map((a) => a.id)]) {
            const input = { candidates, tasksPerAgentMax: 2, exclude };
            const want = [leastUsed(input)?.id ?? null, loadAware(input, defaultLoadWeights)?.id ?? null];
            const got = [agents.queue.route(req, 'least-used', exclude, false)?.id ?? null, agents.queue.route(req, 'load-aware', exclude, false)?.id ?? null];
            expect(got, `seed ${seed} step ${i} [${req.join(',')}] exclude ${exclude}`).toEqual(want);
            checks++;
            if (want[0] !== null) nonNull++;
          }
        }
      }
    }
    // The histories exercised the trees: many checks (about 90,000), about one in eight with a choice.
    expect(checks).toBeGreaterThan(10_000);
    expect(nonNull).toBeGreaterThan(checks / 10);
    expect(nonNull).toBeLessThan(checks);
  });
});
