/**
 * SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104, RFC 4231) and HKDF-SHA256 (RFC 5869) in plain,
 * synchronous TypeScript.
 *
 * Why a second implementation when Web Crypto has all three: Web Crypto is async-only, and the
 * deterministic simulator (synchronous, single-threaded, virtual time) and the hostile-frame
 * fuzzer must run the SAME link authentication as production without awaiting anything. So the
 * MAC exists in two backends (mac.ts) with identical output, and this file is the synchronous
 * one. test/io/crypto/sha256.test.ts checks it against the RFC vectors and against node:crypto.
 *
 * Speed matters (the fuzzer pushes about a million frames), so:
 * - the compression function reads big-endian words straight out of the caller's Uint8Array and
 *   works on Int32Array state and schedule buffers that are allocated once per hasher;
 * - `HmacKey` hashes the padded key blocks (key XOR ipad, key XOR opad) ONCE, when the key is
 *   made, and starts every tag from those saved states: a tag then costs the message's blocks
 *   plus one block for the outer hash, and no allocation but the 32-byte tag it returns
 *   (`macInto` and `verify` allocate nothing).
 *
 * Nothing here is constant-time with respect to the MESSAGE length (which is public); the tag
 * comparison lives in mac.ts and is.
 */
import { assert } from '../../core/assert.ts';

/** Bytes in a SHA-256 digest (and in an HMAC-SHA256 tag). */
export const sha256DigestBytes = 32;
/** Bytes in a SHA-256 block (and in an HMAC key block). */
export const sha256BlockBytes = 64;
/** RFC 5869 §2.3: HKDF-SHA256 output is at most 255 hash lengths. */
export const hkdfSha256OutputBytesMax = 255 * sha256DigestBytes;

