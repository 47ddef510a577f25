/**
 * The coordination services on a node (issue 14), wired to its Raft driver: the services
 * machine as the node's state machine (`servicesAdapter`), and `ServicesPart`, which gives the
 * services' runtime (src/services/services-host.ts) the driver and guards the proposal
 * boundary.
 *
 * The boundary (src/services/privileged.ts): time commands and the tool transitions are
 * proposed only by this node's runtime, through `ServicesPort.propose`, which goes straight to
 * the driver. The page's `propose` refuses them with FORBIDDEN (`checkProposal`), and the
 * `propose` messages followers forward to this node are filtered before the core sees them
 * (`wrapLink`): a privileged command in them is dropped and counted. The leader's own proposals
 * never pass through a link, so nothing of its own is lost; a deposed leader's runtime
 * resubmitting its transitions to the new leader is dropped there, as it must be (the new
 * leader decides by its own takeover).
 */
import type { Message } from '../core/raft/messages.ts';
import type { Entry } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { CompositeMachine } from '../machines/services/composite.ts';
import type { ConfigValidator } from '../machines/services/config.ts';
import { createServicesMachine } from '../machines/services/services-machine.ts';
import type { StateMachine } from '../machines/state-machine.ts';
import type { Value } from '../machines/services/value.ts';
import { privilegedReason, privilegedSessionReason } from '../services/privileged.ts';
import { ServicesHost, type ServicesWatchEvent } from '../services/services-host.ts';
import { servicesTimingsDefaults, type ServicesTimings } from '../services/services-port.ts';
import type { Clock } from './clock.ts';
import type { Driver } from './driver.ts';
import { NodeError, toTaggedError } from './errors.ts';
import type { PeerLink } from './frame-router.ts';
import type { MachineAdapter } from './node-parts.ts';
import type { ServicesMetrics, ServicesSpec, ServicesWorkerApi, ToolCallRequest } from './services-protocol.ts';
import type { AgentHandler } from '../services/agent-host.ts';
import type { ToolHandler } from '../services/leader-duties.ts';

/** The services machine for a node: commands are composite commands; a read is `{ service, query }`. */
export function servicesAdapter(spec: ServicesSpec = {}, validators: readonly ConfigValidator[] = []): MachineAdapter {
  const make = (): CompositeMachine => {
    const config = { ...spec.config, configValidators: validators };
    const tools = spec.tools === undefined ? {} : { tools: spec.tools };
    const agents = spec.agents === undefined ? {} : { agents: spec.agents };
    const locks = spec.locks === undefined ? {} : { locks: spec.locks };
    return createServicesMachine({ ...tools, ...agents, ...locks, config }).machine;
  };
  return {
    machine: make(),
    createScratch: make,
    services: spec,
    query(machine: StateMachine, query: unknown) {
      if (typeof query !== 'object' || query === null || typeof (query as { service?: unknown }).service !== 'string') {
        throw new NodeError('CONFIG', 'a services read is { service, query } (service: kv, board, tools, agents, config or locks)');
      }
      return (machine as CompositeMachine).query(query as { service: string; query: unknown });
    },
  };
}

