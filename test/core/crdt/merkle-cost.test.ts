/**
 * What this proves: repairing k differing keys by Merkle anti-entropy costs bytes that grow with
 * k, not with the store (the property Dynamo uses Merkle trees for, DeCandia et al. 2007 §4.7;
 * the simulator's anti-entropy checker of issue 12 asks the same). First, `msgpackBytes` is exact:
 * it equals the length of what the wire codec's msgpack encoder writes, for every message kind.
 * Then, on a 10,000-key store at the default depth (4), stores differing in k = 1, 10, 100 keys:
 * the hashes exchanged stay within 16·(1 + 3k), the entries within a few per differing key, the
 * bytes grow with k (4 to 11 times per tenfold k: the top of the tree is shared) and stay far
 * below sending the full (key, digest) listing (here about 0.6 KB, 3.5 KB and 22 KB against
 * 189 KB); and for a fixed k = 10, the bytes stay under 16 hashes per level plus an entry per
 * differing key whether the store holds 1,000 or 50,000 keys (50 times the keys, under twice the
 * bytes).
 */
import { describe, expect, it } from 'vitest';
import { packBody } from '../../../src/io/codec-msgpack.ts';
import { createPrng } from '../../../src/core/prng.ts';
import { exchangeBytes, fullListingBytes, merkleMessageBytes, msgpackBytes, type ExchangeCost } from '../../../src/core/crdt/merkle-cost.ts';
import { answerRequest, diffTrees } from '../../../src/core/crdt/merkle-exchange.ts';
import { encodeMerkleMessage, type MerkleMessage } from '../../../src/core/crdt/merkle-messages.ts';
import { MerkleTree, merkleDepthDefault } from '../../../src/core/crdt/merkle.ts';
import type { WireValue } from '../../../src/core/crdt/wire-reader.ts';

describe('msgpackBytes is the size the codec writes', () => {
  it.each<[string, WireValue]>([
    ['small ints', [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 52 - 1]],
    ['negative ints', [-1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1]],
    ['strings', ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'é✓😀', 'y'.repeat(70_000)]],
    ['nesting and scalars', [null, true, false, [], [[[]]], Array.from({ length: 15 }, () => 1), Array.from({ length: 16 }, () => 1)]],
    ['a long list', Array.from({ length: 70_000 }, (_, i) => i)],
  ])('%s', (_, value) => {
    expect(msgpackBytes(value)).toBe(packBody(value).length);
  });

  it('for each message kind', () => {
    const messages: MerkleMessage[] = [
      { type: 'hashes-request', level: 2, nodes: [0, 17, 255] },
      { type: 'hashes', level: 0, nodes: [0], hashes: Array.from({ length: 16 }, (_, i) => i * 2 ** 47) },
      { type: 'leaves-request', leaves: [1, 65_535] },
      { type: 'leaves', leaves: [1, 9], entries: [[1, 'a key', 2 ** 51], [9, 'ключ', 7]], unanswered: [10] },
    ];
    for (const message of messages) expect(merkleMessageBytes(message)).toBe(packBody(encodeMerkleMessage(message)).length);
  });
});

/** A store of `size` keys, and a copy with the digests of `k` of them changed. */
function pair(size: number, k: number, seed: number): [MerkleTree, MerkleTree] {
  const prng = createPrng(seed);
  const a = new MerkleTree(merkleDepthDefault);
  const b = new MerkleTree(merkleDepthDefault);
  for (let i = 0; i < size; i++) {
    const key = `doc/${i}`;
    const digest = prng.nextUint32() * 1024;
    a.set(key, digest);
    b.set(key, digest);
  }
  const changed = new Set<number>();
  while (changed.size < k) changed.add(prng.nextInt(size));
  for (const i of changed) b.set(`doc/${i}`, (a.digestOf(`doc/${i}`) as number) + 1);
  return [a, b];
}

function cost(a: MerkleTree, b: MerkleTree, expectedKeys: number): ExchangeCost {
  const result = diffTrees(a, b.rootHash(), (request) => answerRequest(b, request));
  if (!result.ok) throw new Error(result.error.message);
  expect(result.value.keys.length).toBe(expectedKeys);
  return exchangeBytes(result.value.messages);
}

describe('the exchange costs bytes in proportion to the difference', () => {
  const size = 10_000;
  const costs = new Map<number, ExchangeCost>();
  for (const k of [1, 10, 100]) {
    const [a, b] = pair(size, k, k);
    costs.set(k, cost(a, b, k));
  }
  const full = fullListingBytes(pair(size, 0, 0)[0]);

  it.each([1, 10, 100])('k = %i: hashes within 16·(1 + 3k), entries within 3k, bytes far below the full listing', (k) => {
    const { hashes, entries, bytes } = costs.get(k) as ExchangeCost;
    expect(hashes).toBeLessThanOrEqual(16 * (1 + (merkleDepthDefault - 1) * k));
    expect(entries).toBeGreaterThanOrEqual(k);
    expect(entries).toBeLessThanOrEqual(3 * k);
    expect(bytes).toBeLessThan(full / 3);
    expect(bytes).toBeLessThan(1_000 * k);
  });

  it('bytes grow with k, 4 to 11 times per tenfold difference', () => {
    const [one, ten, hundred] = [1, 10, 100].map((k) => (costs.get(k) as ExchangeCost).bytes) as [number, number, number];
    expect(ten).toBeGreaterThan(4 * one);
    expect(ten).toBeLessThan(11 * one);
    expect(hundred).toBeGreaterThan(4 * ten);
    expect(hundred).toBeLessThan(11 * ten);
  });

  it('for a fixed difference the bytes stay under a bound per differing key, whatever the store', () => {
    // Each differing key costs at most 16 hashes of at most 9 bytes per level, plus its entry. A
    // sparser tree costs less (an empty sibling's hash 0 is one byte), so 50 times the keys may
    // cost a little more, never more than the bound.
    const k = 10;
    const perKeyBound = 16 * 9 * merkleDepthDefault + 64;
    const bytes = [1_000, 10_000, 50_000].map((n) => {
      const [a, b] = pair(n, k, 77);
      return cost(a, b, k).bytes;
    });
    for (const b of bytes) expect(b).toBeLessThanOrEqual(k * perKeyBound);
    const [small, , large] = bytes as [number, number, number];
    expect(large).toBeLessThan(2 * small);
  });
});
