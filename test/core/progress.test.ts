/**
 * What this proves about `Progress`, the leader's view of one follower: the probe state sends
 * one append and pauses until an answer, the replicate state streams until its inflight window
 * is full; a success moves `match` and `next` forward but never back (stale successes are
 * ignored); a rejection moves `next` back to where the follower's hint says the logs may match
 * but never to or below `match`, and a stale rejection (for an append sent before a later
 * success, or not for the probe just sent) is ignored in both states. Transitions reset the
 * window and restart from `match + 1`. In the snapshot state the leader waits for one chunk at
 * a time and append rejections say nothing new.
 */
import { describe, expect, it } from 'vitest';
import { Progress } from '../../src/core/raft/progress.ts';

function probe(next: number, match = 0): Progress {
  const pr = new Progress(next, 4);
  pr.match = match;
  return pr;
}

function replicate(match: number, inflight = 4): Progress {
  const pr = new Progress(match + 1, inflight);
  pr.match = match;
  pr.becomeReplicate();
  return pr;
}

describe('state transitions', () => {
  it('starts probing at the given next index', () => {
    const pr = new Progress(7, 4);
    expect(pr.state).toBe('probe');
    expect(pr.next).toBe(7);
    expect(pr.match).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it('becomeReplicate restarts from match + 1 with an empty window', () => {
    const pr = probe(10, 5);
    pr.probeSent = true;
    pr.becomeReplicate();
    expect(pr).toMatchObject({ state: 'replicate', next: 6, probeSent: false });
    expect(pr.inflights.size).toBe(0);
  });

  it('becomeProbe restarts from match + 1 and forgets the window', () => {
    const pr = replicate(5);
    pr.onAppendSent(7, 2);
    pr.onAppendSent(9, 2);
    expect(pr.next).toBe(10);
    pr.becomeProbe();
    expect(pr).toMatchObject({ state: 'probe', next: 6, probeSent: false });
    expect(pr.inflights.size).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });
});

describe('isPaused and onAppendSent', () => {
  it('probe: one append, then paused until something is heard; next does not move', () => {
    const pr = probe(5, 4);
    pr.onAppendSent(8, 4);
    expect(pr.isPaused()).toBe(true);
    expect(pr.next).toBe(5);
    pr.maybeUpdate(8);
    expect(pr.isPaused()).toBe(false);
  });

  it('probe: an empty append pauses too (it is still a probe)', () => {
    const pr = probe(5, 4);
    pr.onAppendSent(4, 0);
    expect(pr.isPaused()).toBe(true);
  });

  it('replicate: streams until the window is full, advancing next optimistically', () => {
    const pr = replicate(0, 3);
    pr.onAppendSent(2, 2);
    pr.onAppendSent(4, 2);
    expect(pr.isPaused()).toBe(false);
    pr.onAppendSent(5, 1);
    expect(pr.next).toBe(6);
    expect(pr.isPaused()).toBe(true);
    pr.inflights.freeLE(2);
    expect(pr.isPaused()).toBe(false);
  });

  it('replicate: an empty append (commit only) takes no slot in the window', () => {
    const pr = replicate(3, 1);
    pr.onAppendSent(3, 0);
    expect(pr.inflights.size).toBe(0);
    expect(pr.next).toBe(4);
  });
});

describe('maybeUpdate', () => {
  it.each<[string, number, number, number, boolean, number, number]>([
    // match, next, acked index -> updated, match, next
    ['a new match', 2, 3, 5, true, 5, 6],
    ['a stale success below match', 5, 6, 3, false, 5, 6],
    ['a duplicate success at match', 5, 6, 5, false, 5, 6],
    ['a success below next but above match (replicate streamed ahead)', 2, 9, 5, true, 5, 9],
    ['next never moves back', 0, 10, 0, false, 0, 10],
  ])('%s', (_name, match, next, index, updated, matchAfter, nextAfter) => {
    const pr = new Progress(next, 4);
    pr.match = match;
    expect(pr.maybeUpdate(index)).toBe(updated);
    expect(pr.match).toBe(matchAfter);
    expect(pr.next).toBe(nextAfter);
  });

  it('a new match unpauses a probe', () => {
    const pr = probe(3, 2);
    pr.probeSent = true;
    pr.maybeUpdate(3);
    expect(pr.probeSent).toBe(false);
  });
});

describe('maybeDecrTo', () => {
  describe('in the probe state', () => {
    it.each<[string, number, number, number, number, boolean, number]>([
      // match, next, rejected prevIndex, probe hint -> accepted, next after
      ['the hint jumps back over a whole term', 0, 61, 60, 1, true, 2],
      ['no useful hint: one step back', 0, 6, 5, 9, true, 5],
      ['the hint is beyond the rejected index: one step back', 0, 6, 5, 5, true, 5],
      ['never below match + 1', 3, 10, 9, 0, true, 4],
      ['hint 0 goes to index 1', 0, 10, 9, 0, true, 1],
      ['stale: not the probe just sent (older prevIndex)', 0, 6, 3, 1, false, 6],
      ['stale: not the probe just sent (newer prevIndex)', 0, 6, 8, 1, false, 6],
    ])('%s', (_name, match, next, rejected, hint, accepted, nextAfter) => {
      const pr = probe(next, match);
      pr.probeSent = true;
      expect(pr.maybeDecrTo(rejected, hint)).toBe(accepted);
      expect(pr.next).toBe(nextAfter);
      // An accepted rejection is the answer to the probe: the next probe may go.
      expect(pr.probeSent).toBe(!accepted);
    });
  });

  describe('in the replicate state', () => {
    it('a rejection above match sends next back to match + 1', () => {
      const pr = replicate(5);
      pr.onAppendSent(8, 3);
      pr.onAppendSent(10, 2);
      expect(pr.maybeDecrTo(8, 2)).toBe(true);
      expect(pr.next).toBe(6);
    });

    it.each([3, 5])('a stale rejection of prevIndex %i (at or below match) is ignored', (rejected) => {
      const pr = replicate(5);
      pr.onAppendSent(8, 3);
      expect(pr.maybeDecrTo(rejected, 0)).toBe(false);
      expect(pr.next).toBe(9);
      expect(pr.match).toBe(5);
    });
  });
});

describe('the snapshot state', () => {
  it('pauses while a chunk is in flight and ignores every append rejection', () => {
    const pr = probe(5, 2);
    pr.becomeSnapshot({ meta: { index: 40, term: 1, config: { voters: ['a'], learners: [] } }, data: new Uint8Array(8) });
    expect(pr).toMatchObject({ state: 'snapshot', snapshotIndex: 40, snapshotAcked: 0 });
    expect(pr.isPaused()).toBe(false);
    pr.snapshotChunkInFlight = true;
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeDecrTo(4, 0)).toBe(false);
    expect(pr.next).toBe(5);
  });
});
