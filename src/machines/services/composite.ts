/**
 * Several named machines on ONE log: kv, the board and the coordination services (tools,
 * agents, config, locks) are parts of one `StateMachine`, so that one Raft log (and later,
 * unchanged, the BFT engine's sequence) orders the commands of all of them, one snapshot holds
 * all of them, and a command of one service can be reasoned about against the others (a lock
 * token and a tool call share one order).
 *
 * The machine knows nothing of Raft: it sees command bytes, a position (`index`: log index or
 * BFT sequence number), a term or view (`term`, 0 when the host does not pass it) and the
 * replicated time carried by `time` commands.
 *
 * TIME. A lease must expire at the same command on every replica, so time comes only from the
 * log: the leader (or primary) proposes `time` commands with its clock; a time below or equal to
 * the current one is ignored (time is monotonic whatever clock a new leader has), and every part
 * evaluates its expiries when a time command advances the time. Hosts must let only the leader
 * propose time commands, never forward a client's: a stranger's time far in the future would
 * expire every lease. (The BFT host will bound a primary's time by the replicas' own clocks.)
 *
 * REJECTION. A command that does not decode, names no hosted part, or makes a part throw gets
 * `rejected` with a bounded reason, identical on every replica. The service parts validate every
 * field before they change anything, so a rejected command changes nothing; a foreign part that
 * throws half-way leaves the same partial change on every replica (still deterministic).
 *
 * Wire format of a command (version 1):
 *   u8 version=1 | u8 kind: 1 service: string name, then the part's command (rest of the bytes)
 *                        | 2 time: varuint timeMs
 * of a result:
 *   u8 status: 1 applied: the part's result (rest) | 2 rejected: string reason | 3 time: varuint timeMs, u8 advanced
 * of a snapshot:
 *   u8 version=1 | varuint timeMs | varuint parts | (string name, bytes snapshot) * parts, by name
 */
import { AssertionError, assert } from '../../core/assert.ts';
import { ByteFormatError, ByteReader, ByteWriter, encodeUtf8, fnv1a64Hex } from '../bytes.ts';
import type { StateMachine } from '../state-machine.ts';
import type { ApplyContext, Change, MachinePart, PartChange } from './part.ts';

export const compositeVersion = 1;
export const serviceNameCharsMax = 32;
/** Changes one command may report before they collapse into one `overflow` per service. */
export const changesPerCommandMax = 4096;
export const compositeRejectionBytesMax = 256;

export type CompositeCommand =
  | { readonly kind: 'service'; readonly service: string; readonly payload: Uint8Array }
  | { readonly kind: 'time'; readonly timeMs: number };

export type CompositeResult =
  | { readonly status: 'applied'; readonly result: Uint8Array }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'time'; readonly timeMs: number; readonly advanced: boolean };

export class CompositeDecodeError extends Error {
  override readonly name = 'CompositeDecodeError';
  readonly code = 'COMPOSITE_DECODE';
}

export function encodeCompositeCommand(command: CompositeCommand): Uint8Array {
  const w = new ByteWriter(16 + (command.kind === 'service' ? command.payload.byteLength : 0));
  w.u8(compositeVersion);
  if (command.kind === 'time') return w.u8(2).varuint(command.timeMs).finish();
  w.u8(1).string(command.service);
  const head = w.finish();
  const out = new Uint8Array(head.byteLength + command.payload.byteLength);
  out.set(head, 0);
  out.set(command.payload, head.byteLength);
  return out;
}

/** Shorthand: a command for the part named `service`. */
export function serviceCommand(service: string, payload: Uint8Array): Uint8Array {
  return encodeCompositeCommand({ kind: 'service', service, payload });
}

/** Shorthand: a time command (the leader's clock, in ms). */
export function timeCommand(timeMs: number): Uint8Array {
  return encodeCompositeCommand({ kind: 'time', timeMs });
}

