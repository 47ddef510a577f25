/**
 * A Merkle range-hash tree over the keys of a store (name → digest of its encoded state), for
 * anti-entropy: two members find the keys on which their stores differ by comparing node hashes
 * from the root down, descending only into nodes that differ, so the bytes they exchange grow
 * with the number of differing keys, not with the store (Merkle 1987; Dynamo, DeCandia et al.
 * 2007 §4.7, where each node keeps one tree per key range for the same purpose). The exchange
 * itself is merkle-exchange.ts.
 *
 * Shape: a fixed 16-ary tree of `depth` levels below the root. A key's leaf is chosen by the top
 * 4·depth bits of its placement hash (merkle-hash.ts), so both sides put every key in the same
 * leaf without agreeing on anything but the depth. Unlike Dynamo's trees over sorted key ranges,
 * buckets are hash ranges: keys spread evenly whatever their names, and no rebalancing is needed.
 *
 * A node's hash is the SUM (mod 2^52) of the entry hashes of every (key, digest) below it: an
 * order-free combination (the additive multiset hash of Bellare and Micciancio 1997), so a leaf
 * needs no sorting and a change of one key updates each of the depth + 1 nodes on its path by one
 * subtraction and one addition, never rehashing a bucket. Levels are sparse maps of non-zero
 * sums: a store of n keys costs about n · (depth + 1) numbers, however large 16^depth is.
 *
 * Depth is a protocol constant between the two sides. A good depth leaves about one key per leaf
 * (4 for stores up to about 65,000 keys): fewer levels pack more keys into each differing leaf,
 * more levels cost 16 hashes per level per differing key.
 */
import { assert } from '../assert.ts';
import { keyBytesMax } from './limits.ts';
import { addHashes, entryHash, hashModulus, placementHash, subtractHashes } from './merkle-hash.ts';
import { compareText, textProblem } from './text.ts';

/** Children per node. */
export const merkleFanout = 16;

/** Deepest tree: 16^8 = 2^32 leaves, still far inside the safe integers and the 52 hash bits. */
export const merkleDepthMax = 8;

/** The depth both sides use unless configured otherwise: 65,536 leaves. */
export const merkleDepthDefault = 4;

/** Number of nodes at `level` (16^level). */
export function nodesAtLevel(level: number): number {
  return merkleFanout ** level;
}

export class MerkleTree {
  readonly depth: number;
  /** levels[L]: node index → hash, for the nodes of level L whose hash is not 0. */
  private readonly levels: Map<number, number>[];
  /** leaf index → key → digest, for non-empty leaves. */
  private readonly leaves = new Map<number, Map<string, number>>();
  private readonly digests = new Map<string, number>();

  constructor(depth: number = merkleDepthDefault) {
    assert(Number.isInteger(depth) && depth >= 1 && depth <= merkleDepthMax, `depth must be an integer in [1, ${merkleDepthMax}]`);
    this.depth = depth;
    this.levels = Array.from({ length: depth + 1 }, () => new Map<number, number>());
  }

  /** Keys in the tree. */
  get size(): number {
    return this.digests.size;
  }

  /** Every (key, digest), in no particular order. */
  entries(): IterableIterator<[string, number]> {
    return this.digests.entries();
  }

  digestOf(key: string): number | undefined {
    return this.digests.get(key);
  }

  /**
   * Records that `key` now holds a state of `digest` (an integer in [0, 2^52), as `digestWire`
   * gives). Store keys are the node's own (a peer's arrive through decode), so bad ones are
   * asserted.
   */
  set(key: string, digest: number): void {
    assert(textProblem(key, keyBytesMax, true) === null, 'a store key must be well-formed and at most keyBytesMax bytes');
    assert(Number.isSafeInteger(digest) && digest >= 0 && digest < hashModulus, 'a digest must be an integer in [0, 2^52)');
    const old = this.digests.get(key);
    if (old === digest) return;
    const leaf = this.leafOf(key);
    if (old !== undefined) this.adjust(leaf, entryHash(key, old), subtractHashes);
    this.adjust(leaf, entryHash(key, digest), addHashes);
    this.digests.set(key, digest);
    let bucket = this.leaves.get(leaf);
    if (bucket === undefined) this.leaves.set(leaf, (bucket = new Map()));
    bucket.set(key, digest);
  }

  /** Forgets `key`; false if it was not there. */
  delete(key: string): boolean {
    const old = this.digests.get(key);
    if (old === undefined) return false;
    const leaf = this.leafOf(key);
    this.adjust(leaf, entryHash(key, old), subtractHashes);
    this.digests.delete(key);
    const bucket = this.leaves.get(leaf) as Map<string, number>;
    bucket.delete(key);
    if (bucket.size === 0) this.leaves.delete(leaf);
    return true;
  }

  /** Adds or takes `hash` out of every node on the path from `leaf` to the root. */
  private adjust(leaf: number, hash: number, combine: (a: number, b: number) => number): void {
    let index = leaf;
    for (let level = this.depth; level >= 0; level--) {
      const nodes = this.levels[level] as Map<number, number>;
      const next = combine(nodes.get(index) ?? 0, hash);
      if (next === 0) nodes.delete(index);
      else nodes.set(index, next);
      index = Math.floor(index / merkleFanout);
    }
  }

  /** The leaf `key` belongs to: the top 4·depth bits of its placement hash. */
  leafOf(key: string): number {
    return Math.floor(placementHash(key) / 2 ** (52 - 4 * this.depth));
  }

  rootHash(): number {
    return this.nodeHash(0, 0);
  }

  /** The hash of node `index` of `level` (0 for an empty range). */
  nodeHash(level: number, index: number): number {
    assert(Number.isInteger(level) && level >= 0 && level <= this.depth, 'level out of range');
    return (this.levels[level] as Map<number, number>).get(index) ?? 0;
  }

  /** The 16 hashes of the children of node `index` of `level` (level < depth). */
  childHashes(level: number, index: number): number[] {
    assert(level < this.depth, 'a leaf has no children');
    const children = this.levels[level + 1] as Map<number, number>;
    const first = index * merkleFanout;
    const hashes: number[] = [];
    for (let i = 0; i < merkleFanout; i++) hashes.push(children.get(first + i) ?? 0);
    return hashes;
  }

  /** The (key, digest) entries of `leaf`, sorted by key. */
  leafEntries(leaf: number): [string, number][] {
    const bucket = this.leaves.get(leaf);
    if (bucket === undefined) return [];
    return [...bucket].sort(([a], [b]) => compareText(a, b));
  }

  /** Keys in `leaf`, without building the entries. */
  leafSize(leaf: number): number {
    return this.leaves.get(leaf)?.size ?? 0;
  }
}
