/**
 * The v1 wire codec: frames of msgpack, an envelope `{ v, family, cluster, from, to, body }`
 * around one Raft message. Protocol v2 (docs/protocol.md) replaces it: a binary envelope
 * (envelope.ts) with the body as bytes, read by a codec per family (family-codecs.ts,
 * codec-raft.ts). This module stays, built on the same profile pre-scan, limits and validators,
 * until the runtime switches to v2; nodes of different versions do not talk.
 *
 * Decoding is where untrusted bytes become typed values, so it is strict and total:
 *
 *   1. Bound the frame's size BEFORE parsing it (FRAME_TOO_LARGE).
 *   2. Check the bytes against the msgpack profile (codec-profile.ts): no extension types, no
 *      duplicate keys, strict UTF-8, bounded nesting (MALFORMED), at most `valuesPerFrameMax`
 *      values (TOO_MANY_VALUES).
 *   3. Parse with msgpackr, then validate the envelope (MALFORMED, BAD_VERSION), route it
 *      (WRONG_CLUSTER, WRONG_RECIPIENT, UNSUPPORTED_FAMILY) and validate the body
 *      (UNKNOWN_TYPE, INVALID_MESSAGE), rebuilding it as a fresh `Message`.
 *
 * `decodeFrame` NEVER throws: every refusal is a `CodecError` value for the driver to count and
 * drop. `encodeFrame` checks our own messages by the same rules, so that a node never sends a
 * frame its peers would drop; a refusal there is a bug or a misconfiguration, and it throws.
 */
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { countDecode, type CodecMetrics } from './codec-metrics.ts';
import { errorText, packBody, unpackBody } from './codec-msgpack.ts';
import { checkMsgpackProfile } from './codec-profile.ts';
import { protocolFamilies, type ProtocolFamily } from './envelope.ts';
import { checkKeys, describe, fail, quote, readClusterName, readMap, readNodeId } from './validate-fields.ts';
import { readRaftMessage } from './validate-raft.ts';

export { CodecError, codecErrorCodes, type CodecErrorCode } from './codec-error.ts';
export { codecLimitsDefault, indexMax, resolveCodecLimits, roundMax, termMax, valuesPerFrameFloor, type CodecLimits } from './codec-limits.ts';
export { createCodecMetrics, type CodecMetrics } from './codec-metrics.ts';
export { mapKeysMax, msgpackDepthMax } from './codec-profile.ts';
export { protocolFamilies, type ProtocolFamily } from './envelope.ts';
export { termZeroMessageTypes } from './validate-raft.ts';

/** The version of the frames this module reads and writes: v1 (the v2 envelope is `envelopeVersion`). */
export const protocolVersion = 1;

/** A frame of the `raft` family: one Raft message between two nodes of one cluster. */
export interface RaftEnvelope {
  readonly v: typeof protocolVersion;
  readonly family: 'raft';
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly body: Message;
}

/** Every envelope this node can encode and decode (more families join the union as they land). */
export type Envelope = RaftEnvelope;

const envelopeKeys: readonly string[] = ['v', 'family', 'cluster', 'from', 'to', 'body'] satisfies readonly (keyof Envelope)[];

/** The envelope for a Raft message of the core: `from` and `to` are the message's own. */
export function raftEnvelope(cluster: string, body: Message): RaftEnvelope {
  return { v: protocolVersion, family: 'raft', cluster, from: body.from, to: body.to, body };
}

// ---- options ---------------------------------------------------------------------------------

export interface CodecOptions {
  /** From `resolveCodecLimits`; the defaults when absent. */
  readonly limits?: CodecLimits;
}

export interface DecodeOptions extends CodecOptions {
  /** Counters to update with this frame's outcome. */
  readonly metrics?: CodecMetrics;
}

/** What the receiving node expects of a frame's routing fields. */
export interface DecodeExpect {
  readonly cluster: string;
  /** This node's id: a frame's `to` must be it. */
  readonly self: NodeId;
}

// ---- decoding --------------------------------------------------------------------------------

/**
 * Decode and validate one frame received by `expect.self`. NEVER throws: any malformed,
 * oversized, misrouted or invalid frame comes back as a `CodecError` with a stable `code`. On
 * success every field has been checked and the body is a fresh `Message` that shares no memory
 * with `bytes`.
 */
export function decodeFrame(bytes: Uint8Array, expect: DecodeExpect, options: DecodeOptions = {}): Result<Envelope, CodecError> {
  let result: Result<Envelope, CodecError>;
  try {
    result = decode(bytes, expect, options.limits ?? codecLimitsDefault);
  } catch (e) {
    // Every validator reports through CodecError; anything else is a decoder failure on input we
    // could not foresee, and input is never a reason to crash the node.
    result = err(e instanceof CodecError ? e : new CodecError('MALFORMED', `undecodable frame (${errorText(e)})`));
  }
  if (options.metrics !== undefined) countDecode(options.metrics, result);
  return result;
}

