/**
 * The replicated state machine of the demo's collaborative board (demo/, `npm start`): an
 * ordered list of items, each with a text, a done flag and the node that added it. Every board
 * operation (add, edit, mark done or not, delete, move up or down) is ONE command, so the log
 * orders the operations of every tab and every replica shows the same board.
 *
 * Operations are written to keep their intent whatever was applied before them: `move` is
 * relative (one place up or down from wherever the item is when the command is applied), `done`
 * carries the wanted value rather than "toggle", and an item's id is the log index of the
 * command that added it (unique for the life of the cluster without any coordination). An
 * operation on an item that is gone answers `missing` and changes nothing.
 *
 * The machine also keeps the last `boardRecentMax` commands it applied, with their log
 * indices, so that a page can show "the last log entries" that every replica agrees on.
 *
 * Pure (DESIGN.md §1): `apply` is a deterministic function of the state and the command; equal
 * states give equal snapshot bytes. Bytes from the log are untrusted: a command that does not
 * decode, or breaks a limit, changes nothing and answers `invalid` on every replica.
 *
 * Wire format of a command (version 1):
 *   u8 version=1 | u8 op (1 add, 2 edit, 3 done, 4 delete, 5 move) |
 *   add: string text, string author | edit: string id, string text | done: string id, u8 done |
 *   delete: string id | move: string id, u8 direction (0 up, 1 down)
 * of a result:
 *   u8 status (1 added, 2 ok, 3 missing, 4 invalid) | added: string id
 * of a snapshot:
 *   u8 version=1 | varuint items | (string id, string text, u8 done, string author) * items |
 *   varuint recent | (varuint index, string summary) * recent
 * with strings as in ./bytes.ts (varuint byte length, UTF-8).
 */
import { err, ok, type Result } from '../core/result.ts';
import { ByteFormatError, ByteReader, ByteWriter, fnv1a64Hex } from './bytes.ts';
import type { StateMachine } from './state-machine.ts';

export const boardCommandVersion = 1;
export const boardSnapshotVersion = 1;
export const boardTextBytesMax = 280;
export const boardAuthorBytesMax = 64;
export const boardIdBytesMax = 24;
/** A board holds at most this many items; an `add` beyond it answers `invalid`. */
export const boardItemsMax = 200;
/** How many applied commands the machine remembers for display. */
export const boardRecentMax = 12;
const summaryBytesMax = 512;

export interface BoardItem {
  /** `i<log index of its add>`. */
  readonly id: string;
  readonly text: string;
  readonly done: boolean;
  /** The node that proposed the add. */
  readonly author: string;
}

/** One applied command, for display. */
export interface BoardLogEntry {
  readonly index: number;
  readonly summary: string;
}

export type BoardCommand =
  | { readonly op: 'add'; readonly text: string; readonly author: string }
  | { readonly op: 'edit'; readonly id: string; readonly text: string }
  | { readonly op: 'done'; readonly id: string; readonly done: boolean }
  | { readonly op: 'delete'; readonly id: string }
  | { readonly op: 'move'; readonly id: string; readonly direction: 'up' | 'down' };

export type BoardResult =
  | { readonly status: 'added'; readonly id: string }
  | { readonly status: 'ok' }
  /** No item with that id (deleted meanwhile): nothing changed. */
  | { readonly status: 'missing' }
  /** The command did not decode or broke a limit: nothing changed. */
  | { readonly status: 'invalid' };

/** What the board answers a read (`query`). */
export interface BoardView {
  readonly items: readonly BoardItem[];
  readonly recent: readonly BoardLogEntry[];
}

export class BoardDecodeError extends Error {
  override readonly name = 'BoardDecodeError';
  readonly code = 'BOARD_DECODE';
}

const opCodes = { add: 1, edit: 2, done: 3, delete: 4, move: 5 } as const;
const statusCodes = { added: 1, ok: 2, missing: 3, invalid: 4 } as const;

