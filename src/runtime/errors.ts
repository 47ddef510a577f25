/**
 * Errors of the runtime. They cross comlink and worker boundaries as tagged data
 * `{ code, message }` (comlink rebuilds thrown errors as plain `Error`, DESIGN.md §3), so every
 * one has a stable `code`, and `toTaggedError` / `fromTaggedError` convert both ways.
 */
export type RuntimeErrorCode =
  | 'NOT_LEADER'
  | 'PROPOSAL_DROPPED'
  | 'READ_DROPPED'
  | 'TIMEOUT'
  | 'SESSION_EXPIRED'
  /** The state machine threw on the command: refused alike on every replica, nothing applied. */
  | 'REJECTED'
  /** The command or message is larger than the limit: refused at once, never sent. */
  | 'TOO_LARGE'
  | 'STOPPED'
  | 'STORAGE'
  /**
   * A snapshot from the leader that this node's state machine cannot restore: refused before
   * any of it was written, so the node stops and boots again from its old state (driver-ready-host.ts).
   */
  | 'SNAPSHOT_REJECTED'
  | 'CODEC'
  | 'CONFIG'
  | 'INTERNAL';

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface TaggedError {
  readonly code: string;
  readonly message: string;
}

export function toTaggedError(e: unknown): TaggedError {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') {
    return { code: e.code, message: e instanceof Error ? e.message : String(e) };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export function fromTaggedError(t: TaggedError): RuntimeError {
  const known: readonly string[] = [
    'NOT_LEADER',
    'PROPOSAL_DROPPED',
    'READ_DROPPED',
    'TIMEOUT',
    'SESSION_EXPIRED',
    'REJECTED',
    'TOO_LARGE',
    'STOPPED',
    'STORAGE',
    'SNAPSHOT_REJECTED',
    'CODEC',
    'CONFIG',
  ];
  return new RuntimeError(known.includes(t.code) ? (t.code as RuntimeErrorCode) : 'INTERNAL', t.message);
}