function decode(bytes: Uint8Array, expect: DecodeExpect, limits: CodecLimits): Result<Envelope, CodecError> {
  if (!(bytes instanceof Uint8Array)) return err(new CodecError('MALFORMED', `frame: expected bytes, got ${describe(bytes)}`));
  if (bytes.byteLength > limits.frameBytesMax) {
    return err(new CodecError('FRAME_TOO_LARGE', `frame of ${bytes.byteLength} bytes, more than frameBytesMax (${limits.frameBytesMax})`));
  }
  const value = unpackBody(bytes, limits);
  if (!value.ok) return value;
  const envelope = readEnvelope(value.value, limits);
  if (envelope.cluster !== expect.cluster) {
    fail('WRONG_CLUSTER', 'cluster', `frame for cluster ${quote(envelope.cluster)}, not ${quote(expect.cluster)}`);
  }
  if (envelope.to !== expect.self) fail('WRONG_RECIPIENT', 'to', `frame for ${quote(envelope.to)}, not ${quote(expect.self)}`);
  return ok(readBody(envelope, limits, true));
}

interface EnvelopeFields {
  readonly family: ProtocolFamily;
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly body: unknown;
}

/** The envelope's fields, checked; the version first, so that a newer frame is BAD_VERSION. */
function readEnvelope(value: unknown, limits: CodecLimits): EnvelopeFields {
  const map = readMap(value, 'frame', 'MALFORMED');
  if (!Object.hasOwn(map, 'v')) fail('MALFORMED', 'v', 'missing');
  const v = map['v'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail('MALFORMED', 'v', `expected an integer, got ${describe(v)}`);
  if (v !== protocolVersion) fail('BAD_VERSION', 'v', `protocol version ${v}; this node speaks ${protocolVersion}`);
  checkKeys(map, envelopeKeys, '', 'MALFORMED');
  const family = protocolFamilies.find((f) => f === map['family']);
  if (family === undefined) fail('MALFORMED', 'family', `expected one of ${protocolFamilies.join(', ')}, got ${describe(map['family'])}`);
  const cluster = readClusterName(map['cluster'], 'cluster', limits, 'MALFORMED');
  const from = readNodeId(map['from'], 'from', limits, 'MALFORMED');
  const to = readNodeId(map['to'], 'to', limits, 'MALFORMED');
  if (from === to) fail('MALFORMED', 'to', 'a node does not send frames to itself');
  return { family, cluster, from, to, body: map['body'] };
}

/** The validated body for the envelope's family, rebuilt as a fresh envelope. */
function readBody(envelope: EnvelopeFields, limits: CodecLimits, copyBytes: boolean): Envelope {
  if (envelope.family !== 'raft') {
    fail('UNSUPPORTED_FAMILY', 'family', `family ${quote(envelope.family)} is not supported yet`);
  }
  const body = readRaftMessage(envelope.body, { limits, copyBytes });
  // The body names its own sender and recipient (the core's Message does); they must be the
  // envelope's, or a peer could route a frame by one id and speak for another.
  if (body.from !== envelope.from) fail('INVALID_MESSAGE', 'body.from', `${quote(body.from)} does not match the envelope's from`);
  if (body.to !== envelope.to) fail('INVALID_MESSAGE', 'body.to', `${quote(body.to)} does not match the envelope's to`);
  const { cluster, from, to } = envelope;
  return { v: protocolVersion, family: 'raft', cluster, from, to, body };
}

// ---- encoding --------------------------------------------------------------------------------

/**
 * Encode a frame, checking it first by the rules its receiver applies. A refusal means our own
 * node built a message its peers would drop (a bug), or a limit is below what the core was
 * configured to send (a misconfiguration). The bytes own their `ArrayBuffer`, so they can be
 * transferred to another thread.
 */
export function tryEncodeFrame(envelope: Envelope, options: CodecOptions = {}): Result<Uint8Array, CodecError> {
  const limits = options.limits ?? codecLimitsDefault;
  try {
    readBody(readEnvelope(envelope, limits), limits, false);
  } catch (e) {
    if (e instanceof CodecError) return err(e);
    throw e;
  }
  const packed = packBody(envelope);
  if (packed.byteLength > limits.frameBytesMax) {
    return err(new CodecError('FRAME_TOO_LARGE', `frame of ${packed.byteLength} bytes, more than frameBytesMax (${limits.frameBytesMax})`));
  }
  const problem = checkMsgpackProfile(packed, limits.valuesPerFrameMax);
  if (problem !== null) return err(problem);
  return ok(packed);
}

/** `tryEncodeFrame`, throwing its `CodecError`. */
export function encodeFrame(envelope: Envelope, options: CodecOptions = {}): Uint8Array {
  const result = tryEncodeFrame(envelope, options);
  if (!result.ok) throw result.error;
  return result.value;
}
