/**
 * The messages of the Merkle anti-entropy exchange (merkle-exchange.ts), their encoded form and
 * the validation of a peer's.
 *
 * Four messages, two request/response pairs: `hashes-request` names nodes of one level and is
 * answered by `hashes`, the 16 child hashes of each; `leaves-request` names leaves and is answered
 * by `leaves`, their (key, digest) entries. Responses echo what they answer, so the side that
 * started the exchange keeps no state per peer between rounds (a gossip engine talks to many).
 *
 * Every list is bounded (a request's nodes and leaves, a response's entries), indices are
 * strictly ascending (no repeats to multiply the work), and everything is validated here as
 * hostile input, with the same reader and refusals as a replicated state (wire-reader.ts).
 * What depends on the tree (a level below its depth, an index within its level) is checked where
 * the tree is known, in merkle-exchange.ts.
 */
import type { Result } from '../result.ts';
import { hashModulus } from './merkle-hash.ts';
import { merkleDepthMax, nodesAtLevel } from './merkle.ts';
import type { CrdtRefusal } from './refusal.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

/** Most nodes one `hashes-request` names (its answer holds 16 hashes per node). */
export const nodesPerRequestMax = 1_024;

/** Most leaves one `leaves-request` names. */
export const leavesPerRequestMax = 1_024;

/**
 * Most entries one `leaves` response carries; leaves that do not fit are listed as unanswered and
 * asked for again. (A single leaf larger than this is still answered whole: see answerLeaves.)
 */
export const entriesPerResponseMax = 16_384;

export interface HashesRequest {
  readonly type: 'hashes-request';
  /** The level of the nodes named, from 0 (the root) to depth − 1. */
  readonly level: number;
  /** Node indices at `level`, strictly ascending. */
  readonly nodes: readonly number[];
}

export interface HashesResponse {
  readonly type: 'hashes';
  readonly level: number;
  readonly nodes: readonly number[];
  /** 16 per node of `nodes`, in order: the hashes of its children at `level + 1`. */
  readonly hashes: readonly number[];
}

export interface LeavesRequest {
  readonly type: 'leaves-request';
  /** Leaf indices, strictly ascending. */
  readonly leaves: readonly number[];
}

/** One key of a leaf and the digest of its state. */
export type LeafEntry = readonly [leaf: number, key: string, digest: number];

export interface LeavesResponse {
  readonly type: 'leaves';
  /** The leaves answered, strictly ascending: every entry of each is in `entries`. */
  readonly leaves: readonly number[];
  readonly entries: readonly LeafEntry[];
  /** Leaves asked for and not answered (the response was full): ask again. */
  readonly unanswered: readonly number[];
}

export type MerkleRequest = HashesRequest | LeavesRequest;
export type MerkleResponse = HashesResponse | LeavesResponse;
export type MerkleMessage = MerkleRequest | MerkleResponse;

const tags = { 'hashes-request': 0, hashes: 1, 'leaves-request': 2, leaves: 3 } as const;

/**
 * As plain arrays: `[0, level, nodes]`, `[1, level, nodes, hashes]`, `[2, leaves]`,
 * `[3, leaves, [leaf, key, digest, leaf, key, digest, ...], unanswered]` (flat, as states are).
 */
export function encodeMerkleMessage(message: MerkleMessage): WireValue {
  switch (message.type) {
    case 'hashes-request':
      return [tags[message.type], message.level, [...message.nodes]];
    case 'hashes':
      return [tags[message.type], message.level, [...message.nodes], [...message.hashes]];
    case 'leaves-request':
      return [tags[message.type], [...message.leaves]];
    case 'leaves':
      return [tags[message.type], [...message.leaves], message.entries.flatMap((entry) => [...entry]), [...message.unanswered]];
    default: {
      const never: never = message;
      return never;
    }
  }
}

/** A peer's message, with every list bounded and every number in range for the deepest tree. */
export function decodeMerkleMessage(input: unknown): Result<MerkleMessage, CrdtRefusal> {
  return readWire(input, readMessage);
}

function readMessage(reader: WireReader, value: unknown): MerkleMessage {
  if (!Array.isArray(value) || value.length === 0) reader.refuse('shape', 'message', 'expected a tagged list');
  const tag = reader.integer(value[0], 'message[0]', 0, 3);
  if (tag === tags['hashes-request']) {
    const [, level, nodes] = reader.tuple(value, 'message', 3);
    const at = readLevel(reader, level, 'message[1]');
    return { type: 'hashes-request', level: at, nodes: readIndices(reader, nodes, 'message[2]', nodesPerRequestMax, nodesAtLevel(at)) };
  }
  if (tag === tags.hashes) {
    const [, level, nodes, hashes] = reader.tuple(value, 'message', 4);
    const at = readLevel(reader, level, 'message[1]');
    const named = readIndices(reader, nodes, 'message[2]', nodesPerRequestMax, nodesAtLevel(at));
    const items = reader.entries(hashes, 'message[3]', nodesPerRequestMax * 16);
    if (items.length !== named.length * 16) reader.refuse('shape', 'message[3]', `${items.length} hashes for ${named.length} nodes`);
    const read = items.map((hash, i) => reader.integer(hash, `message[3][${i}]`, 0, hashModulus - 1));
    return { type: 'hashes', level: at, nodes: named, hashes: read };
  }
  const leafCount = nodesAtLevel(merkleDepthMax);
  if (tag === tags['leaves-request']) {
    const [, leaves] = reader.tuple(value, 'message', 2);
    return { type: 'leaves-request', leaves: readIndices(reader, leaves, 'message[1]', leavesPerRequestMax, leafCount) };
  }
  const [, leaves, entries, unanswered] = reader.tuple(value, 'message', 4);
  const answered = readIndices(reader, leaves, 'message[1]', leavesPerRequestMax, leafCount);
  const items = reader.groups(entries, 'message[2]', 3, entriesPerResponseMax);
  const read: LeafEntry[] = [];
  for (let i = 0; i < items.length; i += 3) {
    const leaf = reader.integer(items[i], `message[2][${i}]`, 0, leafCount - 1);
    const key = reader.key(items[i + 1], `message[2][${i + 1}]`);
    read.push([leaf, key, reader.integer(items[i + 2], `message[2][${i + 2}]`, 0, hashModulus - 1)]);
  }
  return { type: 'leaves', leaves: answered, entries: read, unanswered: readIndices(reader, unanswered, 'message[3]', leavesPerRequestMax, leafCount) };
}

function readLevel(reader: WireReader, value: unknown, path: string): number {
  return reader.integer(value, path, 0, merkleDepthMax - 1);
}

/** A strictly ascending list of at most `itemsMax` indices below `bound`. */
export function readIndices(reader: WireReader, value: unknown, path: string, itemsMax: number, bound: number): number[] {
  const items = reader.entries(value, path, itemsMax);
  const indices: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const index = reader.integer(items[i], `${path}[${i}]`, 0, bound - 1);
    if (i > 0 && index <= (indices[i - 1] as number)) reader.refuse('duplicate', `${path}[${i}]`, 'indices must be strictly ascending');
    indices.push(index);
  }
  return indices;
}
