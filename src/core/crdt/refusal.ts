/**
 * Why a replicated data type refused something, as data (STYLE.md: expected failures are values).
 *
 * Two doors produce refusals: `decode`, which reads a peer's state (hostile input: validated and
 * refused, never asserted on, never thrown), and the local mutations, whose arguments come from
 * the application (a key too long, an increment that would overflow). A refusal is a
 * `TaggedError` so the layers above can hand it on unchanged: a peer's bad state is `CODEC`
 * (bytes that should decode did not), an application's argument beyond a bound is `TOO_LARGE`,
 * any other bad argument `CONFIG`. `reason` is the finer, stable cause a test or a counter keys on;
 * `path` says where in the state it was found.
 */
import type { TaggedError } from '../error-code.ts';

export const crdtRefusalReasons = [
  /** Not the shape the type encodes to (an object where an array belongs, a missing part...). */
  'shape',
  /** A count, sequence number or timestamp that is not a safe integer in its range. */
  'integer',
  /** A string too long, empty where it must not be, or not well-formed UTF-16. */
  'text',
  /** A value a register cannot hold (not a string, finite number, boolean or null). */
  'value',
  /** More entries than `entriesPerStateMax` or `replicasPerVectorMax` allow. */
  'too-many',
  /** OR-Maps nested deeper than `nestingDepthMax`. */
  'too-deep',
  /** The same replica, dot, element or field twice. */
  'duplicate',
  /** A dot in a store that the state's own causal context does not cover (Almeida et al. 2018 §6). */
  'inconsistent',
  /** A local mutation that would push a count beyond `countMax` or a timestamp beyond `timestampMax`. */
  'overflow',
  /** A type name that is not one of the replicated data types. */
  'unknown-type',
] as const;

export type CrdtRefusalReason = (typeof crdtRefusalReasons)[number];

export interface CrdtRefusal extends TaggedError {
  readonly reason: CrdtRefusalReason;
  /** Where: `state`, `state[2][0]`... (indices into the encoded arrays), or the argument's name. */
  readonly path: string;
}

/** A peer's state that does not decode. */
export function decodeRefusal(reason: CrdtRefusalReason, path: string, problem: string): CrdtRefusal {
  return { code: 'CODEC', reason, path, message: `${path}: ${problem}` };
}

/** An application's argument that a local mutation cannot take: beyond a bound, or malformed. */
export function argumentRefusal(code: 'TOO_LARGE' | 'CONFIG', reason: CrdtRefusalReason, path: string, problem: string): CrdtRefusal {
  return { code, reason, path, message: `${path}: ${problem}` };
}
