/**
 * One node of the services simulator: the PRODUCTION Raft driver (src/runtime/driver.ts) with
 * the services machine (src/machines/services/, createServicesMachine) as its state machine,
 * and the services' runtime (src/services/: ServicesHost with its LeaderDuties and AgentHost)
 * over a `ServicesPort` in virtual time, wired as src/runtime/services-part.ts wires a real
 * node: the driver's apply and snapshot-restore hooks feed the host, its role events tell the
 * leader's duties, and forwarded proposals are filtered at the proposal boundary
 * (privilegedSessionReason: a follower's time command or tool transition never reaches the
 * leader's core). The simulated parts are the Raft simulator's: virtual clock with drift,
 * storage that loses writes in flight at a crash, the seeded network with authenticated links.
 *
 * Tools and agents are deterministic handlers on the node (./services-workload.ts registers
 * the agents); every execution is recorded in the run's history AS IT STARTS, so an execution
 * on a node that then crashed still counts. Their answers settle in virtual time
 * (./virtual-result.ts) and never if the node crashed first.
 *
 * A crash drops the driver, the host, the handlers in flight and the agents living here (a tab
 * closed); `restart` boots a new driver from storage with a new host and the tools registered
 * again; agents come back only if the workload registers them again.
 */
import type { Message } from '../../core/raft/messages.ts';
import type { Result } from '../../core/result.ts';
import type { Prng } from '../../core/prng.ts';
import type { NodeId } from '../../core/raft/types.ts';
import { LinkGuard } from '../../io/crypto/link-guard.ts';
import { fnv1a64Hex } from '../../machines/bytes.ts';
import { decodeServiceAnswer, encodeServiceCommand } from '../../machines/services/codec.ts';
import type { CompositeMachine } from '../../machines/services/composite.ts';
import type { Change } from '../../machines/services/part.ts';
import { createServicesMachine, type ServicesOptions } from '../../machines/services/services-machine.ts';
import type { Task } from '../../machines/services/tasks.ts';
import type { ToolCall } from '../../machines/services/tools.ts';
import type { Value } from '../../machines/services/value.ts';
import { Driver } from '../../runtime/driver.ts';
import { FrameRouter, type PeerLink } from '../../runtime/frame-router.ts';
import { privilegedSessionReason } from '../../services/privileged.ts';
import { ServicesHost } from '../../services/services-host.ts';
import type { ServicesTimings } from '../../services/services-port.ts';
import { sample, type Distribution } from '../distributions.ts';
import { MemoryStorage } from '../memory-storage.ts';
import type { Network } from '../network.ts';
import type { Scheduler } from '../scheduler.ts';
import { SimClock } from '../sim-clock.ts';
import { simIdentityKey } from '../sim-identity.ts';
import type { RaftTuning } from '../sim-node-options.ts';
import { simWrites } from '../sim-storage.ts';
import { SimTransport } from '../sim-transport.ts';
import { taskResult, toolNames, toolResult, type ServicesHistory } from './services-history.ts';
import type { ServicesSabotage } from './services-sabotage.ts';
import { VirtualResult } from './virtual-result.ts';

export interface ServicesSimNodeOptions {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly cluster: string;
  readonly secret: string;
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly peerNet: Network<Uint8Array>;
  readonly storageLatency: Distribution;
  readonly baseTickUs: number;
  readonly tickUs: number;
  readonly raft: RaftTuning;
  readonly proposalTimeoutMs: number;
  readonly timings: ServicesTimings;
  readonly machine: ServicesOptions;
  readonly history: ServicesHistory;
  /** How long a tool's handler and an agent's handler take. */
  readonly toolDuration: Distribution;
  readonly taskDuration: Distribution;
  readonly sabotage: ReadonlySet<ServicesSabotage>;
  /** A tool handler began here (the nemesis may crash the node mid-call). */
  readonly onToolRun: (node: ServicesSimNode) => void;
  /** The driver reported an error (an engine or storage bug). */
  readonly onEngineError: (node: ServicesSimNode, error: string) => void;
}

interface Life {
  readonly driver: Driver;
  readonly clock: SimClock;
  readonly transport: SimTransport;
  readonly host: ServicesHost;
  readonly machine: CompositeMachine;
  applied: number;
}

