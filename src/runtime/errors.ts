/**
 * The one error class of peerquorum, `NodeError`, and the conversion of anything thrown into
 * tagged data `{ code, message }`. Errors cross comlink and worker boundaries as that data
 * (comlink rebuilds thrown errors as plain `Error`, DESIGN.md §3): the worker answers
 * `Result<T>` (src/core/result.ts) and the page turns a failure back into a `NodeError` with the
 * same code. The codes are the `ErrorCode` union (src/core/error-code.ts).
 */
import { knownTaggedError, type ErrorCode, type TaggedError } from '../core/error-code.ts';
import { codecErrorCodes } from '../io/codec-error.ts';

/**
 * What the runtime throws and the page's handle rejects with: a stable `code` from `ErrorCode`
 * and a message. The client re-exports it (src/client/node-error.ts); the Playwright fixture's
 * `ClusterNodeError` extends it.
 */
export class NodeError extends Error {
  override readonly name: string = 'NodeError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }

  /** Rebuild an error from tagged data; a code this build does not know becomes `INTERNAL`. */
  static from(tagged: TaggedError): NodeError {
    const known = knownTaggedError(tagged);
    return new NodeError(known.code, known.message);
  }

  toJSON(): TaggedError {
    return { code: this.code, message: this.message };
  }
}

/**
 * Finer codes of the layers below, and the code each surfaces as (the finer one kept in the
 * message): the wire codec's (src/io/codec-error.ts; thrown when one of our own messages breaks
 * the wire's rules) and the built-in state machines' (src/machines: a command, result or
 * snapshot that does not decode) are `CODEC`; an identity key pair the store holds but that is
 * unusable (src/io/crypto/identity.ts) is `STORAGE`, like any other corrupt store.
 */
const coarser: ReadonlyMap<string, ErrorCode> = new Map<string, ErrorCode>([
  ...[...codecErrorCodes, 'BYTE_FORMAT', 'KV_DECODE', 'SESSION_DECODE', 'BOARD_DECODE', 'COMPOSITE_DECODE', 'VALUE_DECODE'].map((code): [string, ErrorCode] => [code, 'CODEC']),
  ['IDENTITY', 'STORAGE'],
]);

/**
 * Anything thrown, as tagged data: an error whose `code` is an `ErrorCode` keeps it; a finer
 * code of a lower layer becomes its coarser one (above); any other code, or none, becomes
 * `INTERNAL`. A code that is replaced stays at the head of the message.
 */
export function toTaggedError(e: unknown): TaggedError {
  const message = messageOf(e);
  if (!(typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string')) return { code: 'INTERNAL', message };
  const tagged = knownTaggedError({ code: e.code, message });
  return { code: tagged.code === 'INTERNAL' ? (coarser.get(e.code) ?? 'INTERNAL') : tagged.code, message: tagged.message };
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