export function decodeCompositeCommand(bytes: Uint8Array): CompositeCommand {
  try {
    const r = new ByteReader(bytes);
    if (r.u8() !== compositeVersion) throw new CompositeDecodeError('unknown composite command version');
    const kind = r.u8();
    if (kind === 2) {
      const timeMs = r.varuint();
      if (!r.atEnd()) throw new CompositeDecodeError('trailing bytes after a time command');
      return { kind: 'time', timeMs };
    }
    if (kind !== 1) throw new CompositeDecodeError(`unknown composite command kind ${kind}`);
    const service = r.string(serviceNameCharsMax * 4);
    // Strict UTF-8 and shortest varuints: the name re-encodes to exactly the bytes it was read from.
    const offset = 2 + new ByteWriter(16).string(service).finish().byteLength;
    return { kind: 'service', service, payload: bytes.subarray(offset) };
  } catch (e) {
    if (e instanceof ByteFormatError) throw new CompositeDecodeError(e.message);
    throw e;
  }
}

export function encodeCompositeResult(result: CompositeResult): Uint8Array {
  if (result.status === 'applied') {
    const out = new Uint8Array(1 + result.result.byteLength);
    out[0] = 1;
    out.set(result.result, 1);
    return out;
  }
  const w = new ByteWriter(16);
  if (result.status === 'rejected') return w.u8(2).string(result.reason).finish();
  return w.u8(3).varuint(result.timeMs).u8(result.advanced ? 1 : 0).finish();
}

export function decodeCompositeResult(bytes: Uint8Array): CompositeResult {
  try {
    const r = new ByteReader(bytes);
    const status = r.u8();
    if (status === 1) return { status: 'applied', result: bytes.subarray(1) };
    let result: CompositeResult;
    if (status === 2) result = { status: 'rejected', reason: r.string(compositeRejectionBytesMax) };
    else if (status === 3) result = { status: 'time', timeMs: r.varuint(), advanced: r.u8() === 1 };
    else throw new CompositeDecodeError(`unknown composite result status ${status}`);
    if (!r.atEnd()) throw new CompositeDecodeError('trailing bytes after a composite result');
    return result;
  } catch (e) {
    if (e instanceof ByteFormatError) throw new CompositeDecodeError(e.message);
    throw e;
  }
}

/** A query of one part: `{ service, query }`. */
export interface CompositeQuery {
  readonly service: string;
  readonly query: unknown;
}

export class CompositeMachine implements StateMachine {
  private readonly parts: ReadonlyMap<string, MachinePart>;
  /** Names in sorted order: expiries run, and snapshots list parts, in one order everywhere. */
  private readonly names: readonly string[];
  private timeMsNow = 0;
  private changes: Change[] = [];
  private changesOverflowed = new Set<string>();
  readonly stats = { applied: 0, rejected: 0, timeAdvances: 0, timeIgnored: 0 };

  constructor(parts: Readonly<Record<string, MachinePart>>) {
    const names = Object.keys(parts).sort();
    assert(names.length > 0, 'a composite machine hosts at least one part');
    for (const name of names) assert(name.length > 0 && name.length <= serviceNameCharsMax, `part name ${name} within ${serviceNameCharsMax} characters`);
    this.parts = new Map(names.map((n) => [n, parts[n] as MachinePart]));
    this.names = names;
  }

  /** The replicated time (ms): the largest a time command has carried. */
  get timeMs(): number {
    return this.timeMsNow;
  }

  part<T extends MachinePart>(name: string): T | undefined {
    return this.parts.get(name) as T | undefined;
  }

  /**
   * Apply one committed command at `index`, ordered in `term` (0: unknown). The changes it made
   * are in `takeChanges()` until the next command.
   */
  apply(command: Uint8Array, index: number, term = 0): Uint8Array {
    return encodeCompositeResult(this.applyCommand(command, index, term));
  }

  applyCommand(command: Uint8Array, index: number, term = 0): CompositeResult {
    assert(Number.isSafeInteger(index) && index >= 0, 'index is a non-negative integer');
    this.changes = [];
    this.changesOverflowed = new Set();
    let decoded: CompositeCommand;
    try {
      decoded = decodeCompositeCommand(command);
    } catch (e) {
      return this.reject(e);
    }
    if (decoded.kind === 'time') return this.advanceTime(decoded.timeMs, index, term);
    const part = this.parts.get(decoded.service);
    if (part === undefined) return this.reject(new CompositeDecodeError(`no service named ${decoded.service}`));
    try {
      const result = part.apply(decoded.payload, this.context(decoded.service, index, term));
      this.stats.applied++;
      return { status: 'applied', result };
    } catch (e) {
      if (e instanceof AssertionError) throw e;
      return this.reject(e);
    }
  }

