/**
 * What this proves about the demo board's state machine (src/machines/board.ts): commands and
 * results survive their binary encoding (non-ASCII text included) and malformed bytes are refused
 * with a typed error; add, edit, done, delete and move do what they say, with ids taken from the
 * log index, relative moves clamped at the ends, and operations on a deleted item answering
 * `missing` without changing anything; empty text, an over-long text and a full board answer
 * `invalid` and change nothing; the last applied commands are kept, bounded, in log order;
 * replicas that apply the same log hold equal state (equal digests) and a snapshot restores an
 * equal machine, while bad snapshot bytes are refused without touching the state.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/machines/bytes.ts';
import {
  BoardDecodeError,
  BoardMachine,
  boardItemsMax,
  boardRecentMax,
  boardTextBytesMax,
  decodeBoardCommand,
  decodeBoardResult,
  encodeBoardCommand,
  encodeBoardResult,
  type BoardCommand,
  type BoardResult,
} from '../../src/machines/board.ts';

/** Apply through the byte interface at `index`, decode the result. */
function apply(m: BoardMachine, c: BoardCommand, index: number): BoardResult {
  const r = decodeBoardResult(m.apply(encodeBoardCommand(c), index));
  if (!r.ok) throw r.error;
  return r.value;
}

const texts = (m: BoardMachine): string[] => m.view().items.map((i) => i.text);

