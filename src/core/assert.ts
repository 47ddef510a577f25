/**
 * Asserts are for our own bugs (STYLE.md, TIGER_STYLE): a broken invariant crashes the node,
 * which then restarts from what is durable. Input from the network is never asserted on; it is
 * validated and dropped.
 */
import type { ErrorCode } from './error-code.ts';

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly code = 'ASSERTION' satisfies ErrorCode;
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
