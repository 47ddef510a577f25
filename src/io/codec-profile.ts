/**
 * The msgpack profile of peerquorum bodies, checked on the raw bytes BEFORE msgpackr decodes
 * them. Why a second pass over bytes msgpackr parses anyway:
 *
 * - msgpackr decodes its own extension types whatever the options (Date, RegExp, Error, Set,
 *   BigInt, typed arrays, "records" defined in-band with fixext 0x72, bundled strings). None of
 *   them belongs in a frame, and each is attack surface (a 4 MiB BigInt, a RegExp compiled from a
 *   peer's pattern, records that turn later fixints into objects). Refusing every extension
 *   type here means msgpackr only ever sees plain msgpack.
 * - A map with a key twice is read "last one wins" by msgpackr and "first one wins" by other
 *   libraries: two implementations would act on different messages (a parser differential).
 *   A generic decoder cannot report it afterwards, so it is refused here.
 * - Invalid UTF-8 is replaced by U+FFFD by some decoders and refused by others; msgpackr's
 *   native and pure-JS string paths need not agree either. Strict UTF-8 makes every string one
 *   string everywhere, and byte-equal keys mean equal keys.
 * - Nesting is bounded, so a deeply nested frame cannot overflow a recursive decoder's stack.
 * - The count of values is bounded (`valuesPerFrameMax`), not only the bytes. One byte of msgpack
 *   (0x80, an empty map) becomes a JavaScript object of about 64 bytes: a 4 MiB frame of empty maps
 *   cost msgpackr 256 MiB of heap and over a second of CPU (longer than an election timeout)
 *   before validation could refuse it. Here it costs one pass over at most `valuesPerFrameMax`
 *   values and no allocation; the scan stops at the first value past the bound, or at once when a
 *   container declares more elements than the bound, or than the bytes left, can hold.
 *
 * The profile (docs/protocol.md §2 "Body encoding"): nil, booleans, integers, floats, str
 * (valid UTF-8), bin, arrays, and maps with str keys, no key twice and at most `mapKeysMax` keys;
 * containers nested at most `msgpackDepthMax` deep; at most `valuesMax` values in all; exactly
 * one value filling the bytes.
 */
import { CodecError, type CodecErrorCode } from './codec-error.ts';

/** Deepest nesting of arrays and maps; a `raft` body needs 5 (body, entries, entry, config, voters). */
export const msgpackDepthMax = 8;
/** Most keys in one map; the largest map (a `snapshot` body) has 9. */
export const mapKeysMax = 16;

/**
 * Key ranges of the maps being scanned, `mapKeysMax` pairs per depth: one buffer for every scan
 * (a scan is synchronous and never re-entered), so that checking keys allocates nothing (one
 * small array per map, as before, made a body of empty maps cost a megabyte of heap to refuse).
 */
const keyRanges = new Uint32Array((msgpackDepthMax + 1) * mapKeysMax * 2);

class ProfileViolation {
  constructor(
    readonly code: CodecErrorCode,
    readonly problem: string,
  ) {}
}

/**
 * Null when `bytes` is exactly one msgpack value within the profile holding at most `valuesMax`
 * values, otherwise why not: `TOO_MANY_VALUES` past the count, `MALFORMED` for the rest. Never
 * throws on any input, and allocates nothing in proportion to what the bytes claim.
 */
export function checkMsgpackProfile(bytes: Uint8Array, valuesMax: number): CodecError | null {
  const scan = new Scan(bytes, valuesMax);
  try {
    scan.value(1);
    if (scan.pos !== bytes.byteLength) return new CodecError('MALFORMED', `${bytes.byteLength - scan.pos} trailing bytes after the msgpack value`);
    return null;
  } catch (e) {
    if (e instanceof ProfileViolation) return new CodecError(e.code, e.problem);
    throw e;
  }
}

class Scan {
  pos = 0;
  /** Values seen so far, this one included. */
  private values = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly valuesMax: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(at: number, problem: string): never {
    throw new ProfileViolation('MALFORMED', `msgpack byte ${at}: ${problem}`);
  }

  private tooMany(at: number): never {
    throw new ProfileViolation('TOO_MANY_VALUES', `msgpack byte ${at}: more than ${this.valuesMax} values (valuesPerFrameMax)`);
  }

  /** Count `n` more values, or refuse the frame if that makes more than `valuesMax`. */
  private count(n: number, at: number): void {
    this.values += n;
    if (this.values > this.valuesMax) this.tooMany(at);
  }

  private get bytesLeft(): number {
    return this.bytes.byteLength - this.pos;
  }

