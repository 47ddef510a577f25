/**
 * The anti-entropy exchange over two Merkle trees (merkle.ts): how the side that starts it walks
 * down the other side's tree, and how the other side answers (DeCandia et al. 2007 §4.7: "if the
 * hash values of the root of two trees are equal ... the nodes do not require synchronization;
 * if not, ... exchange the hash values of children and the process continues until it reaches
 * the leaves").
 *
 * The walk, level by level:
 * 1. Roots differ (each side's root hash rides on gossip; `startExchange`): ask for the root's
 *    16 child hashes.
 * 2. Each `hashes` answer is compared child by child with the local tree; only the differing
 *    children are asked about at the next level (`takeResponse`).
 * 3. At the leaves, ask for the entries (key, digest) of the differing leaves, and compare them
 *    with the local ones: a key on one side only, or with another digest, differs.
 * So k differing keys cost at most 16 hashes per differing node per level, about 16·k·depth
 * hashes, plus the entries of at most k leaves (about one key each at a fitting depth): the bytes
 * grow with k and depth, not with the size of the store (merkle-cost.ts computes them, and
 * test/core/crdt proves the growth on a 10,000-key store).
 *
 * Both sides validate: the answering side refuses a request that does not fit its tree, and the
 * asking side refuses an answer that does not fit its tree or claims a key in a leaf the key does
 * not hash to. Refusals are values (CrdtRefusal, code CODEC), never throws.
 */
import { err, ok, type Result } from '../result.ts';
import { merkleFanout, nodesAtLevel, type MerkleTree } from './merkle.ts';
import {
  entriesPerResponseMax,
  leavesPerRequestMax,
  nodesPerRequestMax,
  type HashesRequest,
  type HashesResponse,
  type LeafEntry,
  type LeavesRequest,
  type LeavesResponse,
  type MerkleMessage,
  type MerkleRequest,
  type MerkleResponse,
} from './merkle-messages.ts';
import { decodeRefusal, type CrdtRefusal } from './refusal.ts';
import { compareText } from './text.ts';

/** The first request of an exchange, or null if the roots agree and there is nothing to repair. */
export function startExchange(tree: MerkleTree, remoteRoot: number): HashesRequest | null {
  return tree.rootHash() === remoteRoot ? null : { type: 'hashes-request', level: 0, nodes: [0] };
}

// ---- the answering side -------------------------------------------------------------------------

export function answerRequest(tree: MerkleTree, request: MerkleRequest): Result<MerkleResponse, CrdtRefusal> {
  return request.type === 'hashes-request' ? answerHashes(tree, request) : answerLeaves(tree, request);
}

/** The 16 child hashes of each node named. */
export function answerHashes(tree: MerkleTree, request: HashesRequest): Result<HashesResponse, CrdtRefusal> {
  const refusal = checkIndices(request.level, request.nodes, tree.depth - 1, nodesPerRequestMax, 'request');
  if (refusal !== null) return err(refusal);
  const hashes: number[] = [];
  for (const node of request.nodes) hashes.push(...tree.childHashes(request.level, node));
  return ok({ type: 'hashes', level: request.level, nodes: request.nodes, hashes });
}

/**
 * The entries of each leaf named, whole leaves in order while they fit in
 * `entriesPerResponseMax`; the rest are listed as unanswered. A first leaf that alone holds more
 * is cut at the bound (keys in order): its keys beyond the cut are not compared this time. A
 * depth that fits the store (about one key per leaf, merkle.ts) never meets this.
 */
