/**
 * A linearizability checker for key-value histories (`history.ts`): the Wing–Gong search with
 * Lowe's memoization, in the shape of Porcupine's `checkSingle`. Written here from the papers:
 * - J. M. Wing, C. Gong, "Testing and verifying concurrent objects", JPDC 1993.
 * - G. Lowe, "Testing for linearizability", CCPE 2017 (the cache of visited configurations).
 * - M. Herlihy, J. Wing, "Linearizability", TOPLAS 1990, section 3.3 (locality, which is why
 *   each key is checked on its own: a history is linearizable iff every key's sub-history is).
 *
 * THE MODEL. Every key is a register that starts absent (null). read(v) is legal iff the
 * register holds v; write(v) sets it; cas(e → v) that returned ok:true is legal iff it holds e
 * and sets v; cas(e) that returned ok:false (a definite failure) is legal iff it does NOT hold
 * e and changes nothing: the failure is an observation too. Reads and writes that returned
 * ok:false had no effect and say nothing, so they are dropped.
 *
 * REAL-TIME ORDER. A precedes B only when A.ret < B.call, strictly: an equal timestamp is
 * concurrent. Our clocks are virtual microseconds and two events can share one; calling them
 * concurrent can only accept more histories, never refute a correct one. In the event list this
 * is "at equal times, calls sort before returns".
 *
 * THE SEARCH. Events of completed ops sit in a doubly linked list sorted by time. Walking from
 * the head, every call before the first return is an op that may be linearized next (nothing
 * unlinearized returned before it was called). Linearizing one lifts its call and return out
 * of the list and restarts the walk; reaching the first return means that op could not go
 * next, so we backtrack. The stack is explicit (a key can have thousands of ops), and a
 * configuration (set of linearized ops, register value) already visited is never expanded
 * twice: it failed before, or it is on the current path.
 *
 * UNKNOWN OUTCOMES (ret null). A read with an unknown outcome observed nothing: dropped. A
 * write or cas with an unknown outcome returns at +infinity and may also never take effect, so
 * it is an OPTIONAL op: the search succeeds once every completed op is linearized, whether or
 * not the unknown ones were. Why that is sound and complete: an unknown op that was not placed
 * can be appended after every completed op (its call precedes that point and nothing must
 * follow it, its return being at infinity), where no observation remains to be affected; and
 * one that never took effect is exactly one that is placed nowhere. Unknown ops are kept out of
 * the event list and tried when the walk reaches the first return, i.e. whenever their call is
 * not after the earliest pending return, which is the same eligibility rule as for the others.
 * Three reductions keep the search from trying every subset and order of a pile of timed-out
 * writes, each exact (the set of histories accepted does not change; a test checks the verdicts
 * against a brute-force oracle):
 * 1. A value that no read returned and no cas expected cannot be told from any other such
 *    value (a read never matches it, a cas never matches it, a failed cas always does), so all
 *    of them are one register value, UNOBSERVED.
 * 2. Unknown ops with the same effect (same kind, expected and canonical new value) are
 *    interchangeable: they differ only in their call time, and swapping a placed later one for
 *    an unplaced earlier one keeps every real-time constraint. So within such a class only the
 *    earliest unplaced op is ever tried. An unknown op that would leave the register unchanged
 *    (including a cas whose comparison fails) is never placed: placing it is the same as not.
 * 3. Right after an unknown op U that moved the register from s to u, only an op X that could
 *    not have gone in s is placed: a read of u, a cas expecting u, or a failed cas expecting s.
 *    Any linearization can be rewritten into one of that shape, one step at a time: if X is a
 *    write, U's effect is overwritten, so drop U; if X is a read or a failed cas that was legal
 *    in s, swap them (U may always move later: it returns at infinity, so nothing must follow
 *    it, and X leaves the register as it found it). A cas that swapped in both s and u cannot
 *    exist, as s differs from u. The rewrite ends: each step drops U or moves it later. Because
 *    this rule depends on the path, not only on (set, value), the cache key also holds s while
 *    the last op placed was an unknown one; otherwise a visit under the rule could wrongly
 *    stand for a visit without it.
 * 4. If a candidate leaves the register unchanged (a read, a failed cas) and is legal now (and
 *    allowed by 3), it goes next and nothing else is tried from here. If any linearization of
 *    the rest exists, one starts with it: move it to the front of that linearization; it is
 *    legal there, no op had to precede it (it is a candidate), and the ops it jumped over see
 *    the same values as before. Where it was removed, an unknown op may lose the op that needed
 *    it; the rewrite of 3, applied after the moved op, restores the shape. This also applies
 *    the same way to every configuration, so the cache stays sound. It removes most branching
 *    on reads, which are the bulk of a history.
 *
 * THE BUDGET. A state is a configuration stored in the cache, i.e. one expanded by the search.
 * A key whose search needs more than `maxStatesPerKey` of them is neither proven nor refuted
 * and is reported in `undecidedKeys`. `ok` is false only when some key is refuted: an undecided
 * key does NOT make the result fail, so a caller that wants proof must also require
 * `undecidedKeys` to be empty. The budget bounds time (between two new states the search only
 * walks a bounded list or pops the stack) and memory: each state costs one bit per op of the
 * key, and whatever budget is asked for, a key gets at most `memoWordsMax` words and
 * `memoEntriesMax` states (so about 400,000 states for a key of 5,000 ops).
 */
