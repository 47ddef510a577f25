/**
 * What this proves about the per-link anti-replay window (src/io/crypto/replay-window.ts):
 *
 * - Against a reference model (a set of every seq ever accepted and the highest one, checked by
 *   the definition in the file's header), a seeded random schedule of in-order runs, reordering
 *   inside the window, duplicates, seqs just past the window's edge, and far jumps ahead gives
 *   the same answer for every `check`, with windows of 32, 64, 96 and 1,024, near 1 and near
 *   2^53. This covers the ring's word reuse: a bit left from before a jump never makes a fresh
 *   seq look replayed, and a seq inside the window is never forgotten.
 * - Hand-written cases: the first seq may be anything from 1 to 2^53-1; each reordered seq in
 *   the window is accepted exactly once; `replayWindowMax` behind the highest is too old, one
 *   less is still in; duplicates are replayed.
 * - Invalid seqs from the network (0, negatives, fractions, NaN, infinities, 2^53, non-numbers)
 *   are 'invalid', never a throw; `accept` of a seq that is not fresh is an assert (our bug);
 *   a bad `replayWindowMax` is a ConfigError.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/core/assert.ts';
import { ConfigError } from '../../../src/core/raft/errors.ts';
import { ReplayWindow, type ReplayCheck } from '../../../src/io/crypto/replay-window.ts';
import { createPrng } from './test-bytes.ts';

class ModelWindow {
  private readonly seen = new Set<number>();
  private highest = 0;
  constructor(private readonly windowMax: number) {}
  check(seq: number): ReplayCheck {
    if (!Number.isSafeInteger(seq) || seq < 1) return 'invalid';
    if (seq > this.highest) return 'fresh';
    if (this.highest - seq >= this.windowMax) return 'too-old';
    return this.seen.has(seq) ? 'replayed' : 'fresh';
  }
  accept(seq: number): void {
    this.seen.add(seq);
    this.highest = Math.max(this.highest, seq);
  }
}

describe('ReplayWindow', () => {
  it.each([
    [32, 1],
    [64, 1],
    [96, 1],
    [1024, 1],
    [1024, Number.MAX_SAFE_INTEGER - 5_000_000],
  ])('agrees with the reference model (window %i, start %i)', (windowMax, start) => {
    const prng = createPrng(windowMax * 31 + (start % 1000));
    const window = new ReplayWindow(windowMax);
    const model = new ModelWindow(windowMax);
    let top = start;
    const recent: number[] = [];
    const counts: Record<ReplayCheck, number> = { fresh: 0, replayed: 0, 'too-old': 0, invalid: 0 };
    for (let step = 0; step < 40_000; step++) {
      let seq: number;
      const kind = prng.nextInt(100);
      if (kind < 35) seq = top + 1 + prng.nextInt(3); // the sender's next frames
      else if (kind < 55) seq = top - prng.nextInt(windowMax + 2); // reordered, or just past the edge
      else if (kind < 72) seq = recent[prng.nextInt(recent.length)] ?? top; // a replay of a recent frame
      else if (kind < 84) seq = top - windowMax - prng.nextInt(4) + 2; // around the edge
      else if (kind < 96) seq = top + 1 + prng.nextInt(3 * windowMax); // a jump within a few ring lengths
      else if (kind < 97) seq = top + 1 + prng.nextInt(1000 * windowMax); // a far jump
      else seq = top - prng.nextInt(10 * windowMax); // long ago
      if (seq > Number.MAX_SAFE_INTEGER) seq = Number.MAX_SAFE_INTEGER - prng.nextInt(windowMax);
      const expected = model.check(seq);
      const got = window.check(seq);
      if (got !== expected) expect(got, `step ${step} seq ${seq}`).toBe(expected); // expect() per step is slow
      counts[expected]++;
      if (expected === 'fresh') {
        window.accept(seq);
        model.accept(seq);
        recent[counts.fresh % 64] = seq;
        top = Math.max(top, seq);
        if (window.highestSeq !== top) expect(window.highestSeq, `step ${step}`).toBe(top);
      }
    }
    // The schedule exercised every answer a valid seq can get.
    expect(counts.fresh).toBeGreaterThan(500);
    expect(counts.replayed).toBeGreaterThan(500);
    expect(counts['too-old']).toBeGreaterThan(500);
  });

  it('accepts any first seq, then each reordered seq in the window exactly once', () => {
    for (const first of [1, 2, 1000, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
      const window = new ReplayWindow(1024);
      expect(window.highestSeq).toBe(0);
      expect(window.check(first)).toBe('fresh');
      window.accept(first);
      expect(window.check(first)).toBe('replayed');
    }
    const window = new ReplayWindow(1024);
    window.accept(5000);
    const order = Array.from({ length: 1023 }, (_, i) => 4999 - i).reverse(); // 3977..4999
    for (const seq of order) {
      expect(window.check(seq)).toBe('fresh');
      window.accept(seq);
    }
    for (const seq of order) expect(window.check(seq)).toBe('replayed');
    expect(window.check(5000 - 1023)).toBe('replayed'); // the oldest seq still in the window
    expect(window.check(5000 - 1024)).toBe('too-old'); // replayWindowMax behind: out
    expect(window.check(1)).toBe('too-old');
    expect(window.check(5001)).toBe('fresh');
  });

  it('forgets nothing inside the window and keeps nothing stale across a jump', () => {
    const window = new ReplayWindow(64); // a ring of 3 words
    for (let seq = 1; seq <= 64; seq++) window.accept(seq);
    window.accept(64 + 96); // one ring length ahead: every word is reused
    for (let seq = 64 + 96 - 63; seq < 64 + 96; seq++) expect(window.check(seq), `seq ${seq}`).toBe('fresh');
    expect(window.check(64 + 96 - 64)).toBe('too-old');
    window.accept(10_000_000); // far: the ring is cleared at once
    expect(window.check(10_000_000 - 1)).toBe('fresh');
    expect(window.check(10_000_000)).toBe('replayed');
  });

  it('calls invalid seqs invalid and never throws on them', () => {
    const window = new ReplayWindow();
    window.accept(10);
    const invalid: unknown[] = [0, -1, -Infinity, Infinity, NaN, 1.5, Number.MAX_SAFE_INTEGER + 1, 2 ** 64, '5', null, undefined, 5n];
    for (const seq of invalid) expect(window.check(seq as number), String(seq)).toBe('invalid');
  });

  it('asserts on accept of a seq that is not fresh', () => {
    const window = new ReplayWindow(32);
    window.accept(100);
    expect(() => window.accept(100)).toThrow(AssertionError); // replayed
    expect(() => window.accept(50)).toThrow(AssertionError); // too old
    expect(() => window.accept(0)).toThrow(AssertionError); // invalid
    expect(window.check(99)).toBe('fresh'); // and the failed accepts changed nothing
  });

  it('refuses a bad replayWindowMax with ConfigError', () => {
    for (const bad of [0, 16, 33, 1.5, -32, NaN, 2 ** 21]) expect(() => new ReplayWindow(bad), String(bad)).toThrow(ConfigError);
    expect(new ReplayWindow(32).replayWindowMax).toBe(32);
    expect(new ReplayWindow().replayWindowMax).toBe(1024);
  });
});
