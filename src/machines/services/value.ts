/**
 * The values the coordination services carry (tool arguments and results, task payloads,
 * configuration documents, commands and snapshots): JSON-like data plus bytes, in ONE canonical
 * binary form, so that equal values give equal bytes on every replica (snapshot digests compare
 * replicas) and a decoded command means the same thing everywhere.
 *
 * Hand-written rather than msgpack because this layer is pure and only src/io/codec* may import
 * msgpackr (DESIGN.md §1); it reuses the LEB128 and UTF-8 of ../bytes.ts.
 *
 * Canonical form, so that two encodings of one value cannot differ:
 *   - a number that is a safe integer is an integer (tag 3 or 4), any other finite number a
 *     float64; -0 is 0; NaN and the infinities are refused (they have no JSON meaning and
 *     compare unequal to themselves);
 *   - map keys are strictly increasing in UTF-16 code unit order (the order `Array.sort` gives),
 *     so a map has one encoding and no duplicate key; `__proto__` is refused as a key, since
 *     assigning it to a plain object would change the object's prototype.
 *
 * Decoding is validation of a stranger's bytes (commands come from clients): bounded depth,
 * bounded items in total, strict UTF-8, shortest varuints, nothing after the value. It never
 * throws anything but `ValueDecodeError`.
 *
 * Wire: u8 tag | 0 null | 1 false | 2 true | 3 varuint n | 4 varuint -n (n < 0) | 5 float64 LE |
 *   6 string | 7 bytes | 8 varuint count, values | 9 varuint count, (string key, value) pairs.
 */
import { ByteFormatError, ByteReader, ByteWriter } from '../bytes.ts';

export type Value = null | boolean | number | string | Uint8Array | readonly Value[] | { readonly [key: string]: Value };

export class ValueDecodeError extends Error {
  override readonly name = 'ValueDecodeError';
  readonly code = 'VALUE_DECODE';
}

export interface ValueLimits {
  /** Nesting of arrays and maps. */
  readonly depthMax: number;
  /** Values in total (every array item, map entry and scalar counts one). */
  readonly itemsMax: number;
  /** One string or byte field. */
  readonly fieldBytesMax: number;
}

/** Limits for a command from a client: small and shallow. */
export const commandValueLimits: ValueLimits = { depthMax: 16, itemsMax: 10_000, fieldBytesMax: 256 * 1024 };
/** Limits for a snapshot: our own bytes, but read back from storage or a peer. */
export const snapshotValueLimits: ValueLimits = { depthMax: 24, itemsMax: 64 * 1024 * 1024, fieldBytesMax: 16 * 1024 * 1024 };

const tags = { null: 0, false: 1, true: 2, uint: 3, negint: 4, float: 5, string: 6, bytes: 7, array: 8, map: 9 } as const;

export function encodeValue(value: Value): Uint8Array {
  const w = new ByteWriter(64);
  writeValue(w, value, 0);
  return w.finish();
}

/** Depth bound on encoding too: our own values are shallow, a cycle would loop forever. */
const encodeDepthMax = 64;

function writeValue(w: ByteWriter, value: Value, depth: number): void {
  if (depth > encodeDepthMax) throw new RangeError('value nested too deeply (or cyclic)');
  if (value === null) {
    w.u8(tags.null);
  } else if (typeof value === 'boolean') {
    w.u8(value ? tags.true : tags.false);
  } else if (typeof value === 'number') {
    writeNumber(w, value);
  } else if (typeof value === 'string') {
    w.u8(tags.string).string(value);
  } else if (value instanceof Uint8Array) {
    w.u8(tags.bytes).bytes(value);
  } else if (Array.isArray(value)) {
    const items = value as readonly Value[];
    w.u8(tags.array).varuint(items.length);
    for (const item of items) writeValue(w, item, depth + 1);
  } else if (typeof value === 'object') {
    const map = value as { readonly [key: string]: Value };
    const keys = Object.keys(map).filter((k) => map[k] !== undefined).sort();
    w.u8(tags.map).varuint(keys.length);
    for (const key of keys) {
      if (key === '__proto__') throw new RangeError('__proto__ is not a valid key');
      w.string(key);
      writeValue(w, map[key] as Value, depth + 1);
    }
  } else {
    throw new RangeError(`not a value: ${typeof value}`);
  }
}

