/**
 * The body codec of the `client` family: how a program that is not a member (the `peerquorum`
 * command line, a benchmark's load generator) asks a node to propose a command, serve a
 * linearizable read, or report its status, and how the node answers.
 *
 * Why a family of its own and not a non-voting Raft member: a client needs no log, no vote and
 * no place in the configuration, and it must not be able to send Raft messages a member would
 * step. It is a peer like any other at the link layer (src/io/crypto/link-guard.ts): with a
 * cluster secret its frames carry a MAC under the key of its pair with the node, so a client is a
 * stranger until it proves it holds the secret, exactly as a member is. The node then serves it
 * through its own API (a follower's proposal is forwarded to the leader by Raft, a read goes
 * through ReadIndex), so a client may talk to any member.
 *
 * Why batches: a load generator keeps thousands of requests in flight, and one frame (one MAC,
 * one WebSocket message) per request would cost more than the request. A body carries up to
 * `clientItemsPerFrameMax` requests or replies; a client sends what it has as one frame.
 *
 *   body    = { t: 'req' | 'rep', items: [item, ...] }        (1..clientItemsPerFrameMax items)
 *   request = { id: uint, op: 'propose' | 'read' | 'status', data: bytes }
 *   reply   = { id: uint, code: string, data: bytes }
 *
 * A request's `data`: the command bytes (propose), the query as UTF-8 JSON (read; for the KV
 * machine a key string), empty (status). A reply's `code` is '' on success, then `data` is the
 * machine's result bytes (propose) or UTF-8 JSON (read, status); otherwise an `ErrorCode`
 * (src/core/error-code.ts) and `data` the UTF-8 message. `id` is the client's, echoed.
 *
 * Decoding is strict and never throws, like every family's: unpack with the msgpack profile's
 * bounds first (codec-msgpack.ts), then exactly these fields, each checked.
 */
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { errorText, packCheckedBody, unpackBody } from './codec-msgpack.ts';
import { checkKeys, describe, fail, readBytes, readInt, readMap, type WireMap } from './validate-fields.ts';

/** Requests (or replies) in one frame, at most. */
export const clientItemsPerFrameMax = 256;
/** A reply's code, at most this many characters (error codes are short words). */
export const clientCodeCharsMax = 32;
/** Request ids are safe integers below this (a client counts up; 2^48 never wraps in practice). */
export const clientRequestIdMax = 2 ** 48;

export const clientOps = ['propose', 'read', 'status'] as const;
export type ClientOp = (typeof clientOps)[number];

export interface ClientRequest {
  readonly id: number;
  readonly op: ClientOp;
  readonly data: Uint8Array;
}

export interface ClientReply {
  readonly id: number;
  /** '' on success, else an error code. */
  readonly code: string;
  readonly data: Uint8Array;
}

export type ClientBody = { readonly t: 'req'; readonly items: readonly ClientRequest[] } | { readonly t: 'rep'; readonly items: readonly ClientReply[] };

/** The validated body in `bytes`, or why not. NEVER throws. */
export function decodeClientBody(bytes: Uint8Array, limits: CodecLimits = codecLimitsDefault): Result<ClientBody, CodecError> {
  const value = unpackBody(bytes, limits);
  if (!value.ok) return value;
  try {
    return ok(readBody(value.value, limits));
  } catch (e) {
    return err(e instanceof CodecError ? e : new CodecError('MALFORMED', `undecodable body (${errorText(e)})`));
  }
}

/** Our own body, checked by the rules its receiver applies; a refusal is our bug (or a request too large: TOO_LARGE before). */
export function tryEncodeClientBody(body: ClientBody, limits: CodecLimits = codecLimitsDefault): Result<Uint8Array, CodecError> {
  try {
    readBody(body, limits);
  } catch (e) {
    if (e instanceof CodecError) return err(e);
    throw e;
  }
  // Only the wire's fields: a caller's object may carry more.
  const items = body.t === 'req' ? body.items.map((r) => ({ id: r.id, op: r.op, data: r.data })) : body.items.map((r) => ({ id: r.id, code: r.code, data: r.data }));
  return packCheckedBody({ t: body.t, items }, limits);
}

function readBody(value: unknown, limits: CodecLimits): ClientBody {
  const map = readMap(value, 'body', 'INVALID_MESSAGE');
  checkKeys(map, ['t', 'items'], 'body', 'INVALID_MESSAGE');
  const t = map['t'];
  if (t !== 'req' && t !== 'rep') fail('UNKNOWN_TYPE', 'body.t', `expected 'req' or 'rep', got ${describe(t)}`);
  const list = map['items'];
  if (!Array.isArray(list)) fail('INVALID_MESSAGE', 'body.items', `expected an array, got ${describe(list)}`);
  if (list.length < 1 || list.length > clientItemsPerFrameMax) fail('INVALID_MESSAGE', 'body.items', `expected 1..${clientItemsPerFrameMax} items, got ${list.length}`);
  const items = list as unknown[];
  if (t === 'req') return { t, items: items.map((v, i) => readRequest(v, `body.items[${i}]`, limits)) };
  return { t, items: items.map((v, i) => readReply(v, `body.items[${i}]`, limits)) };
}

function readItem(value: unknown, field: string, keys: readonly string[], limits: CodecLimits): { map: WireMap; id: number; data: Uint8Array } {
  const map = readMap(value, field, 'INVALID_MESSAGE');
  checkKeys(map, keys, field, 'INVALID_MESSAGE');
  const id = readInt(map, 'id', field, 0, clientRequestIdMax);
  // Copied: the frame's buffer may be reused by the transport, and a command lives on in the log.
  const data = readBytes(map['data'], `${field}.data`, limits.entryDataBytesMax, true);
  return { map, id, data };
}

function readRequest(value: unknown, field: string, limits: CodecLimits): ClientRequest {
  const { map, id, data } = readItem(value, field, ['id', 'op', 'data'], limits);
  const op = map['op'];
  if (typeof op !== 'string' || !(clientOps as readonly string[]).includes(op)) fail('UNKNOWN_TYPE', `${field}.op`, `expected one of ${clientOps.join(', ')}, got ${describe(op)}`);
  return { id, op: op as ClientOp, data };
}

function readReply(value: unknown, field: string, limits: CodecLimits): ClientReply {
  const { map, id, data } = readItem(value, field, ['id', 'code', 'data'], limits);
  const code = map['code'];
  if (typeof code !== 'string' || code.length > clientCodeCharsMax || !/^[A-Z_]*$/.test(code)) {
    fail('INVALID_MESSAGE', `${field}.code`, `expected '' or an error code of at most ${clientCodeCharsMax} capitals, got ${describe(code)}`);
  }
  return { id, code, data };
}
