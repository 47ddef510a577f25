/**
 * A replicated key-value state machine: `read(key)`, `write(key, value)` and
 * `cas(key, expected, value)` over string keys and values (a null value is an absent key).
 *
 * A plain `StateMachine` (./state-machine.ts): commands and results are bytes, the state
 * snapshots to bytes and restores from them. It knows nothing of clients: exactly-once
 * application of retried commands is the session layer's job (./sessions.ts), which wraps this
 * machine and hands it each new command once.
 *
 * Pure (DESIGN.md §1): no I/O, no clock, no randomness; `apply` is a deterministic function of
 * the state and the command, so replicas that apply the same log hold the same state, and equal
 * states give equal snapshot bytes (keys are sorted), which `digest()` hashes.
 *
 * Reads can go through the log (a `read` command: linearizable because the log is) or be served
 * locally with `read(key)` once a ReadIndex answer says the applied index is recent enough.
 *
 * Wire format of a command (version 2; version 1 carried client ids, now the session layer's):
 *   u8 version=2 | u8 op (1 read, 2 write, 3 cas) | string key |
 *   write: nullable value | cas: nullable expected, nullable value
 * of a result:
 *   u8 op (1 read, 2 write, 3 cas, 4 invalid) | read: nullable value | cas: u8 ok, nullable observed
 * of a snapshot:
 *   u8 version=2 | varuint count | (string key, string value) * count, sorted by key
 * where a string is a varuint byte length and UTF-8, and a nullable string is a flag byte
 * (0 null, 1 present) followed by the string when present.
 *
 * Bytes from the log are untrusted: a command that does not decode changes nothing and yields
 * the `invalid` result (every replica decodes the same bytes the same way, so this too is
 * deterministic). A snapshot that does not decode makes `restore` throw `KvDecodeError`.
 */
import { err, ok, type Result } from '../core/result.ts';
import { ByteFormatError, ByteReader, ByteWriter, fnv1a64Hex } from './bytes.ts';
import type { StateMachine } from './state-machine.ts';

export const kvCommandVersion = 2;
export const kvSnapshotVersion = 2;
export const kvKeyBytesMax = 1024;
export const kvValueBytesMax = 64 * 1024;
/** Bound on the keys of one snapshot (a guard against corrupted counts). */
export const kvSnapshotKeysMax = 16 * 1024 * 1024;

export interface KvReadCommand {
  readonly op: 'read';
  readonly key: string;
}

/** `value` null deletes the key. */
export interface KvWriteCommand {
  readonly op: 'write';
  readonly key: string;
  readonly value: string | null;
}

/** Sets `value` iff the key holds `expected` (null: the key must be absent). */
export interface KvCasCommand {
  readonly op: 'cas';
  readonly key: string;
  readonly expected: string | null;
  readonly value: string | null;
}

export type KvCommand = KvReadCommand | KvWriteCommand | KvCasCommand;

export type KvResult =
  | { readonly op: 'read'; readonly value: string | null }
  | { readonly op: 'write' }
  | { readonly op: 'cas'; readonly ok: boolean; readonly observed: string | null }
  /** The command bytes did not decode: nothing changed. */
  | { readonly op: 'invalid' };

export class KvDecodeError extends Error {
  override readonly name = 'KvDecodeError';
  readonly code = 'KV_DECODE';
}

const opCodes = { read: 1, write: 2, cas: 3 } as const;
const resultCodes = { read: 1, write: 2, cas: 3, invalid: 4 } as const;

export function encodeKvCommand(command: KvCommand): Uint8Array {
  const w = new ByteWriter(16 + command.key.length);
  w.u8(kvCommandVersion).u8(opCodes[command.op]).string(command.key);
  switch (command.op) {
    case 'read':
      break;
    case 'write':
      w.nullableString(command.value);
      break;
    case 'cas':
      w.nullableString(command.expected).nullableString(command.value);
      break;
    default: {
      const never: never = command;
      return never;
    }
  }
  return w.finish();
}

/** Decodes and validates a command; bytes from the log are untrusted input, never asserted on. */
export function decodeKvCommand(bytes: Uint8Array): Result<KvCommand, KvDecodeError> {
  return decodeWith(bytes, (r) => {
    const version = r.u8();
    if (version !== kvCommandVersion) throw new KvDecodeError(`unknown command version ${version}`);
    const code = r.u8();
    const key = r.string(kvKeyBytesMax);
    if (code === opCodes.read) return { op: 'read', key };
    if (code === opCodes.write) return { op: 'write', key, value: r.nullableString(kvValueBytesMax) };
    if (code === opCodes.cas) {
      const expected = r.nullableString(kvValueBytesMax);
      const value = r.nullableString(kvValueBytesMax);
      return { op: 'cas', key, expected, value };
    }
    throw new KvDecodeError(`unknown op code ${code}`);
  });
}

