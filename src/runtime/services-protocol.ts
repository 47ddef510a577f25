/**
 * What crosses the page/worker boundary for the coordination services (issue 14), beside the
 * node's own API (worker-protocol.ts): the services' start options (structured-clonable: numbers
 * and a module URL, never functions), the worker's services methods, and their events. Handlers
 * (tools, agents) stay in the page: the page hands the worker a comlink proxy, and the worker
 * calls it when the leader runs a tool or an agent is assigned a task.
 */
import type { Result } from '../core/result.ts';
import type { Task } from '../machines/services/tasks.ts';
import type { ToolCall } from '../machines/services/tools.ts';
import type { Value } from '../machines/services/value.ts';
import type { AgentHandler } from '../services/agent-host.ts';
import type { ToolHandler } from '../services/leader-duties.ts';
import type { ServicesWatchEvent } from '../services/services-host.ts';

export type { ServicesWatchEvent };

/**
 * The services machine's limits and the services runtime's timings. Every node of a cluster
 * must be given the same machine limits and validators (they decide what commands do).
 */
export interface ServicesSpec {
  readonly tools?: { readonly toolCallsMax?: number; readonly auditRecordsMax?: number; readonly auditRetentionMs?: number | null };
  readonly agents?: {
    readonly agentsMax?: number;
    readonly agentTtlMs?: number;
    readonly tasksMax?: number;
    readonly pendingMax?: number;
    readonly tasksPerAgentMax?: number;
    readonly taskAttemptsMax?: number;
    readonly taskLeaseMsDefault?: number;
    readonly taskLeaseMsMax?: number;
  };
  readonly config?: { readonly configKeysMax?: number; readonly configHistoryMax?: number };
  readonly locks?: { readonly locksMax?: number; readonly lockTtlMsMax?: number };
  /**
   * A module the worker imports whose `configValidators` export is an array of
   * `ConfigValidator` (src/machines/services/config.ts): deterministic functions, the same
   * module on every node.
   */
  readonly validatorsModule?: string;
  /** A leader proposes a time command this often; default 500 ms. */
  readonly timeIntervalMs?: number;
  /** Local agents' heartbeats; default 1,000 ms (keep it well under `agentTtlMs` and task leases). */
  readonly agentHeartbeatMs?: number;
}

export interface ToolCallRequest {
  /** The idempotency key: a retry with the same key answers the stored call. */
  readonly key: string;
  /** The tool's policy when this node has not registered it (default: this node's, else false). */
  readonly idempotent?: boolean;
  /** How long to wait for the committed outcome (default the node's proposal timeout). */
  readonly timeoutMs?: number;
}

/** Counters of the services runtime on this node. */
export interface ServicesMetrics {
  readonly timeProposed: number;
  readonly toolStartsProposed: number;
  readonly toolRuns: number;
  readonly toolIndeterminateProposed: number;
  readonly takeovers: number;
  readonly heartbeats: number;
  readonly tasksRun: number;
  /** Privileged commands refused at the boundary: from the page, and in peers' forwarded proposals. */
  readonly privilegedRefusedLocal: number;
  readonly privilegedRefusedForwarded: number;
  /** The replicated time now (ms), as this replica has applied it. */
  readonly timeMs: number;
}

export interface ServicesWorkerApi {
  servicesToolRegister(name: string, handler: ToolHandler, idempotent: boolean): Result<void>;
  servicesToolUnregister(name: string): Result<void>;
  servicesToolCall(tool: string, args: Value, request: ToolCallRequest): Promise<Result<ToolCall>>;
  servicesAgentRegister(id: string, capabilities: readonly string[], handler: AgentHandler): Promise<Result<unknown>>;
  servicesAgentDeregister(id: string): Promise<Result<unknown>>;
  /** Wait until task `id` is done or failed here. */
  servicesTaskWait(id: string, timeoutMs?: number): Promise<Result<Task>>;
  /** Start watch `id` (the page picks ids); answers the applied index its first event is at. */
  servicesWatch(id: number, query: unknown): Result<number>;
  servicesUnwatch(id: number): Result<void>;
  servicesMetrics(): Result<ServicesMetrics>;
}
