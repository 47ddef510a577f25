/**
 * The page's typed API of the coordination services (issue 14): `createNode({ machine:
 * 'services' })` answers a `ServicesNode`, a key-value node (its `propose` and `read` are the
 * KV machine's, now one part of the services machine) with `tools`, `agents`, `config`,
 * `locks`, `roles` and `watch`.
 *
 * Commands are encoded here (src/machines/services/codec.ts) and proposed through the node's
 * ordinary `propose`; reads go through `read` with `{ service, query }`; what needs the worker
 * (tool handlers, agents, waiting for a committed outcome, change feeds) goes through the
 * worker's services methods (src/runtime/services-protocol.ts), with handlers passed as comlink
 * proxies. A refusal of a service (a stale token, a version mismatch, a lock held...) rejects
 * with `ServiceRefusedError` (code REJECTED, the service's own code in `reason`).
 */
import * as Comlink from 'comlink';
import type { Agent } from '../machines/services/agent-registry.ts';
import type { AgentsResult } from '../machines/services/agents.ts';
import { decodeServiceAnswer, encodeServiceCommand } from '../machines/services/codec.ts';
import { serviceCommand, decodeCompositeResult } from '../machines/services/composite.ts';
import type { ConfigEntry, ConfigResult, ConfigVersion } from '../machines/services/config.ts';
import type { Hold, LocksResult } from '../machines/services/locks.ts';
import type { RoutingStrategy } from '../machines/services/routing.ts';
import type { Task, TaskState } from '../machines/services/tasks.ts';
import type { AuditPage, AuditQuery } from '../machines/services/tools-audit.ts';
import type { ToolCall } from '../machines/services/tools.ts';
import type { Value } from '../machines/services/value.ts';
import { decodeKvResult, encodeKvCommand, type KvCommand, type KvResult } from '../machines/kv.ts';
import type { Result } from '../core/result.ts';
import type { AgentHandler } from '../services/agent-host.ts';
import type { ToolHandler } from '../services/leader-duties.ts';
import type { WatchQuery } from '../services/watch-query.ts';
import type { ServicesWorkerApi } from '../runtime/services-protocol.ts';
import type { WorkerApi } from '../runtime/worker-protocol.ts';
import type { MachineClient } from './machine-client.ts';
import { NodeError, unwrap } from './node-error.ts';
import type { PeerquorumNode } from './create-node.ts';

export type { AgentHandler, ToolHandler, WatchQuery };

/** A service refused the command (its code in `reason`: LOCKED, VERSION_MISMATCH, STALE_TOKEN...). */
export class ServiceRefusedError extends NodeError {
  override readonly name = 'ServiceRefusedError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super('REJECTED', `${reason}: ${message}`);
  }
}

/** The KV machine as the `kv` part of the services machine. */
export const servicesKvClient: MachineClient<KvCommand, KvResult, string, string | null> = {
  encode: (command) => serviceCommand('kv', encodeKvCommand(command)),
  decode(bytes) {
    const r = decodeCompositeResult(bytes);
    if (r.status !== 'applied') throw new NodeError('REJECTED', r.status === 'rejected' ? r.reason : 'not a key-value result');
    const decoded = decodeKvResult(r.result);
    if (!decoded.ok) throw new NodeError('CODEC', `a key-value result did not decode: ${decoded.error.message}`);
    return decoded.value;
  },
  query(key) {
    if (typeof key !== 'string') throw new NodeError('CONFIG', 'a key-value read takes a string key');
    return { service: 'kv', query: key };
  },
  answer: (value) => (typeof value === 'string' ? value : null),
};

export interface SubmittedTask {
  readonly id: string;
  /** The task's end (done or failed), as this node applies it. */
  readonly result: Promise<Task>;
}