export function answerLeaves(tree: MerkleTree, request: LeavesRequest): Result<LeavesResponse, CrdtRefusal> {
  const refusal = checkIndices(tree.depth, request.leaves, tree.depth, leavesPerRequestMax, 'request');
  if (refusal !== null) return err(refusal);
  const leaves: number[] = [];
  const entries: LeafEntry[] = [];
  let i = 0;
  for (; i < request.leaves.length; i++) {
    const leaf = request.leaves[i] as number;
    const size = tree.leafSize(leaf);
    if (entries.length + size > entriesPerResponseMax && leaves.length > 0) break;
    for (const [key, digest] of tree.leafEntries(leaf).slice(0, entriesPerResponseMax)) entries.push([leaf, key, digest]);
    leaves.push(leaf);
  }
  return ok({ type: 'leaves', leaves, entries, unanswered: request.leaves.slice(i) });
}

// ---- the asking side ----------------------------------------------------------------------------

/** What an answer leads to: the next requests to send, and the keys found to differ. */
export interface ExchangeStep {
  readonly requests: readonly MerkleRequest[];
  readonly keys: readonly string[];
}

export function takeResponse(tree: MerkleTree, response: MerkleResponse): Result<ExchangeStep, CrdtRefusal> {
  return response.type === 'hashes' ? takeHashes(tree, response) : takeLeaves(tree, response);
}

/** Compares each child hash with ours; asks about the differing children one level down. */
function takeHashes(tree: MerkleTree, response: HashesResponse): Result<ExchangeStep, CrdtRefusal> {
  const refusal = checkIndices(response.level, response.nodes, tree.depth - 1, nodesPerRequestMax, 'response');
  if (refusal !== null) return err(refusal);
  if (response.hashes.length !== response.nodes.length * merkleFanout) {
    return err(decodeRefusal('shape', 'response.hashes', `${response.hashes.length} hashes for ${response.nodes.length} nodes`));
  }
  const differing: number[] = [];
  response.nodes.forEach((node, i) => {
    const local = tree.childHashes(response.level, node);
    for (let c = 0; c < merkleFanout; c++) {
      if (local[c] !== response.hashes[i * merkleFanout + c]) differing.push(node * merkleFanout + c);
    }
  });
  const childLevel = response.level + 1;
  const requests: MerkleRequest[] =
    childLevel < tree.depth
      ? batches(differing, nodesPerRequestMax).map((nodes) => ({ type: 'hashes-request', level: childLevel, nodes }))
      : batches(differing, leavesPerRequestMax).map((leaves) => ({ type: 'leaves-request', leaves }));
  return ok({ requests, keys: [] });
}

/** Compares the answered leaves' entries with ours; asks again for the unanswered leaves. */
function takeLeaves(tree: MerkleTree, response: LeavesResponse): Result<ExchangeStep, CrdtRefusal> {
  for (const [list, name] of [
    [response.leaves, 'leaves'],
    [response.unanswered, 'unanswered'],
  ] as const) {
    const refusal = checkIndices(tree.depth, list, tree.depth, leavesPerRequestMax, `response.${name}`);
    if (refusal !== null) return err(refusal);
  }
  // An answer that answers nothing but asks to be asked again would loop forever.
  if (response.leaves.length === 0 && response.unanswered.length > 0) {
    return err(decodeRefusal('shape', 'response.leaves', 'no leaf answered'));
  }
  const remote = readRemoteEntries(tree, response);
  if (!remote.ok) return remote;
  const keys: string[] = [];
  for (const leaf of response.leaves) {
    const theirs = remote.value.get(leaf) ?? new Map<string, number>();
    const ours = tree.leafEntries(leaf);
    for (const [key, digest] of ours) if (theirs.get(key) !== digest) keys.push(key);
    for (const key of theirs.keys()) if (tree.digestOf(key) === undefined) keys.push(key);
  }
  keys.sort(compareText);
  const requests = batches([...response.unanswered], leavesPerRequestMax).map((leaves): LeavesRequest => ({ type: 'leaves-request', leaves }));
  return ok({ requests, keys });
}

