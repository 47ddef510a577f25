/**
 * The error a node's handle rejects with: a stable `code` (`NOT_LEADER`, `TIMEOUT`, `STOPPED`,
 * `STORAGE`, `CONFIG`, `ID_IN_USE`...) and a message. It is rebuilt on the page from the tagged
 * data `{ code, message }` the worker answers with (DESIGN.md §3), so the code survives the trip.
 */
import type { TaggedError } from '../runtime/errors.ts';

export class NodeError extends Error {
  override readonly name = 'NodeError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }

  static from(tagged: TaggedError): NodeError {
    return new NodeError(tagged.code, tagged.message);
  }

  toJSON(): TaggedError {
    return { code: this.code, message: this.message };
  }
}

/** The value of an outcome, or its error thrown as a `NodeError`. */
export function unwrap<T>(outcome: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: TaggedError }): T {
  if (!outcome.ok) throw NodeError.from(outcome.error);
  return outcome.value;
}
