/**
 * What this proves about Merkle anti-entropy (merkle.ts, merkle-exchange.ts; DeCandia et al.
 * 2007 §4.7): node hashes depend only on the set of (key, digest) entries below them, never on
 * the order they were set in, and a key changed and changed back restores every hash; the
 * exchange between two trees finds EXACTLY the keys whose digests differ or that only one side
 * holds, for random stores at depths 1 to 5, in both directions, through the encoded messages,
 * and when answers are cut by entriesPerResponseMax and resumed; the digest of an encoded state
 * tells different shapes apart. Hostile requests and answers are refused as values.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, shuffled, type Prng } from '../../../src/core/prng.ts';
import { ok, type Result } from '../../../src/core/result.ts';
import type { CrdtRefusal } from '../../../src/core/crdt/refusal.ts';
import { digestWire, hashModulus, placementHash } from '../../../src/core/crdt/merkle-hash.ts';
import { MerkleTree } from '../../../src/core/crdt/merkle.ts';
import { answerHashes, answerLeaves, answerRequest, diffTrees, takeResponse } from '../../../src/core/crdt/merkle-exchange.ts';
import {
  decodeMerkleMessage,
  encodeMerkleMessage,
  entriesPerResponseMax,
  type MerkleRequest,
  type MerkleResponse,
} from '../../../src/core/crdt/merkle-messages.ts';

function treeOf(entries: Iterable<[string, number]>, depth: number): MerkleTree {
  const tree = new MerkleTree(depth);
  for (const [key, digest] of entries) tree.set(key, digest);
  return tree;
}

function randomDigest(prng: Prng): number {
  return prng.nextUint32() * 0x1_0000 + (prng.nextUint32() & 0xffff);
}

/** Two stores sharing `size` keys, then differing on `changes` random keys (changed, added or removed on either side). */
function divergedStores(seed: number, size: number, changes: number): { a: Map<string, number>; b: Map<string, number>; differing: Set<string> } {
  const prng = createPrng(seed);
  const a = new Map<string, number>();
  for (let i = 0; i < size; i++) a.set(`key/${seed}/${i}`, randomDigest(prng));
  const b = new Map(a);
  const differing = new Set<string>();
  const keys = [...a.keys()];
  while (differing.size < changes) {
    const roll = keys.length === 0 ? 2 + prng.nextInt(2) : prng.nextInt(4);
    if (roll === 0) {
      const key = keys[prng.nextInt(keys.length)] as string;
      if (differing.has(key)) continue;
      b.set(key, randomDigest(prng));
      differing.add(key);
    } else if (roll === 1) {
      const key = keys[prng.nextInt(keys.length)] as string;
      if (differing.has(key)) continue;
      (prng.nextInt(2) === 0 ? a : b).delete(key);
      differing.add(key);
    } else {
      const key = `new/${differing.size}/${prng.nextUint32()}`;
      (roll === 2 ? a : b).set(key, randomDigest(prng));
      differing.add(key);
    }
  }
  return { a, b, differing };
}

/** The other side's answering function, through the encoded form of both messages. */
function remote(tree: MerkleTree): (request: MerkleRequest) => Result<MerkleResponse, CrdtRefusal> {
  return (request) => {
    const decoded = decodeMerkleMessage(encodeMerkleMessage(request));
    if (!decoded.ok) return decoded;
    const answer = answerRequest(tree, decoded.value as MerkleRequest);
    if (!answer.ok) return answer;
    const back = decodeMerkleMessage(encodeMerkleMessage(answer.value));
    return back.ok ? ok(back.value as MerkleResponse) : back;
  };
}

describe('the tree', () => {
  it('hashes depend on the entries, not the order they were set in', () => {
    const prng = createPrng(1);
    const entries = Array.from({ length: 500 }, (_, i): [string, number] => [`k${i}`, randomDigest(prng)]);
    const reference = treeOf(entries, 3);
    for (let i = 0; i < 5; i++) {
      const other = treeOf(shuffled(prng, entries), 3);
      expect(other.rootHash()).toBe(reference.rootHash());
      for (let node = 0; node < 16; node++) expect(other.childHashes(1, node)).toEqual(reference.childHashes(1, node));
    }
  });

  it('a key changed and changed back, or added and deleted, restores every hash', () => {
    const tree = treeOf(Array.from({ length: 100 }, (_, i): [string, number] => [`k${i}`, i + 1]), 2);
    const root = tree.rootHash();
    tree.set('k5', 999);
    expect(tree.rootHash()).not.toBe(root);
    tree.set('k5', 6);
    expect(tree.rootHash()).toBe(root);
    tree.set('extra', 1);
    expect(tree.delete('extra')).toBe(true);
    expect(tree.delete('extra')).toBe(false);
    expect(tree.rootHash()).toBe(root);
    for (let i = 0; i < 100; i++) tree.delete(`k${i}`);
    expect(tree.rootHash()).toBe(0);
    expect(tree.size).toBe(0);
  });

  it('places keys uniformly: 16,000 keys over the 16 top ranges', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const range = Math.floor(placementHash(`user:${i}`) / 2 ** 48);
      counts[range] = (counts[range] ?? 0) + 1;
    }
    const chiSquare = counts.reduce((sum, n) => sum + (n - 1000) ** 2 / 1000, 0);
    expect(chiSquare).toBeLessThan(60); // 15 degrees of freedom: p < 1e-6 beyond 60
  });

  it('digests tell encoded shapes apart, and stay 52-bit', () => {
    const values = [null, false, true, 0, 1, -1, 1.5, '', '1', 'a', [], [[]], ['a'], [1, [2]], [[1], 2], ['ab'], ['a', 'b']];
    const digests = values.map((value) => digestWire(value));
    expect(new Set(digests).size).toBe(values.length);
    for (const digest of digests) expect(Number.isSafeInteger(digest) && digest >= 0 && digest < hashModulus).toBe(true);
    expect(digestWire(-0)).toBe(digestWire(0));
  });
});