/** The answer's entries by leaf, refused if one names an unanswered leaf, a wrong leaf, or a key twice. */
function readRemoteEntries(tree: MerkleTree, response: LeavesResponse): Result<Map<number, Map<string, number>>, CrdtRefusal> {
  if (response.entries.length > entriesPerResponseMax) {
    return err(decodeRefusal('too-many', 'response.entries', `more than ${entriesPerResponseMax} entries`));
  }
  const answered = new Set(response.leaves);
  const byLeaf = new Map<number, Map<string, number>>();
  const seen = new Set<string>();
  for (let i = 0; i < response.entries.length; i++) {
    const [leaf, key, digest] = response.entries[i] as LeafEntry;
    const at = `response.entries[${i}]`;
    if (!answered.has(leaf)) return err(decodeRefusal('inconsistent', at, `leaf ${leaf} is not among the answered leaves`));
    if (tree.leafOf(key) !== leaf) return err(decodeRefusal('inconsistent', at, `the key does not belong to leaf ${leaf}`));
    if (seen.has(key)) return err(decodeRefusal('duplicate', at, 'key listed twice'));
    seen.add(key);
    let entries = byLeaf.get(leaf);
    if (entries === undefined) byLeaf.set(leaf, (entries = new Map()));
    entries.set(key, digest);
  }
  return ok(byLeaf);
}

// ---- a whole exchange, run synchronously --------------------------------------------------------

/** Every message of one exchange, in order, and the keys found to differ. */
export interface ExchangeResult {
  readonly keys: readonly string[];
  readonly messages: readonly MerkleMessage[];
}

/** Most messages `diffTrees` exchanges before it gives up on a peer that keeps it busy. */
export const exchangeMessagesMax = 100_000;

/**
 * Runs a whole exchange against `ask` (the other side's answering function: a tree in a test, a
 * network round trip in the simulator) and returns the differing keys and the transcript, whose
 * size merkle-cost.ts turns into bytes. Breadth first, one level at a time.
 */
export function diffTrees(
  tree: MerkleTree,
  remoteRoot: number,
  ask: (request: MerkleRequest) => Result<MerkleResponse, CrdtRefusal>,
): Result<ExchangeResult, CrdtRefusal> {
  const first = startExchange(tree, remoteRoot);
  const pending: MerkleRequest[] = first === null ? [] : [first];
  const messages: MerkleMessage[] = [];
  const keys = new Set<string>();
  for (let next = 0; next < pending.length; next++) {
    if (messages.length >= exchangeMessagesMax) return err(decodeRefusal('too-many', 'exchange', `more than ${exchangeMessagesMax} messages`));
    const request = pending[next] as MerkleRequest;
    const response = ask(request);
    if (!response.ok) return response;
    messages.push(request, response.value);
    const step = takeResponse(tree, response.value);
    if (!step.ok) return step;
    pending.push(...step.value.requests);
    for (const key of step.value.keys) keys.add(key);
  }
  return ok({ keys: [...keys].sort(compareText), messages });
}

// ---- shared checks ------------------------------------------------------------------------------

/** Refuses a level above `levelMax` or indices that are not strictly ascending within the level. */
function checkIndices(level: number, indices: readonly number[], levelMax: number, itemsMax: number, path: string): CrdtRefusal | null {
  if (!Number.isSafeInteger(level) || level < 0 || level > levelMax) {
    return decodeRefusal('integer', `${path}.level`, `${level} is outside [0, ${levelMax}] for this tree`);
  }
  if (indices.length > itemsMax) return decodeRefusal('too-many', path, `${indices.length} indices, more than ${itemsMax}`);
  const bound = nodesAtLevel(level);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    if (!Number.isSafeInteger(index) || index < 0 || index >= bound) return decodeRefusal('integer', `${path}[${i}]`, `${index} is not a node of level ${level}`);
    if (i > 0 && index <= (indices[i - 1] as number)) return decodeRefusal('duplicate', `${path}[${i}]`, 'indices must be strictly ascending');
  }
  return null;
}

function batches(items: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
