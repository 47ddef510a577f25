/**
 * The key-value machine and the board as parts of the composite machine, unchanged, with what
 * each command changed reported for change feeds: a written key (a `cas` only when it swapped),
 * the board when an operation took effect.
 */
import { BoardMachine, type BoardView } from '../board.ts';
import { decodeKvCommand, encodeKvResult, KvMachine } from '../kv.ts';
import type { ApplyContext, MachinePart } from './part.ts';
import { MalformedCommandError } from './fields.ts';

export class KvPart implements MachinePart {
  readonly kv = new KvMachine();

  apply(command: Uint8Array, ctx: ApplyContext): Uint8Array {
    const decoded = decodeKvCommand(command);
    if (!decoded.ok) return encodeKvResult({ op: 'invalid' });
    const result = this.kv.applyCommand(decoded.value);
    const c = decoded.value;
    if (c.op === 'write' || (c.op === 'cas' && result.op === 'cas' && result.ok)) ctx.report({ kind: 'key', key: c.key });
    return encodeKvResult(result);
  }

  snapshot(): Uint8Array {
    return this.kv.snapshot();
  }

  restore(snapshot: Uint8Array): void {
    this.kv.restore(snapshot);
  }

  /** A key: its value, null when absent. */
  query(query: unknown): string | null {
    if (typeof query !== 'string') throw new MalformedCommandError('a key-value read takes a string key');
    return this.kv.read(query);
  }
}

export class BoardPart implements MachinePart {
  readonly board = new BoardMachine();

  apply(command: Uint8Array, ctx: ApplyContext): Uint8Array {
    const result = this.board.apply(command, ctx.index);
    // The board remembers every command (even a refused one) in its recent log: always a change.
    ctx.report({ kind: 'board' });
    return result;
  }

  snapshot(): Uint8Array {
    return this.board.snapshot();
  }

  restore(snapshot: Uint8Array): void {
    this.board.restore(snapshot);
  }

  query(): BoardView {
    return this.board.view();
  }
}
