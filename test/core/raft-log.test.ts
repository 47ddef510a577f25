/**
 * What this proves about `RaftLog`, the in-memory log with its applied / committed / persisted
 * marks: term lookup at and beyond the edges; the election restriction (§5.4.1) as a table;
 * the follower append of §5.3 for a match, a mismatch, a conflicting suffix that is truncated,
 * and a duplicate that changes nothing; the fast-backtracking hint (`findConflictByTerm`) as a
 * table; batching by entry count and by bytes (never less than one entry); the write cycle
 * `takeUnstable` / `stableTo`, including a suffix replaced while its write is in flight, after
 * which the persisted mark must not claim the replaced entries; `takeCommitted` handing out each
 * committed entry once; and the assertions that guard the log against our own bugs (a conflict at
 * or below the commit index, a commit beyond the log).
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/core/assert.ts';
import { entryOverheadBytes, RaftLog } from '../../src/core/raft/raft-log.ts';
import type { Entry } from '../../src/core/raft/types.ts';

function ent(index: number, term: number, bytes = 0): Entry {
  return { index, term, kind: 'normal', data: new Uint8Array(bytes) };
}

/** Entries 1..n with the given terms, e.g. terms(1, 1, 2) = [1@1, 2@1, 3@2]. */
function terms(...ts: number[]): Entry[] {
  return ts.map((t, i) => ent(i + 1, t));
}

