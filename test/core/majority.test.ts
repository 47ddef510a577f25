/**
 * What this proves about the majority-quorum arithmetic the Raft core builds on: the size of a
 * majority for every small cluster, the commit candidate (the largest index a majority has
 * reached) for 1 to 7 voters including ties, zeros, unknown voters and the empty configuration,
 * the outcome of an election from partial tallies (won / lost / pending), and whether a set of
 * active members is a quorum. Everything is a table: one row per case, the expectation beside it.
 */
import { describe, expect, it } from 'vitest';
import { committedIndex, hasQuorum, majoritySize, voteResult, type VoteResult } from '../../src/core/quorum/majority.ts';

/** Voters "1".."n" for the given acknowledged indices, in order. */
function votersOf(acked: readonly number[]): { voters: string[]; indexOf: (id: string) => number } {
  const voters = acked.map((_, i) => String(i + 1));
  const map = new Map(voters.map((v, i) => [v, acked[i] as number]));
  return { voters, indexOf: (id) => map.get(id) ?? 0 };
}

describe('majoritySize', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [6, 4],
    [7, 4],
    [9, 5],
  ])('%i voters need %i', (size, need) => {
    expect(majoritySize(size)).toBe(need);
  });
});

describe('committedIndex', () => {
  it.each<[string, number[], number]>([
    ['1 voter', [5], 5],
    ['1 voter at zero', [0], 0],
    ['2 voters: both must have it', [5, 3], 3],
    ['2 voters, one at zero', [0, 5], 0],
    ['3 voters: the median', [5, 3, 1], 3],
    ['3 voters, tie on top', [5, 5, 1], 5],
    ['3 voters, tie below', [7, 2, 2], 2],
    ['3 voters, all equal', [4, 4, 4], 4],
    ['3 voters, only one ahead', [0, 0, 7], 0],
    ['3 voters, all zero', [0, 0, 0], 0],
    ['4 voters need 3', [4, 3, 2, 1], 2],
    ['4 voters, half is not enough', [5, 5, 0, 0], 0],
    ['4 voters, three at 5', [5, 0, 5, 5], 5],
    ['5 voters: the third highest', [1, 2, 3, 4, 5], 3],
    ['5 voters, two far ahead', [9, 9, 1, 1, 1], 1],
    ['5 voters, three far ahead', [9, 1, 9, 1, 9], 9],
    ['5 voters, ties', [3, 3, 3, 3, 3], 3],
    ['7 voters need 4', [7, 6, 5, 4, 3, 2, 1], 4],
    ['7 voters, shuffled', [2, 7, 1, 5, 3, 6, 4], 4],
    ['7 voters, three zeros', [0, 8, 0, 8, 0, 8, 8], 8],
    ['7 voters, four zeros', [0, 8, 0, 8, 0, 8, 0], 0],
  ])('%s: %j -> %i', (_name, acked, expected) => {
    const { voters, indexOf } = votersOf(acked);
    expect(committedIndex(voters, indexOf)).toBe(expected);
  });

  it('commits everything in an empty configuration (the joint-config convention)', () => {
    expect(committedIndex([], () => 0)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('counts a voter the callback does not know as 0', () => {
    expect(committedIndex(['1', '2', '3'], (id) => (id === '1' ? 9 : id === '2' ? 9 : 0))).toBe(9);
    expect(committedIndex(['1', '2', '3'], (id) => (id === '1' ? 9 : 0))).toBe(0);
  });

  it('asks only about the voters it was given', () => {
    const asked: string[] = [];
    committedIndex(['a', 'b', 'c'], (id) => {
      asked.push(id);
      return 1;
    });
    expect(asked.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('voteResult', () => {
  // Each tally is a string with one character per voter "1".."n": y granted, n rejected, . no answer.
  it.each<[string, VoteResult]>([
    ['.', 'pending'],
    ['y', 'won'],
    ['n', 'lost'],
    ['..', 'pending'],
    ['y.', 'pending'],
    ['yy', 'won'],
    ['yn', 'lost'],
    ['...', 'pending'],
    ['y..', 'pending'],
    ['yy.', 'won'],
    ['yn.', 'pending'],
    ['ynn', 'lost'],
    ['nn.', 'lost'],
    ['yny', 'won'],
    ['y...', 'pending'],
    ['yy..', 'pending'],
    ['yyn.', 'pending'],
    ['yynn', 'lost'],
    ['yyy.', 'won'],
    ['nn..', 'lost'],
    ['y....', 'pending'],
    ['yy...', 'pending'],
    ['yyy..', 'won'],
    ['yynn.', 'pending'],
    ['yynnn', 'lost'],
    ['nnn..', 'lost'],
    ['yyyy...', 'won'],
    ['yyynnn.', 'pending'],
    ['yyynnnn', 'lost'],
  ])('tally %s -> %s', (tally, expected) => {
    const voters = [...tally].map((_, i) => String(i + 1));
    const votes = new Map<string, boolean>();
    [...tally].forEach((c, i) => {
      if (c !== '.') votes.set(String(i + 1), c === 'y');
    });
    expect(voteResult(voters, votes)).toBe(expected);
  });

  it('ignores answers from non-voters', () => {
    const votes = new Map([
      ['8', true],
      ['9', true],
      ['1', true],
    ]);
    expect(voteResult(['1', '2', '3'], votes)).toBe('pending');
  });

  it('an empty configuration is won (the joint-config convention)', () => {
    expect(voteResult([], new Map())).toBe('won');
  });
});

describe('hasQuorum', () => {
  it.each<[string, boolean]>([
    ['y', true],
    ['n', false],
    ['yn', false],
    ['yy', true],
    ['ynn', false],
    ['yyn', true],
    ['nyy', true],
    ['yynn', false],
    ['yyyn', true],
    ['yynnn', false],
    ['nynyy', true],
    ['yyynnnn', false],
    ['yyyynnn', true],
  ])('active %s -> %s', (active, expected) => {
    const voters = [...active].map((_, i) => String(i + 1));
    expect(hasQuorum(voters, (id) => active[Number(id) - 1] === 'y')).toBe(expected);
  });
});
