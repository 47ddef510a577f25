/**
 * One key's linearizability problem, as the search needs it: completed ops turned into register
 * steps over small value ids, unknown-outcome ops grouped into classes of equal effect, and the
 * event list of calls and returns. The reductions these encode, and why each is exact, are
 * explained at the top of `linearizability.ts`.
 */
import { assert } from '../core/assert.ts';
import type { HistoryOp } from './history.ts';

// ---------------------------------------------------------------------------------------------
// One key's problem: completed ops as model steps, unknown ops grouped into classes.

/** Register value id shared by every value that nothing observes (reduction 1 above). */
export const UNOBSERVED = 0;

export const STEP_READ = 0;
const STEP_WRITE = 1;
const STEP_CAS = 2;
export const STEP_CAS_FAILED = 3;

export interface UnknownClass {
  /** STEP_WRITE or STEP_CAS. */
  readonly kind: number;
  /** Expected value id (cas only). */
  readonly expected: number;
  readonly written: number;
  /** Sorted by call time; the three arrays are parallel. */
  readonly calls: number[];
  readonly bits: number[];
  readonly inputIndices: number[];
}

export interface KeyProblem {
  readonly key: string;
  readonly ops: readonly HistoryOp[];
  /** Completed op i (bit i) is input op inputIndices[i]. */
  readonly inputIndices: number[];
  readonly kinds: number[];
  /** Value ids: the value required (read, cas, failed cas). */
  readonly expected: number[];
  /** Value ids: the value left (write, cas). */
  readonly written: number[];
  readonly calls: number[];
  readonly rets: number[];
  readonly classes: UnknownClass[];
  readonly bitCount: number;
  readonly initialState: number;
  /** Value id to value, for messages. Index UNOBSERVED is a placeholder. */
  readonly valueNames: (string | null)[];
}

export function prepareKey(
  key: string,
  ops: readonly HistoryOp[],
  indices: readonly number[],
): KeyProblem {
  // Dropped ops carry no information: reads that failed or timed out, writes that failed.
  const kept = indices.filter((i) => {
    const op = ops[i] as HistoryOp;
    if (op.op === 'read') return op.ok === true;
    return !(op.op === 'write' && op.ok === false);
  });
  // Pass 1: the observed values get ids of their own (every other value is UNOBSERVED).
  const ids = new Map<string | null, number>();
  const valueNames: (string | null)[] = [null];
  const observe = (value: string | null): void => {
    if (ids.has(value)) return;
    ids.set(value, valueNames.length);
    valueNames.push(value);
  };
  for (const i of kept) {
    const op = ops[i] as HistoryOp;
    if (op.op === 'read') observe(op.output);
    if (op.op === 'cas') observe(op.expected);
  }
  const idOf = (value: string | null): number => ids.get(value) ?? UNOBSERVED;
  // Pass 2: completed ops become model steps, unknown ones join their class.
  const problem: KeyProblem = {
    key,
    ops,
    inputIndices: [],
    kinds: [],
    expected: [],
    written: [],
    calls: [],
    rets: [],
    classes: [],
    bitCount: 0,
    initialState: idOf(null),
    valueNames,
  };
  const classByEffect = new Map<string, UnknownClass>();
  for (const i of kept) {
    const op = ops[i] as HistoryOp;
    const kind = stepKindOf(op);
    const expected = op.op === 'write' ? UNOBSERVED : idOf(op.expected);
    const written = idOf(op.value);
    if (op.ret !== null) {
      problem.inputIndices.push(i);
      problem.kinds.push(kind);
      problem.expected.push(kind === STEP_READ ? idOf(op.output) : expected);
      problem.written.push(written);
      problem.calls.push(op.call);
      problem.rets.push(op.ret);
      continue;
    }
    const effect = `${kind}:${expected}:${written}`;
    let cls = classByEffect.get(effect);
    if (cls === undefined) {
      cls = { kind, expected, written, calls: [], bits: [], inputIndices: [] };
      classByEffect.set(effect, cls);
      problem.classes.push(cls);
    }
    cls.inputIndices.push(i);
  }
  return assignUnknownBits(problem);
}

function stepKindOf(op: HistoryOp): number {
  switch (op.op) {
    case 'read':
      return STEP_READ;
    case 'write':
      return STEP_WRITE;
    case 'cas':
      return op.ok === false ? STEP_CAS_FAILED : STEP_CAS;
    default: {
      const unreachable: never = op.op;
      throw new Error(`unknown op ${String(unreachable)}`);
    }
  }
}

/** Sorts each class by call time and numbers its ops after the completed ones. */
function assignUnknownBits(problem: KeyProblem): KeyProblem {
  let bit = problem.inputIndices.length;
  for (const cls of problem.classes) {
    const callOf = (i: number): number => (problem.ops[i] as HistoryOp).call;
    cls.inputIndices.sort((a, b) => callOf(a) - callOf(b) || a - b);
    for (const i of cls.inputIndices) {
      cls.calls.push(callOf(i));
      cls.bits.push(bit++);
    }
  }
  return { ...problem, bitCount: bit };
}

/** The register after a completed op, or -1 if the op is not legal in `state`. */
export function stepCompleted(kind: number, expected: number, written: number, state: number): number {
  switch (kind) {
    case STEP_READ:
      return state === expected ? state : -1;
    case STEP_WRITE:
      return written;
    case STEP_CAS:
      return state === expected ? written : -1;
    default:
      assert(kind === STEP_CAS_FAILED, `unknown step kind ${kind}`);
      return state !== expected ? state : -1;
  }
}

/**
 * Reduction 3: right after an unknown op moved the register away from `prior`, is an op of this
 * kind one that could not have gone first (so the unknown op is needed right there)?
 */
export function needsUnknownBefore(kind: number, expected: number, prior: number): boolean {
  switch (kind) {
    case STEP_WRITE:
      // It overwrites the unknown op's effect: leaving that op out is the same.
      return false;
    case STEP_CAS_FAILED:
      // Legal in `prior` too unless it expected exactly that; then it could have gone first.
      return expected === prior;
    default:
      // A read or a swapping cas matches the new value, which `prior` is not.
      return true;
  }
}

/** The register after an unknown op, or -1 if placing it would be pointless (reduction 2). */
export function stepUnknown(cls: UnknownClass, state: number): number {
  if (cls.kind === STEP_CAS && state !== cls.expected) return -1;
  return cls.written === state ? -1 : cls.written;
}

// ---------------------------------------------------------------------------------------------
// The event list: dancing links over the call and return events of completed ops.

export const NIL = -1;

/** Node 2i is the call of completed op i, node 2i + 1 its return; the last node is the head. */
export function buildEventList(problem: KeyProblem): { next: Int32Array; prev: Int32Array; head: number } {
  const count = problem.inputIndices.length;
  const head = 2 * count;
  const timeOf = (node: number): number =>
    (node & 1) === 0 ? (problem.calls[node >> 1] as number) : (problem.rets[node >> 1] as number);
  const order = Array.from({ length: head }, (_, node) => node);
  // At equal times calls go first, so an op that returns at t is concurrent with one called at t.
  order.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b);
  const next = new Int32Array(head + 1).fill(NIL);
  const prev = new Int32Array(head + 1).fill(NIL);
  let last = head;
  for (const node of order) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  return { next, prev, head };
}
