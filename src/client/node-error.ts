/**
 * The error a node's handle rejects with: `NodeError` (src/runtime/errors.ts), a stable `code`
 * (`NOT_LEADER`, `TIMEOUT`, `STOPPED`, `STORAGE`, `CONFIG`, `ID_IN_USE`...; the `ErrorCode`
 * union, src/core/error-code.ts) and a message. It is rebuilt on the page from the tagged data
 * `{ code, message }` the worker answers with (DESIGN.md §3), so the code survives the trip.
 */
import type { Result } from '../core/result.ts';
import { NodeError } from '../runtime/errors.ts';

export { NodeError };

/** The value of a result, or its error thrown as a `NodeError`. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw NodeError.from(result.error);
  return result.value;
}
