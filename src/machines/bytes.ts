/**
 * A tiny binary writer and reader for state machine commands: unsigned LEB128 integers (up to
 * 2^53 - 1) and length-prefixed UTF-8 strings. Hand-written because this layer is pure and
 * compiled without DOM or Node types (no TextEncoder), and because a command codec is small
 * enough not to need msgpackr (which only `src/io/codec*` may import, DESIGN.md §1).
 *
 * The reader throws `ByteFormatError` on malformed input; callers that decode untrusted bytes
 * catch it and turn it into a typed result.
 */

export class ByteFormatError extends Error {
  override readonly name = 'ByteFormatError';
  readonly code = 'BYTE_FORMAT';
}

/** Bytes a varuint of a safe integer takes at most (ceil(53 / 7)). */
const varuintBytesMax = 8;

export class ByteWriter {
  private buf: Uint8Array;
  private length = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(value: number): this {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xff)) throw new RangeError(`u8 out of range: ${value}`);
    this.reserve(1);
    this.buf[this.length++] = value;
    return this;
  }

  /** Unsigned LEB128 of a non-negative safe integer (division, not bit ops: values exceed 2^32). */
  varuint(value: number): this {
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`varuint out of range: ${value}`);
    this.reserve(varuintBytesMax);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.varuint(value.byteLength);
    this.reserve(value.byteLength);
    this.buf.set(value, this.length);
    this.length += value.byteLength;
    return this;
  }

  string(value: string): this {
    return this.bytes(encodeUtf8(value));
  }

  /** A flag byte (0 null, 1 present) then the string. */
  nullableString(value: string | null): this {
    if (value === null) return this.u8(0);
    return this.u8(1).string(value);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly buf: Uint8Array) {}

  atEnd(): boolean {
    return this.offset === this.buf.length;
  }

  u8(): number {
    const v = this.buf[this.offset];
    if (v === undefined) throw new ByteFormatError(`truncated at byte ${this.offset}`);
    this.offset++;
    return v;
  }

  varuint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < varuintBytesMax; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw new ByteFormatError('varuint above 2^53 - 1');
        if (i > 0 && b === 0) throw new ByteFormatError('varuint not in its shortest form');
        return value;
      }
      scale *= 0x80;
    }
    throw new ByteFormatError('varuint longer than 8 bytes');
  }

  bytes(maxBytes: number): Uint8Array {
    const length = this.varuint();
    if (length > maxBytes) throw new ByteFormatError(`field of ${length} bytes exceeds the limit of ${maxBytes}`);
    if (this.offset + length > this.buf.length) throw new ByteFormatError(`truncated field of ${length} bytes`);
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(maxBytes: number): string {
    return decodeUtf8(this.bytes(maxBytes));
  }

  nullableString(maxBytes: number): string | null {
    const flag = this.u8();
    if (flag === 0) return null;
    if (flag !== 1) throw new ByteFormatError(`bad null flag ${flag}`);
    return this.string(maxBytes);
  }
}

/** UTF-8 of a string; a lone surrogate (not valid Unicode) becomes U+FFFD, as TextEncoder does. */
export function encodeUtf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/** Strict UTF-8 decoding: overlong forms, surrogates and code points above U+10FFFF are errors. */
export function decodeUtf8(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  const cont = (): number => {
    const b = bytes[i++];
    if (b === undefined || (b & 0xc0) !== 0x80) throw new ByteFormatError('bad UTF-8 continuation byte');
    return b & 0x3f;
  };
  while (i < bytes.length) {
    const b0 = bytes[i++] as number;
    let cp: number;
    if (b0 < 0x80) cp = b0;
    else if (b0 >= 0xc2 && b0 < 0xe0) cp = ((b0 & 0x1f) << 6) | cont();
    else if (b0 >= 0xe0 && b0 < 0xf0) {
      cp = ((b0 & 0x0f) << 12) | (cont() << 6) | cont();
      if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) throw new ByteFormatError('overlong or surrogate UTF-8');
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      cp = ((b0 & 0x07) << 18) | (cont() << 12) | (cont() << 6) | cont();
      if (cp < 0x10000 || cp > 0x10ffff) throw new ByteFormatError('overlong or out-of-range UTF-8');
    } else {
      throw new ByteFormatError(`bad UTF-8 lead byte 0x${b0.toString(16)}`);
    }
    s += String.fromCodePoint(cp);
  }
  return s;
}

/**
 * A 64-bit FNV-1a hash as 16 hex digits, computed as two 32-bit lanes (FNV-1a and FNV-1a over a
 * different offset basis) so it needs no BigInt. Not cryptographic: it compares replicas.
 */
export function fnv1a64Hex(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b ^ (h1 >>> 24), 0x01000193);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}
