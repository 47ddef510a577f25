/**
 * What the services' runtime (./services-host.ts and its parts) needs of the node it runs on:
 * who it is, whether it leads and in which term, a way to propose as the node's own runtime
 * (the one path that may carry privileged commands, ./privileged.ts), the composite machine to
 * read after each applied command, and a clock. The runtime's host (src/runtime/services-part.ts)
 * gives it the Raft driver; the simulator can give it the same driver in virtual time (every
 * timer goes through `clock.after`, never `setTimeout` or a promise, so virtual time drives it).
 */
import type { TaggedError } from '../core/error-code.ts';
import type { Result } from '../core/result.ts';
import type { CompositeMachine } from '../machines/services/composite.ts';

export interface ServicesClock {
  now(): number;
  /** Run `fn` after `ms`; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export interface ServicesPort {
  readonly self: string;
  readonly clock: ServicesClock;
  /** The wall clock in ms: what the leader's time commands carry (the machine keeps time monotonic). */
  wallMs(): number;
  /** Whether this node leads now. */
  isLeader(): boolean;
  term(): number;
  /** Propose as this node's runtime; `done` gets the composite result bytes, or why not. */
  propose(bytes: Uint8Array, done: (r: Result<Uint8Array>) => void): void;
  readonly machine: CompositeMachine;
}

export interface ServicesTimings {
  /** A leader proposes a time command this often (and one at once on election). */
  readonly timeIntervalMs: number;
  /** Each local agent sends a heartbeat this often (renewing its tasks' leases). */
  readonly agentHeartbeatMs: number;
  /** Callers waiting for an outcome (tool calls, tasks) at once; more fail at once. */
  readonly waitersMax: number;
  /** Watches of one node at once. */
  readonly watchesMax: number;
  /** Local tool handlers and local agents, each. */
  readonly handlersMax: number;
}

export const servicesTimingsDefaults: ServicesTimings = {
  timeIntervalMs: 500,
  agentHeartbeatMs: 1_000,
  waitersMax: 4096,
  watchesMax: 1024,
  handlersMax: 256,
};

export function tagged(code: TaggedError['code'], message: string): TaggedError {
  return { code, message };
}