export interface ServicesApi {
  readonly tools: {
    register(name: string, handler: ToolHandler, options?: { readonly idempotent?: boolean }): Promise<void>;
    unregister(name: string): Promise<void>;
    /** The committed outcome (completed, failed or indeterminate) of the call with `key`. */
    call(name: string, args: Value, options: { readonly key: string; readonly idempotent?: boolean; readonly timeoutMs?: number }): Promise<ToolCall>;
    audit(query?: AuditQuery): Promise<AuditPage>;
  };
  readonly agents: {
    register(id: string, capabilities: readonly string[], handler: AgentHandler): Promise<Agent>;
    deregister(id: string): Promise<void>;
    get(id: string): Promise<Agent | null>;
    /** Agents with ALL of `capabilities` (one capability: by capability; none: every agent). */
    find(capabilities: readonly string[]): Promise<readonly Agent[]>;
    submit(payload: Value, options: { readonly capabilities: readonly string[]; readonly strategy?: RoutingStrategy; readonly leaseMs?: number; readonly id?: string }): Promise<SubmittedTask>;
    broadcast(payload: Value, options: { readonly capabilities: readonly string[]; readonly leaseMs?: number; readonly id?: string }): Promise<readonly Task[]>;
    task(id: string): Promise<Task | null>;
    tasks(query?: { readonly agent?: string; readonly state?: TaskState; readonly limit?: number }): Promise<readonly Task[]>;
  };
  readonly config: {
    get(key: string): Promise<ConfigEntry | null>;
    set(key: string, value: Value, options?: { readonly expectedVersion?: number }): Promise<ConfigEntry>;
    delete(key: string, options?: { readonly expectedVersion?: number }): Promise<ConfigEntry>;
    history(key: string): Promise<readonly ConfigVersion[]>;
    rollback(key: string, toVersion: number, options?: { readonly expectedVersion?: number }): Promise<ConfigEntry>;
    watch(key: string, listener: (entry: ConfigEntry | null, index: number) => void): Promise<() => void>;
  };
  readonly locks: {
    lock(name: string, options: { readonly ttlMs: number; readonly owner?: string }): Promise<Hold>;
    renew(name: string, token: number, options: { readonly ttlMs: number; readonly owner?: string }): Promise<Hold>;
    release(name: string, token: number, options?: { readonly owner?: string }): Promise<void>;
    holder(name: string): Promise<Hold | null>;
  };
  /** App-role leader election: one owner per role, its token the role's term. */
  readonly roles: {
    campaign(role: string, options: { readonly ttlMs: number; readonly owner?: string }): Promise<Hold>;
    resign(role: string, term: number, options?: { readonly owner?: string }): Promise<void>;
    holder(role: string): Promise<Hold | null>;
  };
  /** Fires with the new answer each time an applied command changes it (and once at once), in log order. */
  watch(query: WatchQuery, listener: (answer: unknown, index: number) => void): Promise<() => void>;
  services: { metrics(): Promise<ReturnType<ServicesWorkerApi['servicesMetrics']> extends Result<infer M> ? M : never> };
}

export type ServicesNode = PeerquorumNode<KvCommand, KvResult, string, string | null> & ServicesApi;

type Remote = Comlink.Remote<ServicesWorkerApi & Pick<WorkerApi, 'propose' | 'read'>>;

function refused(r: { readonly status: string; readonly code?: string; readonly message?: string }): never {
  throw new ServiceRefusedError(r.code ?? 'REFUSED', r.message ?? r.status);
}

