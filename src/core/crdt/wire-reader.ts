/**
 * The encoded form of every replicated state, and the reader that validates a peer's.
 *
 * Encoded states are plain values: arrays, strings, numbers, booleans and null, never objects.
 * Arrays because a peer's keys must never become property names (`__proto__`, `constructor` and
 * friends): every key of a state travels as an array element and lands in a `Map`, and decode
 * never reads a property of anything a peer sent beyond an array's `length` and indices.
 *
 * The reader is hostile-input validation (STYLE.md: validate and drop, never assert on input from
 * the network). Every collection's length is checked against the remaining entry budget BEFORE a
 * loop runs over it, so 4 MiB of empty arrays cost one comparison, and every integer is checked to
 * be safe and in range. Refusals travel inside the reader as a private signal (one `throw` up to
 * `readWire`, which turns it into a `Result`): the alternative, a `Result` checked after every
 * field of every nested state, would bury the rules under plumbing. Nothing else is caught, so a
 * bug still surfaces as the exception it is.
 */
import { err, ok, type Result } from '../result.ts';
import { entriesPerStateMax, keyBytesMax, replicaIdBytesMax } from './limits.ts';
import { decodeRefusal, type CrdtRefusal, type CrdtRefusalReason } from './refusal.ts';
import { normalizeScalar, scalarProblem, type Scalar } from './scalar.ts';
import { describeTextProblem, textProblem } from './text.ts';

/** A state as `encode` writes it and msgpack carries it. */
export type WireValue = string | number | boolean | null | readonly WireValue[];

class RefusedSignal {
  constructor(readonly refusal: CrdtRefusal) {}
}

export class WireReader {
  private entriesLeft: number;

  constructor(entriesMax: number = entriesPerStateMax) {
    this.entriesLeft = entriesMax;
  }

  refuse(reason: CrdtRefusalReason, path: string, problem: string): never {
    throw new RefusedSignal(decodeRefusal(reason, path, problem));
  }

  /** An array of exactly `length` parts (a tuple of the encoding). */
  tuple(value: unknown, path: string, length: number): readonly unknown[] {
    if (!Array.isArray(value)) this.refuse('shape', path, `expected a list of ${length}, got ${kindOf(value)}`);
    if (value.length !== length) this.refuse('shape', path, `expected a list of ${length}, got ${value.length} items`);
    return value;
  }

  /**
   * An array whose items are entries of the state: its length is charged to the budget, and
   * refused beyond the budget or `itemsMax` before anything iterates over it.
   */
  entries(value: unknown, path: string, itemsMax: number = Number.MAX_SAFE_INTEGER): readonly unknown[] {
    if (!Array.isArray(value)) this.refuse('shape', path, `expected a list, got ${kindOf(value)}`);
    if (value.length > itemsMax) this.refuse('too-many', path, `${value.length} items, more than ${itemsMax}`);
    this.charge(value.length, path);
    return value;
  }

  /**
   * A flat list of groups of `stride` items (`[replica, count, replica, count, ...]`): each group
   * is one entry of the budget, refused beyond the budget or `groupsMax` before any loop.
   */
  groups(value: unknown, path: string, stride: number, groupsMax: number = Number.MAX_SAFE_INTEGER): readonly unknown[] {
    if (!Array.isArray(value)) this.refuse('shape', path, `expected a list, got ${kindOf(value)}`);
    if (value.length % stride !== 0) this.refuse('shape', path, `${value.length} items is not a whole number of groups of ${stride}`);
    const count = value.length / stride;
    if (count > groupsMax) this.refuse('too-many', path, `${count} groups, more than ${groupsMax}`);
    this.charge(count, path);
    return value;
  }

  /** Charges `count` entries to the state's budget, refused beyond it. */
  charge(count: number, path: string): void {
    if (count > this.entriesLeft) this.refuse('too-many', path, `more entries than the ${entriesPerStateMax} a state may hold`);
    this.entriesLeft -= count;
  }

  /** A safe integer in [min, max]. */
  integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      this.refuse('integer', path, `expected an integer, got ${kindOf(value)}`);
    }
    if (value < min || value > max) this.refuse('integer', path, `${value} is outside [${min}, ${max}]`);
    return value;
  }

  /** A replica id: non-empty, well-formed, at most `replicaIdBytesMax` UTF-8 bytes. */
  replica(value: unknown, path: string): string {
    return this.text(value, path, replicaIdBytesMax, false);
  }

  /** A set element or map key: well-formed, at most `keyBytesMax` UTF-8 bytes (may be empty). */
  key(value: unknown, path: string): string {
    return this.text(value, path, keyBytesMax, true);
  }

  /** A register's value. */
  scalar(value: unknown, path: string): Scalar {
    const problem = scalarProblem(value);
    if (problem !== null) this.refuse(typeof value === 'string' ? 'text' : 'value', path, problem);
    return normalizeScalar(value as Scalar);
  }

  private text(value: unknown, path: string, bytesMax: number, emptyAllowed: boolean): string {
    if (typeof value !== 'string') this.refuse('shape', path, `expected a string, got ${kindOf(value)}`);
    const problem = textProblem(value, bytesMax, emptyAllowed);
    if (problem !== null) this.refuse('text', path, describeTextProblem(problem, bytesMax));
    return value;
  }
}

/**
 * Runs `read` over a peer's value and returns what it built, or the first refusal. Never throws
 * for any input; a thrown value other than a refusal is a bug in a reader and is rethrown.
 */
export function readWire<T>(input: unknown, read: (reader: WireReader, value: unknown) => T): Result<T, CrdtRefusal> {
  try {
    return ok(read(new WireReader(), input));
  } catch (e) {
    if (e instanceof RefusedSignal) return err(e.refusal);
    throw e;
  }
}

/** A short description of what a peer sent, for a refusal's message (never the value itself). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'a non-finite number';
  return `a ${typeof value}`;
}
