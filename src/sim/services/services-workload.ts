/**
 * The mixed workload of the services simulator (issue 14 item 7), every actor a loop on the
 * virtual clock drawing from the seed's PRNG:
 *
 *   - tool callers: each call a new key, `charge` (not idempotent) or `lookup` (idempotent),
 *     through any running node; a call that fails or times out is asked again WITH THE SAME KEY
 *     (on another node if need be) until it is answered: a retry must never run it again;
 *   - task submitters: tasks needing `work` (or `work` and `gpu`) with short leases, retried
 *     by id until the submit is applied;
 *   - agents: one per node from the start (two of them with `gpu`), more joining during the
 *     run; they die with their node (a crash is a tab closed), are cut off with it by
 *     partitions, and come back (or not) when the node restarts; at the heal all come back;
 *   - configuration writers: compare-and-set on a few keys from the version their replica
 *     shows (sometimes one behind on purpose), so that writers race;
 *   - lock contenders: a few owners on one or two locks with short leases, holding a while and
 *     releasing with their token (or letting the lease run out).
 *
 * What each actor saw goes to the history (./services-history.ts) for the checkers.
 */
import type { Prng } from '../../core/prng.ts';
import type { Hold } from '../../machines/services/locks.ts';
import { chance, pick, sample, type Distribution } from '../distributions.ts';
import type { Scheduler } from '../scheduler.ts';
import { toolNames, type ConfigOp, type ServicesHistory } from './services-history.ts';
import type { ServicesSabotage } from './services-sabotage.ts';
import type { ServicesSimNode } from './services-sim-node.ts';

export interface WorkloadMix {
  readonly toolCallers: number;
  readonly taskSubmitters: number;
  readonly configWriters: number;
  readonly configKeys: readonly string[];
  readonly lockOwners: number;
  readonly lockNames: readonly string[];
  readonly think: Distribution;
  readonly retry: Distribution;
  readonly callTimeoutMs: number;
  readonly taskLeaseMs: number;
  readonly lockTtlMs: number;
  /** Probability that a restarted node's agents register again. */
  readonly agentReturnProbability: number;
  /** Agents that join during the run (at random times, on random nodes). */
  readonly agentsJoining: number;
}

const ms = 1000;

export function drawWorkloadMix(prng: Prng): WorkloadMix {
  return {
    toolCallers: 2 + prng.nextInt(3),
    taskSubmitters: 1 + prng.nextInt(2),
    configWriters: 2 + prng.nextInt(3),
    configKeys: ['cfg/a', 'cfg/b'].slice(0, 1 + prng.nextInt(2)),
    lockOwners: 2 + prng.nextInt(3),
    lockNames: ['L1', 'L2'].slice(0, 1 + prng.nextInt(2)),
    think: { kind: 'uniform', minUs: 20 * ms, maxUs: (80 + prng.nextInt(200)) * ms },
    retry: { kind: 'uniform', minUs: 30 * ms, maxUs: 150 * ms },
    callTimeoutMs: 1500,
    taskLeaseMs: 700 + prng.nextInt(800),
    lockTtlMs: 200 + prng.nextInt(400),
    agentReturnProbability: 0.7,
    agentsJoining: prng.nextInt(4),
  };
}

export interface WorkloadContext {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly nodes: readonly ServicesSimNode[];
  readonly history: ServicesHistory;
  readonly sabotage: ReadonlySet<ServicesSabotage>;
}

export class ServicesWorkload {
  private issuing = true;
  /** Tool keys called and not yet answered. */
  readonly pendingCalls = new Set<string>();
  /** Task ids whose submit is not yet applied. */
  readonly pendingSubmits = new Set<string>();
  /** Agents and their capabilities, by home node. */
  private readonly homes = new Map<string, Map<string, readonly string[]>>();
  private readonly lockCache = new Map<string, number>();

  constructor(
    private readonly c: WorkloadContext,
    readonly mix: WorkloadMix,
  ) {
    for (const [i, n] of c.nodes.entries()) this.homes.set(n.id, new Map([[`ag-${n.id}`, i < 2 ? ['work', 'gpu'] : ['work']]]));
  }

  get idle(): boolean {
    return this.pendingCalls.size === 0 && this.pendingSubmits.size === 0;
  }

