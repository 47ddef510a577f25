/**
 * Field readers for decoded frames: each takes an `unknown` from the decoder, checks it against
 * one rule of docs/protocol.md, and returns a fresh typed value, or throws a `CodecError` naming
 * the field. The throw never leaves the codec: `decodeEnvelope` and `decodeRaftBody` turn it
 * into a `Result`. (One exception per refused frame keeps the readers short; a frame that passes
 * allocates no error.)
 *
 * Field paths are only built when a field fails, so the happy path allocates nothing for them.
 */
import { CodecError, type CodecErrorCode } from './codec-error.ts';
import type { CodecLimits } from './codec-limits.ts';

export type WireMap = Readonly<Record<string, unknown>>;

export function fail(code: CodecErrorCode, field: string, problem: string): never {
  throw new CodecError(code, `${field}: ${problem}`, field);
}

export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** A short description of a value that failed, safe to log (no peer-chosen text beyond 32 chars). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return String(value);
    if (!Number.isInteger(value)) return `the float ${value}`;
    if (!Number.isSafeInteger(value)) return `the unsafe integer ${value}`;
    return `the integer ${value}`;
  }
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'bigint') return 'an integer beyond 64-bit float precision';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'a map';
  return typeof value;
}

/** A peer-chosen string for an error message: truncated, with control characters escaped. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}...` : text);
}

/** A msgpack map decoded as a plain object (never a class instance, never a null value). */
export function isWireMap(value: unknown): value is WireMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function readMap(value: unknown, field: string, code: CodecErrorCode): WireMap {
  if (!isWireMap(value)) fail(code, field, `expected a map, got ${describe(value)}`);
  return value;
}

/** The map has exactly `keys`: none missing, none extra. `field` is '' for the envelope itself. */
export function checkKeys(map: WireMap, keys: readonly string[], field: string, code: CodecErrorCode): void {
  for (const key of keys) {
    if (!Object.hasOwn(map, key)) fail(code, fieldPath(field, key), 'missing');
  }
  const own = Object.keys(map);
  if (own.length !== keys.length) {
    const extra = own.find((key) => !keys.includes(key)) ?? '';
    fail(code, field === '' ? 'frame' : field, `unexpected field ${quote(extra)}`);
  }
}

/** A safe integer in [min, max], normalized (-0 becomes 0). */
export function readInt(map: WireMap, key: string, parent: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  const value = map[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    fail('INVALID_MESSAGE', fieldPath(parent, key), `expected a safe integer, got ${describe(value)}`);
  }
  if (value < min) fail('INVALID_MESSAGE', fieldPath(parent, key), `must be at least ${min}, got ${value}`);
  if (value > max) fail('INVALID_MESSAGE', fieldPath(parent, key), `must be at most ${max}, got ${value}`);
  return value === 0 ? 0 : value;
}

export function readBool(map: WireMap, key: string, parent: string): boolean {
  const value = map[key];
  if (typeof value !== 'boolean') fail('INVALID_MESSAGE', fieldPath(parent, key), `expected a boolean, got ${describe(value)}`);
  return value;
}

/**
 * Bytes of at most `bytesMax`. With `copy`, a fresh `Uint8Array` that owns its memory: the
 * decoder hands out views into the frame, which a transport may reuse, and which would keep the
 * whole frame alive for as long as the log holds one entry of it.
 */
export function readBytes(value: unknown, field: string, bytesMax: number, copy: boolean): Uint8Array {
  if (!(value instanceof Uint8Array)) fail('INVALID_MESSAGE', field, `expected bytes, got ${describe(value)}`);
  if (value.byteLength > bytesMax) fail('INVALID_MESSAGE', field, `${value.byteLength} bytes, more than ${bytesMax}`);
  return copy ? new Uint8Array(value) : value;
}

/**
 * A printable name (a node id, a cluster): 1 to `charsMax` Unicode code points and at most
 * `bytesMax` bytes of UTF-8, none of them a C0 or C1 control character, DEL, a line or paragraph
 * separator, a bidirectional control, a byte order mark, or half of a surrogate pair
 * (docs/protocol.md "Names").
 */
export function readName(value: unknown, field: string, charsMax: number, code: CodecErrorCode, bytesMax: number = Number.POSITIVE_INFINITY): string {
  if (typeof value !== 'string') fail(code, field, `expected a string, got ${describe(value)}`);
  const problem = nameProblem(value, charsMax, bytesMax);
  if (problem !== null) fail(code, field, problem);
  return value;
}

/** A node id within `idCharsMax` and `nodeIdBytesMax`. */
export function readNodeId(value: unknown, field: string, limits: CodecLimits, code: CodecErrorCode): string {
  return readName(value, field, limits.idCharsMax, code, limits.nodeIdBytesMax);
}

/** A cluster name within `clusterCharsMax` and `clusterBytesMax`. */
export function readClusterName(value: unknown, field: string, limits: CodecLimits, code: CodecErrorCode): string {
  return readName(value, field, limits.clusterCharsMax, code, limits.clusterBytesMax);
}

function nameProblem(s: string, charsMax: number, bytesMax: number): string | null {
  if (s.length === 0) return 'must not be empty';
  // A code point takes at most two UTF-16 units, and each unit at least one byte of UTF-8: a
  // string this long is too long either way, and is refused before it is walked.
  if (s.length > 2 * charsMax) return `longer than ${charsMax} characters`;
  if (s.length > bytesMax) return `longer than ${bytesMax} bytes of UTF-8`;
  let chars = 0;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return `lone surrogate at ${i}`;
      i++;
      bytes += 4;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return `lone surrogate at ${i}`;
    } else if (!isPrintableUnit(c)) {
      return `unprintable character U+${c.toString(16).padStart(4, '0')} at ${i}`;
    } else {
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    }
    chars++;
  }
  if (chars > charsMax) return `longer than ${charsMax} characters`;
  if (bytes > bytesMax) return `longer than ${bytesMax} bytes of UTF-8`;
  return null;
}

function isPrintableUnit(c: number): boolean {
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false; // C0, DEL, C1
  if (c === 0x200e || c === 0x200f) return false; // LRM, RLM
  if (c === 0x2028 || c === 0x2029) return false; // line and paragraph separators
  if (c >= 0x202a && c <= 0x202e) return false; // bidi embeddings and overrides
  if (c >= 0x2066 && c <= 0x2069) return false; // bidi isolates
  if (c === 0xfeff) return false; // byte order mark
  return true;
}