export function encodeKvResult(result: KvResult): Uint8Array {
  const w = new ByteWriter(16);
  w.u8(resultCodes[result.op]);
  switch (result.op) {
    case 'read':
      w.nullableString(result.value);
      break;
    case 'write':
    case 'invalid':
      break;
    case 'cas':
      w.u8(result.ok ? 1 : 0).nullableString(result.observed);
      break;
    default: {
      const never: never = result;
      return never;
    }
  }
  return w.finish();
}

export function decodeKvResult(bytes: Uint8Array): Result<KvResult, KvDecodeError> {
  return decodeWith(bytes, (r) => {
    const code = r.u8();
    if (code === resultCodes.read) return { op: 'read', value: r.nullableString(kvValueBytesMax) };
    if (code === resultCodes.write) return { op: 'write' };
    if (code === resultCodes.invalid) return { op: 'invalid' };
    if (code === resultCodes.cas) {
      const flag = r.u8();
      if (flag > 1) throw new KvDecodeError(`bad cas flag ${flag}`);
      return { op: 'cas', ok: flag === 1, observed: r.nullableString(kvValueBytesMax) };
    }
    throw new KvDecodeError(`unknown result code ${code}`);
  });
}

/** Run a decoder over all of `bytes`; malformed input becomes a `KvDecodeError` result. */
function decodeWith<T>(bytes: Uint8Array, decode: (r: ByteReader) => T): Result<T, KvDecodeError> {
  try {
    const r = new ByteReader(bytes);
    const value = decode(r);
    if (!r.atEnd()) return err(new KvDecodeError('trailing bytes'));
    return ok(value);
  } catch (error) {
    if (error instanceof KvDecodeError) return err(error);
    if (error instanceof ByteFormatError) return err(new KvDecodeError(error.message));
    throw error;
  }
}

export class KvMachine implements StateMachine {
  private readonly data = new Map<string, string>();

  /** Apply one committed command (bytes); the result is an encoded `KvResult`. */
  apply(command: Uint8Array, _index: number): Uint8Array {
    const decoded = decodeKvCommand(command);
    return encodeKvResult(decoded.ok ? this.applyCommand(decoded.value) : { op: 'invalid' });
  }

  /** Apply one decoded command. Deterministic: the same commands give the same state. */
  applyCommand(command: KvCommand): KvResult {
    switch (command.op) {
      case 'read':
        return { op: 'read', value: this.read(command.key) };
      case 'write':
        this.set(command.key, command.value);
        return { op: 'write' };
      case 'cas': {
        const observed = this.read(command.key);
        const swapped = observed === command.expected;
        if (swapped) this.set(command.key, command.value);
        return { op: 'cas', ok: swapped, observed };
      }
      default: {
        const never: never = command;
        return never;
      }
    }
  }

  private set(key: string, value: string | null): void {
    if (value === null) this.data.delete(key);
    else this.data.set(key, value);
  }

  /** A local read: linearizable only once a ReadIndex answer's index has been applied. */
  read(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  get size(): number {
    return this.data.size;
  }

  /** The key-value pairs, sorted by key (UTF-16 code unit order, the same on every replica). */
  entriesSnapshot(): [string, string][] {
    return [...this.data.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The whole state as bytes: equal states give equal bytes. */
  snapshot(): Uint8Array {
    const entries = this.entriesSnapshot();
    const w = new ByteWriter(16 + 16 * entries.length);
    w.u8(kvSnapshotVersion).varuint(entries.length);
    for (const [key, value] of entries) w.string(key).string(value);
    return w.finish();
  }

  /** Replace the state with a snapshot's; throws `KvDecodeError` (and changes nothing) on bad bytes. */
  restore(snapshot: Uint8Array): void {
    const decoded = decodeWith(snapshot, (r) => {
      const version = r.u8();
      if (version !== kvSnapshotVersion) throw new KvDecodeError(`unknown snapshot version ${version}`);
      const count = r.varuint();
      if (count > kvSnapshotKeysMax) throw new KvDecodeError(`snapshot of ${count} keys exceeds the limit`);
      const pairs: [string, string][] = [];
      for (let i = 0; i < count; i++) pairs.push([r.string(kvKeyBytesMax), r.string(kvValueBytesMax)]);
      return pairs;
    });
    if (!decoded.ok) throw decoded.error;
    this.data.clear();
    for (const [key, value] of decoded.value) this.data.set(key, value);
  }

  /** A hash of the state (its snapshot bytes): equal on replicas that applied the same commands. */
  digest(): string {
    return fnv1a64Hex(this.snapshot());
  }
}