function writeNumber(w: ByteWriter, n: number): void {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  if (Number.isSafeInteger(n)) {
    if (n >= 0) w.u8(tags.uint).varuint(n);
    else w.u8(tags.negint).varuint(-n);
    return;
  }
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, n, true);
  w.u8(tags.float);
  for (const b of bytes) w.u8(b);
}

/** Decodes one value filling all of `bytes`. */
export function decodeValue(bytes: Uint8Array, limits: ValueLimits = commandValueLimits): Value {
  const state = { items: 0 };
  try {
    const r = new ByteReader(bytes);
    const value = readValue(r, limits, state, 0);
    if (!r.atEnd()) throw new ValueDecodeError('trailing bytes after a value');
    return value;
  } catch (e) {
    if (e instanceof ValueDecodeError) throw e;
    if (e instanceof ByteFormatError) throw new ValueDecodeError(e.message);
    throw e;
  }
}

function readValue(r: ByteReader, limits: ValueLimits, state: { items: number }, depth: number): Value {
  if (++state.items > limits.itemsMax) throw new ValueDecodeError(`more than ${limits.itemsMax} values`);
  const tag = r.u8();
  switch (tag) {
    case tags.null:
      return null;
    case tags.false:
      return false;
    case tags.true:
      return true;
    case tags.uint:
      return r.varuint();
    case tags.negint: {
      const n = r.varuint();
      if (n === 0) throw new ValueDecodeError('negative zero integer');
      return -n;
    }
    case tags.float:
      return readFloat(r);
    case tags.string:
      return r.string(limits.fieldBytesMax);
    case tags.bytes:
      return r.bytes(limits.fieldBytesMax).slice();
    case tags.array:
    case tags.map:
      if (depth >= limits.depthMax) throw new ValueDecodeError(`nested deeper than ${limits.depthMax}`);
      return tag === tags.array ? readArray(r, limits, state, depth) : readMap(r, limits, state, depth);
    default:
      throw new ValueDecodeError(`unknown value tag ${tag}`);
  }
}

function readFloat(r: ByteReader): number {
  const bytes = new Uint8Array(8);
  for (let i = 0; i < 8; i++) bytes[i] = r.u8();
  const n = new DataView(bytes.buffer).getFloat64(0, true);
  // Canonical: integers travel as integers, and only finite numbers exist.
  if (!Number.isFinite(n) || Number.isSafeInteger(n) || Object.is(n, -0)) throw new ValueDecodeError('float not in canonical form');
  return n;
}

function readArray(r: ByteReader, limits: ValueLimits, state: { items: number }, depth: number): Value[] {
  const count = r.varuint();
  if (state.items + count > limits.itemsMax) throw new ValueDecodeError(`more than ${limits.itemsMax} values`);
  const items: Value[] = [];
  for (let i = 0; i < count; i++) items.push(readValue(r, limits, state, depth + 1));
  return items;
}

function readMap(r: ByteReader, limits: ValueLimits, state: { items: number }, depth: number): { [key: string]: Value } {
  const count = r.varuint();
  if (state.items + count > limits.itemsMax) throw new ValueDecodeError(`more than ${limits.itemsMax} values`);
  const map: { [key: string]: Value } = {};
  let previous: string | null = null;
  for (let i = 0; i < count; i++) {
    const key = r.string(limits.fieldBytesMax);
    if (previous !== null && !(previous < key)) throw new ValueDecodeError('map keys not strictly increasing');
    if (key === '__proto__') throw new ValueDecodeError('__proto__ is not a valid key');
    previous = key;
    map[key] = readValue(r, limits, state, depth + 1);
  }
  return map;
}

/** Structural equality of values (bytes by content); for tests and change detection. */
export function valuesEqual(a: Value, b: Value): boolean {
  const x = encodeValue(a);
  const y = encodeValue(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A deep copy of a value (decoded values are fresh; this is for values handed out by queries). */
export function cloneValue(value: Value): Value {
  return decodeValue(encodeValue(value), snapshotValueLimits);
}