  start(safetyEndUs: number): void {
    const m = this.mix;
    for (const n of this.c.nodes) this.registerHome(n);
    for (let i = 0; i < m.toolCallers; i++) this.later(() => this.callLoop(i, 0));
    for (let i = 0; i < m.taskSubmitters; i++) this.later(() => this.submitLoop(i, 0));
    for (let i = 0; i < m.configWriters; i++) this.later(() => this.configLoop(i, 0));
    for (let i = 0; i < m.lockOwners; i++) this.later(() => this.lockLoop(`o${i}`));
    for (let k = 0; k < m.agentsJoining; k++) {
      this.c.scheduler.after(this.c.prng.nextInt(safetyEndUs), () => {
        const n = pick(this.c.prng, this.c.nodes);
        const agent = `ag-${n.id}-${k}`;
        this.homes.get(n.id)?.set(agent, chance(this.c.prng, 0.5) ? ['work', 'gpu'] : ['work']);
        this.registerAgent(n, agent);
      });
    }
  }

  /** New operations stop; calls and submits in flight go on until answered. */
  stopIssuing(): void {
    this.issuing = false;
  }

  /** A node came back: its agents register again (at the heal, all of them, always). */
  nodeRestarted(n: ServicesSimNode, healing: boolean): void {
    if (!healing && !chance(this.c.prng, this.mix.agentReturnProbability)) return;
    this.registerHome(n);
  }

  private registerHome(n: ServicesSimNode): void {
    for (const agent of this.homes.get(n.id)?.keys() ?? []) this.registerAgent(n, agent);
  }

  private registerAgent(n: ServicesSimNode, agent: string): void {
    const caps = this.homes.get(n.id)?.get(agent) ?? ['work'];
    if (!n.up || n.agents.has(agent)) return;
    n.registerAgent(agent, caps, (ok) => {
      if (!ok) this.c.scheduler.after(sample(this.c.prng, this.mix.retry), () => n.agents.delete(agent) && this.registerAgent(n, agent));
    });
  }

  // ---- tools --------------------------------------------------------------------------------

  private callLoop(caller: number, seq: number): void {
    if (!this.issuing) return;
    const key = `k${caller}-${seq}`;
    const tool = chance(this.c.prng, 0.6) ? toolNames.once : toolNames.idempotent;
    this.c.history.toolCalls.set(key, tool);
    this.pendingCalls.add(key);
    this.callTool(key, tool, this.c.scheduler.nowUs, () => this.later(() => this.callLoop(caller, seq + 1)));
  }

  private callTool(key: string, tool: string, callUs: number, then: () => void): void {
    // Sabotage answer-before-commit: callers go to the leader when there is one, as a client
    // routed to the leader would; only a caller on the handler's node hears the early answer,
    // and a mid-call crash of that leader then leaves it holding an uncommitted outcome.
    const toLeader = this.c.sabotage.has('answer-before-commit') ? this.c.nodes.find((n) => n.up && n.isLeader()) : undefined;
    const node = toLeader ?? this.anyUp();
    const retry = (): void => this.c.scheduler.after(sample(this.c.prng, this.mix.retry), () => this.callTool(key, tool, callUs, then));
    const sent =
      node !== null &&
      node.callTool(tool, { key }, key, this.mix.callTimeoutMs, (r) => {
        if (!r.ok) {
          retry();
          return;
        }
        this.pendingCalls.delete(key);
        this.c.history.toolAnswers.push({ key, tool, callUs, retUs: this.c.scheduler.nowUs, call: r.value });
        then();
      });
    if (!sent) retry();
  }

  // ---- tasks --------------------------------------------------------------------------------

  private submitLoop(client: number, seq: number): void {
    if (!this.issuing) return;
    const id = `t${client}-${seq}`;
    const capabilities = chance(this.c.prng, 0.3) ? ['gpu', 'work'] : ['work'];
    this.pendingSubmits.add(id);
    this.submitTask(id, capabilities);
    this.c.scheduler.after(sample(this.c.prng, this.mix.think) * 2, () => this.submitLoop(client, seq + 1));
  }

  private submitTask(id: string, capabilities: readonly string[]): void {
    const node = this.anyUp();
    const retry = (): void => this.c.scheduler.after(sample(this.c.prng, this.mix.retry), () => this.submitTask(id, capabilities));
    const sent =
      node !== null &&
      node.submit('agents', { op: 'submit', id, capabilities: [...capabilities], payload: id, leaseMs: this.mix.taskLeaseMs }, (r) => {
        const result = r.ok ? (r.value.result as { status?: string; code?: string } | undefined) : undefined;
        if (result?.status === 'submitted' || result?.code === 'EXISTS') {
          this.pendingSubmits.delete(id);
          this.c.history.tasksSubmitted.add(id);
        } else retry();
      });
    if (!sent) retry();
  }