/** The validators module's export (ServicesSpec.validatorsModule). */
export async function loadValidators(spec: ServicesSpec): Promise<readonly ConfigValidator[]> {
  if (spec.validatorsModule === undefined) return [];
  let mod: { configValidators?: unknown };
  try {
    mod = (await import(/* @vite-ignore */ spec.validatorsModule)) as { configValidators?: unknown };
  } catch (e) {
    throw new NodeError('CONFIG', `cannot load the validators module ${spec.validatorsModule}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(mod.configValidators)) throw new NodeError('CONFIG', `${spec.validatorsModule} does not export configValidators (an array)`);
  return mod.configValidators as ConfigValidator[];
}

function timingsOf(spec: ServicesSpec): ServicesTimings {
  const t = { ...servicesTimingsDefaults };
  for (const name of ['timeIntervalMs', 'agentHeartbeatMs'] as const) {
    const v = spec[name];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new NodeError('CONFIG', `services.${name} must be a positive integer`);
    t[name] = v;
  }
  return t;
}

export class ServicesPart {
  readonly host: ServicesHost;
  private driver: Driver | null = null;
  private readonly listeners = new Set<(e: ServicesWatchEvent) => void>();
  private refusedLocal = 0;
  private refusedForwarded = 0;

  constructor(
    readonly self: string,
    readonly machine: CompositeMachine,
    spec: ServicesSpec,
    clock: Clock,
    private readonly proposalTimeoutMs: number,
  ) {
    this.host = new ServicesHost(
      {
        self,
        clock,
        machine,
        wallMs: () => Date.now(),
        isLeader: () => this.safe(() => this.driver?.role() === 'leader', false),
        term: () => this.safe(() => this.driver?.term() ?? 0, 0),
        propose: (bytes, done) => {
          if (this.driver === null) {
            done(err({ code: 'STOPPED', message: 'the node has no driver' }));
            return;
          }
          this.driver.submitCommand(bytes, (r) => done(r.ok ? ok(r.value.result) : err(toTaggedError(r.error))));
        },
      },
      timingsOf(spec),
      (e) => {
        for (const l of this.listeners) l(e);
      },
    );
  }

  /** Watch events, in log order (the worker posts them to the page). */
  on(listener: (e: ServicesWatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private safe<T>(f: () => T, otherwise: T): T {
    try {
      return f();
    } catch {
      return otherwise;
    }
  }

  attach(driver: Driver): void {
    this.driver = driver;
    driver.on((e) => {
      if (e.type === 'role' || e.type === 'leader') this.host.roleChanged();
    });
  }

  /** The observer hooks: every applied entry, in order; a snapshot installed. */
  applied(e: Entry): void {
    if (e.kind === 'normal') this.host.applied(e.index);
  }

  restored(index: number): void {
    this.host.reset(index);
  }

  /** The page's proposal: FORBIDDEN when only the leader's runtime may propose it. */
  checkProposal(command: Uint8Array): void {
    const reason = privilegedReason(command);
    if (reason === null) return;
    this.refusedLocal++;
    throw new NodeError('FORBIDDEN', `refused at the proposal boundary: ${reason}`);
  }

  /** The link the driver reads: forwarded proposals without privileged commands. */
  wrapLink(link: PeerLink<Message>): PeerLink<Message> {
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
          this.refusedForwarded += m.data.length - kept.length;
          if (kept.length === m.data.length) handler(m);
          else if (kept.length > 0) handler({ ...m, data: kept });
        }),
    };
  }

  metrics(): ServicesMetrics {
    const l = this.host.leader.metrics;
    const a = this.host.agents.metrics;
    return {
      ...l,
      heartbeats: a.heartbeats,
      tasksRun: a.tasksRun,
      privilegedRefusedLocal: this.refusedLocal,
      privilegedRefusedForwarded: this.refusedForwarded,
      timeMs: this.machine.timeMs,
    };
  }

  /** The worker's services methods over this part. */
  api(): ServicesWorkerApi {
    const h = this.host;
    const attempt = <T>(f: () => T): Result<T> => {
      try {
        return ok(f());
      } catch (e) {
        return err(toTaggedError(e));
      }
    };
    const callback = <T>(f: (done: (r: Result<T>) => void) => void): Promise<Result<T>> => new Promise((resolve) => f(resolve));
    return {
      servicesToolRegister: (name, handler, idempotent) => (typeof name === 'string' && name.length > 0 ? h.registerTool(name, handler, idempotent === true) : err({ code: 'CONFIG', message: 'a tool name is a non-empty string' })),
      servicesToolUnregister: (name) => attempt(() => h.unregisterTool(name)),
      servicesToolCall: (tool, args: Value, request) =>
        callback((done) => h.callTool(tool, args, { key: request.key, ...(request.idempotent === undefined ? {} : { idempotent: request.idempotent }), timeoutMs: request.timeoutMs ?? this.proposalTimeoutMs }, done)),
      servicesAgentRegister: (id, capabilities, handler) => callback((done) => h.registerAgent(id, capabilities, handler, done)),
      servicesAgentDeregister: (id) => callback((done) => h.deregisterAgent(id, done)),
      servicesTaskWait: (id, timeoutMs) => callback((done) => h.waitTask(id, timeoutMs ?? this.proposalTimeoutMs, done)),
      servicesWatch: (id, query) => h.watch(id, query),
      servicesUnwatch: (id) => attempt(() => h.unwatch(id)),
      servicesMetrics: () => ok(this.metrics()),
    };
  }

  stop(): void {
    this.host.stop();
  }
}

/**
 * The worker's services methods for whatever node it hosts now: STOPPED before a node runs,
 * CONFIG on a node whose machine is not the services machine.
 */
export function servicesWorkerMethods(part: () => ServicesPart | null | undefined): ServicesWorkerApi {
  const missing = (): Result<never> => err({ code: 'CONFIG', message: "this node does not run the services machine (createNode({ machine: 'services' }))" });
  const sync =
    <A extends unknown[], T>(f: (api: ServicesWorkerApi, ...args: A) => Result<T>) =>
    (...args: A): Result<T> => {
      const p = part();
      if (p === undefined) return err({ code: 'STOPPED', message: 'the node is not running' });
      return p === null ? missing() : f(p.api(), ...args);
    };
  const async =
    <A extends unknown[], T>(f: (api: ServicesWorkerApi, ...args: A) => Promise<Result<T>>) =>
    (...args: A): Promise<Result<T>> => {
      const p = part();
      if (p === undefined) return Promise.resolve(err({ code: 'STOPPED', message: 'the node is not running' }));
      return p === null ? Promise.resolve(missing()) : f(p.api(), ...args);
    };
  return {
    servicesToolRegister: sync((a, name: string, handler: ToolHandler, idempotent: boolean) => a.servicesToolRegister(name, handler, idempotent)),
    servicesToolUnregister: sync((a, name: string) => a.servicesToolUnregister(name)),
    servicesToolCall: async((a, tool: string, args: Value, request: ToolCallRequest) => a.servicesToolCall(tool, args, request)),
    servicesAgentRegister: async((a, id: string, capabilities: readonly string[], handler: AgentHandler) => a.servicesAgentRegister(id, capabilities, handler)),
    servicesAgentDeregister: async((a, id: string) => a.servicesAgentDeregister(id)),
    servicesTaskWait: async((a, id: string, timeoutMs?: number) => a.servicesTaskWait(id, timeoutMs)),
    servicesWatch: sync((a, id: number, query: unknown) => a.servicesWatch(id, query)),
    servicesUnwatch: sync((a, id: number) => a.servicesUnwatch(id)),
    servicesMetrics: sync((a) => a.servicesMetrics()),
  };
}
