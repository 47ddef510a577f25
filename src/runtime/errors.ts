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
    return { code: e.code, message: messageOf(e) };
  }
  return { code: 'INTERNAL', message: messageOf(e) };
}

/**
 * An error's message, with its `cause` when the message does not already name it: a `cause`
 * does not cross to the page (tagged data is `{ code, message }`), and "write failed" without
 * the `QuotaExceededError` under it tells the page nothing it can act on.
 */
function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause: unknown = e.cause;
  if (cause === undefined || cause === null) return e.message;
  const why = cause instanceof Error || cause instanceof DOMException ? (cause.message.length > 0 ? `${cause.name}: ${cause.message}` : cause.name) : String(cause);
  return e.message.includes(why) ? e.message : `${e.message} (cause: ${why})`;
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
    'CODEC',
    'CONFIG',
  ];
  return new RuntimeError(known.includes(t.code) ? (t.code as RuntimeErrorCode) : 'INTERNAL', t.message);
}
