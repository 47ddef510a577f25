/**
 * State transfer between BFT replicas over the wire (PBFT TOCS §5.3.2, much simplified): the two
 * messages of the `bft` family that the ENGINE NEVER SEES, and their strict reading.
 *
 * Why not core messages: the engine already has the whole contract it needs. It says
 * `state-behind {seq, stateDigest}` when a stable checkpoint (2F + 1 signed checkpoint proofs)
 * is above what it executed, and takes `state-transferred` once the host has restored a state
 * whose SHA-256 is that certified digest (bft-host.ts). How the bytes travel is the host's
 * business, like Raft's snapshot files: a wrong state costs the asker a refusal and another peer,
 * never a wrong state installed, because the digest it is checked against was certified by a
 * quorum, not by the sender. Keeping them out of core leaves the engine, its validator and the
 * simulator (which hands states over a side channel) as they are.
 *
 * - `state-request {seq}`: "send me your state at stable checkpoint seq".
 * - `state-reply {seq, chunk, chunks, stateBytes, data}`: chunk `chunk` of `chunks` of that
 *   state (`stateBytes` long in all); every chunk but the last is exactly `stateChunkBytes` long.
 *   A replica that does not hold the state at `seq` says nothing (the asker times out and asks
 *   another).
 *
 * Limits: a state of at most `stateBytesMax` (64 MiB), chunks of `stateChunkBytes` (256 KiB,
 * well under a frame), so at most 256 chunks.
 */
import type { NodeId } from '../core/raft/types.ts';
import { seqMax } from '../core/bft/limits.ts';
import type { CodecLimits } from './codec-limits.ts';
import { checkKeys, fail, readBytes, readInt, readMap, readNodeId, type WireMap } from './validate-fields.ts';

export const stateChunkBytes = 256 * 1024;
export const stateBytesMax = 64 * 1024 * 1024;
export const stateChunksMax = stateBytesMax / stateChunkBytes;

export interface BftStateRequest {
  readonly type: 'state-request';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly seq: number;
}

export interface BftStateReply {
  readonly type: 'state-reply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly seq: number;
  readonly chunk: number;
  readonly chunks: number;
  readonly stateBytes: number;
  readonly data: Uint8Array;
}

export type BftStateMessage = BftStateRequest | BftStateReply;

export function isBftStateType(type: unknown): type is BftStateMessage['type'] {
  return type === 'state-request' || type === 'state-reply';
}

export function isBftStateMessage(m: { readonly type: string }): m is BftStateMessage {
  return isBftStateType(m.type);
}

/** How many chunks a state of `stateBytes` takes (an empty state is one empty chunk). */
export function chunksOf(stateBytes: number): number {
  return Math.max(1, Math.ceil(stateBytes / stateChunkBytes));
}

/** A state message read strictly (exact keys, ranges, chunk sizes consistent); its bytes copied. Throws CodecError. */
export function readBftStateMessage(value: unknown, limits: CodecLimits): BftStateMessage {
  const m = readMap(value, 'body', 'INVALID_MESSAGE');
  const type = m['type'];
  if (type === 'state-request') {
    checkKeys(m, ['type', 'from', 'to', 'seq'], 'body', 'INVALID_MESSAGE');
    return { type, ...ends(m, limits), seq: readInt(m, 'seq', 'body', 1, seqMax) };
  }
  if (type !== 'state-reply') fail('UNKNOWN_TYPE', 'body.type', 'not a state message');
  checkKeys(m, ['type', 'from', 'to', 'seq', 'chunk', 'chunks', 'stateBytes', 'data'], 'body', 'INVALID_MESSAGE');
  const seq = readInt(m, 'seq', 'body', 1, seqMax);
  const stateBytes = readInt(m, 'stateBytes', 'body', 0, stateBytesMax);
  const chunks = readInt(m, 'chunks', 'body', 1, stateChunksMax);
  if (chunks !== chunksOf(stateBytes)) fail('INVALID_MESSAGE', 'body.chunks', `${chunks} chunks for ${stateBytes} bytes, expected ${chunksOf(stateBytes)}`);
  const chunk = readInt(m, 'chunk', 'body', 0, chunks - 1);
  const data = readBytes(m['data'], 'body.data', stateChunkBytes, true);
  const expected = chunk < chunks - 1 ? stateChunkBytes : stateBytes - chunk * stateChunkBytes;
  if (data.byteLength !== expected) fail('INVALID_MESSAGE', 'body.data', `chunk ${chunk} of ${chunks} holds ${data.byteLength} bytes, expected ${expected}`);
  return { type, ...ends(m, limits), seq, chunk, chunks, stateBytes, data };
}

function ends(m: WireMap, limits: CodecLimits): { from: NodeId; to: NodeId } {
  return { from: readNodeId(m['from'], 'body.from', limits, 'INVALID_MESSAGE'), to: readNodeId(m['to'], 'body.to', limits, 'INVALID_MESSAGE') };
}

/** The replies carrying `state` at `seq`, in chunk order. */
export function stateReplies(from: NodeId, to: NodeId, seq: number, state: Uint8Array): BftStateReply[] {
  const chunks = chunksOf(state.byteLength);
  const out: BftStateReply[] = [];
  for (let chunk = 0; chunk < chunks; chunk++) {
    out.push({ type: 'state-reply', from, to, seq, chunk, chunks, stateBytes: state.byteLength, data: state.subarray(chunk * stateChunkBytes, (chunk + 1) * stateChunkBytes) });
  }
  return out;
}
