/**
 * The v2 envelope (DESIGN.md §4, docs/protocol.md §4): a compact binary header, the body as
 * bytes, and an authentication tag. Not msgpack, on purpose:
 *
 * - Parsing the header is a handful of length-prefixed reads, each checked against a limit and
 *   against the bytes left before anything is decoded; no value of it can cost more than its
 *   bytes. The body stays bytes until its family's codec reads it (family-codecs.ts), after the
 *   frame has been routed and authenticated.
 * - The tag covers a PREFIX of the frame: every byte from the version byte through the last byte
 *   of the body. A sender computes the tag over the bytes it then sends unchanged, and a receiver
 *   checks it over the bytes it received, with no re-encoding on either side, so a tag covers
 *   exactly what was sent (a re-encoded envelope could differ from the received one and let
 *   unauthenticated bytes through).
 *
 * Layout (all integers big-endian):
 *
 *   version u8 = 2 | family u8 | flags u8 = 0
 *   | cluster: length u8 (1..clusterBytesMax) + UTF-8 | from: length u8 (1..nodeIdBytesMax) + UTF-8
 *   | to: length u8 (1..nodeIdBytesMax) + UTF-8
 *   | seq: u64 as two u32 (high, low), at most 2^53 - 1; 0 on an unauthenticated link
 *   | body length u32 | body
 *   | auth length u8: 0 when seq is 0, otherwise 32 | auth: the tag
 *
 * Authenticated bytes = frame[0 .. 18 + C + F + T + B), the header and the body; the only bytes
 * outside them are the auth length, whose one valid value is fixed by `seq` (inside), and the tag.
 *
 * `decodeEnvelope` NEVER throws: every refusal is a `CodecError` value. The encoders check our
 * own header by the rules receivers apply, and throw (or return, for the `try` forms) a
 * `CodecError` on a header a peer would refuse: that is a bug or a misconfiguration of ours.
 */
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { isUtf8 } from './codec-profile.ts';
import { describe, fail, quote, readClusterName, readNodeId } from './validate-fields.ts';

/** The first byte of every v2 frame. A v1 frame starts with a msgpack map byte (0x80-0x8f) instead. */
export const envelopeVersion = 2;

/**
 * The protocol families, in the order of their header byte (`raft` is 1; 0 is no family).
 * `link` carries the link layer's own control frames (the authenticated `hello` that tells a
 * peer this node's boot epoch: src/io/crypto/link-guard.ts), never an engine's.
 */
export const protocolFamilies = ['raft', 'gossip', 'bft', 'client', 'link'] as const;
export type ProtocolFamily = (typeof protocolFamilies)[number];

/** Length of the tag of an authenticated frame: HMAC-SHA256. */
export const authTagBytes = 32;

/** Fixed bytes of the layout: version, family, flags, three name lengths, seq, body length, auth length. */
const fixedBytes = 3 + 3 + 8 + 4 + 1;
/** The high half of the seq may not exceed this: 2^21 - 1, so that seq stays within 2^53 - 1. */
const seqHighMax = 0x1f_ffff;

/** What a sender puts in the header; the version is implied. */
export interface EnvelopeHeader {
  readonly family: ProtocolFamily;
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
  /** The link's sequence number, from 1; 0 on a link without authentication (and then no tag). */
  readonly seq: number;
}

/** A decoded frame: the header's fields checked, the body and tag as views into the frame (no copy). */
export interface DecodedEnvelope extends EnvelopeHeader {
  readonly v: typeof envelopeVersion;
  /** The body, unparsed: a subarray of the frame, for its family's codec. */
  readonly body: Uint8Array;
  /** The tag (32 bytes) when `seq` > 0, null when 0. A subarray of the frame. */
  readonly auth: Uint8Array | null;
  /** The bytes the tag covers: the frame from its first byte through the body's last. */
  readonly authenticated: Uint8Array;
}