describe('board command and result encoding', () => {
  it('round-trips every command and result, with non-ASCII text', () => {
    const commands: BoardCommand[] = [
      { op: 'add', text: 'acheter du café ☕', author: 'n1' },
      { op: 'edit', id: 'i7', text: 'ändern 🚀' },
      { op: 'done', id: 'i7', done: true },
      { op: 'done', id: 'i7', done: false },
      { op: 'delete', id: 'i9' },
      { op: 'move', id: 'i3', direction: 'up' },
      { op: 'move', id: 'i3', direction: 'down' },
    ];
    for (const c of commands) expect(decodeBoardCommand(encodeBoardCommand(c))).toEqual({ ok: true, value: c });
    const results: BoardResult[] = [{ status: 'added', id: 'i12' }, { status: 'ok' }, { status: 'missing' }, { status: 'invalid' }];
    for (const r of results) expect(decodeBoardResult(encodeBoardResult(r))).toEqual({ ok: true, value: r });
  });

  it('refuses malformed bytes with a BoardDecodeError', () => {
    const good = encodeBoardCommand({ op: 'delete', id: 'i1' });
    const cases = [new Uint8Array(), Uint8Array.of(9, 1), Uint8Array.of(1, 77), good.slice(0, good.length - 1), Uint8Array.of(...good, 0)];
    for (const bytes of cases) {
      const r = decodeBoardCommand(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBeInstanceOf(BoardDecodeError);
    }
    expect(decodeBoardCommand(Uint8Array.of(1, 3, 2, 0x69, 0x31, 2)).ok).toBe(false); // a done flag of 2
  });
});

describe('board operations', () => {
  it('adds items with ids from the log index, edits, marks done, moves and deletes them', () => {
    const m = new BoardMachine();
    expect(apply(m, { op: 'add', text: 'a', author: 'n1' }, 3)).toEqual({ status: 'added', id: 'i3' });
    expect(apply(m, { op: 'add', text: 'b', author: 'n2' }, 5)).toEqual({ status: 'added', id: 'i5' });
    expect(apply(m, { op: 'add', text: 'c', author: 'n1' }, 6)).toEqual({ status: 'added', id: 'i6' });
    expect(apply(m, { op: 'edit', id: 'i5', text: 'B' }, 7)).toEqual({ status: 'ok' });
    expect(apply(m, { op: 'done', id: 'i3', done: true }, 8)).toEqual({ status: 'ok' });
    expect(apply(m, { op: 'move', id: 'i6', direction: 'up' }, 9)).toEqual({ status: 'ok' });
    expect(texts(m)).toEqual(['a', 'c', 'B']);
    // Relative moves are clamped at the ends.
    expect(apply(m, { op: 'move', id: 'i3', direction: 'up' }, 10)).toEqual({ status: 'ok' });
    expect(apply(m, { op: 'move', id: 'i5', direction: 'down' }, 11)).toEqual({ status: 'ok' });
    expect(texts(m)).toEqual(['a', 'c', 'B']);
    expect(apply(m, { op: 'delete', id: 'i6' }, 12)).toEqual({ status: 'ok' });
    expect(m.view().items).toEqual([
      { id: 'i3', text: 'a', done: true, author: 'n1' },
      { id: 'i5', text: 'B', done: false, author: 'n2' },
    ]);
  });

  it('answers missing for a deleted item and changes nothing', () => {
    const m = new BoardMachine();
    apply(m, { op: 'add', text: 'a', author: 'n1' }, 1);
    apply(m, { op: 'delete', id: 'i1' }, 2);
    for (const c of [{ op: 'edit', id: 'i1', text: 'x' }, { op: 'done', id: 'i1', done: true }, { op: 'delete', id: 'i1' }, { op: 'move', id: 'i1', direction: 'up' }] as BoardCommand[]) {
      expect(apply(m, c, 3)).toEqual({ status: 'missing' });
    }
    expect(m.view().items).toEqual([]);
  });

  it('refuses empty text, over-long text, undecodable bytes and a full board with invalid', () => {
    const m = new BoardMachine();
    expect(apply(m, { op: 'add', text: '   ', author: 'n1' }, 1)).toEqual({ status: 'invalid' });
    expect(apply(m, { op: 'add', text: 'x'.repeat(boardTextBytesMax + 1), author: 'n1' }, 2)).toEqual({ status: 'invalid' });
    expect(decodeBoardResult(m.apply(Uint8Array.of(1, 99), 3))).toEqual({ ok: true, value: { status: 'invalid' } });
    apply(m, { op: 'add', text: 'keep', author: 'n1' }, 4);
    expect(apply(m, { op: 'edit', id: 'i4', text: '' }, 5)).toEqual({ status: 'invalid' });
    expect(texts(m)).toEqual(['keep']);
    for (let i = 1; i < boardItemsMax; i++) apply(m, { op: 'add', text: `t${i}`, author: 'n1' }, 10 + i);
    expect(m.view().items).toHaveLength(boardItemsMax);
    expect(apply(m, { op: 'add', text: 'one too many', author: 'n1' }, 100_000)).toEqual({ status: 'invalid' });
    expect(m.view().items).toHaveLength(boardItemsMax);
  });

  it('keeps the last applied commands, bounded, in log order', () => {
    const m = new BoardMachine();
    for (let i = 1; i <= boardRecentMax + 5; i++) apply(m, { op: 'add', text: `item ${i}`, author: 'n2' }, i);
    apply(m, { op: 'delete', id: 'i999' }, 100);
    const recent = m.view().recent;
    expect(recent).toHaveLength(boardRecentMax);
    expect(recent.map((e) => e.index)).toEqual([...recent.map((e) => e.index)].sort((a, b) => a - b));
    expect(recent[recent.length - 1]).toEqual({ index: 100, summary: 'delete i999 (missing)' });
    expect(recent[recent.length - 2]).toEqual({ index: boardRecentMax + 5, summary: `add "item ${boardRecentMax + 5}" by n2` });
  });
});

describe('board replicas and snapshots', () => {
  const log: BoardCommand[] = [
    { op: 'add', text: 'a', author: 'n1' },
    { op: 'add', text: 'b', author: 'n2' },
    { op: 'done', id: 'i1', done: true },
    { op: 'move', id: 'i2', direction: 'up' },
    { op: 'edit', id: 'i1', text: 'A' },
  ];

  it('replicas applying the same log hold equal state, and a different log differs', () => {
    const [x, y, z] = [new BoardMachine(), new BoardMachine(), new BoardMachine()];
    log.forEach((c, i) => {
      apply(x, c, i + 1);
      apply(y, c, i + 1);
      apply(z, c, i + 1);
    });
    apply(z, { op: 'delete', id: 'i2' }, 6);
    expect(x.digest()).toBe(y.digest());
    expect(x.snapshot()).toEqual(y.snapshot());
    expect(z.digest()).not.toBe(x.digest());
  });

  it('a snapshot restores an equal machine; bad bytes are refused and change nothing', () => {
    const m = new BoardMachine();
    log.forEach((c, i) => apply(m, c, i + 1));
    const copy = new BoardMachine();
    copy.restore(m.snapshot());
    expect(copy.view()).toEqual(m.view());
    expect(copy.digest()).toBe(m.digest());

    const before = copy.digest();
    const tooMany = new ByteWriter().u8(1).varuint(boardItemsMax + 1).finish();
    for (const bad of [Uint8Array.of(2, 0, 0), m.snapshot().slice(0, 5), tooMany]) {
      expect(() => copy.restore(bad)).toThrow(BoardDecodeError);
      expect(copy.digest()).toBe(before);
    }
  });
});