function brief(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}@${e.term}`);
}

/** The one place that knows the constructor: a log booted from `stored` with no snapshot. */
function bootLog(stored: readonly Entry[], committed: number, applied: number): RaftLog {
  return new RaftLog(null, stored, committed, applied, { voters: ['1'], learners: [] });
}

function logOf(ts: number[], committed = 0): RaftLog {
  return bootLog(terms(...ts), committed, 0);
}

describe('term lookup', () => {
  const log = logOf([1, 1, 2, 3]);
  it.each<[number, number | undefined]>([
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 3],
    [5, undefined],
    [-1, undefined],
  ])('term(%i) = %s', (index, term) => {
    expect(log.term(index)).toBe(term);
  });

  it('knows its edges', () => {
    expect(log.firstIndex()).toBe(1);
    expect(log.lastIndex()).toBe(4);
    expect(log.lastTerm()).toBe(3);
    expect(logOf([]).lastIndex()).toBe(0);
    expect(logOf([]).lastTerm()).toBe(0);
  });

  it('matchTerm is true only for the entry present with that term', () => {
    expect(log.matchTerm(0, 0)).toBe(true);
    expect(log.matchTerm(3, 2)).toBe(true);
    expect(log.matchTerm(3, 1)).toBe(false);
    expect(log.matchTerm(9, 3)).toBe(false);
  });

  it('boot rejects a log that does not start at 1 or has a gap, and a commit beyond it', () => {
    expect(() => bootLog([ent(2, 1)], 0, 0)).toThrow(AssertionError);
    expect(() => bootLog([ent(1, 1), ent(3, 1)], 0, 0)).toThrow(AssertionError);
    expect(() => bootLog([ent(1, 1)], 2, 0)).toThrow(AssertionError);
  });
});

describe('isUpToDate (Raft paper §5.4.1)', () => {
  // Our log ends at (3, 2).
  const log = logOf([1, 2, 2]);
  it.each<[string, number, number, boolean]>([
    ['higher last term, shorter log', 1, 3, true],
    ['higher last term, longer log', 9, 3, true],
    ['same term, longer log', 4, 2, true],
    ['same term, same length', 3, 2, true],
    ['same term, shorter log', 2, 2, false],
    ['lower last term, longer log', 9, 1, false],
    ['lower last term, same length', 3, 1, false],
    ['empty log', 0, 0, false],
  ])('%s: (%i, %i) -> %s', (_name, lastIndex, lastTerm, expected) => {
    expect(log.isUpToDate(lastIndex, lastTerm)).toBe(expected);
  });

  it('an empty log counts a candidate with an empty log as up to date', () => {
    expect(logOf([]).isUpToDate(0, 0)).toBe(true);
  });
});

describe('maybeAppend (Raft paper §5.3)', () => {
  it.each<[string, number[], number, number, Entry[], number, string[]]>([
    ['append after a match', [1, 1], 2, 1, [ent(3, 2)], 3, ['1@1', '2@1', '3@2']],
    ['heartbeat-like empty append at a match', [1, 1], 2, 1, [], 2, ['1@1', '2@1']],
    ['match at index 0', [], 0, 0, [ent(1, 1), ent(2, 1)], 2, ['1@1', '2@1']],
    ['mismatch: prevTerm differs', [1, 1], 2, 2, [ent(3, 2)], -1, ['1@1', '2@1']],
    ['mismatch: prevIndex beyond the log', [1, 1], 5, 1, [ent(6, 1)], -1, ['1@1', '2@1']],
    ['conflict: a different-term suffix is truncated', [1, 1, 1, 1], 1, 1, [ent(2, 2)], 2, ['1@1', '2@2']],
    ['conflict in the middle of the new entries', [1, 1, 1], 1, 1, [ent(2, 1), ent(3, 3), ent(4, 3)], 4, ['1@1', '2@1', '3@3', '4@3']],
    ['duplicate: entries already present change nothing', [1, 1, 2], 1, 1, [ent(2, 1), ent(3, 2)], 3, ['1@1', '2@1', '3@2']],
    // The last new index is what the leader sent, not our (longer) log: the tail past it is kept
    // because it does not conflict with anything the leader said.
    ['a short duplicate keeps the longer tail', [1, 1, 2, 2], 1, 1, [ent(2, 1)], 2, ['1@1', '2@1', '3@2', '4@2']],
    ['partly new entries', [1, 1], 1, 1, [ent(2, 1), ent(3, 1)], 3, ['1@1', '2@1', '3@1']],
  ])('%s', (_name, initial, prevIndex, prevTerm, entries, lastNew, after) => {
    const log = logOf(initial);
    expect(log.maybeAppend(prevIndex, prevTerm, entries)).toBe(lastNew);
    expect(brief(log.slice(1, log.lastIndex(), 1000, 1 << 30))).toEqual(after);
  });

  it('asserts on a conflict at or below the commit index (two leaders committed different entries)', () => {
    const log = logOf([1, 1, 1], 2);
    expect(() => log.maybeAppend(1, 1, [ent(2, 2)])).toThrow(AssertionError);
    expect(() => log.maybeAppend(1, 1, [ent(2, 2)])).toThrow(/conflict at 2 at or below commit 2/);
  });

  it('accepts a conflict just above the commit index', () => {
    const log = logOf([1, 1, 1], 2);
    expect(log.maybeAppend(2, 1, [ent(3, 2)])).toBe(3);
    expect(log.term(3)).toBe(2);
  });
});

describe('findConflictByTerm (fast backtracking hint)', () => {
  // Index:   1  2  3  4  5  6  7
  // Term:    1  1  2  2  4  4  5
  const log = logOf([1, 1, 2, 2, 4, 4, 5]);
  it.each<[number, number, number, number]>([
    // index, term -> hint index, hint term
    [7, 5, 7, 5],
    [7, 4, 6, 4],
    [7, 3, 4, 2],
    [6, 3, 4, 2],
    [7, 2, 4, 2],
    [4, 2, 4, 2],
    [7, 1, 2, 1],
    [3, 1, 2, 1],
    [7, 0, 0, 0],
    [0, 9, 0, 0],
    // An index beyond the log starts from the last entry.
    [20, 9, 7, 5],
    [20, 3, 4, 2],
  ])('(%i, %i) -> (%i, %i)', (index, term, hintIndex, hintTerm) => {
    expect(log.findConflictByTerm(index, term)).toEqual({ index: hintIndex, term: hintTerm });
  });

  it('on an empty log the hint is (0, 0)', () => {
    expect(logOf([]).findConflictByTerm(5, 5)).toEqual({ index: 0, term: 0 });
  });
});

describe('slice', () => {
  // Ten entries of 100 bytes each: 124 bytes counted per entry with the overhead.
  const per = 100 + entryOverheadBytes;
  const log = bootLog(
    Array.from({ length: 10 }, (_, i) => ent(i + 1, 1, 100)),
    0,
    0,
  );
  it.each<[string, number, number, number, number, string]>([
    ['everything', 1, 10, 100, 1 << 20, '1..10'],
    ['capped by maxEntries', 1, 10, 3, 1 << 20, '1..3'],
    ['maxEntries from the middle', 4, 10, 3, 1 << 20, '4..6'],
    ['capped by hi', 8, 9, 100, 1 << 20, '8..9'],
    ['capped by bytes: exactly two fit', 1, 10, 100, 2 * per, '1..2'],
    ['capped by bytes: two and a bit', 1, 10, 100, 2 * per + 50, '1..2'],
    ['at least one entry even if it alone is too big', 5, 10, 100, 1, '5..5'],
    ['at least one entry with maxBytes 0', 5, 10, 100, 0, '5..5'],
    ['the tighter of the two limits wins', 1, 10, 2, 5 * per, '1..2'],
    ['a single entry', 7, 7, 100, 1 << 20, '7..7'],
  ])('%s', (_name, lo, hi, maxEntries, maxBytes, expected) => {
    const got = log.slice(lo, hi, maxEntries, maxBytes);
    expect(`${got[0]?.index}..${got[got.length - 1]?.index}`).toBe(expected);
  });

  it('is empty when lo > hi', () => {
    expect(log.slice(5, 4, 10, 1 << 20)).toEqual([]);
  });

  it('asserts on a range outside the log', () => {
    expect(() => log.slice(0, 3, 10, 1 << 20)).toThrow(AssertionError);
    expect(() => log.slice(5, 11, 10, 1 << 20)).toThrow(AssertionError);
  });
});

describe('the write cycle: takeUnstable / stableTo', () => {
  it('entries loaded at boot are durable; new ones are unstable until written', () => {
    const log = logOf([1, 1]);
    expect(log.persisted).toBe(2);
    expect(log.hasUnstable()).toBe(false);
    expect(log.takeUnstable()).toEqual([]);
    log.stableTo();
    log.append(ent(3, 1));
    log.append(ent(4, 1));
    expect(log.hasUnstable()).toBe(true);
    expect(brief(log.takeUnstable())).toEqual(['3@1', '4@1']);
    expect(log.hasUnstable()).toBe(false);
    // In flight: not durable yet.
    expect(log.persisted).toBe(2);
    log.stableTo();
    expect(log.persisted).toBe(4);
  });

  it('allows one write in flight at a time', () => {
    const log = logOf([]);
    log.append(ent(1, 1));
    log.takeUnstable();
    expect(() => log.takeUnstable()).toThrow(AssertionError);
  });

  it('entries appended while a write is in flight go in the next write', () => {
    const log = logOf([]);
    log.append(ent(1, 1));
    expect(brief(log.takeUnstable())).toEqual(['1@1']);
    log.append(ent(2, 1));
    log.stableTo();
    expect(log.persisted).toBe(1);
    expect(brief(log.takeUnstable())).toEqual(['2@1']);
    log.stableTo();
    expect(log.persisted).toBe(2);
  });

  it('a suffix replaced while its write is in flight is not claimed as persisted', () => {
    const log = logOf([1]); // 1@1 durable
    expect(log.maybeAppend(1, 1, [ent(2, 1), ent(3, 1), ent(4, 1)])).toBe(4);
    expect(brief(log.takeUnstable())).toEqual(['2@1', '3@1', '4@1']);
    // A new leader replaces 3 and 4 before the write of 2..4 completes.
    expect(log.maybeAppend(2, 1, [ent(3, 2)])).toBe(3);
    log.stableTo();
    // Only 1 and 2 are durable with the terms the log now holds; 3@2 was never written.
    expect(log.persisted).toBe(2);
    expect(log.hasUnstable()).toBe(true);
    expect(brief(log.takeUnstable())).toEqual(['3@2']);
    log.stableTo();
    expect(log.persisted).toBe(3);
  });

  it('a replacement of the whole in-flight write leaves persisted where it was', () => {
    const log = logOf([1]);
    log.maybeAppend(1, 1, [ent(2, 1), ent(3, 1)]);
    log.takeUnstable();
    log.maybeAppend(1, 1, [ent(2, 2)]);
    log.stableTo();
    expect(log.persisted).toBe(1);
    expect(brief(log.takeUnstable())).toEqual(['2@2']);
  });

  it('a replacement from index 1 while the first write is in flight leaves nothing persisted', () => {
    const log = logOf([]);
    log.maybeAppend(0, 0, [ent(1, 1), ent(2, 1)]);
    log.takeUnstable();
    log.maybeAppend(0, 0, [ent(1, 2)]);
    log.stableTo();
    expect(log.persisted).toBe(0);
    expect(brief(log.takeUnstable())).toEqual(['1@2']);
    log.stableTo();
    expect(log.persisted).toBe(1);
  });

  it('a replacement below the durable mark pulls persisted back', () => {
    const log = logOf([1, 1, 1]); // all durable
    expect(log.persisted).toBe(3);
    log.maybeAppend(1, 1, [ent(2, 2)]);
    expect(log.persisted).toBe(1);
    expect(brief(log.takeUnstable())).toEqual(['2@2']);
    log.stableTo();
    expect(log.persisted).toBe(2);
  });
});

describe('takeCommitted', () => {
  it('hands out each committed entry once, in order', () => {
    const log = logOf([1, 1, 1, 2, 2]);
    expect(log.hasCommittedToApply()).toBe(false);
    log.commitTo(3);
    expect(log.hasCommittedToApply()).toBe(true);
    expect(brief(log.takeCommitted())).toEqual(['1@1', '2@1', '3@1']);
    expect(log.applied).toBe(3);
    expect(log.takeCommitted()).toEqual([]);
    log.commitTo(5);
    expect(brief(log.takeCommitted())).toEqual(['4@2', '5@2']);
  });

  it('starts after what the state machine applied before boot', () => {
    const log = bootLog(terms(1, 1, 1, 1), 4, 2);
    expect(brief(log.takeCommitted())).toEqual(['3@1', '4@1']);
  });

  it('never goes beyond the last index: commitTo refuses to pass it', () => {
    const log = logOf([1, 1]);
    expect(() => log.commitTo(3)).toThrow(AssertionError);
    log.commitTo(2);
    expect(brief(log.takeCommitted())).toEqual(['1@1', '2@1']);
    expect(log.applied).toBeLessThanOrEqual(log.lastIndex());
  });

  it('commitTo never moves backwards', () => {
    const log = logOf([1, 1, 1], 2);
    expect(log.commitTo(1)).toBe(false);
    expect(log.committed).toBe(2);
    expect(log.commitTo(3)).toBe(true);
  });

  it('leader append asserts it continues the log above the commit index', () => {
    const log = logOf([1, 1], 2);
    expect(() => log.append(ent(4, 1))).toThrow(AssertionError);
    expect(() => log.append(ent(2, 1))).toThrow(AssertionError);
    log.append(ent(3, 1));
    expect(log.lastIndex()).toBe(3);
  });
});
