/**
 * Microbenchmark of the services' machines in process (issue 14 item 10's first two figures):
 *
 * - `registryLookupsPerSec`: 1,000 agents registered through commands, each with 3 of 20
 *   capabilities; lookups by id, by one capability and by all of two capabilities, in equal
 *   parts, through the agents part's read methods (what the runtime's query path calls after
 *   checking the query's shape). Goal 2,000,000; the seed design claimed 500,000.
 *   `registryQueriesPerSec`: the same lookups through `query()`, with the query's fields checked.
 * - `routingSelectionsPerSec`: 100 agents with heartbeats; selections by least-used and
 *   load-aware alternately (no assignment: the strategy's choice alone). Goal 1,000,000.
 *   The choice comes from a tree kept per candidate list (src/machines/services/route-index.ts),
 *   so with nothing changing a selection is a read of its root: `routingChangedSelectionsPerSec`
 *   changes one agent's load (as a heartbeat does, then `touched`) before every selection.
 *
 * Usage: `npx tsx bench/services-machines.ts [--seconds N]` (default 1 per figure). Prints one
 * JSON line. Timings swing with the machine's load: compare figures within one run.
 */
import { createPrng } from '../src/core/prng.ts';
import type { Agent } from '../src/machines/services/agent-registry.ts';
import { AgentsPart } from '../src/machines/services/agents.ts';
import { encodeServiceCommand } from '../src/machines/services/codec.ts';
import { CompositeMachine } from '../src/machines/services/composite.ts';

function fleet(agentCount: number, capabilityCount: number): { agents: AgentsPart; caps: string[] } {
  const agents = new AgentsPart({ agentsMax: agentCount });
  const machine = new CompositeMachine({ agents });
  const p = createPrng(7);
  const caps = Array.from({ length: capabilityCount }, (_, i) => `cap${i}`);
  let index = 0;
  for (let i = 0; i < agentCount; i++) {
    const mine = new Set<string>();
    while (mine.size < 3) mine.add(caps[p.nextInt(caps.length)] as string);
    machine.apply(encodeServiceCommand('agents', { op: 'register', id: `agent${i}`, capabilities: [...mine], node: `n${i % 5}` }), ++index);
    const beat = { op: 'heartbeat', id: `agent${i}`, load: p.nextInt(10), latencyMs: p.nextInt(1000), successRate: p.nextFloat() };
    machine.apply(encodeServiceCommand('agents', beat), ++index);
  }
  return { agents, caps };
}

/** Runs `step(i)` in batches until `seconds` pass; answers operations per second. */
function rate(seconds: number, step: (i: number) => unknown): number {
  let sink = 0;
  let ops = 0;
  const batch = 10_000;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) {
    for (let i = 0; i < batch; i++) if (step(ops + i) !== null) sink++;
    ops += batch;
    now = performance.now();
  }
  if (sink < 0) console.log(sink);
  return Math.round(ops / ((now - start) / 1000));
}

export interface ServicesMachinesFigures {
  readonly registryLookupsPerSec: number;
  readonly registryQueriesPerSec: number;
  readonly routingSelectionsPerSec: number;
  readonly routingChangedSelectionsPerSec: number;
}

/** The three figures, each measured for `seconds` (bench/services.ts reports them too). */
export function measureServicesMachines(seconds: number): ServicesMachinesFigures {
  const { agents, caps } = fleet(1_000, 20);
  const ids = Array.from({ length: 1_000 }, (_, i) => `agent${i}`);
  const pairs = caps.flatMap((a, i) => caps.slice(i + 1).map((b) => [a, b]));
  const lookup = (i: number): unknown => {
    const kind = i % 3;
    if (kind === 0) return agents.agent(ids[i % ids.length] as string);
    if (kind === 1) return agents.agentsWith([caps[i % caps.length] as string]);
    return agents.agentsWith(pairs[i % pairs.length] as string[]);
  };
  rate(0.2, lookup); // warm up
  const registryLookupsPerSec = rate(seconds, lookup);
  const queries = [
    ...ids.slice(0, 100).map((id) => ({ q: 'agent', id })),
    ...caps.map((c) => ({ q: 'agents', capabilities: [c] })),
    ...pairs.slice(0, 100).map((p) => ({ q: 'agents', capabilities: p })),
  ];
  const registryQueriesPerSec = rate(seconds, (i) => agents.query(queries[i % queries.length]));

  const small = fleet(100, 4);
  const route = (i: number): unknown => small.agents.queue.route([small.caps[i % 4] as string], i % 2 === 0 ? 'least-used' : 'load-aware', null, false);
  rate(0.2, route);
  const routingSelectionsPerSec = rate(seconds, route);
  const all = small.agents.registry.all();
  const changedRoute = (i: number): unknown => {
    const agent = all[(i * 37) % all.length] as Agent;
    agent.load = i % 10;
    small.agents.queue.touched(agent);
    return route(i);
  };
  rate(0.2, changedRoute);
  const routingChangedSelectionsPerSec = rate(seconds, changedRoute);
  return { registryLookupsPerSec, registryQueriesPerSec, routingSelectionsPerSec, routingChangedSelectionsPerSec };
}

export function runServicesMachinesBench(args: readonly string[]): void {
  const at = args.indexOf('--seconds');
  const figures = measureServicesMachines(at >= 0 ? Number(args[at + 1]) : 1);
  const { registryLookupsPerSec, registryQueriesPerSec, routingSelectionsPerSec, routingChangedSelectionsPerSec } = figures;
  console.log(`registry: ${registryLookupsPerSec} lookups/s (1,000 agents; goal 2,000,000), ${registryQueriesPerSec} checked queries/s`);
  console.log(`routing: ${routingSelectionsPerSec} selections/s (100 agents, least-used and load-aware; goal 1,000,000), ${routingChangedSelectionsPerSec}/s with an agent changed before each`);
  console.log(JSON.stringify({ bench: 'services-machines', ...figures }));
}

if (import.meta.url === `file://${process.argv[1]}`) runServicesMachinesBench(process.argv.slice(2));
