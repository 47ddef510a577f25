/**
 * The agent registry: agents (handlers in any tab or node) with an id, capabilities, the node
 * they run on, and the health they report by heartbeat (load, latency, success rate). Part of
 * the agents part (./agents.ts); a plain data structure, replicated because every mutation is
 * a committed command applied in log order.
 *
 * Lookups must be fast (issue 14's bench: 2,000,000 lookups per second for 1,000 agents in
 * process), so the registry keeps indexes: by id (a Map), by capability (a sorted array per
 * capability, rebuilt lazily after membership changes, not after heartbeats, which change an
 * agent's numbers in place), and a bounded cache of all-of-several-capabilities answers,
 * cleared on any membership change. Answers are in id order (the same on every replica, which
 * the routing strategies rely on for determinism) and are shared arrays: read, never change.
 */
import { assert } from '../../core/assert.ts';

export interface Agent {
  readonly id: string;
  /** Sorted, distinct. */
  readonly capabilities: readonly string[];
  readonly node: string;
  /** Reported by heartbeat; 0 until the first. */
  load: number;
  latencyMs: number;
  /** 0..1; 1 until a heartbeat says otherwise. */
  successRate: number;
  readonly registeredIndex: number;
  /** Replicated time of the registration or last heartbeat: the agent expires agentTtlMs later. */
  lastSeenMs: number;
  /** Tasks it holds now. */
  active: number;
  /** Tasks ever assigned to it (least-used's tie-break). */
  assignedTotal: number;
}

/** All-of answers cached at most (cleared whole when full, and on membership change). */
export const allOfCacheMax = 1024;

/**
 * Answers are shared, NOT frozen: V8 scans a frozen array about 3x slower (measured here, a
 * 100-agent scoring loop: 1.48 M/s plain, 0.44 M/s frozen), and routing scans them per choice.
 */
const none: readonly Agent[] = [];

export class AgentRegistry {
  private readonly byId = new Map<string, Agent>();
  private readonly byCapability = new Map<string, Set<string>>();
  /** Sorted answers per capability; an entry is dropped when its set changes. */
  private readonly sortedByCapability = new Map<string, readonly Agent[]>();
  private readonly allOfCache = new Map<string, readonly Agent[]>();
  private sortedAll: readonly Agent[] | null = null;
  /** Bumped on every membership change (caches of candidate lists, like ./route-index.ts's, key on it). */
  membershipVersion = 0;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Agent | undefined {
    return this.byId.get(id);
  }

  /** Adds or replaces an agent (a re-registration keeps the counters of tasks it holds). */
  put(agent: Agent): void {
    const old = this.byId.get(agent.id);
    if (old !== undefined) this.unindex(old);
    this.byId.set(agent.id, agent);
    for (const cap of agent.capabilities) {
      let set = this.byCapability.get(cap);
      if (set === undefined) this.byCapability.set(cap, (set = new Set()));
      set.add(agent.id);
      this.sortedByCapability.delete(cap);
    }
    this.membershipChanged();
  }

  remove(id: string): Agent | undefined {
    const agent = this.byId.get(id);
    if (agent === undefined) return undefined;
    this.unindex(agent);
    this.byId.delete(id);
    this.membershipChanged();
    return agent;
  }

  private unindex(agent: Agent): void {
    for (const cap of agent.capabilities) {
      const set = this.byCapability.get(cap);
      assert(set !== undefined && set.has(agent.id), 'an agent is indexed under each of its capabilities');
      set.delete(agent.id);
      if (set.size === 0) this.byCapability.delete(cap);
      this.sortedByCapability.delete(cap);
    }
  }

  private membershipChanged(): void {
    this.membershipVersion++;
    this.allOfCache.clear();
    this.sortedAll = null;
  }

  /** Every agent, in id order. */
  all(): readonly Agent[] {
    if (this.sortedAll === null) this.sortedAll = sortById([...this.byId.values()]);
    return this.sortedAll;
  }

  /** Agents with one capability, in id order. */
  withCapability(capability: string): readonly Agent[] {
    const cached = this.sortedByCapability.get(capability);
    if (cached !== undefined) return cached;
    const set = this.byCapability.get(capability);
    if (set === undefined) return none;
    const sorted = sortById([...set].map((id) => this.byId.get(id) as Agent));
    this.sortedByCapability.set(capability, sorted);
    return sorted;
  }

  /** Agents with ALL of `capabilities` (sorted, distinct), in id order; none given: every agent. */
  withAll(capabilities: readonly string[]): readonly Agent[] {
    if (capabilities.length === 0) return this.all();
    if (capabilities.length === 1) return this.withCapability(capabilities[0] as string);
    const key = capabilities.join('\u0000');
    const cached = this.allOfCache.get(key);
    if (cached !== undefined) return cached;
    // Filter the smallest index by the others' sets.
    let smallest: string = capabilities[0] as string;
    for (const cap of capabilities) if ((this.byCapability.get(cap)?.size ?? 0) < (this.byCapability.get(smallest)?.size ?? 0)) smallest = cap;
    const sets = capabilities.filter((c) => c !== smallest).map((c) => this.byCapability.get(c));
    const answer = sets.some((s) => s === undefined) ? none : this.withCapability(smallest).filter((a) => sets.every((s) => (s as Set<string>).has(a.id)));
    if (this.allOfCache.size >= allOfCacheMax) this.allOfCache.clear();
    this.allOfCache.set(key, answer);
    return answer;
  }

  /** Agents in registration order (the snapshot's order: insertion order is replicated). */
  inOrder(): IterableIterator<Agent> {
    return this.byId.values();
  }
}

function sortById(agents: Agent[]): readonly Agent[] {
  return agents.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
