/**
 * What a register holds: a string, a finite number, a boolean or null. Richer values are the
 * application's to encode (JSON in a string, or a map of registers); keeping registers to scalars
 * keeps decode a handful of checks and gives values one total order, which the merges need: an
 * LWW tie between two writes stamped alike, and the listing of an MV-Register's concurrent
 * values, must come out the same on every replica whatever order states arrived in.
 */
import { valueBytesMax } from './limits.ts';
import { argumentRefusal, type CrdtRefusal } from './refusal.ts';
import { describeTextProblem, textProblem } from './text.ts';

export type Scalar = string | number | boolean | null;

/**
 * Why `value` cannot be held by a register, or null if it can. -0 is allowed (it is stored as 0:
 * see `normalizeScalar`); NaN and the infinities are not, having no place in an order.
 */
export function scalarProblem(value: unknown): string | null {
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'not a finite number';
  if (typeof value === 'string') {
    const problem = textProblem(value, valueBytesMax, true);
    return problem === null ? null : describeTextProblem(problem, valueBytesMax);
  }
  return `a ${value === undefined ? 'missing value' : Array.isArray(value) ? 'list' : typeof value}, not a string, finite number, boolean or null`;
}

/** A refusal for a register value an application passed, or null if a register can hold it. */
export function scalarArgumentRefusal(value: unknown): CrdtRefusal | null {
  const problem = scalarProblem(value);
  if (problem === null) return null;
  return typeof value === 'string' ? argumentRefusal('TOO_LARGE', 'text', 'value', problem) : argumentRefusal('CONFIG', 'value', 'value', problem);
}

/**
 * -0 and 0 are one value to msgpack readers that write integers (they write 0) but two to
 * `Object.is`; storing 0 keeps a state's encoding, and so its digest, the same on every replica.
 */
export function normalizeScalar(value: Scalar): Scalar {
  return value === 0 ? 0 : value;
}

function rank(value: Scalar): number {
  if (value === null) return 0;
  switch (typeof value) {
    case 'boolean':
      return 1;
    case 'number':
      return 2;
    default:
      return 3;
  }
}

/** The total order of scalars: null < false < true < numbers (ascending) < strings (code units). */
export function compareScalars(a: Scalar, b: Scalar): number {
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (a === b) return 0;
  // Same rank and not equal: both booleans, both numbers or both strings.
  return (a as number | string | boolean) < (b as number | string | boolean) ? -1 : 1;
}