export class ServicesSimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  private life: Life | null = null;
  private incarnation = 0;
  /** Agents living on this node in this life (the workload re-registers after a restart). */
  readonly agents = new Set<string>();
  crashes = 0;
  /** Callers of this life waiting on a tool key (the answer-before-commit sabotage answers them early). */
  private readonly localCallers = new Map<string, (call: ToolCall) => void>();
  /** Clients' submits waiting on this life. */
  private readonly waiting = new Set<(r: Result<never>) => void>();

  constructor(private readonly o: ServicesSimNodeOptions) {
    this.id = o.id;
    this.storage = new MemoryStorage({ scheduler: o.scheduler, prng: o.prng, latency: o.storageLatency, onRefused: (e) => this.stopOnBug(e.message) });
  }

  get up(): boolean {
    return this.life !== null;
  }

  isLeader(): boolean {
    return this.life !== null && this.life.driver.role() === 'leader';
  }

  status(): { commit: number; lastIndex: number; applied: number } | null {
    if (this.life === null) return null;
    const s = this.life.driver.status();
    return { commit: s.commit, lastIndex: s.lastIndex, applied: this.life.applied };
  }

  digest(): string {
    return this.life === null ? '' : fnv1a64Hex(this.life.driver.stateBytes());
  }

  /** A local read of this replica's services machine (not by itself linearizable). */
  query(service: string, query: unknown): unknown {
    if (this.life === null) return null;
    return this.life.machine.query({ service, query });
  }

  restart(): void {
    if (this.life !== null) return;
    const o = this.o;
    const boot = this.storage.load();
    const incarnation = ++this.incarnation;
    const alive = (): boolean => incarnation === this.incarnation;
    const clock = new SimClock(o.scheduler, o.tickUs / o.baseTickUs);
    const transport = new SimTransport(this.id, o.peerNet, 4096);
    const guard = new LinkGuard({ secret: o.secret, cluster: o.cluster, self: this.id, epoch: o.scheduler.nowUs + 1, mac: 'sync', identityKey: simIdentityKey(this.id) });
    const router = new FrameRouter({ transport, cluster: o.cluster, self: this.id, guard, now: () => o.scheduler.nowUs / 1000 });
    const machineOptions = this.sabotaged('audit-evicts') ? { ...o.machine, tools: { ...o.machine.tools, auditRecordsMax: 8 } } : o.machine;
    const machine = createServicesMachine(machineOptions).machine;
    this.observeChanges(machine, `${this.id}#${incarnation}`);
    let lifeRef: Life | null = null;
    const driver = new Driver({
      raft: { ...o.raft, id: this.id, voters: o.voters },
      storage: inertStorage,
      writes: simWrites(this.storage, o.scheduler, 50, alive, false, () => undefined),
      link: boundary(router),
      machine,
      createMachine: () => createServicesMachine(machineOptions).machine,
      clock,
      tickMs: o.baseTickUs / 1000,
      proposalTimeoutMs: o.proposalTimeoutMs,
      seed: o.prng.nextUint32(),
      observer: {
        onApplied: (e) => {
          if (lifeRef === null) return;
          lifeRef.applied = e.index;
          if (e.kind === 'normal') lifeRef.host.applied(e.index);
        },
        onRestored: (index) => {
          if (lifeRef === null) return;
          lifeRef.applied = index;
          lifeRef.host.reset(index);
        },
      },
    });
    const host = new ServicesHost(
      {
        self: this.id,
        clock,
        machine,
        wallMs: () => clock.now(),
        isLeader: () => alive() && driver.role() === 'leader',
        term: () => (alive() ? driver.term() : 0),
        propose: (bytes, done) => {
          if (!alive()) return;
          driver.submitCommand(bytes, (r) => done(r.ok ? { ok: true, value: r.value.result } : { ok: false, error: { code: r.error.code, message: r.error.message } }));
        },
      },
      o.timings,
      () => undefined,
    );
    driver.on((e) => {
      if (!alive()) return;
      if (e.type === 'role' || e.type === 'leader') host.roleChanged();
      if (e.type === 'error') this.stopOnBug(`${e.error.code}: ${e.error.message}`);
    });
    const life: Life = { driver, clock, transport, host, machine, applied: boot.snapshot?.meta.index ?? 0 };
    this.registerTools(host, alive);
    this.life = life;
    lifeRef = life;
    try {
      driver.startFrom(boot);
    } catch (error) {
      this.life = null;
      this.incarnation++;
      o.onEngineError(this, error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.sabotaged('rerun-after-restart')) clock.after(300, () => this.rerunOwnStarts(alive));
  }

  crash(): void {
    const life = this.life;
    if (life === null) return;
    this.crashes++;
    this.life = null;
    this.incarnation++;
    this.agents.clear();
    this.localCallers.clear();
    for (const w of [...this.waiting]) w({ ok: false, error: { code: 'STOPPED', message: 'the node crashed' } });
    this.waiting.clear();
    life.host.stop();
    life.clock.stop();
    life.driver.halt();
    void life.transport.close();
    this.storage.crash();
  }

  deliver(from: NodeId, frame: Uint8Array): void {
    this.life?.transport.deliver(from, frame);
  }

  // ---- what clients do through this node ----------------------------------------------------

  /** Propose a service command from this node; `done` gets the part's answer, or why not. */
  submit(service: string, command: object, done: (r: Result<{ readonly status: string; readonly result?: unknown; readonly reason?: string }>) => void): boolean {
    const life = this.life;
    if (life === null) return false;
    // A crash answers STOPPED to whoever waits here (the client notices its node is gone).
    let answered = false;
    const once: typeof done = (r) => {
      if (answered) return;
      answered = true;
      this.waiting.delete(once);
      done(r);
    };
    this.waiting.add(once);
    life.driver.submitCommand(encodeServiceCommand(service, command), (r) => {
      if (!r.ok) once({ ok: false, error: { code: r.error.code, message: r.error.message } });
      else once({ ok: true, value: decodeServiceAnswer(r.value.result) });
    });
    return true;
  }

  callTool(tool: string, args: Value, key: string, timeoutMs: number, done: (r: Result<ToolCall>) => void): boolean {
    const life = this.life;
    if (life === null) return false;
    let answered = false;
    const once = (r: Result<ToolCall>): void => {
      if (answered) return;
      answered = true;
      this.localCallers.delete(key);
      done(r);
    };
    if (this.sabotaged('answer-before-commit')) this.localCallers.set(key, (call) => once({ ok: true, value: call }));
    life.host.callTool(tool, args, { key, idempotent: tool === toolNames.idempotent, timeoutMs }, once);
    return true;
  }

  /** Register an agent living on this node (its handler runs tasks in virtual time). */
  registerAgent(agent: string, capabilities: readonly string[], done: (ok: boolean) => void): boolean {
    const life = this.life;
    if (life === null) return false;
    const alive = this.aliveNow();
    this.agents.add(agent);
    life.host.registerAgent(agent, capabilities, (task) => this.runTask(agent, task, alive), (r) => {
      if (alive()) done(r.ok);
    });
    return true;
  }

  // ---- handlers ---------------------------------------------------------------------------------

  private registerTools(host: ServicesHost, alive: () => boolean): void {
    for (const [tool, idempotent] of [
      [toolNames.once, false],
      [toolNames.idempotent, true],
    ] as const) {
      host.registerTool(
        tool,
        (args, call) => {
          this.o.history.toolExecutions.push({ key: call.key, tool, node: this.id, term: call.term, atUs: this.o.scheduler.nowUs });
          this.o.onToolRun(this);
          const result = toolResult(tool, args);
          const answer = new VirtualResult(this.o.scheduler, sample(this.o.prng, this.o.toolDuration), result, alive);
          if (this.sabotaged('answer-before-commit')) {
            // The bug: the local caller hears the handler's result the moment it returns.
            return {
              then: (f: (v: typeof result) => unknown) => {
                answer.then((v) => {
                  const early = this.localCallers.get(call.key);
                  if (early !== undefined && alive()) early({ ...placeholderCall(call.key, tool, args), state: 'completed', result });
                  f(v);
                  return null;
                });
              },
            } as unknown as PromiseLike<typeof result>;
          }
          return answer;
        },
        idempotent,
      );
    }
  }

  private runTask(agent: string, task: Task, alive: () => boolean): Value | PromiseLike<Value> {
    this.o.history.taskExecutions.push({ task: task.id, token: task.token, agent, node: this.id, atUs: this.o.scheduler.nowUs });
    const result = taskResult(task.id, agent, task.token);
    const delayUs = sample(this.o.prng, this.o.taskDuration);
    if (!this.sabotaged('report-current-token')) return new VirtualResult(this.o.scheduler, delayUs, result, alive);
    // The bug: at the end, report under whatever token this replica now shows for the task
    // (a holder that "refreshes" its token instead of keeping its assignment's).
    this.o.scheduler.after(delayUs, () => {
      if (!alive()) return;
      const now = this.query('agents', { q: 'task', id: task.id }) as Task | null;
      const token = now !== null && now.state === 'assigned' ? now.token : task.token;
      this.submit('agents', { op: 'complete', task: task.id, token, result }, () => undefined);
    });
    return new VirtualResult(this.o.scheduler, Number.MAX_SAFE_INTEGER / 4, null, () => false);
  }

  /** Sabotage `rerun-after-restart`: a runtime that resumes the calls it had started before its crash. */
  private rerunOwnStarts(alive: () => boolean): void {
    if (!alive()) return;
    const actions = this.query('tools', { q: 'takeover' }) as readonly { key: string; tool: string; call: ToolCall }[];
    for (const a of actions) {
      if (a.call.holder?.node !== this.id) continue;
      this.o.history.toolExecutions.push({ key: a.key, tool: a.tool, node: this.id, term: a.call.holder.term, atUs: this.o.scheduler.nowUs });
    }
  }

  /** Every replica's task and lock changes go to the history in its apply order, per life (a restart replays). */
  private observeChanges(machine: CompositeMachine, life: string): void {
    const take = machine.takeChanges.bind(machine);
    const h = this.o.history;
    machine.takeChanges = (): readonly Change[] => {
      const changes = take();
      for (const c of changes) {
        if (c.kind === 'lock') h.locksApplied.push({ node: life, name: c.name, token: c.token });
        if (c.kind !== 'task' || (c.state !== 'assigned' && c.state !== 'done' && c.state !== 'failed')) continue;
        const t = machine.query({ service: 'agents', query: { q: 'task', id: c.id } }) as Task | null;
        if (t !== null) h.tasksApplied.push({ node: life, task: t.id, state: c.state, token: t.token, agent: t.agent, result: t.result });
      }
      return changes;
    };
  }

  private aliveNow(): () => boolean {
    const incarnation = this.incarnation;
    return () => incarnation === this.incarnation;
  }

  private stopOnBug(message: string): void {
    if (this.life === null) return;
    this.o.onEngineError(this, message);
    this.crash();
  }

  private sabotaged(s: ServicesSabotage): boolean {
    return this.o.sabotage.has(s);
  }
}

/** The proposal boundary of services-part.ts: a forwarded time command or tool transition is dropped. */
function boundary(link: PeerLink<Message>): PeerLink<Message> {
  return {
    send: (m) => link.send(m),
    onLinkState: (h) => link.onLinkState(h),
    close: () => link.close(),
    onMessage: (handler) =>
      link.onMessage((m) => {
        if (m.type !== 'propose') {
          handler(m);
          return;
        }
        const kept = m.data.filter((d) => privilegedSessionReason(d) === null);
        if (kept.length === m.data.length) handler(m);
        else if (kept.length > 0) handler({ ...m, data: kept });
      }),
  };
}

function placeholderCall(key: string, tool: string, args: Value): ToolCall {
  return { key, tool, args, idempotent: false, requestedBy: '', requestedTerm: 0, requestedIndex: 0, requestedTimeMs: 0, state: 'requested', holder: null, starts: 0, result: null, error: null, finishedIndex: null } as unknown as ToolCall;
}

const inertStorage = {
  boot: () => Promise.reject(new Error('the simulator boots its drivers with startFrom')),
  write: () => Promise.reject(new Error('the simulator writes through simWrites')),
  close: () => Promise.resolve(),
};