/** What a receiver expects of a frame's routing fields. */
export interface EnvelopeExpect {
  readonly cluster: string;
  /** This node's id: a frame's `to` must be it. */
  readonly self: NodeId;
}

/** The most bytes a header and tag take around a body under `limits` (so a body may take the rest of `frameBytesMax`). */
export function envelopeOverheadBytesMax(limits: CodecLimits = codecLimitsDefault): number {
  return fixedBytes + limits.clusterBytesMax + 2 * limits.nodeIdBytesMax + authTagBytes;
}

// ---- decoding --------------------------------------------------------------------------------

/**
 * Decode and check one frame. NEVER throws. Refusals, in the order they are checked:
 * FRAME_TOO_LARGE (before reading a byte), BAD_VERSION (the first byte), MALFORMED (the rest of
 * the layout: an unknown family, flags set, a name empty, too long, not UTF-8 or not printable,
 * `from` equal to `to`, seq beyond 2^53 - 1, a length beyond the bytes left, an auth length other
 * than the one `seq` calls for, trailing bytes), then, given `expect`, WRONG_CLUSTER and
 * WRONG_RECIPIENT. Checking the tag and decoding the body are the next steps, not this one's.
 */
export function decodeEnvelope(frame: Uint8Array, limits: CodecLimits = codecLimitsDefault, expect?: EnvelopeExpect): Result<DecodedEnvelope, CodecError> {
  try {
    return ok(readEnvelope(frame, limits, expect));
  } catch (e) {
    // The readers report through CodecError; anything else would be a bug on input we did not
    // foresee, and input is never a reason to crash the node.
    return err(e instanceof CodecError ? e : new CodecError('MALFORMED', `undecodable frame (${e instanceof Error ? e.name : typeof e})`));
  }
}

/** Strict UTF-8 is checked first (`isUtf8`); `ignoreBOM` keeps a leading U+FEFF for the name rules to refuse, where a default decoder would strip it and two ids would read as one. */
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

class Reader {
  pos = 0;

  constructor(readonly frame: Uint8Array) {}

  get left(): number {
    return this.frame.byteLength - this.pos;
  }

