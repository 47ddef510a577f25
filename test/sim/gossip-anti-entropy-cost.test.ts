/**
 * What this proves: the data plane's anti-entropy repairs a difference of k CRDTs for bytes that
 * grow with k, not with the data set (issue 12; DeCandia et al. 2007 §4.7), measured on two
 * simulated nodes with push off, every byte of `crdt-merkle` and `crdt-states` encoded by the
 * real codec: ten times the CRDTs cost at most twice as much (plus a tree level) for the same k,
 * and 100 differing CRDTs cost more than 1. And the check bites: with a one-level Merkle tree
 * (16 leaves, each listing every key it holds) the same measure grows with the data set and is
 * reported.
 */
import { describe, expect, it } from 'vitest';
import { checkAntiEntropyCost } from '../../src/sim/gossip/anti-entropy-cost.ts';

describe('anti-entropy cost', () => {
  it('grows with the difference, not with the data set', () => {
    const r = checkAntiEntropyCost(1);
    expect(r.violations.examples).toEqual([]);
    const bytes = (keys: number, k: number): number => r.points.find((p) => p.keys === keys && p.differing === k)?.bytes ?? -1;
    expect(bytes(1000, 1)).toBeLessThan(bytes(1000, 10));
    expect(bytes(1000, 10)).toBeLessThan(bytes(1000, 100));
  });

  it('reports a tree whose leaves list the whole data set', () => {
    const r = checkAntiEntropyCost(1, { antiEntropyTreeDepth: 1 });
    expect(r.violations.count).toBeGreaterThan(0);
    expect(r.violations.examples[0]).toContain('grows with the data set');
  });
});
