/**
 * The board's state machine as a module the node's worker imports (`machine: { module }` of
 * `createNode`, `MachineModule` in src/runtime/node-host.ts): `createMachine` builds the pure
 * machine of src/machines/board.ts, and `query` answers a read with the whole board.
 *
 * Served as TypeScript by the dev server (`npm start`), and built to `board-machine.js` next to
 * the pages (demo/vite.config.ts), so `board-url.ts` names one or the other.
 */
import { BoardMachine, type BoardView } from '../src/machines/board.ts';
import type { StateMachine } from '../src/machines/state-machine.ts';
import type { MachineModule } from '../src/runtime/node-host.ts';

/** The only read the board answers: the items in order, and the last applied commands. */
export interface BoardQuery {
  readonly kind: 'board';
}

export class BoardQueryError extends Error {
  override readonly name = 'BoardQueryError';
  readonly code = 'CONFIG';
}

export const createMachine: MachineModule['createMachine'] = () => new BoardMachine();

export function query(machine: StateMachine, q: unknown): BoardView {
  if (!(machine instanceof BoardMachine)) throw new BoardQueryError('this node does not run the board machine');
  if (typeof q !== 'object' || q === null || (q as Partial<BoardQuery>).kind !== 'board') throw new BoardQueryError('the board answers { kind: "board" } only');
  return machine.view();
}
