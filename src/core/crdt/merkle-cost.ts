/**
 * What an anti-entropy exchange costs on the wire, in bytes, computed rather than measured: the
 * exact msgpack size of each message's encoded form (merkle-messages.ts), as the codec's msgpackr
 * configuration writes it (integers in their smallest format, strings as str with UTF-8 bytes,
 * arrays with the smallest header). A pure function, so a test can prove the property the
 * exchange exists for (Dynamo, DeCandia et al. 2007 §4.7: "minimize the amount of data that needs
 * to be transferred"): bytes grow with the number of differing keys, not with the store.
 *
 * Envelope, authentication tag and transport framing are per message and the same whatever the
 * exchange carries; they are left out, and `exchangeBytes` counts messages too so a caller can
 * add them.
 */
import { encodeMerkleMessage, type MerkleMessage } from './merkle-messages.ts';
import type { MerkleTree } from './merkle.ts';
import { utf8Bytes } from './text.ts';
import type { WireValue } from './wire-reader.ts';

/** The size of `value` in msgpack, as msgpackr writes plain values. */
export function msgpackBytes(value: WireValue): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'number') return numberBytes(value);
  if (typeof value === 'string') return stringHeaderBytes(utf8Bytes(value)) + utf8Bytes(value);
  let bytes = value.length <= 15 ? 1 : value.length <= 0xffff ? 3 : 5;
  for (const item of value) bytes += msgpackBytes(item);
  return bytes;
}

function numberBytes(value: number): number {
  if (!Number.isInteger(value)) return 9; // float 64 (msgpackr writes float 32 only when exact; 9 is the bound)
  if (value >= 0) return value <= 0x7f ? 1 : value <= 0xff ? 2 : value <= 0xffff ? 3 : value <= 0xffff_ffff ? 5 : 9;
  return value >= -32 ? 1 : value >= -0x80 ? 2 : value >= -0x8000 ? 3 : value >= -0x8000_0000 ? 5 : 9;
}

function stringHeaderBytes(length: number): number {
  return length <= 31 ? 1 : length <= 0xff ? 2 : length <= 0xffff ? 3 : 5;
}

export function merkleMessageBytes(message: MerkleMessage): number {
  return msgpackBytes(encodeMerkleMessage(message));
}

export interface ExchangeCost {
  readonly messages: number;
  readonly bytes: number;
  /** Node hashes carried by `hashes` answers. */
  readonly hashes: number;
  /** (key, digest) entries carried by `leaves` answers. */
  readonly entries: number;
}

/** The cost of a transcript (`diffTrees`' messages). */
export function exchangeBytes(messages: readonly MerkleMessage[]): ExchangeCost {
  let bytes = 0;
  let hashes = 0;
  let entries = 0;
  for (const message of messages) {
    bytes += merkleMessageBytes(message);
    if (message.type === 'hashes') hashes += message.hashes.length;
    if (message.type === 'leaves') entries += message.entries.length;
  }
  return { messages: messages.length, bytes, hashes, entries };
}

/**
 * What the exchange replaces: one side sending every (key, digest) of its store, as one list of
 * `[key, digest]` pairs. The baseline a test compares `exchangeBytes` with.
 */
export function fullListingBytes(tree: MerkleTree): number {
  const listing: WireValue[] = [];
  for (const [key, digest] of tree.entries()) listing.push([key, digest]);
  return msgpackBytes(listing);
}
