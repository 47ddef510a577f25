/**
 * Byte helpers shared by the crypto files: UTF-8 of names with the checks that make it
 * injective, length prefixes, bytewise order, and big-endian integers. They exist so that every
 * construction in this folder encodes a string or a number the same, documented way.
 *
 * Why "well formed" matters: `TextEncoder` turns a lone surrogate into U+FFFD, so "\uD800" and
 * "\uFFFD" would encode to the same bytes, and two different node ids would share a key. A name
 * that is not well-formed UTF-16 is refused instead.
 */
const encoder = new TextEncoder();

/** Largest string, in UTF-8 bytes, that a 16-bit length prefix can carry. */
export const lengthPrefixedBytesMax = 0xffff;

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** True when `s` has no lone surrogate (ES2024's `isWellFormed`, which ES2022 types lack). */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * Why `value` cannot be a name in a construction (a cluster, a node id), or null: a non-empty,
 * well-formed string of at most `bytesMax` UTF-8 bytes (never more than a u16 prefix carries).
 */
export function nameProblem(value: unknown, bytesMax: number): string | null {
  if (typeof value !== 'string') return `expected a string, got ${typeof value}`;
  if (value.length === 0) return 'must not be empty';
  // A UTF-16 unit takes at most 3 UTF-8 bytes: skip the encoding when it cannot fit.
  if (value.length > bytesMax) return `longer than ${bytesMax} bytes`;
  if (!isWellFormed(value)) return 'not well-formed UTF-16 (lone surrogate)';
  if (value.length * 3 > bytesMax && utf8(value).length > bytesMax) return `longer than ${bytesMax} bytes`;
  return null;
}

/** -1, 0 or 1 as `a` sorts before, equal to or after `b`, byte by byte (a prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** `parts` concatenated, each preceded by its length as a u16 big-endian (callers check the length). */
export function lengthPrefixed(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += 2 + part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    offset = writeUint16(out, offset, part.length);
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Write `value` (0..65535) big-endian at `offset`; return the offset after it. */
export function writeUint16(out: Uint8Array, offset: number, value: number): number {
  out[offset] = value >>> 8;
  out[offset + 1] = value;
  return offset + 2;
}

/** Write a safe non-negative integer as u64 big-endian at `offset`; return the offset after it. */
export function writeUint64(out: Uint8Array, offset: number, value: number): number {
  const high = Math.floor(value / 0x100000000);
  const low = value >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = high >>> 16;
  out[offset + 2] = high >>> 8;
  out[offset + 3] = high;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = low >>> 16;
  out[offset + 6] = low >>> 8;
  out[offset + 7] = low;
  return offset + 8;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const byte of bytes) s += byte.toString(16).padStart(2, '0');
  return s;
}
