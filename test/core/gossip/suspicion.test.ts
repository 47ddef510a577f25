/**
 * Lifeguard's dynamic suspicion (§IV-B): the timeout starts at `suspicionMaxTicks` and shrinks
 * logarithmically toward `suspicionMinTicks` as independent suspecters confirm. Proved by a table
 * of the formula, by `Suspicion` counting each suspecter once (the first one never, nobody past
 * k, so its memory is bounded), and on one engine fed suspicions by hand: each new suspecter
 * brings the deadline earlier, the member is declared dead exactly at it, and a refutation
 * (alive at a higher incarnation) clears it.
 */
import { describe, expect, it } from 'vitest';
import { Suspicion, suspicionTimeoutTicks } from '../../../src/core/gossip/suspicion.ts';
import { Solo } from './solo.ts';

describe('suspicion timeout (Lifeguard §IV-B)', () => {
  it.each([
    // confirmations, k, min, max, expected
    [0, 3, 30, 120, 120],
    [1, 3, 30, 120, 75], // 120 - 90·ln2/ln4
    [2, 3, 30, 120, 48], // 120 - 90·ln3/ln4 = 48.7
    [3, 3, 30, 120, 30],
    [5, 3, 30, 120, 30], // never below min
    [0, 0, 30, 120, 30], // nobody to confirm: min at once
    [0, 3, 50, 50, 50],
  ])('%i confirmations of k=%i in [%i, %i] -> %i ticks', (c, k, min, max, expected) => {
    expect(suspicionTimeoutTicks(c, k, min, max)).toBe(expected);
  });

  it('shrinks monotonically with confirmations', () => {
    let last = Number.POSITIVE_INFINITY;
    for (let c = 0; c <= 8; c++) {
      const t = suspicionTimeoutTicks(c, 8, 10, 1000);
      expect(t).toBeLessThan(last);
      last = t;
    }
  });

  it('counts each suspecter once, never the first, and nobody past k', () => {
    const s = new Suspicion(100, 'x', 2, 30, 120);
    expect(s.confirm('x')).toBe(false);
    expect(s.confirm('y')).toBe(true);
    expect(s.confirm('y')).toBe(false);
    expect(s.confirm('z')).toBe(true);
    expect(s.confirm('w')).toBe(false);
    expect(s.confirmations).toBe(2);
    expect(s.deadlineTick()).toBe(130);
  });
});

describe('suspicion in the engine', () => {
  const peers = ['s', 'b', 'c', 'd', 'e', 'f', 'g'];

  it('each independent suspecter brings the deadline earlier; dead exactly at it', () => {
    const solo = new Solo(peers, { suspicionConfirmationsK: 3 });
    solo.push('c', [{ kind: 'suspect', member: 'b', incarnation: 1, by: 'c' }]);
    const first = solo.member('b');
    expect(first?.state).toBe('suspect');
    const deadlines = [first?.suspicionDeadlineTick as number];
    for (const by of ['d', 'e', 'f']) {
      solo.push(by, [{ kind: 'suspect', member: 'b', incarnation: 1, by }]);
      deadlines.push(solo.member('b')?.suspicionDeadlineTick as number);
    }
    expect(deadlines[1]).toBeLessThan(deadlines[0] as number);
    expect(deadlines[2]).toBeLessThan(deadlines[1] as number);
    expect(deadlines[3]).toBeLessThan(deadlines[2] as number);
    expect(solo.member('b')?.confirmations).toBe(3);
    // A fourth confirmation changes nothing (k = 3).
    solo.push('g', [{ kind: 'suspect', member: 'b', incarnation: 1, by: 'g' }]);
    expect(solo.member('b')?.suspicionDeadlineTick).toBe(deadlines[3]);
    const deadline = deadlines[3] as number;
    solo.tick(deadline - solo.node.status().tick - 1);
    expect(solo.member('b')?.state).toBe('suspect');
    solo.tick();
    expect(solo.member('b')?.state).toBe('dead');
    expect(solo.node.status().counters.membersDeclaredDead).toBe(1);
  });

  it('the same suspecter repeating itself does not shorten anything', () => {
    const solo = new Solo(peers);
    for (let i = 0; i < 5; i++) solo.push('c', [{ kind: 'suspect', member: 'b', incarnation: 1, by: 'c' }]);
    expect(solo.member('b')?.confirmations).toBe(0);
  });

  it('a refutation (alive at a higher incarnation) clears the suspicion', () => {
    const solo = new Solo(peers);
    solo.push('c', [{ kind: 'suspect', member: 'b', incarnation: 1, by: 'c' }]);
    solo.push('d', [{ kind: 'alive', member: 'b', incarnation: 2 }]);
    expect(solo.member('b')).toMatchObject({ state: 'alive', incarnation: 2, suspicionDeadlineTick: null });
    // A stale suspicion of the old incarnation is ignored.
    solo.push('e', [{ kind: 'suspect', member: 'b', incarnation: 1, by: 'e' }]);
    expect(solo.member('b')?.state).toBe('alive');
  });
});
