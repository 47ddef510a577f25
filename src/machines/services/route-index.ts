/**
 * Routing without a scan per choice (issue 14's bench: a million least-used or load-aware
 * selections per second among 100 agents). A tournament tree per candidate list and strategy:
 * each leaf is one candidate (in the list's id order), each inner node holds the better of its
 * two children, so the root is the strategy's choice; a change to one agent (a heartbeat's
 * numbers, a task assigned or released) redoes the path from its leaf up, O(log n), and a choice
 * is O(1), or O(log n) when the root is the excluded agent (backup promotion).
 *
 * The choice is EXACTLY the scan's of ./routing.ts (leastUsed, loadAware), which the tests hold
 * it to: the smallest key, ties to the earlier candidate in id order; an agent with
 * tasksPerAgentMax tasks is no candidate. Every replica therefore assigns alike. The trees are a
 * cache, not state: never in a snapshot, rebuilt lazily, dropped whole when membership changes
 * (the candidate lists are then new arrays).
 *
 * EVERY change to an agent's active, assignedTotal, load, latencyMs or successRate must be
 * followed by `touched(agent)`, or the trees go stale (tasks.ts and agents.ts do).
 */
import { assert } from '../../core/assert.ts';
import type { Agent } from './agent-registry.ts';
import { loadScore, type LoadWeights } from './routing.ts';

/** Strictly better (a smaller key); ties are broken by position, not here. */
type Better = (a: Agent, b: Agent) => boolean;

export class RouteTree {
  /** Leaves start here (a power of two >= the candidates). */
  private readonly width: number;
  /** Per node (1 = root, heap layout): the index of the best eligible candidate below, or -1. */
  private readonly best: Int32Array;
  private readonly leafOf = new Map<string, number>();

  constructor(
    private readonly candidates: readonly Agent[],
    private readonly better: Better,
    private readonly tasksPerAgentMax: number,
  ) {
    let width = 1;
    while (width < candidates.length) width *= 2;
    this.width = width;
    this.best = new Int32Array(2 * width).fill(-1);
    for (let i = 0; i < candidates.length; i++) {
      this.leafOf.set((candidates[i] as Agent).id, i);
      this.best[width + i] = this.eligible(i) ? i : -1;
    }
    for (let k = width - 1; k >= 1; k--) this.best[k] = this.pick(this.best[2 * k] as number, this.best[2 * k + 1] as number);
  }

  private eligible(i: number): boolean {
    return (this.candidates[i] as Agent).active < this.tasksPerAgentMax;
  }

  /** The better of two candidates by index (-1: none); equal keys go to the earlier one. */
  private pick(i: number, j: number): number {
    if (i < 0) return j;
    if (j < 0) return i;
    const a = this.candidates[i] as Agent;
    const b = this.candidates[j] as Agent;
    if (this.better(b, a)) return j;
    if (this.better(a, b)) return i;
    return i < j ? i : j;
  }

  /** The agent changed: redo its leaf's path. An agent not in this list is ignored. */
  update(agent: Agent): void {
    const i = this.leafOf.get(agent.id);
    if (i === undefined) return;
    assert(this.candidates[i] === agent, 'a tree is dropped when its agents are replaced');
    let k = this.width + i;
    this.best[k] = this.eligible(i) ? i : -1;
    for (k >>= 1; k >= 1; k >>= 1) this.best[k] = this.pick(this.best[2 * k] as number, this.best[2 * k + 1] as number);
  }

  /** The best eligible candidate other than `exclude`, or null. */
  choose(exclude: string | null): Agent | null {
    const root = this.best[1] as number;
    if (root < 0) return null;
    const top = this.candidates[root] as Agent;
    if (top.id !== exclude) return top;
    // The best of everything but that leaf: the siblings along its path to the root.
    let acc = -1;
    for (let k = this.width + root; k > 1; k >>= 1) acc = this.pick(acc, this.best[k ^ 1] as number);
    return acc < 0 ? null : (this.candidates[acc] as Agent);
  }
}

export const leastUsedBetter: Better = (a, b) => a.active < b.active || (a.active === b.active && a.assignedTotal < b.assignedTotal);

export function loadAwareBetter(w: LoadWeights): Better {
  return (a, b) => loadScore(a, w) < loadScore(b, w);
}

/**
 * The trees of one task queue, per candidate list (by identity) and strategy. Bounded: at most
 * treesMax; when full, all are dropped and rebuilt as needed.
 */
export class RouteTrees {
  private readonly trees = new Map<readonly Agent[], { leastUsed: RouteTree | null; loadAware: RouteTree | null }>();
  /** The trees each agent is a leaf of, to update them when it changes. */
  private readonly byAgent = new Map<string, RouteTree[]>();
  private readonly loadAwareBetter: Better;

  constructor(
    private readonly tasksPerAgentMax: number,
    weights: LoadWeights,
    private readonly treesMax: number,
  ) {
    this.loadAwareBetter = loadAwareBetter(weights);
  }

  /** Membership changed: every candidate list is new. */
  clear(): void {
    this.trees.clear();
    this.byAgent.clear();
  }

  tree(candidates: readonly Agent[], strategy: 'least-used' | 'load-aware'): RouteTree {
    let entry = this.trees.get(candidates);
    if (entry === undefined) {
      if (this.trees.size >= this.treesMax) this.clear();
      this.trees.set(candidates, (entry = { leastUsed: null, loadAware: null }));
    }
    const slot = strategy === 'least-used' ? 'leastUsed' : 'loadAware';
    let tree = entry[slot];
    if (tree === null) {
      tree = new RouteTree(candidates, strategy === 'least-used' ? leastUsedBetter : this.loadAwareBetter, this.tasksPerAgentMax);
      entry[slot] = tree;
      for (const a of candidates) {
        let list = this.byAgent.get(a.id);
        if (list === undefined) this.byAgent.set(a.id, (list = []));
        list.push(tree);
      }
    }
    return tree;
  }

  touched(agent: Agent): void {
    const list = this.byAgent.get(agent.id);
    if (list !== undefined) for (const tree of list) tree.update(agent);
  }
}
