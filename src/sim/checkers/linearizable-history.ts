/**
 * Linearizability of the clients' history, per key (the Wing–Gong search in
 * `../linearizability.ts`). A key whose search ran out of budget is "undecided": neither proven
 * nor refuted; it does not fail the run but is reported, so that a reader knows the proof is
 * partial.
 */
import type { HistoryOp } from '../history.ts';
import { checkLinearizability } from '../linearizability.ts';

export interface HistoryVerdict {
  readonly ok: boolean;
  readonly keysChecked: number;
  readonly undecidedKeys: readonly string[];
  readonly failure?: { readonly key: string; readonly detail: string };
}

export const historyStatesPerKeyMax = 1_000_000;

export function checkHistory(ops: readonly HistoryOp[], maxStatesPerKey = historyStatesPerKeyMax): HistoryVerdict {
  const r = checkLinearizability(ops, { maxStatesPerKey });
  const verdict: HistoryVerdict = { ok: r.ok, keysChecked: r.keysChecked, undecidedKeys: r.undecidedKeys };
  return r.failure === undefined ? verdict : { ...verdict, failure: r.failure };
}