  /** Reserve `n` bytes for `field` and return where they start. */
  take(n: number, field: string): number {
    if (n > this.left) fail('MALFORMED', field, `truncated: ${n} bytes needed at byte ${this.pos}, ${this.left} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(field: string): number {
    return this.frame[this.take(1, field)] as number;
  }

  u32(field: string): number {
    const at = this.take(4, field);
    const f = this.frame;
    return ((f[at] as number) * 0x100_0000 + (((f[at + 1] as number) << 16) | ((f[at + 2] as number) << 8) | (f[at + 3] as number))) >>> 0;
  }

  /** A length-prefixed UTF-8 string of 1 to `bytesMax` bytes, not yet checked as a name. */
  utf8(field: string, bytesMax: number, limitName: string): string {
    const length = this.u8(field);
    if (length === 0) fail('MALFORMED', field, 'must not be empty');
    if (length > bytesMax) fail('MALFORMED', field, `${length} bytes, more than ${limitName} (${bytesMax})`);
    const start = this.take(length, field);
    if (!isUtf8(this.frame, start, start + length)) fail('MALFORMED', field, 'not valid UTF-8');
    return utf8Decoder.decode(this.frame.subarray(start, start + length));
  }
}

function readEnvelope(frame: Uint8Array, limits: CodecLimits, expect: EnvelopeExpect | undefined): DecodedEnvelope {
  if (!(frame instanceof Uint8Array)) throw new CodecError('MALFORMED', `frame: expected bytes, got ${describe(frame)}`);
  if (frame.byteLength > limits.frameBytesMax) {
    throw new CodecError('FRAME_TOO_LARGE', `frame of ${frame.byteLength} bytes, more than frameBytesMax (${limits.frameBytesMax})`);
  }
  const r = new Reader(frame);
  const v = r.u8('v');
  if (v !== envelopeVersion) {
    const what = v >= 0x80 && v <= 0x8f ? 'a v1 frame (a msgpack map); v2 replaces v1' : `protocol version ${v}`;
    fail('BAD_VERSION', 'v', `${what}; this node speaks ${envelopeVersion}`);
  }
  const familyCode = r.u8('family');
  const family = protocolFamilies[familyCode - 1];
  if (family === undefined) fail('MALFORMED', 'family', `unknown family byte ${familyCode} (1-${protocolFamilies.length}: ${protocolFamilies.join(', ')})`);
  const flags = r.u8('flags');
  if (flags !== 0) fail('MALFORMED', 'flags', `reserved, must be 0, got 0x${flags.toString(16)}`);
  const cluster = readClusterName(r.utf8('cluster', limits.clusterBytesMax, 'clusterBytesMax'), 'cluster', limits, 'MALFORMED');
  const from = readNodeId(r.utf8('from', limits.nodeIdBytesMax, 'nodeIdBytesMax'), 'from', limits, 'MALFORMED');
  const to = readNodeId(r.utf8('to', limits.nodeIdBytesMax, 'nodeIdBytesMax'), 'to', limits, 'MALFORMED');
  if (from === to) fail('MALFORMED', 'to', 'a node does not send frames to itself');
  const seqHigh = r.u32('seq');
  const seqLow = r.u32('seq');
  if (seqHigh > seqHighMax) fail('MALFORMED', 'seq', 'beyond 2^53 - 1');
  const seq = seqHigh * 2 ** 32 + seqLow;
  const bodyBytes = r.u32('body');
  // The body and the auth length byte after it must fit in what is left.
  if (bodyBytes >= r.left) fail('MALFORMED', 'body', `declares ${bodyBytes} bytes, but only ${r.left} are left for it and the tag`);
  const bodyAt = r.take(bodyBytes, 'body');
  const bodyEnd = r.pos;
  const authBytes = r.u8('auth');
  const expected = seq === 0 ? 0 : authTagBytes;
  if (authBytes !== expected) {
    fail('MALFORMED', 'auth', `a tag of ${authBytes} bytes; ${seq === 0 ? 'a frame with seq 0 is unauthenticated and carries none' : `an authenticated frame carries ${authTagBytes}`}`);
  }
  if (r.left !== authBytes) {
    fail('MALFORMED', 'auth', r.left < authBytes ? `truncated: ${authBytes} bytes of tag, ${r.left} left` : `${r.left - authBytes} trailing bytes after the frame`);
  }
  if (expect !== undefined) {
    if (cluster !== expect.cluster) fail('WRONG_CLUSTER', 'cluster', `frame for cluster ${quote(cluster)}, not ${quote(expect.cluster)}`);
    if (to !== expect.self) fail('WRONG_RECIPIENT', 'to', `frame for ${quote(to)}, not ${quote(expect.self)}`);
  }
  return {
    v: envelopeVersion,
    family,
    cluster,
    from,
    to,
    seq,
    body: frame.subarray(bodyAt, bodyEnd),
    auth: authBytes === 0 ? null : frame.subarray(bodyEnd + 1),
    authenticated: frame.subarray(0, bodyEnd),
  };
}

// ---- encoding --------------------------------------------------------------------------------

const utf8Encoder = new TextEncoder();

/**
 * The UTF-8 of the names a node writes into every frame it sends: its cluster, itself and its
 * peers, a handful, the same on every frame. Encoded afresh, three `TextEncoder` calls per frame
 * were the largest single cost of encoding a small frame (a forwarded proposal, an
 * acknowledgement): in the browser benchmark's profile of a leader sending one frame per
 * forwarded command, `encode` took 6.6% of the worker beside 22% in the channel's own `send`,
 * where 7936a82's codec took none. Each name is still checked on every frame (`plan`); only its
 * bytes are kept, shared and never written (`allocate` copies them into the frame). At most
 * `nameBytesCacheMax` names (a node links to at most 256 peers): past that the cache starts over.
 */
const nameBytesCacheMax = 1024;
const nameBytesCache = new Map<string, Uint8Array>();

function nameBytes(name: string): Uint8Array {
  let bytes = nameBytesCache.get(name);
  if (bytes === undefined) {
    if (nameBytesCache.size >= nameBytesCacheMax) nameBytesCache.clear();
    bytes = utf8Encoder.encode(name);
    nameBytesCache.set(name, bytes);
  }
  return bytes;
}

/** A header checked by the receivers' rules, with its names as UTF-8 and the length of the authenticated prefix. */
interface Plan {
  readonly familyCode: number;
  readonly cluster: Uint8Array;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  /** Header plus body: where the auth length byte goes. */
  readonly prefixBytes: number;
}

function plan(header: EnvelopeHeader, body: Uint8Array, limits: CodecLimits): Plan {
  const familyCode = protocolFamilies.indexOf(header.family) + 1;
  if (familyCode === 0) fail('MALFORMED', 'family', `expected one of ${protocolFamilies.join(', ')}, got ${describe(header.family)}`);
  readClusterName(header.cluster, 'cluster', limits, 'MALFORMED');
  readNodeId(header.from, 'from', limits, 'MALFORMED');
  readNodeId(header.to, 'to', limits, 'MALFORMED');
  if (header.from === header.to) fail('MALFORMED', 'to', 'a node does not send frames to itself');
  if (!Number.isSafeInteger(header.seq) || header.seq < 0) fail('MALFORMED', 'seq', `expected a safe integer >= 0, got ${describe(header.seq)}`);
  if (!(body instanceof Uint8Array)) fail('MALFORMED', 'body', `expected bytes, got ${describe(body)}`);
  const cluster = nameBytes(header.cluster);
  const from = nameBytes(header.from);
  const to = nameBytes(header.to);
  return { familyCode, cluster, from, to, prefixBytes: fixedBytes - 1 + cluster.byteLength + from.byteLength + to.byteLength + body.byteLength };
}

/** A frame of `p.prefixBytes + 1 + authBytes` bytes with the header, the body and the auth length written. */
function allocate(p: Plan, seq: number, body: Uint8Array, authBytes: number, limits: CodecLimits): Uint8Array<ArrayBuffer> {
  const total = p.prefixBytes + 1 + authBytes;
  if (total > limits.frameBytesMax) throw new CodecError('FRAME_TOO_LARGE', `frame of ${total} bytes, more than frameBytesMax (${limits.frameBytesMax})`);
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  frame[0] = envelopeVersion;
  frame[1] = p.familyCode;
  frame[2] = 0;
  let at = 3;
  for (const name of [p.cluster, p.from, p.to]) {
    frame[at] = name.byteLength;
    frame.set(name, at + 1);
    at += 1 + name.byteLength;
  }
  view.setUint32(at, Math.floor(seq / 2 ** 32));
  view.setUint32(at + 4, seq >>> 0);
  view.setUint32(at + 8, body.byteLength);
  frame.set(body, at + 12);
  frame[p.prefixBytes] = authBytes;
  return frame;
}

function attempt<T>(build: () => T): Result<T, CodecError> {
  try {
    return ok(build());
  } catch (e) {
    if (e instanceof CodecError) return err(e);
    throw e;
  }
}

function unwrap<T>(result: Result<T, CodecError>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/**
 * A whole frame: `auth` null for an unauthenticated frame (seq 0), or the 32-byte tag over the
 * authenticated bytes (seq >= 1; `prepareEnvelope` computes those bytes without building the frame
 * twice). The frame owns its `ArrayBuffer` exactly, so it can be transferred to another thread.
 */
export function tryEncodeEnvelope(
  header: EnvelopeHeader,
  body: Uint8Array,
  auth: Uint8Array | null = null,
  limits: CodecLimits = codecLimitsDefault,
): Result<Uint8Array<ArrayBuffer>, CodecError> {
  return attempt(() => {
    const p = plan(header, body, limits);
    if (auth !== null && !(auth instanceof Uint8Array && auth.byteLength === authTagBytes)) {
      fail('MALFORMED', 'auth', `a tag is ${authTagBytes} bytes, got ${describe(auth)}`);
    }
    if ((header.seq === 0) !== (auth === null)) {
      fail('MALFORMED', 'auth', header.seq === 0 ? 'a frame with seq 0 is unauthenticated and carries no tag' : `seq ${header.seq} needs a tag`);
    }
    const frame = allocate(p, header.seq, body, auth === null ? 0 : authTagBytes, limits);
    if (auth !== null) frame.set(auth, p.prefixBytes + 1);
    return frame;
  });
}

/** `tryEncodeEnvelope`, throwing its `CodecError`. */
export function encodeEnvelope(
  header: EnvelopeHeader,
  body: Uint8Array,
  auth: Uint8Array | null = null,
  limits: CodecLimits = codecLimitsDefault,
): Uint8Array<ArrayBuffer> {
  return unwrap(tryEncodeEnvelope(header, body, auth, limits));
}

/**
 * An authenticated frame being built: the header and body are written, the tag is not. Compute
 * the tag over `authenticated` (a view into the frame: Web Crypto copies it when called, so an
 * `await` in between is fine), then `seal` writes it in place and returns the frame. The body is
 * copied once, into the frame.
 */
export interface UnsealedEnvelope {
  /** The bytes the tag must cover: the frame's header and body. */
  readonly authenticated: Uint8Array<ArrayBuffer>;
  /** Write the 32-byte tag and return the finished frame. Once only. */
  seal(tag: Uint8Array): Uint8Array<ArrayBuffer>;
}

/** The first step of an authenticated frame (`header.seq` >= 1); see `UnsealedEnvelope`. */
export function tryPrepareEnvelope(header: EnvelopeHeader, body: Uint8Array, limits: CodecLimits = codecLimitsDefault): Result<UnsealedEnvelope, CodecError> {
  return attempt(() => {
    const p = plan(header, body, limits);
    if (header.seq === 0) fail('MALFORMED', 'seq', 'an authenticated frame has a seq of at least 1 (0 marks an unauthenticated link)');
    const frame = allocate(p, header.seq, body, authTagBytes, limits);
    let sealed = false;
    return {
      authenticated: frame.subarray(0, p.prefixBytes),
      seal(tag: Uint8Array): Uint8Array<ArrayBuffer> {
        if (sealed) throw new Error('sealEnvelope: this frame is already sealed');
        if (!(tag instanceof Uint8Array) || tag.byteLength !== authTagBytes) {
          throw new CodecError('MALFORMED', `auth: a tag is ${authTagBytes} bytes, got ${describe(tag)}`, 'auth');
        }
        sealed = true;
        frame.set(tag, p.prefixBytes + 1);
        return frame;
      },
    };
  });
}

/** `tryPrepareEnvelope`, throwing its `CodecError`. */
export function prepareEnvelope(header: EnvelopeHeader, body: Uint8Array, limits: CodecLimits = codecLimitsDefault): UnsealedEnvelope {
  return unwrap(tryPrepareEnvelope(header, body, limits));
}

/** Both steps at once, for a synchronous `tag` function (a test, or a MAC computed without Web Crypto). */
export function sealEnvelope(
  header: EnvelopeHeader,
  body: Uint8Array,
  tag: (authenticated: Uint8Array<ArrayBuffer>) => Uint8Array,
  limits: CodecLimits = codecLimitsDefault,
): Uint8Array<ArrayBuffer> {
  const unsealed = prepareEnvelope(header, body, limits);
  return unsealed.seal(tag(unsealed.authenticated));
}
