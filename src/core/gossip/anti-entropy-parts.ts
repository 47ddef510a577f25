/**
 * The parts of a Merkle anti-entropy exchange (anti-entropy.ts) that need no exchange state:
 * whether a response answers the request in flight, a store key back to its CRDT, the bytes of a
 * message's envelope, and cutting requests and leaf answers to the bounds of one message.
 */
import { isCrdtTypeName } from '../crdt/crdt-type-name.ts';
import { msgpackBytes } from '../crdt/merkle-cost.ts';
import type { LeavesResponse, MerkleRequest, MerkleResponse } from '../crdt/merkle-messages.ts';
import { textProblem } from '../crdt/text.ts';
import { crdtNameBytesMax, merkleLeavesPerRequestMax, merkleNodesPerRequestMax } from './limits.ts';
import type { CrdtRef } from './messages.ts';
import type { NodeId } from './types.ts';

/** Whether `response` answers `request`: responses echo the nodes or leaves they answer (a leaves answer lists what it left unanswered). */
export function answers(response: MerkleResponse, request: MerkleRequest): boolean {
  if (response.type === 'hashes') return request.type === 'hashes-request' && request.level === response.level && sameIndices(request.nodes, response.nodes);
  if (request.type !== 'leaves-request' || response.leaves.length + response.unanswered.length !== request.leaves.length) return false;
  return sameIndices(request.leaves, [...response.leaves, ...response.unanswered]);
}

export function sameIndices(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The CRDT a store key names, or null when it is no store key (`<type>/<name>`). */
export function refOfKey(key: string): CrdtRef | null {
  const at = key.indexOf('/');
  if (at < 0) return null;
  const crdt = key.slice(0, at);
  const name = key.slice(at + 1);
  if (!isCrdtTypeName(crdt) || textProblem(name, crdtNameBytesMax, false) !== null) return null;
  return { name, crdt };
}

/** Bytes of a body's fixed part: type, ids, exchange number, keys (an upper bound). */
export function envelopeBytes(from: NodeId, to: NodeId): number {
  return 48 + 3 * (from.length + to.length);
}

/** A request of the exchange cut to what our answers' bounds allow (merkle-exchange.ts batches by 1,024). */
export function split(request: MerkleRequest): MerkleRequest[] {
  const out: MerkleRequest[] = [];
  if (request.type === 'hashes-request') {
    for (let i = 0; i < request.nodes.length; i += merkleNodesPerRequestMax) {
      out.push({ type: 'hashes-request', level: request.level, nodes: request.nodes.slice(i, i + merkleNodesPerRequestMax) });
    }
  } else {
    for (let i = 0; i < request.leaves.length; i += merkleLeavesPerRequestMax) {
      out.push({ type: 'leaves-request', leaves: request.leaves.slice(i, i + merkleLeavesPerRequestMax) });
    }
  }
  return out;
}

/**
 * A leaves answer cut to about `bytesMax`: whole leaves in order while they fit, the rest listed
 * as unanswered (asked again); a first leaf larger than the bound alone is cut at it, as
 * merkle-exchange.ts cuts one past `entriesPerResponseMax` (its keys beyond the cut are compared
 * at a later exchange, once the others were repaired: about one key per leaf at a fitting depth).
 */
export function trimLeaves(response: LeavesResponse, bytesMax: number): LeavesResponse {
  let bytes = 64;
  let answered = 0;
  let entries = 0;
  for (const leaf of response.leaves) {
    let leafBytes = 0;
    let leafEntries = 0;
    while (entries + leafEntries < response.entries.length && response.entries[entries + leafEntries]?.[0] === leaf) {
      const [, key, digest] = response.entries[entries + leafEntries] as readonly [number, string, number];
      leafBytes += msgpackBytes([leaf, key, digest]);
      leafEntries++;
    }
    if (bytes + leafBytes > bytesMax) {
      if (answered === 0) return { ...response, leaves: [leaf], entries: cutLeaf(response, leaf, bytesMax), unanswered: [...response.leaves.slice(1), ...response.unanswered] };
      break;
    }
    bytes += leafBytes;
    entries += leafEntries;
    answered++;
  }
  if (answered === response.leaves.length) return response;
  return {
    type: 'leaves',
    leaves: response.leaves.slice(0, answered),
    entries: response.entries.slice(0, entries),
    unanswered: [...response.leaves.slice(answered), ...response.unanswered],
  };
}

export function cutLeaf(response: LeavesResponse, leaf: number, bytesMax: number): LeavesResponse['entries'] {
  const out: LeavesResponse['entries'][number][] = [];
  let bytes = 64;
  for (const entry of response.entries) {
    if (entry[0] !== leaf) break;
    bytes += msgpackBytes([...entry]);
    if (bytes > bytesMax && out.length > 0) break;
    out.push(entry);
  }
  return out;
}
