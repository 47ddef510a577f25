/**
 * Expected failures are values, not exceptions (STYLE.md: three kinds of failure). This is the
 * one result type of core, runtime and client: the worker's answers to the page and the
 * Playwright harness's answers are `Result<T>`, whose error is tagged data with an `ErrorCode`
 * (src/core/error-code.ts); inside a layer, `E` may be a richer error.
 */
import type { TaggedError } from './error-code.ts';

export type Result<T, E = TaggedError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
