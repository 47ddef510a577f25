/**
 * The canonical bytes of what a BFT member signs or digests (src/core/bft/proof-requests.ts: "the host
 * encodes a payload canonically ... the same bytes on every host"). A signature or a digest is
 * only comparable across hosts if every host turns one payload into one byte string, whatever
 * the order its fields were built in; msgpack does not promise that (map order is insertion
 * order), so this is a tiny encoder of its own, written for exactly the values the engine's
 * payloads hold:
 *
 *   null 0x00 | false 0x01 | true 0x02 | safe integer 0x03 + 8-byte big-endian two's complement
 *   | string 0x04 + varuint length + UTF-8 | bytes 0x05 + varuint length + raw
 *   | array 0x06 + varuint count + items | map 0x07 + varuint count + (string key, value) sorted
 *     by key (UTF-16 code unit order, the same in every JavaScript engine)
 *
 * Every value is self-delimiting and typed, so two different payloads never share bytes (a
 * string "1" is not the integer 1, bytes are not a string). A domain label and the payload's
 * kind come first (`bftSignedBytes`), so a signature made for one purpose never checks for
 * another (a prepare's never passes as a checkpoint's).
 *
 * Values that are not one of these (undefined, a float, a class instance other than
 * Uint8Array) are OUR bug, not a peer's: payloads are built by the engine from validated
 * messages (validate-bft.ts), so the encoder throws.
 */
import type { DigestPayload, SignedPayload } from '../../core/bft/proof-requests.ts';
import type { RequestBody } from '../../core/bft/types.ts';
import { utf8 } from './bytes.ts';

/** Prefix of every signed or digested BFT payload (bump it if the encoding ever changes). */
export const bftCanonicalLabel = 'peerquorum bft v1';

class CanonicalWriter {
  private buf = new Uint8Array(256);
  private length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  varuint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  value(v: unknown): void {
    if (v === null) return this.byte(0x00);
    if (v === false) return this.byte(0x01);
    if (v === true) return this.byte(0x02);
    if (typeof v === 'number') return this.integer(v);
    if (typeof v === 'string') return this.tagged(0x04, utf8(v));
    if (v instanceof Uint8Array) return this.tagged(0x05, v);
    if (Array.isArray(v)) {
      this.byte(0x06);
      this.varuint(v.length);
      for (const item of v) this.value(item);
      return;
    }
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return this.map(v as Record<string, unknown>);
    throw new TypeError(`bft canonical: cannot encode ${typeof v}`);
  }

  private integer(v: number): void {
    if (!Number.isSafeInteger(v)) throw new TypeError(`bft canonical: ${v} is not a safe integer`);
    this.byte(0x03);
    // Two's complement over 64 bits, big-endian, without BigInt (the core's ES2022 has it, but
    // this stays cheap): high word by division, low word by remainder.
    const high = Math.floor(v / 0x1_0000_0000);
    const low = v - high * 0x1_0000_0000;
    const words = [high >>> 0, low >>> 0];
    for (const w of words) {
      this.byte((w >>> 24) & 0xff);
      this.byte((w >>> 16) & 0xff);
      this.byte((w >>> 8) & 0xff);
      this.byte(w & 0xff);
    }
  }

  private tagged(tag: number, bytes: Uint8Array): void {
    this.byte(tag);
    this.varuint(bytes.length);
    this.raw(bytes);
  }

  private map(o: Record<string, unknown>): void {
    const keys = Object.keys(o).sort();
    this.byte(0x07);
    this.varuint(keys.length);
    for (const k of keys) {
      this.tagged(0x04, utf8(k));
      this.value(o[k]);
    }
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** The canonical bytes of `value` (module header for the format). */
export function canonicalBytes(value: unknown): Uint8Array {
  const w = new CanonicalWriter();
  w.value(value);
  return w.finish();
}

/** What a BFT signature covers: the label, then the payload (its `kind` inside). */
export function bftSignedBytes(payload: SignedPayload): Uint8Array {
  return canonicalBytes([bftCanonicalLabel, 'sign', payload]);
}

/** What a batch digest is taken of. */
export function bftDigestBytes(payload: DigestPayload): Uint8Array {
  return canonicalBytes([bftCanonicalLabel, 'digest', payload]);
}

/** What a request digest is taken of: exactly the bytes its client signed (types.ts `SignedRequest.digest`). */
export function bftRequestBytes(body: RequestBody): Uint8Array {
  return bftSignedBytes({ kind: 'request', client: body.client, timestamp: body.timestamp, op: body.op, readOnly: body.readOnly });
}