const roundConstants = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const initialState = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Process one 64-byte block of `bytes` at `offset` into `state`, using `w` as the schedule. */
function compress(state: Int32Array, w: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t++) {
    const i = offset + 4 * t;
    w[t] = (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = g ^ (e & (f ^ g)); // (e & f) ^ (~e & g), one operation fewer
    const t1 = (h + S1 + ch + roundConstants[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) | (c & (a | b)); // (a & b) ^ (a & c) ^ (b & c)
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/**
 * An incremental SHA-256: `reset`, any number of `update`s, then `digestInto`. Every buffer is
 * allocated once, in the constructor; reuse one hasher for many messages.
 */
export class Sha256 {
  private readonly state = new Int32Array(8);
  private readonly schedule = new Int32Array(64);
  private readonly pending = new Uint8Array(sha256BlockBytes);
  private pendingBytes = 0;
  private totalBytes = 0;

  constructor() {
    this.reset();
  }

  /** Start a new message. */
  reset(): this {
    this.state.set(initialState);
    this.pendingBytes = 0;
    this.totalBytes = 0;
    return this;
  }

  /**
   * Start a new message from a saved midstate: the state after `prefixBytes` bytes, a whole
   * number of blocks (this is how `HmacKey` skips re-hashing the padded key).
   */
  resetTo(midstate: Int32Array, prefixBytes: number): this {
    assert(midstate.length === 8, 'a SHA-256 midstate is 8 words');
    assert(prefixBytes % sha256BlockBytes === 0, 'a midstate ends on a block boundary');
    this.state.set(midstate);
    this.pendingBytes = 0;
    this.totalBytes = prefixBytes;
    return this;
  }

  /** Copy the state into `out` (8 words). Only on a block boundary (see `resetTo`). */
  saveMidstate(out: Int32Array): void {
    assert(this.pendingBytes === 0, 'a midstate is saved on a block boundary');
    out.set(this.state);
  }

  update(data: Uint8Array): this {
    let offset = 0;
    const length = data.length;
    this.totalBytes += length;
    const pending = this.pending;
    if (this.pendingBytes > 0) {
      const take = Math.min(sha256BlockBytes - this.pendingBytes, length);
      // Byte loops rather than `set(data.subarray(..))`: no view object per call, and a copy
      // of under 64 bytes is no slower.
      for (let i = 0, p = this.pendingBytes; i < take; i++, p++) pending[p] = data[i]!;
      this.pendingBytes += take;
      offset = take;
      if (this.pendingBytes < sha256BlockBytes) return this;
      compress(this.state, this.schedule, pending, 0);
      this.pendingBytes = 0;
    }
    // Whole blocks straight from the caller's bytes: no copy.
    for (; offset + sha256BlockBytes <= length; offset += sha256BlockBytes) {
      compress(this.state, this.schedule, data, offset);
    }
    const tail = length - offset;
    for (let p = 0; p < tail; p++) pending[p] = data[offset + p]!;
    this.pendingBytes = tail;
    return this;
  }

  /** Finish the message and write its 32-byte digest at `out[offset..]`. The hasher must be reset before reuse. */
  digestInto(out: Uint8Array, offset = 0): void {
    assert(offset >= 0 && offset + sha256DigestBytes <= out.length, 'the digest fits in out');
    const pending = this.pending;
    let used = this.pendingBytes;
    pending[used++] = 0x80;
    if (used > sha256BlockBytes - 8) {
      pending.fill(0, used);
      compress(this.state, this.schedule, pending, 0);
      used = 0;
    }
    pending.fill(0, used, sha256BlockBytes - 8);
    // The message length in bits, as a 64-bit big-endian integer (totalBytes is a safe integer).
    const bitsHigh = Math.floor(this.totalBytes / 0x20000000);
    const bitsLow = (this.totalBytes % 0x20000000) * 8;
    writeUint32(pending, sha256BlockBytes - 8, bitsHigh);
    writeUint32(pending, sha256BlockBytes - 4, bitsLow);
    compress(this.state, this.schedule, pending, 0);
    for (let i = 0; i < 8; i++) writeUint32(out, offset + 4 * i, this.state[i]!);
    this.pendingBytes = 0;
  }
}

function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = value >>> 16;
  out[offset + 2] = value >>> 8;
  out[offset + 3] = value;
}

const sharedHasher = new Sha256();

/** The SHA-256 digest of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(sha256DigestBytes);
  sharedHasher.reset().update(data).digestInto(out);
  return out;
}

/**
 * An HMAC-SHA256 key with its padded blocks pre-hashed (RFC 2104 §4 "implementation note"):
 * making one costs two or three compressions, each tag after that costs the message's blocks
 * plus one. The key bytes are not kept, only the two midstates.
 *
 * A tag is computed as `start()`, any number of `update(part)`, then `finishInto(out)`; or in
 * one call with `mac` / `macInto`. One key holds one hasher: don't interleave two tags.
 */
export class HmacKey {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly hasher = new Sha256();
  /** The inner digest, which is the outer hash's message. */
  private readonly innerDigest = new Uint8Array(sha256DigestBytes);
  private started = false;

  constructor(key: Uint8Array) {
    const block = new Uint8Array(sha256BlockBytes);
    if (key.length > sha256BlockBytes) {
      this.hasher.reset().update(key).digestInto(block);
    } else {
      block.set(key);
    }
    for (let i = 0; i < sha256BlockBytes; i++) block[i]! ^= 0x36;
    this.hasher.reset().update(block).saveMidstate(this.inner);
    for (let i = 0; i < sha256BlockBytes; i++) block[i]! ^= 0x36 ^ 0x5c;
    this.hasher.reset().update(block).saveMidstate(this.outer);
    block.fill(0);
  }

  /** Begin a tag. */
  start(): this {
    this.hasher.resetTo(this.inner, sha256BlockBytes);
    this.started = true;
    return this;
  }

  /** Add the next part of the message. */
  update(data: Uint8Array): this {
    assert(this.started, 'HmacKey.update after start');
    this.hasher.update(data);
    return this;
  }

  /** Finish the tag and write its 32 bytes at `out[offset..]`. */
  finishInto(out: Uint8Array, offset = 0): void {
    assert(this.started, 'HmacKey.finishInto after start');
    this.started = false;
    this.hasher.digestInto(this.innerDigest);
    // The outer hash: from the saved opad midstate, 32 bytes of message, which with its padding
    // is exactly one more compression.
    this.hasher.resetTo(this.outer, sha256BlockBytes).update(this.innerDigest).digestInto(out, offset);
  }

  /** The tag of `data` written at `out[offset..]`: no allocation. */
  macInto(data: Uint8Array, out: Uint8Array, offset = 0): void {
    this.start().update(data).finishInto(out, offset);
  }

  /** The 32-byte tag of `data`. */
  mac(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(sha256DigestBytes);
    this.macInto(data, out);
    return out;
  }
}

/** HMAC-SHA256 of `data` under `key` (RFC 2104). For many tags under one key, make an `HmacKey`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new HmacKey(key).mac(data);
}

/** HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, IKM); an empty salt means 32 zero bytes. */
export function hkdfSha256Extract(ikm: Uint8Array, salt: Uint8Array): Uint8Array {
  return hmacSha256(salt.length === 0 ? new Uint8Array(sha256DigestBytes) : salt, ikm);
}

/**
 * HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC-SHA256(PRK, T(i-1) | info | i), output the first
 * `lengthBytes` bytes of T(1) | T(2) | ... `lengthBytes` is 0 to 8160 (255 blocks): a caller's
 * constant, so out of range is our bug (assert).
 */
export function hkdfSha256Expand(prk: Uint8Array, info: Uint8Array, lengthBytes: number): Uint8Array {
  assert(Number.isSafeInteger(lengthBytes) && lengthBytes >= 0, 'HKDF length is a non-negative integer');
  assert(lengthBytes <= hkdfSha256OutputBytesMax, 'HKDF length is at most 255 * 32 bytes');
  const key = new HmacKey(prk);
  const out = new Uint8Array(lengthBytes);
  const block = new Uint8Array(sha256DigestBytes);
  const counter = new Uint8Array(1);
  for (let i = 1, written = 0; written < lengthBytes; i++) {
    key.start();
    if (i > 1) key.update(block);
    counter[0] = i;
    key.update(info).update(counter).finishInto(block);
    const take = Math.min(sha256DigestBytes, lengthBytes - written);
    out.set(block.subarray(0, take), written);
    written += take;
  }
  block.fill(0);
  return out;
}

/** HKDF-SHA256 (RFC 5869): Extract then Expand. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, lengthBytes: number): Uint8Array {
  const prk = hkdfSha256Extract(ikm, salt);
  const okm = hkdfSha256Expand(prk, info, lengthBytes);
  prk.fill(0);
  return okm;
}