describe('the exchange finds exactly the differing keys', () => {
  it.each([
    [1, 1, 300, 5],
    [2, 2, 1_000, 20],
    [3, 3, 2_000, 1],
    [4, 4, 3_000, 60],
    [5, 5, 500, 30],
    [6, 4, 0, 10],
    [7, 3, 400, 0],
  ])('seed %i, depth %i, %i shared keys, %i differences', (seed, depth, size, changes) => {
    const { a, b, differing } = divergedStores(seed, size, changes);
    const [treeA, treeB] = [treeOf(a, depth), treeOf(b, depth)];
    const expected = [...differing].sort();
    const ab = diffTrees(treeA, treeB.rootHash(), remote(treeB));
    const ba = diffTrees(treeB, treeA.rootHash(), remote(treeA));
    if (!ab.ok || !ba.ok) throw new Error('refused');
    expect(ab.value.keys).toEqual(expected);
    expect(ba.value.keys).toEqual(expected);
    if (changes === 0) expect(ab.value.messages).toEqual([]);
  });

  it('answers cut at entriesPerResponseMax are resumed until every leaf is compared', () => {
    // Depth 1: 16 leaves of about 2,500 keys each, all differing: each answer holds a few leaves.
    const size = 40_000;
    const a = new Map<string, number>();
    const b = new Map<string, number>();
    for (let i = 0; i < size; i++) {
      a.set(`k${i}`, 1);
      b.set(`k${i}`, i % 1_000 === 0 ? 2 : 1);
    }
    const [treeA, treeB] = [treeOf(a, 1), treeOf(b, 1)];
    const result = diffTrees(treeA, treeB.rootHash(), (request) => answerRequest(treeB, request));
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.keys.length).toBe(40);
    const leafAnswers = result.value.messages.filter((m) => m.type === 'leaves');
    expect(leafAnswers.length).toBeGreaterThan(1);
    for (const answer of leafAnswers) if (answer.type === 'leaves') expect(answer.entries.length).toBeLessThanOrEqual(entriesPerResponseMax);
  });
});

describe('hostile requests and answers are refused as values', () => {
  const tree = treeOf(Array.from({ length: 50 }, (_, i): [string, number] => [`k${i}`, i]), 2);

  it.each<[string, Parameters<typeof answerHashes>[1]]>([
    ['a level at the leaves', { type: 'hashes-request', level: 2, nodes: [0] }],
    ['a node past its level', { type: 'hashes-request', level: 1, nodes: [16] }],
    ['nodes out of order', { type: 'hashes-request', level: 1, nodes: [3, 2] }],
    ['a node twice', { type: 'hashes-request', level: 1, nodes: [2, 2] }],
    ['a negative node', { type: 'hashes-request', level: 1, nodes: [-1] }],
    ['too many nodes', { type: 'hashes-request', level: 1, nodes: Array.from({ length: 2_000 }, (_, i) => i) }],
  ])('a hashes request with %s', (_, request) => {
    expect(answerHashes(tree, request).ok).toBe(false);
  });

  it('a leaves request past the leaves', () => {
    expect(answerLeaves(tree, { type: 'leaves-request', leaves: [256] }).ok).toBe(false);
  });

  it('an answer with the wrong number of hashes', () => {
    expect(takeResponse(tree, { type: 'hashes', level: 0, nodes: [0], hashes: [1, 2, 3] }).ok).toBe(false);
  });

  it('an answer claiming a key in a leaf it does not hash to', () => {
    const key = 'k1';
    const wrongLeaf = (tree.leafOf(key) + 1) % 256;
    const result = takeResponse(tree, { type: 'leaves', leaves: [wrongLeaf], entries: [[wrongLeaf, key, 1]], unanswered: [] });
    expect(result.ok ? null : result.error.reason).toBe('inconsistent');
  });

  it('an answer that answers nothing but asks to be asked again', () => {
    const result = takeResponse(tree, { type: 'leaves', leaves: [], entries: [], unanswered: [1, 2] });
    expect(result.ok).toBe(false);
  });

  it('garbage messages never throw', () => {
    const prng = createPrng(5);
    const pieces: unknown[] = [null, -1, 0, 1, 3, 2 ** 53, 'x', [], [0], [1, 2], { a: 1 }, Array.from({ length: 5_000 }, () => 0)];
    for (let i = 0; i < 2_000; i++) {
      const length = prng.nextInt(5);
      const message = Array.from({ length }, () => pieces[prng.nextInt(pieces.length)]);
      const result = decodeMerkleMessage(message);
      if (result.ok) expect(['hashes-request', 'hashes', 'leaves-request', 'leaves']).toContain(result.value.type);
    }
    expect(decodeMerkleMessage([1, 0, [0], Array.from({ length: 16 }, () => 2 ** 52)]).ok).toBe(false);
  });
});
