/**
 * The body codec of the `raft` family (docs/protocol.md §5): one Raft message of the core as one
 * msgpack map, with no envelope around it (the v2 envelope, envelope.ts, carries the routing
 * fields as a binary header and this body as bytes).
 *
 * Decoding is where a peer's bytes become a `Message`, so it is strict and total:
 *
 *   1. Bound the size (FRAME_TOO_LARGE), then pre-scan the bytes against the msgpack profile
 *      and the count of values (codec-profile.ts: MALFORMED, TOO_MANY_VALUES) before msgpackr
 *      builds a single value.
 *   2. Validate every field (validate-raft.ts: UNKNOWN_TYPE, INVALID_MESSAGE), rebuilding the
 *      message as a fresh object that shares no memory with the frame.
 *   3. The message's own `from` and `to` must be the envelope's (INVALID_MESSAGE at `body.from`
 *      or `body.to`): the envelope is what is routed and authenticated, and a peer must not
 *      route a frame under its own id and speak for another inside it.
 *
 * `decodeRaftBody` NEVER throws. `encodeRaftBody` checks our own message by the same rules, so a
 * node never sends a body its peers would drop; a refusal there is a bug or a limit set below
 * what the core sends, and it throws (`tryEncodeRaftBody` returns it instead).
 */
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { errorText, packCheckedBody, unpackBody } from './codec-msgpack.ts';
import { fail, quote } from './validate-fields.ts';
import { readRaftMessage } from './validate-raft.ts';

/** What the envelope says of a body: who sent it to whom. */
export interface RaftBodyContext {
  readonly from: NodeId;
  readonly to: NodeId;
  /** From `resolveCodecLimits`; the defaults when absent. */
  readonly limits?: CodecLimits;
}

/**
 * The validated Raft message in `body` (a frame's body, as `decodeEnvelope` returns it), sent by
 * `ctx.from` to `ctx.to`. NEVER throws: a refusal is a `CodecError` whose `field` is a path
 * from the envelope (`body.entries[3].index`).
 */
export function decodeRaftBody(body: Uint8Array, ctx: RaftBodyContext): Result<Message, CodecError> {
  const limits = ctx.limits ?? codecLimitsDefault;
  if (!(body instanceof Uint8Array)) return err(new CodecError('MALFORMED', 'body: expected bytes', 'body'));
  const value = unpackBody(body, limits);
  if (!value.ok) return value;
  try {
    const message = readRaftMessage(value.value, { limits, copyBytes: true });
    if (message.from !== ctx.from) fail('INVALID_MESSAGE', 'body.from', `${quote(message.from)} does not match the envelope's from ${quote(ctx.from)}`);
    if (message.to !== ctx.to) fail('INVALID_MESSAGE', 'body.to', `${quote(message.to)} does not match the envelope's to ${quote(ctx.to)}`);
    return ok(message);
  } catch (e) {
    // Every validator reports through CodecError; anything else is a failure on input we could
    // not foresee, and input is never a reason to crash the node.
    return err(e instanceof CodecError ? e : new CodecError('MALFORMED', `undecodable body (${errorText(e)})`));
  }
}

/**
 * Our own message as a body, checked by the rules its receiver applies, the pre-scan included (a
 * body larger than `frameBytesMax` is FRAME_TOO_LARGE; the envelope adds at most
 * `envelopeOverheadBytesMax`). The bytes own their buffer.
 */
export function tryEncodeRaftBody(message: Message, limits: CodecLimits = codecLimitsDefault): Result<Uint8Array, CodecError> {
  try {
    readRaftMessage(message, { limits, copyBytes: false });
  } catch (e) {
    if (e instanceof CodecError) return err(e);
    throw e;
  }
  return packCheckedBody(message, limits);
}

/** `tryEncodeRaftBody`, throwing its `CodecError`. */
export function encodeRaftBody(message: Message, limits: CodecLimits = codecLimitsDefault): Uint8Array {
  const result = tryEncodeRaftBody(message, limits);
  if (!result.ok) throw result.error;
  return result.value;
}