export function encodeBoardCommand(command: BoardCommand): Uint8Array {
  const w = new ByteWriter(32);
  w.u8(boardCommandVersion).u8(opCodes[command.op]);
  switch (command.op) {
    case 'add':
      w.string(command.text).string(command.author);
      break;
    case 'edit':
      w.string(command.id).string(command.text);
      break;
    case 'done':
      w.string(command.id).u8(command.done ? 1 : 0);
      break;
    case 'delete':
      w.string(command.id);
      break;
    case 'move':
      w.string(command.id).u8(command.direction === 'up' ? 0 : 1);
      break;
    default: {
      const never: never = command;
      return never;
    }
  }
  return w.finish();
}

export function decodeBoardCommand(bytes: Uint8Array): Result<BoardCommand, BoardDecodeError> {
  return decodeWith(bytes, (r) => {
    const version = r.u8();
    if (version !== boardCommandVersion) throw new BoardDecodeError(`unknown command version ${version}`);
    const code = r.u8();
    if (code === opCodes.add) return { op: 'add', text: r.string(boardTextBytesMax), author: r.string(boardAuthorBytesMax) };
    const id = r.string(boardIdBytesMax);
    if (code === opCodes.edit) return { op: 'edit', id, text: r.string(boardTextBytesMax) };
    if (code === opCodes.done) return { op: 'done', id, done: flag(r.u8()) };
    if (code === opCodes.delete) return { op: 'delete', id };
    if (code === opCodes.move) return { op: 'move', id, direction: flag(r.u8()) ? 'down' : 'up' };
    throw new BoardDecodeError(`unknown op code ${code}`);
  });
}

export function encodeBoardResult(result: BoardResult): Uint8Array {
  const w = new ByteWriter(16);
  w.u8(statusCodes[result.status]);
  if (result.status === 'added') w.string(result.id);
  return w.finish();
}

export function decodeBoardResult(bytes: Uint8Array): Result<BoardResult, BoardDecodeError> {
  return decodeWith(bytes, (r) => {
    const code = r.u8();
    if (code === statusCodes.added) return { status: 'added', id: r.string(boardIdBytesMax) };
    if (code === statusCodes.ok) return { status: 'ok' };
    if (code === statusCodes.missing) return { status: 'missing' };
    if (code === statusCodes.invalid) return { status: 'invalid' };
    throw new BoardDecodeError(`unknown result code ${code}`);
  });
}

function flag(byte: number): boolean {
  if (byte > 1) throw new BoardDecodeError(`bad flag byte ${byte}`);
  return byte === 1;
}

function decodeWith<T>(bytes: Uint8Array, decode: (r: ByteReader) => T): Result<T, BoardDecodeError> {
  try {
    const r = new ByteReader(bytes);
    const value = decode(r);
    if (!r.atEnd()) return err(new BoardDecodeError('trailing bytes'));
    return ok(value);
  } catch (error) {
    if (error instanceof BoardDecodeError) return err(error);
    if (error instanceof ByteFormatError) return err(new BoardDecodeError(error.message));
    throw error;
  }
}

/** At most `chars` characters of `text`, for summaries. */
function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

export class BoardMachine implements StateMachine {
  private items: BoardItem[] = [];
  private recent: BoardLogEntry[] = [];

  apply(command: Uint8Array, index: number): Uint8Array {
    const decoded = decodeBoardCommand(command);
    const result = decoded.ok ? this.applyCommand(decoded.value, index) : { status: 'invalid' as const };
    this.remember(index, decoded.ok ? summarize(decoded.value, result) : 'invalid command');
    return encodeBoardResult(result);
  }