  private reject(error: unknown): CompositeResult {
    this.stats.rejected++;
    this.changes = [];
    return { status: 'rejected', reason: rejectionReason(error) };
  }

  private advanceTime(timeMs: number, index: number, term: number): CompositeResult {
    if (timeMs <= this.timeMsNow) {
      this.stats.timeIgnored++;
      return { status: 'time', timeMs: this.timeMsNow, advanced: false };
    }
    this.timeMsNow = timeMs;
    this.stats.timeAdvances++;
    this.changes.push({ service: '', kind: 'time', timeMs });
    for (const name of this.names) this.parts.get(name)?.advanceTime?.(this.context(name, index, term));
    return { status: 'time', timeMs, advanced: true };
  }

  private context(service: string, index: number, term: number): ApplyContext {
    return {
      index,
      term,
      timeMs: this.timeMsNow,
      report: (change: PartChange) => this.report(service, change),
    };
  }

  private report(service: string, change: PartChange): void {
    if (this.changesOverflowed.has(service)) return;
    if (this.changes.length >= changesPerCommandMax) {
      this.changesOverflowed.add(service);
      this.changes.push({ service, kind: 'overflow' });
      return;
    }
    this.changes.push({ ...change, service });
  }

  /** What the last applied command changed, in the order it changed it (then forgotten). */
  takeChanges(): readonly Change[] {
    const out = this.changes;
    this.changes = [];
    return out;
  }

  /** A read of one part; throws `CompositeDecodeError` for an unknown part or one without reads. */
  query(query: CompositeQuery): unknown {
    const part = this.parts.get(query.service);
    if (part?.query === undefined) throw new CompositeDecodeError(`no readable service named ${String(query.service)}`);
    return part.query(query.query);
  }

  snapshot(): Uint8Array {
    const w = new ByteWriter(256);
    w.u8(compositeVersion).varuint(this.timeMsNow).varuint(this.names.length);
    for (const name of this.names) w.string(name).bytes((this.parts.get(name) as MachinePart).snapshot());
    return w.finish();
  }

  /** Replace every part's state; the snapshot must name exactly the hosted parts. */
  restore(snapshot: Uint8Array): void {
    let timeMs: number;
    const states: [MachinePart, Uint8Array][] = [];
    try {
      const r = new ByteReader(snapshot);
      if (r.u8() !== compositeVersion) throw new CompositeDecodeError('unknown composite snapshot version');
      timeMs = r.varuint();
      const count = r.varuint();
      if (count !== this.names.length) throw new CompositeDecodeError(`snapshot of ${count} parts, ${this.names.length} hosted`);
      for (const name of this.names) {
        if (r.string(serviceNameCharsMax * 4) !== name) throw new CompositeDecodeError(`snapshot parts differ from the hosted ones at ${name}`);
        states.push([this.parts.get(name) as MachinePart, r.bytes(Number.MAX_SAFE_INTEGER)]);
      }
      if (!r.atEnd()) throw new CompositeDecodeError('trailing bytes after a composite snapshot');
    } catch (e) {
      if (e instanceof ByteFormatError) throw new CompositeDecodeError(e.message);
      throw e;
    }
    // All or nothing across parts: if one part refuses its state, the others go back to theirs.
    const before = states.map(([part]) => part.snapshot());
    try {
      for (const [part, state] of states) part.restore(state);
    } catch (e) {
      states.forEach(([part], i) => part.restore(before[i] as Uint8Array));
      throw e;
    }
    this.timeMsNow = timeMs;
  }

  digest(): string {
    return fnv1a64Hex(this.snapshot());
  }
}

function rejectionReason(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  let reason = message.slice(0, compositeRejectionBytesMax);
  while (encodeUtf8(reason).byteLength > compositeRejectionBytesMax) reason = reason.slice(0, -1);
  return reason;
}
