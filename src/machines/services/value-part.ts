/**
 * The common frame of the coordination services' parts: commands, results, queries and
 * snapshots are canonical values (./value.ts); a part reads a command's fields (./fields.ts),
 * checks them ALL, and only then changes its state, so that a malformed command (a throw, which
 * the composite machine turns into `rejected`) changes nothing.
 *
 * Expected refusals (a stale fencing token, a version mismatch, a full queue) are results, not
 * throws: `{ status: 'refused', code, message }` with a stable upper-case code per service.
 */
import type { MachinePart, ApplyContext } from './part.ts';
import { commandValueLimits, decodeValue, encodeValue, snapshotValueLimits, type Value } from './value.ts';

export interface Refusal<Code extends string = string> {
  readonly status: 'refused';
  readonly code: Code;
  readonly message: string;
}

export function refuse<Code extends string>(code: Code, message: string): Refusal<Code> {
  return { status: 'refused', code, message };
}

/** `Result` is a value in shape (interfaces of values, which TypeScript cannot check against `Value`). */
export abstract class ValuePart<Command, Result> implements MachinePart {
  /** Decode and validate a command; throws `MalformedCommandError` / `ValueDecodeError`. */
  protected abstract parse(value: Value): Command;
  /** Apply a valid command. */
  protected abstract run(command: Command, ctx: ApplyContext): Result;
  /** The state as a value; equal states must give equal values. */
  protected abstract save(): Value;
  /** Replace the state with a saved one; throws (changing nothing) when it does not check. */
  protected abstract load(state: Value): void;

  apply(command: Uint8Array, ctx: ApplyContext): Uint8Array {
    const parsed = this.parse(decodeValue(command, commandValueLimits));
    return encodeValue(this.run(parsed, ctx) as unknown as Value);
  }

  snapshot(): Uint8Array {
    return encodeValue(this.save());
  }

  restore(snapshot: Uint8Array): void {
    this.load(decodeValue(snapshot, snapshotValueLimits));
  }
}

/** A result of a value part, decoded on the client side (bytes from our own replicas). */
export function decodePartResult<R>(bytes: Uint8Array): R {
  return decodeValue(bytes, snapshotValueLimits) as R;
}
