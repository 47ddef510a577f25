/**
 * A replicated key-value state machine: `read(key)`, `write(key, value)` and
 * `cas(key, expected, value)` over string keys and values (a null value is an absent key).
 *
 * Pure (DESIGN.md §1): no I/O, no clock, no randomness; `apply` is a deterministic function of
 * the state and the command, so replicas that apply the same log hold the same state, which
 * `digest()` lets a test compare.
 *
 * Every command carries `(clientId, requestId)`. Request ids of one client increase from one
 * operation to the next, and the machine remembers, per client, the last request it applied and
 * its result (a minimal client session, dissertation §6.3). A command whose request was already
 * applied is a `duplicate`: it changes nothing and returns the first result; an older one is
 * `stale`: it changes nothing. That makes applying a command exactly-once even when the network
 * duplicates a forwarded proposal. Sessions are bounded (`kvSessionsMax`); the least recently
 * used one is forgotten first, after which that client's old requests are no longer recognized.
 *
 * Reads can go through the log (a `read` command: linearizable because the log is) or be served
 * locally with `read(key)` once a ReadIndex answer says the applied index is recent enough.
 *
 * Wire format of a command (version 1):
 *   u8 version=1 | u8 op (1 read, 2 write, 3 cas) | varuint clientId | varuint requestId |
 *   string key | write: nullable value | cas: nullable expected, nullable value
 * where a string is a varuint byte length and UTF-8, and a nullable string is a flag byte
 * (0 null, 1 present) followed by the string when present.
 */
import { err, ok, type Result } from '../core/result.ts';
import { ByteFormatError, ByteReader, ByteWriter, fnv1a64Hex } from './bytes.ts';

export const kvCommandVersion = 1;
export const kvKeyBytesMax = 1024;
export const kvValueBytesMax = 64 * 1024;
export const kvSessionsMax = 65_536;

interface KvRequest {
  readonly clientId: number;
  readonly requestId: number;
  readonly key: string;
}

export interface KvReadCommand extends KvRequest {
  readonly op: 'read';
}

/** `value` null deletes the key. */
export interface KvWriteCommand extends KvRequest {
  readonly op: 'write';
  readonly value: string | null;
}

/** Sets `value` iff the key holds `expected` (null: the key must be absent). */
export interface KvCasCommand extends KvRequest {
  readonly op: 'cas';
  readonly expected: string | null;
  readonly value: string | null;
}

export type KvCommand = KvReadCommand | KvWriteCommand | KvCasCommand;

export type KvResult =
  | { readonly op: 'read'; readonly value: string | null }
  | { readonly op: 'write' }
  | { readonly op: 'cas'; readonly ok: boolean; readonly observed: string | null };

export type KvApplyOutcome =
  | { readonly status: 'applied'; readonly result: KvResult }
  /** This request was applied before: no effect, the first result again. */
  | { readonly status: 'duplicate'; readonly result: KvResult }
  /** The client has since issued a later request: no effect, no result. */
  | { readonly status: 'stale' };

export class KvDecodeError extends Error {
  override readonly name = 'KvDecodeError';
  readonly code = 'KV_DECODE';
}

const opCodes = { read: 1, write: 2, cas: 3 } as const;

export function encodeKvCommand(command: KvCommand): Uint8Array {
  const w = new ByteWriter(32 + command.key.length);
  w.u8(kvCommandVersion).u8(opCodes[command.op]).varuint(command.clientId).varuint(command.requestId).string(command.key);
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
  try {
    const r = new ByteReader(bytes);
    const version = r.u8();
    if (version !== kvCommandVersion) return err(new KvDecodeError(`unknown command version ${version}`));
    const code = r.u8();
    const clientId = r.varuint();
    const requestId = r.varuint();
    const key = r.string(kvKeyBytesMax);
    let command: KvCommand;
    if (code === opCodes.read) {
      command = { op: 'read', clientId, requestId, key };
    } else if (code === opCodes.write) {
      command = { op: 'write', clientId, requestId, key, value: r.nullableString(kvValueBytesMax) };
    } else if (code === opCodes.cas) {
      const expected = r.nullableString(kvValueBytesMax);
      const value = r.nullableString(kvValueBytesMax);
      command = { op: 'cas', clientId, requestId, key, expected, value };
    } else {
      return err(new KvDecodeError(`unknown op code ${code}`));
    }
    if (!r.atEnd()) return err(new KvDecodeError('trailing bytes after the command'));
    return ok(command);
  } catch (error) {
    if (error instanceof ByteFormatError) return err(new KvDecodeError(error.message));
    throw error;
  }
}

interface Session {
  readonly requestId: number;
  readonly result: KvResult;
}

export interface KvSnapshot {
  /** Sorted by key. */
  readonly entries: readonly (readonly [string, string])[];
  /** Sorted by client id: (clientId, last requestId, its result). */
  readonly sessions: readonly (readonly [number, number, KvResult])[];
}

export class KvMachine {
  private readonly data = new Map<string, string>();
  /** Insertion order is recency order: a session is re-inserted when it is used. */
  private readonly sessions = new Map<number, Session>();

  /** Apply one committed command. Deterministic: the same commands give the same state. */
  apply(command: KvCommand): KvApplyOutcome {
    const session = this.sessions.get(command.clientId);
    if (session !== undefined) {
      if (command.requestId < session.requestId) return { status: 'stale' };
      if (command.requestId === session.requestId) return { status: 'duplicate', result: session.result };
    }
    const result = this.execute(command);
    this.sessions.delete(command.clientId);
    this.sessions.set(command.clientId, { requestId: command.requestId, result });
    if (this.sessions.size > kvSessionsMax) {
      const oldest = this.sessions.keys().next().value as number;
      this.sessions.delete(oldest);
    }
    return { status: 'applied', result };
  }

  private execute(command: KvCommand): KvResult {
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

  snapshot(): KvSnapshot {
    const sessions = [...this.sessions.entries()]
      .map(([clientId, s]) => [clientId, s.requestId, s.result] as const)
      .sort((a, b) => a[0] - b[0]);
    return { entries: this.entriesSnapshot(), sessions };
  }

  /**
   * Rebuild a machine from a snapshot. Session recency is reset to client id order (snapshots
   * are sorted so that equal states give equal snapshots).
   */
  static restore(snapshot: KvSnapshot): KvMachine {
    const m = new KvMachine();
    for (const [key, value] of snapshot.entries) m.data.set(key, value);
    for (const [clientId, requestId, result] of snapshot.sessions) m.sessions.set(clientId, { requestId, result });
    return m;
  }

  /** A hash of the data and the sessions: equal on replicas that applied the same commands. */
  digest(): string {
    const w = new ByteWriter(256);
    const snap = this.snapshot();
    w.varuint(snap.entries.length);
    for (const [key, value] of snap.entries) w.string(key).string(value);
    w.varuint(snap.sessions.length);
    for (const [clientId, requestId, result] of snap.sessions) {
      w.varuint(clientId).varuint(requestId);
      writeResult(w, result);
    }
    return fnv1a64Hex(w.finish());
  }
}

function writeResult(w: ByteWriter, result: KvResult): void {
  switch (result.op) {
    case 'read':
      w.u8(1).nullableString(result.value);
      return;
    case 'write':
      w.u8(2);
      return;
    case 'cas':
      w.u8(3).u8(result.ok ? 1 : 0).nullableString(result.observed);
      return;
    default: {
      const never: never = result;
      return never;
    }
  }
}