/** Adds the services API to a node whose machine is the services machine. */
export function withServices(node: PeerquorumNode<KvCommand, KvResult, string, string | null> & { readonly api: unknown }): ServicesNode {
  const api = node.api as Remote;
  const owner = node.id;
  const proposeRaw = async (bytes: Uint8Array): Promise<Uint8Array> => unwrap(await api.propose(bytes));
  const command = async <R>(service: string, c: object): Promise<R> => {
    const a = decodeServiceAnswer<R>(await proposeRaw(encodeServiceCommand(service, c)));
    if (a.status === 'rejected') throw new NodeError('REJECTED', a.reason);
    if (a.status !== 'applied') throw new NodeError('CODEC', 'a time answer to a service command');
    return a.result;
  };
  const read = async <T>(service: string, query: unknown): Promise<T> => unwrap(await api.read('linearizable', { service, query })) as T;
  const watches = new Map<number, (answer: unknown, index: number) => void>();
  let nextWatch = 1;
  node.on('service-watch', (e) => watches.get(e.watch)?.(e.answer, e.index));
  const watch = async (query: WatchQuery, listener: (answer: unknown, index: number) => void): Promise<() => void> => {
    const id = nextWatch++;
    watches.set(id, listener);
    try {
      unwrap(await api.servicesWatch(id, query));
    } catch (e) {
      watches.delete(id);
      throw e;
    }
    return () => {
      watches.delete(id);
      void api.servicesUnwatch(id);
    };
  };
  const config = async (c: object): Promise<ConfigEntry> => {
    const r = await command<ConfigResult>('config', c);
    if (r.status !== 'set') refused(r);
    return { key: r.key, version: r.version, value: r.value };
  };
  const hold = async (c: object): Promise<Hold> => {
    const r = await command<LocksResult>('locks', c);
    if (r.status === 'acquired' || r.status === 'renewed') return r.hold;
    return refused(r);
  };
  const let0 = async (c: object): Promise<void> => {
    const r = await command<LocksResult>('locks', c);
    if (r.status !== 'released') refused(r);
  };
  const services: ServicesApi = {
    tools: {
      register: async (name, handler, options = {}) => unwrap(await api.servicesToolRegister(name, Comlink.proxy(handler), options.idempotent === true)),
      unregister: async (name) => unwrap(await api.servicesToolUnregister(name)),
      call: async (name, args, options) => unwrap(await api.servicesToolCall(name, args, options)),
      audit: (query = {}) => read<AuditPage>('tools', { q: 'audit', ...query }),
    },
    agents: {
      register: async (id, capabilities, handler) => {
        const r = unwrap(await api.servicesAgentRegister(id, capabilities, Comlink.proxy(handler))) as AgentsResult;
        if (r.status !== 'registered') refused(r);
        return r.agent;
      },
      deregister: async (id) => {
        const r = unwrap(await api.servicesAgentDeregister(id)) as AgentsResult;
        if (r.status !== 'deregistered') refused(r);
      },
      get: (id) => read<Agent | null>('agents', { q: 'agent', id }),
      find: (capabilities) => read<readonly Agent[]>('agents', { q: 'agents', capabilities: [...capabilities] }),
      submit: async (payload, options) => {
        const r = await command<AgentsResult>('agents', { op: 'submit', payload, capabilities: [...options.capabilities], ...optional(options, ['strategy', 'leaseMs', 'id']) });
        if (r.status !== 'submitted') refused(r);
        const id = r.task.id;
        return { id, result: api.servicesTaskWait(id).then((t) => unwrap(t)) };
      },
      broadcast: async (payload, options) => {
        const r = await command<AgentsResult>('agents', { op: 'broadcast', payload, capabilities: [...options.capabilities], ...optional(options, ['leaseMs', 'id']) });
        if (r.status !== 'broadcast') refused(r);
        return r.tasks;
      },
      task: (id) => read<Task | null>('agents', { q: 'task', id }),
      tasks: (query = {}) => read<readonly Task[]>('agents', { q: 'tasks', ...query }),
    },
    config: {
      get: (key) => read<ConfigEntry | null>('config', { q: 'get', key }),
      set: (key, value, options = {}) => config({ op: 'set', key, value, ...optional(options, ['expectedVersion']) }),
      delete: (key, options = {}) => config({ op: 'delete', key, ...optional(options, ['expectedVersion']) }),
      history: (key) => read<readonly ConfigVersion[]>('config', { q: 'history', key }),
      rollback: (key, toVersion, options = {}) => config({ op: 'rollback', key, toVersion, ...optional(options, ['expectedVersion']) }),
      watch: (key, listener) => watch({ kind: 'config', key }, (a, i) => listener(a as ConfigEntry | null, i)),
    },
    locks: {
      lock: (name, options) => hold({ op: 'lock', name, owner: options.owner ?? owner, ttlMs: options.ttlMs }),
      renew: (name, token, options) => hold({ op: 'renew', name, owner: options.owner ?? owner, token, ttlMs: options.ttlMs }),
      release: (name, token, options = {}) => let0({ op: 'release', name, owner: options.owner ?? owner, token }),
      holder: (name) => read<Hold | null>('locks', { q: 'lock', name }),
    },
    roles: {
      campaign: (role, options) => hold({ op: 'campaign', role, owner: options.owner ?? owner, ttlMs: options.ttlMs }),
      resign: (role, term, options = {}) => let0({ op: 'resign', role, owner: options.owner ?? owner, term }),
      holder: (role) => read<Hold | null>('locks', { q: 'role', role }),
    },
    watch,
    services: { metrics: async () => unwrap(await api.servicesMetrics()) },
  };
  return Object.assign(node, services) as unknown as ServicesNode;
}

function optional<T extends object>(o: T, names: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const n of names) if (o[n] !== undefined) out[n] = o[n];
  return out;
}