  /** Reserve `n` bytes at the current position and return where they start. */
  private take(n: number): number {
    const at = this.pos;
    if (n > this.bytes.byteLength - at) this.fail(at, 'truncated');
    this.pos = at + n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.take(1)] as number;
  }

  private u16(): number {
    return this.view.getUint16(this.take(2));
  }

  private u32(): number {
    return this.view.getUint32(this.take(4));
  }

  /** One value; containers at `depth` (the frame's own value is at depth 1). */
  value(depth: number): void {
    // The hot path of a hostile frame of tiny values: counting and reading the type byte inline.
    const at = this.pos;
    if (++this.values > this.valuesMax) this.tooMany(at);
    if (at >= this.bytes.byteLength) this.fail(at, 'truncated');
    const t = this.bytes[at] as number;
    this.pos = at + 1;
    if (t <= 0x7f || t >= 0xe0) return; // positive and negative fixint
    if (t <= 0x8f) return this.map(t & 0x0f, depth, at);
    if (t <= 0x9f) return this.array(t & 0x0f, depth, at);
    if (t <= 0xbf) return this.str(t & 0x1f, at);
    switch (t) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        return;
      case 0xc4:
        return void this.take(this.u8());
      case 0xc5:
        return void this.take(this.u16());
      case 0xc6:
        return void this.take(this.u32());
      case 0xcc:
      case 0xd0:
        return void this.take(1);
      case 0xcd:
      case 0xd1:
        return void this.take(2);
      case 0xca:
      case 0xce:
      case 0xd2:
        return void this.take(4);
      case 0xcb:
      case 0xcf:
      case 0xd3:
        return void this.take(8);
      case 0xd9:
        return this.str(this.u8(), at);
      case 0xda:
        return this.str(this.u16(), at);
      case 0xdb:
        return this.str(this.u32(), at);
      case 0xdc:
        return this.array(this.u16(), depth, at);
      case 0xdd:
        return this.array(this.u32(), depth, at);
      case 0xde:
        return this.map(this.u16(), depth, at);
      case 0xdf:
        return this.map(this.u32(), depth, at);
      case 0xc1:
        return this.fail(at, 'the never-used byte 0xc1');
      default:
        // 0xc7-0xc9 and 0xd4-0xd8: ext 8/16/32 and fixext 1-16.
        return this.fail(at, `extension types are not allowed (0x${t.toString(16)})`);
    }
  }

  private str(length: number, at: number): void {
    const start = this.take(length);
    if (!isUtf8(this.bytes, start, start + length)) this.fail(at, 'string is not valid UTF-8');
  }

  private array(length: number, depth: number, at: number): void {
    if (depth > msgpackDepthMax) this.fail(at, `nested deeper than ${msgpackDepthMax}`);
    // Every element takes at least one byte: a longer array cannot fit in what is left.
    if (length > this.bytesLeft) this.fail(at, `an array of ${length} elements in ${this.bytesLeft} bytes (truncated)`);
    // Every element is at least one value: refuse now rather than after scanning the bound's worth.
    if (length > this.valuesMax - this.values) this.count(length, at);
    for (let i = 0; i < length; i++) this.value(depth + 1);
  }

  private map(size: number, depth: number, at: number): void {
    if (depth > msgpackDepthMax) this.fail(at, `nested deeper than ${msgpackDepthMax}`);
    if (size > mapKeysMax) this.fail(at, `a map with ${size} keys (at most ${mapKeysMax})`);
    // A key and its value take at least one byte each.
    if (2 * size > this.bytesLeft) this.fail(at, `a map of ${size} keys in ${this.bytesLeft} bytes (truncated)`);
    // Byte ranges (start, length) of this map's keys seen so far, in this depth's slots of
    // `keyRanges`; UTF-8 is checked, so equal strings are equal bytes.
    const base = depth * mapKeysMax * 2;
    for (let i = 0; i < size; i++) {
      const keyAt = this.pos;
      this.count(1, keyAt);
      const t = this.u8();
      let length: number;
      if (t >= 0xa0 && t <= 0xbf) length = t & 0x1f;
      else if (t === 0xd9) length = this.u8();
      else if (t === 0xda) length = this.u16();
      else if (t === 0xdb) length = this.u32();
      else this.fail(keyAt, 'map keys must be strings');
      const start = this.pos;
      this.str(length, keyAt);
      for (let k = base; k < base + 2 * i; k += 2) {
        if (sameBytes(this.bytes, keyRanges[k] as number, keyRanges[k + 1] as number, start, length)) {
          this.fail(keyAt, 'a map key appears twice');
        }
      }
      keyRanges[base + 2 * i] = start;
      keyRanges[base + 2 * i + 1] = length;
      this.value(depth + 1);
    }
  }
}

function sameBytes(b: Uint8Array, aStart: number, aLength: number, bStart: number, bLength: number): boolean {
  if (aLength !== bLength) return false;
  for (let i = 0; i < aLength; i++) {
    if (b[aStart + i] !== b[bStart + i]) return false;
  }
  return true;
}

/**
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800-U+DFFF), nothing above
 * U+10FFFF, no truncated sequences.
 */
export function isUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    // The allowed range of the second byte; later continuation bytes are always 0x80-0xbf.
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return false;
    // The sequence takes bytes i..i+need, all inside the string.
    if (i + need >= end) return false;
    const second = b[i + 1] as number;
    if (second < lo || second > hi) return false;
    for (let k = 2; k <= need; k++) {
      const cont = b[i + k] as number;
      if (cont < 0x80 || cont > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}
