/**
 * The body codec of the `gossip` family: one gossip message of the core (src/core/gossip/
 * messages.ts) as one msgpack map, like the `raft` body (codec-raft.ts), inside the v2 envelope.
 *
 * Decoding is strict and total, in the same order as Raft's:
 *
 *   1. Bound the size and pre-scan the msgpack (codec-msgpack.ts `unpackBody`: FRAME_TOO_LARGE,
 *      MALFORMED, TOO_MANY_VALUES) before any value is built.
 *   2. Validate every field with the core's own validator (src/core/gossip/validate-gossip.ts),
 *      which rebuilds the message as a fresh object: an unknown `type` or update `kind` is
 *      UNKNOWN_TYPE (a newer peer's), any other refusal INVALID_MESSAGE naming the field
 *      (`body.updates[3].incarnation`). The engine runs that validator again on every message it
 *      steps; it lives in the core so that the core can.
 *   3. Every id (sender, receiver, target, members, suspecters) also keeps the wire's name rules
 *      (`nodeIdBytesMax`, validate-fields.ts), and the body's `from` and `to` must be the
 *      envelope's: a peer routes and authenticates frames under its own id and may not speak for
 *      another inside them.
 *
 * The data plane's messages (`crdt-push`, `crdt-merkle`, `crdt-states`) carry CRDT states and
 * Merkle messages as plain msgpack arrays nested at most 5 deep inside three levels of their own
 * (body, list, item), so within the profile's depth of 8. The validator bounds their shape (only
 * arrays, strings, finite numbers, booleans and null; at most `dataValuesPerMessageMax` values of
 * state per message, below the frame's `valuesPerFrameMax`; item counts; names; a CRDT type this
 * node knows, else UNKNOWN_TYPE). Whether a state is a valid state of its type is decided by the
 * engine when it merges it (the CRDT registry's `decode`), once, not here: a refused state is
 * counted there by reason, and the rest of the message still merges.
 *
 * Registered in family-codecs.ts: the frame router (src/runtime/frame-router.ts) hands `gossip`
 * bodies here, after the envelope and the link's tag, and the messages to the node's gossip host.
 */
import type { GossipMessage } from '../core/gossip/messages.ts';
import { readGossipMessage } from '../core/gossip/validate-gossip.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { errorText, packCheckedBody, unpackBody } from './codec-msgpack.ts';
import { fail, quote, readNodeId } from './validate-fields.ts';

export interface GossipBodyContext {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly limits?: CodecLimits;
}

/** The validated gossip message in `body`, sent by `ctx.from` to `ctx.to`. NEVER throws. */
export function decodeGossipBody(body: Uint8Array, ctx: GossipBodyContext): Result<GossipMessage, CodecError> {
  const limits = ctx.limits ?? codecLimitsDefault;
  if (!(body instanceof Uint8Array)) return err(new CodecError('MALFORMED', 'body: expected bytes', 'body'));
  const value = unpackBody(body, limits);
  if (!value.ok) return value;
  try {
    const message = checkGossipMessage(value.value, limits);
    if (message.from !== ctx.from) fail('INVALID_MESSAGE', 'body.from', `${quote(message.from)} does not match the envelope's from ${quote(ctx.from)}`);
    if (message.to !== ctx.to) fail('INVALID_MESSAGE', 'body.to', `${quote(message.to)} does not match the envelope's to ${quote(ctx.to)}`);
    return ok(message);
  } catch (e) {
    return err(e instanceof CodecError ? e : new CodecError('MALFORMED', `undecodable body (${errorText(e)})`));
  }
}

/** Our own message as a body, checked by the rules its receivers apply. */
export function tryEncodeGossipBody(message: GossipMessage, limits: CodecLimits = codecLimitsDefault): Result<Uint8Array, CodecError> {
  try {
    checkGossipMessage(message, limits);
  } catch (e) {
    if (e instanceof CodecError) return err(e);
    throw e;
  }
  return packCheckedBody(message, limits);
}

/** `tryEncodeGossipBody`, throwing its `CodecError` (a bug or a limit set below what the core sends). */
export function encodeGossipBody(message: GossipMessage, limits: CodecLimits = codecLimitsDefault): Uint8Array {
  const result = tryEncodeGossipBody(message, limits);
  if (!result.ok) throw result.error;
  return result.value;
}

/** The core's validation, as CodecErrors, plus the wire's id rules on every id. Throws CodecError. */
function checkGossipMessage(value: unknown, limits: CodecLimits): GossipMessage {
  const read = readGossipMessage(value);
  if (!read.ok) {
    const { code, field, problem } = read.error;
    const path = field === '' ? 'body' : `body.${field}`;
    fail(code === 'UNKNOWN_TYPE' ? 'UNKNOWN_TYPE' : 'INVALID_MESSAGE', path, `${problem} (${code})`);
  }
  const m = read.value;
  readNodeId(m.from, 'body.from', limits, 'INVALID_MESSAGE');
  readNodeId(m.to, 'body.to', limits, 'INVALID_MESSAGE');
  if (m.type === 'ping-req' || m.type === 'nack') readNodeId(m.target, 'body.target', limits, 'INVALID_MESSAGE');
  if (m.type === 'sync') m.members.forEach((e, i) => readNodeId(e.member, `body.members[${i}].member`, limits, 'INVALID_MESSAGE'));
  if (m.type === 'ping' || m.type === 'ack' || m.type === 'ping-req' || m.type === 'push') {
    m.updates.forEach((u, i) => {
      readNodeId(u.member, `body.updates[${i}].member`, limits, 'INVALID_MESSAGE');
      if (u.kind === 'suspect' || u.kind === 'dead') readNodeId(u.by, `body.updates[${i}].by`, limits, 'INVALID_MESSAGE');
    });
  }
  return m;
}
