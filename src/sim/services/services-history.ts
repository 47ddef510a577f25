/**
 * What the services simulator records as a run goes (./services-simulation.ts), for the
 * checkers (./services-checkers.ts): every tool handler execution and every agent task
 * execution, on whichever node ran it (a node that crashed afterwards included: the record is
 * the simulator's, not the node's); every answer a caller got; every configuration and lock
 * operation with its real-time interval; and the task assignments and completions each replica
 * applied, in its log order. Times are virtual microseconds.
 */
import type { ToolCall } from '../../machines/services/tools.ts';
import type { Value } from '../../machines/services/value.ts';

/** The sim's two tools: one whose handler must never run twice for a key, one that may. */
export const toolNames = { once: 'charge', idempotent: 'lookup' } as const;

export interface ToolExecution {
  readonly key: string;
  readonly tool: string;
  readonly node: string;
  /** The term the leader ran it in (its start's). */
  readonly term: number;
  readonly atUs: number;
}

export interface ToolAnswer {
  readonly key: string;
  readonly tool: string;
  readonly callUs: number;
  readonly retUs: number;
  readonly call: ToolCall;
}

export interface TaskExecution {
  readonly task: string;
  readonly token: number;
  readonly agent: string;
  readonly node: string;
  readonly atUs: number;
}

/** A task change a replica applied: an assignment, or a finish with what the task then held. */
export interface TaskApplied {
  readonly node: string;
  readonly task: string;
  readonly state: 'assigned' | 'done' | 'failed';
  readonly token: number;
  readonly agent: string | null;
  readonly result: Value;
}

export type ConfigOutcome = { readonly kind: 'set'; readonly version: number } | { readonly kind: 'mismatch'; readonly current: number } | { readonly kind: 'unknown' };

export interface ConfigOp {
  readonly client: number;
  readonly key: string;
  readonly expectedVersion: number;
  readonly value: string;
  readonly callUs: number;
  retUs: number | null;
  outcome: ConfigOutcome;
}

export interface LockOp {
  readonly owner: string;
  readonly name: string;
  readonly callUs: number;
  readonly retUs: number;
  /** 'acquired' (a new hold), 'renewed' (the holder asked again, same token), 'locked' (refused). */
  readonly status: 'acquired' | 'renewed' | 'locked';
  readonly token: number;
}

/** A replica applied a new hold of a lock (a token above 0) or its end (token 0). */
export interface LockApplied {
  readonly node: string;
  readonly name: string;
  readonly token: number;
}

export class ServicesHistory {
  readonly toolExecutions: ToolExecution[] = [];
  readonly toolAnswers: ToolAnswer[] = [];
  /** Keys called (whether answered or not), with the tool. */
  readonly toolCalls = new Map<string, string>();
  readonly taskExecutions: TaskExecution[] = [];
  readonly tasksApplied: TaskApplied[] = [];
  /** Task ids submitted (accepted, or outcome unknown). */
  readonly tasksSubmitted = new Set<string>();
  readonly configOps: ConfigOp[] = [];
  readonly lockOps: LockOp[] = [];
  readonly locksApplied: LockApplied[] = [];

  /** Everything recorded, one JSON line per record in the order recorded: two runs of a seed give the same lines. */
  lines(): string[] {
    const out: string[] = [];
    const add = (kind: string, list: Iterable<unknown>): void => {
      for (const x of list) out.push(`${kind} ${JSON.stringify(x)}`);
    };
    add('toolExecution', this.toolExecutions);
    add('toolAnswer', this.toolAnswers);
    add('toolCall', this.toolCalls);
    add('taskExecution', this.taskExecutions);
    add('taskApplied', this.tasksApplied);
    add('taskSubmitted', this.tasksSubmitted);
    add('configOp', this.configOps);
    add('lockOp', this.lockOps);
    add('lockApplied', this.locksApplied);
    return out;
  }
}

/** What an agent's handler answers for a task: names the holder, so a stale holder's result is told apart. */
export function taskResult(task: string, agent: string, token: number): string {
  return `done ${task} by ${agent} under ${token}`;
}

/** What a tool's handler answers: a function of its arguments only (an idempotent rerun answers alike). */
export function toolResult(tool: string, args: Value): Value {
  return { tool, echo: args };
}
