/**
 * The body codec of the `bft` family: one message of the BFT engine (src/core/bft/messages.ts,
 * replies to clients included) as one msgpack map inside the v2 envelope, like the `raft` and
 * `gossip` bodies (codec-raft.ts, codec-gossip.ts).
 *
 * Decoding is strict and total, in the same order as theirs:
 *
 *   1. Bound the size and pre-scan the msgpack (codec-msgpack.ts `unpackBody`: FRAME_TOO_LARGE,
 *      MALFORMED, TOO_MANY_VALUES) before any value is built.
 *   2. Validate every field with the core's own validator (`readBftMessage`, `readReplyMessage`
 *      for replies: shape, types, safe integers within the protocol's ranges, counts, sizes,
 *      digests' form), which the engine runs again on every message it steps. An unknown `type`
 *      is UNKNOWN_TYPE (a newer peer's), any other refusal INVALID_MESSAGE naming the core's code.
 *   3. Ids keep the wire's name rules (`nodeIdBytesMax`), and the body speaks only for the
 *      envelope's sender: `from` is the envelope's `from`, or (a request) one of that node's own clients
 *      (bft-client-id.ts); `to` is the envelope's `to`, or (a reply) that node's client.
 *   4. The message is rebuilt as fresh objects whose bytes are copies (msgpackr hands out views
 *      into the frame; a pre-prepare kept in the log must not pin the frame it came in).
 *   5. Every request digest is COMPUTED here from the request's body (`withRequestDigests`),
 *      whatever the sender wrote: the engine relies on it (types.ts `SignedRequest.digest`), so
 *      a Byzantine sender cannot pair a body with another body's digest.
 *
 * The family also carries the state transfer's two messages (bft-state-messages.ts), which the
 * engine never sees: read by their own strict reader, sender and receiver exactly the
 * envelope's, no digests to compute.
 *
 * Registered in family-codecs.ts; the frame router (src/runtime/frame-router.ts) hands `bft`
 * bodies here, after the envelope and the link's tag, and the messages to the node's BFT part.
 */
import type { BftMessage } from '../core/bft/messages.ts';
import { readBftMessage, readReplyMessage } from '../core/bft/validate-bft.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { bftClientNodeOf } from './bft-client-id.ts';
import { isBftStateType, readBftStateMessage, type BftStateMessage } from './bft-state-messages.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { errorText, packCheckedBody, unpackBody } from './codec-msgpack.ts';
import { withRequestDigests } from './crypto/bft-digests.ts';
import { fail, quote, readNodeId } from './validate-fields.ts';

/** What a `bft` body holds: an engine's message, or a state transfer's (the host's alone). */
export type BftWireMessage = BftMessage | BftStateMessage;

export interface BftBodyContext {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly limits?: CodecLimits;
}

/** The validated BFT message in `body`, sent by `ctx.from` to `ctx.to`, with its request digests computed. NEVER throws. */
export function decodeBftBody(body: Uint8Array, ctx: BftBodyContext): Result<BftWireMessage, CodecError> {
  const limits = ctx.limits ?? codecLimitsDefault;
  if (!(body instanceof Uint8Array)) return err(new CodecError('MALFORMED', 'body: expected bytes', 'body'));
  const value = unpackBody(body, limits);
  if (!value.ok) return value;
  try {
    if (isStateBody(value.value)) {
      const state = readBftStateMessage(value.value, limits);
      if (state.from !== ctx.from) fail('INVALID_MESSAGE', 'body.from', `${quote(state.from)} does not match the envelope's from ${quote(ctx.from)}`);
      if (state.to !== ctx.to) fail('INVALID_MESSAGE', 'body.to', `${quote(state.to)} does not match the envelope's to ${quote(ctx.to)}`);
      return ok(state);
    }
    const message = copyWire(checkBftMessage(value.value, limits), 0) as BftMessage;
    const fromOk = message.from === ctx.from || (message.type === 'request' && bftClientNodeOf(message.from) === ctx.from);
    if (!fromOk) fail('INVALID_MESSAGE', 'body.from', `${quote(message.from)} does not match the envelope's from ${quote(ctx.from)}`);
    const toOk = message.to === ctx.to || (message.type === 'reply' && bftClientNodeOf(message.to) === ctx.to);
    if (!toOk) fail('INVALID_MESSAGE', 'body.to', `${quote(message.to)} does not match the envelope's to ${quote(ctx.to)}`);
    return ok(withRequestDigests(message));
  } catch (e) {
    return err(e instanceof CodecError ? e : new CodecError('MALFORMED', `undecodable body (${errorText(e)})`));
  }
}

/** Our own message as a body, checked by the rules its receivers apply. */
export function tryEncodeBftBody(message: BftWireMessage, limits: CodecLimits = codecLimitsDefault): Result<Uint8Array, CodecError> {
  try {
    if (isStateBody(message)) readBftStateMessage(message, limits);
    else checkBftMessage(message, limits);
  } catch (e) {
    if (e instanceof CodecError) return err(e);
    throw e;
  }
  return packCheckedBody(message, limits);
}

/** `tryEncodeBftBody`, throwing its `CodecError` (a bug or a limit set below what the engine sends). */
export function encodeBftBody(message: BftWireMessage, limits: CodecLimits = codecLimitsDefault): Uint8Array {
  const result = tryEncodeBftBody(message, limits);
  if (!result.ok) throw result.error;
  return result.value;
}

function isStateBody(value: unknown): value is BftStateMessage {
  return typeof value === 'object' && value !== null && isBftStateType((value as { type?: unknown }).type);
}

/** The core's validation as CodecErrors, plus the wire's id rules on the sender and receiver. Throws CodecError. */
function checkBftMessage(value: unknown, limits: CodecLimits): BftMessage {
  const isReply = typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'reply';
  const read = isReply ? readReplyMessage(value) : readBftMessage(value);
  if (!read.ok) {
    const { code, detail } = read.error;
    if (code === 'UNKNOWN_TYPE') fail('UNKNOWN_TYPE', 'body.type', `${detail} (${code})`);
    fail('INVALID_MESSAGE', 'body', `${detail} (${code})`);
  }
  const m = value as BftMessage;
  readNodeId(bftClientNodeOf(m.from) ?? m.from, 'body.from', limits, 'INVALID_MESSAGE');
  readNodeId(bftClientNodeOf(m.to) ?? m.to, 'body.to', limits, 'INVALID_MESSAGE');
  return m;
}

/** Depth of a validated message's values, at most (body, new-view, view-changes, certificates, requests, fields...). */
const copyDepthMax = 16;

/** A validated wire value rebuilt from plain objects, arrays and copied bytes (nothing shares the frame's memory). */
function copyWire(v: unknown, depth: number): unknown {
  if (depth > copyDepthMax) fail('MALFORMED', 'body', 'nested too deep');
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map((x) => copyWire(x, depth + 1));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copyWire(x, depth + 1);
    return out;
  }
  return v;
}