  // ---- configuration ------------------------------------------------------------------------

  private configLoop(client: number, seq: number): void {
    if (!this.issuing) return;
    const node = this.anyUp();
    const key = pick(this.c.prng, this.mix.configKeys);
    if (node === null) {
      this.later(() => this.configLoop(client, seq));
      return;
    }
    const seen = (node.query('config', { q: 'get', key }) as { version: number } | null)?.version ?? 0;
    const expectedVersion = chance(this.c.prng, 0.2) ? Math.max(0, seen - 1) : seen;
    const op: ConfigOp = { client, key, expectedVersion, value: `c${client}-${seq}`, callUs: this.c.scheduler.nowUs, retUs: null, outcome: { kind: 'unknown' } };
    this.c.history.configOps.push(op);
    const next = (): void => this.later(() => this.configLoop(client, seq + 1));
    if (this.c.sabotage.has('config-answer-local')) {
      // The bug: answered from this replica before the CAS is decided; the proposal still goes.
      op.retUs = this.c.scheduler.nowUs;
      op.outcome = { kind: 'set', version: seen + 1 };
      node.submit('config', { op: 'set', key, value: op.value, expectedVersion }, () => undefined);
      next();
      return;
    }
    node.submit('config', { op: 'set', key, value: op.value, expectedVersion }, (r) => {
      op.retUs = this.c.scheduler.nowUs;
      const a = r.ok ? (r.value.result as { status?: string; version?: number; code?: string; current?: number } | undefined) : undefined;
      if (a?.status === 'set' && a.version !== undefined) op.outcome = { kind: 'set', version: a.version };
      else if (a?.code === 'VERSION_MISMATCH' && a.current !== undefined) op.outcome = { kind: 'mismatch', current: a.current };
      else op.retUs = null; // not applied, or maybe applied: its effect is unknown
      next();
    });
  }

  // ---- locks --------------------------------------------------------------------------------

  private lockLoop(owner: string): void {
    if (!this.issuing) return;
    const name = pick(this.c.prng, this.mix.lockNames);
    const node = this.anyUp();
    const callUs = this.c.scheduler.nowUs;
    const cached = this.lockCache.get(`${owner}/${name}`);
    if (node === null) {
      this.later(() => this.lockLoop(owner));
      return;
    }
    if (cached !== undefined && chance(this.c.prng, 0.5)) {
      // Sabotage lock-answer-cached: the token once granted, answered again without asking.
      this.c.history.lockOps.push({ owner, name, callUs, retUs: callUs, status: 'acquired', token: cached });
      this.later(() => this.lockLoop(owner));
      return;
    }
    node.submit('locks', { op: 'lock', name, owner, ttlMs: this.mix.lockTtlMs }, (r) => {
      const a = r.ok ? (r.value.result as { status?: string; code?: string; hold?: Hold } | undefined) : undefined;
      const retUs = this.c.scheduler.nowUs;
      if ((a?.status === 'acquired' || a?.status === 'renewed') && a.hold !== undefined) {
        const token = a.hold.token;
        this.c.history.lockOps.push({ owner, name, callUs, retUs, status: a.status, token });
        if (this.c.sabotage.has('lock-answer-cached')) this.lockCache.set(`${owner}/${name}`, token);
        // Hold a while; release with the token, or (sometimes) let the lease run out.
        this.c.scheduler.after(sample(this.c.prng, this.mix.think), () => {
          if (chance(this.c.prng, 0.8)) this.anyUp()?.submit('locks', { op: 'release', name, owner, token }, () => undefined);
          this.later(() => this.lockLoop(owner));
        });
        return;
      }
      if (a?.code === 'LOCKED') this.c.history.lockOps.push({ owner, name, callUs, retUs, status: 'locked', token: 0 });
      this.later(() => this.lockLoop(owner));
    });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private anyUp(): ServicesSimNode | null {
    const up = this.c.nodes.filter((n) => n.up);
    return up.length === 0 ? null : pick(this.c.prng, up);
  }

  private later(fn: () => void): void {
    this.c.scheduler.after(sample(this.c.prng, this.mix.think), fn);
  }
}
