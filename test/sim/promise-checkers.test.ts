/**
 * What this proves: the checkers of the promises Raft's safety rests on are not vacuous, and
 * they stay quiet on healthy observations.
 *
 * - Votes (checkers/votes.ts): a node that grants its vote of one term to two candidates is
 *   caught when the second grant leaves; a leader that took office without granted votes of its
 *   own term from a majority of its voters (a vote of an earlier term does not count) is caught
 *   when it takes office; a node that restarted does not keep the votes of its earlier life.
 * - Durable commits (checkers/durable-commits.ts): a node whose storage removes an entry equal
 *   to the committed one at its index is caught; removing an uncommitted entry, or one that
 *   differs from the committed entry there, is what a follower does and passes.
 * - Commit quorum (checkers/commit-quorum.ts): a leader's commit index moving to an entry that a
 *   majority of its voters does not hold durably is caught; held by a majority (a snapshot
 *   covering it counts) passes.
 * - The simulated storage reports exactly the entries a write removes other than by compaction
 *   (src/sim/memory-storage.ts `onEntriesDropped`).
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { CommitQuorumChecker } from '../../src/sim/checkers/commit-quorum.ts';
import { DurableCommitsChecker } from '../../src/sim/checkers/durable-commits.ts';
import { VoteChecker } from '../../src/sim/checkers/votes.ts';
import { MemoryStorage } from '../../src/sim/memory-storage.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';

function entry(index: number, term: number): Entry {
  return { index, term, kind: 'normal', data: new Uint8Array([index, term]) };
}

function grant(from: string, to: string, term: number, reject = false): Message {
  return { type: 'vote-response', from, to, term, reject };
}

describe('vote checker', () => {
  it('catches a node granting one term to two candidates', () => {
    const c = new VoteChecker();
    c.observeSent('n3', grant('n3', 'n1', 5), 10);
    c.observeSent('n3', grant('n3', 'n1', 5), 11); // the same grant again: fine
    c.observeSent('n3', grant('n3', 'n2', 5, true), 12); // a refusal: fine
    expect(c.violations).toEqual([]);
    c.observeSent('n3', grant('n3', 'n2', 5), 13);
    expect(c.violations.map((v) => v.detail)).toEqual(['n3 granted its vote of term 5 to n1 and then to n2']);
  });

  it('passes a leader with granted votes of its term from a majority', () => {
    const c = new VoteChecker();
    c.observeStepped('n1', grant('n2', 'n1', 7));
    c.observeStepped('n1', grant('n3', 'n1', 7));
    c.observeLeader('n1', 7, ['n1', 'n2', 'n3', 'n4', 'n5'], 20);
    expect(c.violations).toEqual([]);
    // A single voter wins with its own vote.
    c.observeLeader('n9', 1, ['n9'], 21);
    expect(c.violations).toEqual([]);
  });

  it('catches a leader that counted a vote of an earlier term, or a refusal', () => {
    const c = new VoteChecker();
    c.observeStepped('n1', grant('n2', 'n1', 6)); // granted in term 6, not 7
    c.observeStepped('n1', grant('n3', 'n1', 7));
    c.observeStepped('n1', grant('n4', 'n1', 7, true));
    c.observeLeader('n1', 7, ['n1', 'n2', 'n3', 'n4', 'n5'], 20);
    expect(c.violations.map((v) => v.detail)).toEqual(['n1 leads term 7 with votes of term 7 from only [n1, n3] of voters [n1, n2, n3, n4, n5]']);
  });

  it('forgets the votes a node received before it restarted', () => {
    const c = new VoteChecker();
    c.observeStepped('n1', grant('n2', 'n1', 3));
    c.onBoot('n1');
    c.observeLeader('n1', 3, ['n1', 'n2', 'n3'], 30);
    expect(c.violations).toHaveLength(1);
  });

  it('does not count votes from outside the configuration', () => {
    const c = new VoteChecker();
    c.observeStepped('n1', grant('n7', 'n1', 4));
    c.observeLeader('n1', 4, ['n1', 'n2', 'n3'], 40);
    expect(c.violations).toHaveLength(1);
  });
});

describe('durable commits checker', () => {
  const committed = [entry(1, 1), entry(2, 1), entry(3, 2)];
  const at = (i: number): Entry | undefined => committed[i - 1];

  it('passes removals of entries that are not the committed ones', () => {
    const c = new DurableCommitsChecker();
    c.observeDropped('n2', [entry(3, 1), entry(4, 1)], at, 10); // (3, 1) differs from the committed (3, 2)
    expect(c.violations).toEqual([]);
    expect(c.dropped).toBe(2);
  });

  it('catches the removal of a committed entry', () => {
    const c = new DurableCommitsChecker();
    c.observeDropped('n2', [entry(3, 2), entry(4, 2)], at, 10);
    expect(c.violations.map((v) => v.detail)).toEqual(['n2 removed the committed entry at index 3 (term 2) from its durable log']);
  });
});

describe('commit quorum checker', () => {
  const voters = ['n1', 'n2', 'n3', 'n4', 'n5'];

  it('passes a commit a majority of voters holds durably, a snapshot covering it included', () => {
    const c = new CommitQuorumChecker();
    const holds = (node: string, index: number, term: number): boolean => ['n1', 'n2', 'n4'].includes(node) && index === 9 && term === 3;
    c.observeLeaderCommit('n1', 3, entry(9, 3), voters, holds, 10);
    expect(c.violations).toEqual([]);
    expect(c.checks).toBe(1);
  });

  it('catches a commit a majority of voters does not hold (learners do not count)', () => {
    const c = new CommitQuorumChecker();
    const holds = (node: string): boolean => ['n1', 'n2', 'n6', 'n7'].includes(node);
    c.observeLeaderCommit('n1', 3, entry(9, 3), voters, holds, 10);
    expect(c.violations.map((v) => v.detail)).toEqual(['n1, leader of term 3, committed index 9 (term 3) held durably by only [n1, n2] of voters [n1, n2, n3, n4, n5]']);
  });
});

describe('simulated storage reports removed entries', () => {
  function storage(): { s: MemoryStorage; dropped: Entry[][]; scheduler: Scheduler } {
    const scheduler = new Scheduler();
    const dropped: Entry[][] = [];
    const s = new MemoryStorage({ scheduler, prng: createPrng(1), latency: { kind: 'uniform', minUs: 10, maxUs: 10 }, onEntriesDropped: (d) => dropped.push([...d]) });
    return { s, dropped, scheduler };
  }
  const hs = (term: number, commit: number) => ({ term, vote: null, commit });

  it('reports an overwritten suffix, not the entries written again unchanged, nor compaction', () => {
    const { s, dropped, scheduler } = storage();
    s.write({ hardState: hs(2, 0), entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }, () => undefined);
    s.write({ entries: [entry(2, 1), entry(3, 2)] }, () => undefined);
    scheduler.runUntil(1000, 1000);
    expect(dropped).toEqual([[entry(3, 1), entry(4, 1)]]);
    expect(s.holdsDurably(2, 1)).toBe(true);
    expect(s.holdsDurably(3, 1)).toBe(false);
    expect(s.holdsDurably(3, 2)).toBe(true);
  });

  it('reports the entries after a snapshot installed from the leader, and a snapshot covers what it holds', () => {
    const { s, dropped, scheduler } = storage();
    s.write({ hardState: hs(3, 0), entries: [entry(1, 1), entry(2, 1), entry(3, 2)] }, () => undefined);
    s.write({ hardState: hs(3, 5), snapshot: { meta: { index: 5, term: 3, config: { voters: ['n1'], learners: [] } }, data: new Uint8Array(0) }, clearLog: true }, () => undefined);
    scheduler.runUntil(1000, 1000);
    expect(dropped).toEqual([]); // every stored entry is at or below the snapshot
    expect(s.holdsDurably(4, 3)).toBe(true);
    expect(s.holdsDurably(6, 3)).toBe(false);
  });
});
