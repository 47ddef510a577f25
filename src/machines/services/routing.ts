/**
 * Routing strategies: which agent, among those able (capabilities) and with room (tasks in
 * hand below the bound), gets a task. Deterministic: candidates come in id order, ties go to
 * the first, no randomness, so every replica assigns a task to the same agent.
 *
 * - round-robin: a cursor per requirement (the capability set), advanced on every selection;
 * - least-used: fewest tasks in hand, then fewest ever assigned;
 * - load-aware: the lowest score from the agent's last heartbeat, by default
 *   0.5·load/10 + 0.3·latencyMs/1000 + 0.2·(1 − successRate)·10 (the seed design's formula,
 *   issue 14), weights configurable.
 */
import type { Agent } from './agent-registry.ts';

export const routingStrategies = ['round-robin', 'least-used', 'load-aware'] as const;
export type RoutingStrategy = (typeof routingStrategies)[number];

export interface LoadWeights {
  readonly load: number;
  readonly latency: number;
  readonly failure: number;
}

export const defaultLoadWeights: LoadWeights = { load: 0.5, latency: 0.3, failure: 0.2 };

export function loadScore(agent: Agent, w: LoadWeights): number {
  return (w.load * agent.load) / 10 + (w.latency * agent.latencyMs) / 1000 + w.failure * (1 - agent.successRate) * 10;
}

export interface RouteInput {
  readonly candidates: readonly Agent[];
  /** Agents holding this many tasks are full. */
  readonly tasksPerAgentMax: number;
  /** An agent not to choose (the holder whose lease expired: backup promotion). */
  readonly exclude: string | null;
}

function eligible(a: Agent, input: RouteInput): boolean {
  return a.active < input.tasksPerAgentMax && a.id !== input.exclude;
}

export function leastUsed(input: RouteInput): Agent | null {
  let best: Agent | null = null;
  const c = input.candidates;
  for (let i = 0; i < c.length; i++) {
    const a = c[i] as Agent;
    if (!eligible(a, input)) continue;
    if (best === null || a.active < best.active || (a.active === best.active && a.assignedTotal < best.assignedTotal)) best = a;
  }
  return best;
}

export function loadAware(input: RouteInput, weights: LoadWeights): Agent | null {
  let best: Agent | null = null;
  let bestScore = Infinity;
  const c = input.candidates;
  for (let i = 0; i < c.length; i++) {
    const a = c[i] as Agent;
    if (!eligible(a, input)) continue;
    const score = loadScore(a, weights);
    if (score < bestScore) {
      best = a;
      bestScore = score;
    }
  }
  return best;
}

/** Round robin from `cursor`: the first eligible agent at or after it; answers the agent and the next cursor. */
export function roundRobin(input: RouteInput, cursor: number): { agent: Agent | null; next: number } {
  const n = input.candidates.length;
  for (let i = 0; i < n; i++) {
    const at = (cursor + i) % n;
    const a = input.candidates[at] as Agent;
    if (eligible(a, input)) return { agent: a, next: (at + 1) % n };
  }
  return { agent: null, next: cursor };
}

/** Round-robin cursors per requirement, bounded (the oldest requirement's cursor is forgotten). */
export class Cursors {
  private readonly map = new Map<string, number>();
  constructor(private readonly cursorsMax: number) {}

  get(key: string): number {
    return this.map.get(key) ?? 0;
  }

  set(key: string, value: number): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.cursorsMax) this.map.delete(this.map.keys().next().value as string);
  }

  entries(): [string, number][] {
    return [...this.map.entries()];
  }

  load(entries: readonly [string, number][]): void {
    this.map.clear();
    for (const [k, v] of entries) this.map.set(k, v);
  }
}