  /** Apply one decoded command at log position `index`. Deterministic. */
  applyCommand(command: BoardCommand, index: number): BoardResult {
    if (command.op === 'add') {
      if (this.items.length >= boardItemsMax || command.text.trim().length === 0) return { status: 'invalid' };
      const id = `i${index}`;
      this.items.push({ id, text: command.text, done: false, author: command.author });
      return { status: 'added', id };
    }
    const at = this.items.findIndex((item) => item.id === command.id);
    const item = this.items[at];
    if (item === undefined) return { status: 'missing' };
    switch (command.op) {
      case 'edit':
        if (command.text.trim().length === 0) return { status: 'invalid' };
        this.items[at] = { ...item, text: command.text };
        return { status: 'ok' };
      case 'done':
        this.items[at] = { ...item, done: command.done };
        return { status: 'ok' };
      case 'delete':
        this.items.splice(at, 1);
        return { status: 'ok' };
      case 'move': {
        const to = command.direction === 'up' ? at - 1 : at + 1;
        if (to < 0 || to >= this.items.length) return { status: 'ok' };
        this.items.splice(at, 1);
        this.items.splice(to, 0, item);
        return { status: 'ok' };
      }
      default: {
        const never: never = command;
        return never;
      }
    }
  }

  private remember(index: number, summary: string): void {
    this.recent.push({ index, summary: clip(summary, 120) });
    if (this.recent.length > boardRecentMax) this.recent.splice(0, this.recent.length - boardRecentMax);
  }

  view(): BoardView {
    return { items: this.items.map((item) => ({ ...item })), recent: this.recent.map((entry) => ({ ...entry })) };
  }

  snapshot(): Uint8Array {
    const w = new ByteWriter(64 + 64 * this.items.length);
    w.u8(boardSnapshotVersion).varuint(this.items.length);
    for (const item of this.items) w.string(item.id).string(item.text).u8(item.done ? 1 : 0).string(item.author);
    w.varuint(this.recent.length);
    for (const entry of this.recent) w.varuint(entry.index).string(entry.summary);
    return w.finish();
  }

  /** Replace the state with a snapshot's; throws `BoardDecodeError` (and changes nothing) on bad bytes. */
  restore(snapshot: Uint8Array): void {
    const decoded = decodeWith(snapshot, (r) => {
      const version = r.u8();
      if (version !== boardSnapshotVersion) throw new BoardDecodeError(`unknown snapshot version ${version}`);
      const itemCount = r.varuint();
      if (itemCount > boardItemsMax) throw new BoardDecodeError(`snapshot of ${itemCount} items exceeds the limit`);
      const items: BoardItem[] = [];
      for (let i = 0; i < itemCount; i++) {
        items.push({ id: r.string(boardIdBytesMax), text: r.string(boardTextBytesMax), done: flag(r.u8()), author: r.string(boardAuthorBytesMax) });
      }
      const recentCount = r.varuint();
      if (recentCount > boardRecentMax) throw new BoardDecodeError(`snapshot of ${recentCount} log entries exceeds the limit`);
      const recent: BoardLogEntry[] = [];
      for (let i = 0; i < recentCount; i++) recent.push({ index: r.varuint(), summary: r.string(summaryBytesMax) });
      return { items, recent };
    });
    if (!decoded.ok) throw decoded.error;
    this.items = decoded.value.items;
    this.recent = decoded.value.recent;
  }

  digest(): string {
    return fnv1a64Hex(this.snapshot());
  }
}

function summarize(command: BoardCommand, result: BoardResult): string {
  const outcome = result.status === 'added' || result.status === 'ok' ? '' : ` (${result.status})`;
  switch (command.op) {
    case 'add':
      return `add "${clip(command.text, 40)}" by ${command.author}${outcome}`;
    case 'edit':
      return `edit ${command.id} to "${clip(command.text, 40)}"${outcome}`;
    case 'done':
      return `mark ${command.id} ${command.done ? 'done' : 'not done'}${outcome}`;
    case 'delete':
      return `delete ${command.id}${outcome}`;
    case 'move':
      return `move ${command.id} ${command.direction}${outcome}`;
    default: {
      const never: never = command;
      return never;
    }
  }
}