import { findHistoryOpProblem, HistoryFormatError } from './history.ts';
import { prepareKey } from './linearizability-model.ts';
import { KeySearch } from './linearizability-search.ts';

export { memoEntriesMax, memoWordsMax } from './linearizability-search.ts';
import type { HistoryOp } from './history.ts';

export interface LinearizabilityResult {
  /** False iff some key's history was refuted. Undecided keys leave it true: see above. */
  ok: boolean;
  keysChecked: number;
  /** keys whose search hit the budget: neither proven nor refuted */
  undecidedKeys: string[];
  /** for the first failing key (in order of first appearance): the key and why */
  failure?: { key: string; detail: string };
}

export interface LinearizabilityOptions {
  /** Search steps allowed per key before it is declared undecided. */
  maxStatesPerKey?: number;
}

export const maxStatesPerKeyDefault = 2_000_000;

export function checkLinearizability(
  ops: readonly HistoryOp[],
  options?: LinearizabilityOptions,
): LinearizabilityResult {
  const maxStatesPerKey = options?.maxStatesPerKey ?? maxStatesPerKeyDefault;
  if (!(Number.isSafeInteger(maxStatesPerKey) && maxStatesPerKey > 0)) {
    throw new RangeError(`maxStatesPerKey must be a positive integer, got ${maxStatesPerKey}`);
  }
  const indicesByKey = new Map<string, number[]>();
  for (let i = 0; i < ops.length; i++) {
    const problem = findHistoryOpProblem(ops[i]);
    if (problem !== null) throw new HistoryFormatError(`history op #${i}: ${problem}`, null);
    const op = ops[i] as HistoryOp;
    const indices = indicesByKey.get(op.key);
    if (indices === undefined) indicesByKey.set(op.key, [i]);
    else indices.push(i);
  }
  const result: LinearizabilityResult = { ok: true, keysChecked: 0, undecidedKeys: [] };
  for (const [key, indices] of indicesByKey) {
    const problem = prepareKey(key, ops, indices);
    const verdict = new KeySearch(problem, maxStatesPerKey).run();
    result.keysChecked++;
    if (verdict.kind === 'undecided') result.undecidedKeys.push(key);
    if (verdict.kind === 'refuted' && result.ok) {
      result.ok = false;
      result.failure = { key, detail: verdict.detail };
    }
  }
  return result;
}
