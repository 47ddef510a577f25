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
import { assert } from '../core/assert.ts';
import { createPrng } from '../core/prng.ts';
import { findHistoryOpProblem, HistoryFormatError } from './history.ts';
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
/** 2^26 words = 256 MiB of linearized-op sets in the cache, whatever the budget asked for. */
export const memoWordsMax = 1 << 26;
/** V8's Map holds at most 2^24 entries; stay well below. */
export const memoEntriesMax = 1 << 23;

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

type KeyVerdict =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'undecided' }
  | { readonly kind: 'refuted'; readonly detail: string };

// ---------------------------------------------------------------------------------------------
// One key's problem: completed ops as model steps, unknown ops grouped into classes.

/** Register value id shared by every value that nothing observes (reduction 1 above). */
const UNOBSERVED = 0;

const STEP_READ = 0;
const STEP_WRITE = 1;
const STEP_CAS = 2;
const STEP_CAS_FAILED = 3;

interface UnknownClass {
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

interface KeyProblem {
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

function prepareKey(
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
function stepCompleted(kind: number, expected: number, written: number, state: number): number {
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
function needsUnknownBefore(kind: number, expected: number, prior: number): boolean {
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
function stepUnknown(cls: UnknownClass, state: number): number {
  if (cls.kind === STEP_CAS && state !== cls.expected) return -1;
  return cls.written === state ? -1 : cls.written;
}

// ---------------------------------------------------------------------------------------------
// The event list: dancing links over the call and return events of completed ops.

const NIL = -1;

/** Node 2i is the call of completed op i, node 2i + 1 its return; the last node is the head. */
function buildEventList(problem: KeyProblem): { next: Int32Array; prev: Int32Array; head: number } {
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

// ---------------------------------------------------------------------------------------------
// Lowe's cache: configurations (set of linearized ops, register value) already expanded.

class MemoCache {
  private readonly chainHeads = new Map<number, number>();
  private chainNext = new Int32Array(1024);
  private states = new Int32Array(1024);
  private sets: Uint32Array;
  private size = 0;

  constructor(
    private readonly wordsPerSet: number,
    private readonly entriesMax: number,
  ) {
    this.sets = new Uint32Array(1024 * wordsPerSet);
  }

  /** True once `entriesMax` configurations are stored: the key's budget is spent. */
  get isFull(): boolean {
    return this.size >= this.entriesMax;
  }

  /**
   * Adds the configuration and returns true, or returns false if it was already there or the
   * cache is full (check `isFull`). `state` is everything besides the set that decides what the
   * search may do next (a small integer).
   */
  insertIfAbsent(set: Uint32Array, hashA: number, hashB: number, state: number): boolean {
    // 53 bits of hash as a Map key; collisions are resolved by comparing the sets exactly.
    const a = (hashA ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    const b = (hashB ^ Math.imul(state + 1, 0x85ebca6b)) & 0x1fffff;
    const hash = a * 0x200000 + b;
    const first = this.chainHeads.get(hash) ?? NIL;
    for (let entry = first; entry !== NIL; entry = this.chainNext[entry] as number) {
      if (this.states[entry] === state && this.holds(entry, set)) return false;
    }
    if (this.isFull) return false;
    if (this.size === this.states.length) this.grow();
    this.sets.set(set, this.size * this.wordsPerSet);
    this.states[this.size] = state;
    this.chainNext[this.size] = first;
    this.chainHeads.set(hash, this.size);
    this.size++;
    return true;
  }

  private holds(entry: number, set: Uint32Array): boolean {
    const base = entry * this.wordsPerSet;
    for (let w = 0; w < this.wordsPerSet; w++) {
      if (this.sets[base + w] !== set[w]) return false;
    }
    return true;
  }

  private grow(): void {
    const capacity = Math.min(this.states.length * 2, this.entriesMax);
    const chainNext = new Int32Array(capacity);
    chainNext.set(this.chainNext);
    this.chainNext = chainNext;
    const states = new Int32Array(capacity);
    states.set(this.states);
    this.states = states;
    const sets = new Uint32Array(capacity * this.wordsPerSet);
    sets.set(this.sets);
    this.sets = sets;
  }
}

// ---------------------------------------------------------------------------------------------
// The search over one key.

/** "The last op placed was not an unknown one" (value ids are non-negative). */
const NO_PRIOR = -1;

/** Stack frames of completed ops; frames of unknown ops hold their class index (>= 0). */
const FRAME_COMPLETED = -1;
/** A completed op placed by reduction 4: its configuration has no alternative to try. */
const FRAME_COMMITTED = -2;

/** Ops listed in a failure message, at most. */
const failurePendingOpsMax = 8;

class KeySearch {
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head: number;
  private readonly cache: MemoCache;
  /** The linearized ops, and two Zobrist hashes of that set kept up to date as bits flip. */
  private readonly linearized: Uint32Array;
  private readonly zobristA: Uint32Array;
  private readonly zobristB: Uint32Array;
  private hashA = 0;
  private hashB = 0;
  private state: number;
  /** Per class, how many of its ops (a prefix in call order) are placed. */
  private readonly placedInClass: Int32Array;
  private completedPlaced = 0;
  /**
   * The explicit stack: per frame the class (or FRAME_COMPLETED, FRAME_COMMITTED), the node
   * (a call node, or for an unknown op the return node where it was tried), the prior value.
   */
  private depth = 0;
  private readonly frameClass: Int32Array;
  private readonly frameNode: Int32Array;
  private readonly frameState: Int32Array;
  /** Where the walk stands: a node, and for a return node the first class to try. */
  private entry: number;
  private classFrom = 0;
  /** Set on entering a configuration: look for an op to commit to (reduction 4) first. */
  private isFreshConfiguration = true;
  /** The deepest dead end, for the failure message. */
  private bestPlaced = -1;
  private bestStuckNode = NIL;
  private bestState = UNOBSERVED;
  private bestPending: number[] = [];

  constructor(
    private readonly problem: KeyProblem,
    maxStatesPerKey: number,
  ) {
    ({ next: this.next, prev: this.prev, head: this.head } = buildEventList(problem));
    const words = Math.max(1, Math.ceil(problem.bitCount / 32));
    const statesMax = Math.min(maxStatesPerKey, memoEntriesMax, Math.floor(memoWordsMax / words));
    this.cache = new MemoCache(words, statesMax);
    this.linearized = new Uint32Array(words);
    const prng = createPrng(0x11ea7);
    this.zobristA = Uint32Array.from({ length: problem.bitCount }, () => prng.nextUint32());
    this.zobristB = Uint32Array.from({ length: problem.bitCount }, () => prng.nextUint32());
    this.state = problem.initialState;
    this.placedInClass = new Int32Array(problem.classes.length);
    this.frameClass = new Int32Array(problem.bitCount);
    this.frameNode = new Int32Array(problem.bitCount);
    this.frameState = new Int32Array(problem.bitCount);
    this.entry = this.next[this.head] as number;
  }

  run(): KeyVerdict {
    // Bounded: each iteration stores a new configuration, moves the walk forward over a list
    // that cannot grow, or pops the stack, and the cache holds at most `statesMax` of them.
    while (this.next[this.head] !== NIL) {
      if (this.cache.isFull) return { kind: 'undecided' };
      if (this.isFreshConfiguration) {
        this.isFreshConfiguration = false;
        const committed = this.findOpToCommitTo();
        if (committed === NIL) continue;
        if (this.tryCompleted(committed, FRAME_COMMITTED)) continue;
        // Already explored from here: this configuration, which had no other choice, fails.
        if (!this.backtrack()) return this.exhausted();
        continue;
      }
      const entry = this.entry;
      if ((entry & 1) === 0) {
        // A call before the first return: this op may go next.
        if (!this.tryCompleted(entry, FRAME_COMPLETED)) this.entry = this.next[entry] as number;
        continue;
      }
      // The first return: its op must be linearized before anything called later, and it was
      // not, so only unknown ops called by now remain to try before backtracking.
      if (this.tryUnknown(entry, this.classFrom)) continue;
      this.noteDeadEnd(entry);
      if (!this.backtrack()) return this.exhausted();
    }
    return { kind: 'linearizable' };
  }

  private exhausted(): KeyVerdict {
    // A search cut short by a full cache may have skipped a branch: not a proof.
    if (this.cache.isFull) return { kind: 'undecided' };
    return { kind: 'refuted', detail: this.describeFailure() };
  }

  /**
   * Reduction 4: the first candidate (call before the first return) that leaves the register
   * unchanged (a read, a failed cas), is legal now and is allowed by reduction 3, or NIL.
   */
  private findOpToCommitTo(): number {
    const p = this.problem;
    const prior = this.priorOfUnknownOnTop();
    // Bounded by the list: the walk stops at the first return node.
    for (let node = this.next[this.head] as number; (node & 1) === 0; ) {
      const op = node >> 1;
      node = this.next[node] as number;
      const kind = p.kinds[op] as number;
      if (kind !== STEP_READ && kind !== STEP_CAS_FAILED) continue;
      const expected = p.expected[op] as number;
      if (prior !== NO_PRIOR && !needsUnknownBefore(kind, expected, prior)) continue;
      if (stepCompleted(kind, expected, NIL, this.state) >= 0) return 2 * op;
    }
    return NIL;
  }

  private tryCompleted(callNode: number, frameKind: number): boolean {
    const p = this.problem;
    const op = callNode >> 1;
    const kind = p.kinds[op] as number;
    const expected = p.expected[op] as number;
    const prior = this.priorOfUnknownOnTop();
    if (prior !== NO_PRIOR && !needsUnknownBefore(kind, expected, prior)) return false;
    const after = stepCompleted(kind, expected, p.written[op] as number, this.state);
    if (after < 0 || !this.markIfNew(op, after, NO_PRIOR)) return false;
    this.push(frameKind, callNode);
    this.state = after;
    this.lift(callNode);
    this.completedPlaced++;
    this.restartWalk();
    return true;
  }

  private tryUnknown(returnNode: number, classFrom: number): boolean {
    const classes = this.problem.classes;
    const earliestReturn = this.problem.rets[returnNode >> 1] as number;
    const prior = this.priorOfUnknownOnTop();
    for (let c = classFrom; c < classes.length; c++) {
      const cls = classes[c] as UnknownClass;
      const k = this.placedInClass[c] as number;
      const call = cls.calls[k];
      // Not called before the earliest pending return: some completed op must precede it.
      if (call === undefined || call > earliestReturn) continue;
      if (prior !== NO_PRIOR && !needsUnknownBefore(cls.kind, cls.expected, prior)) continue;
      const after = stepUnknown(cls, this.state);
      if (after < 0 || !this.markIfNew(cls.bits[k] as number, after, this.state)) continue;
      this.push(c, returnNode);
      this.state = after;
      this.placedInClass[c] = k + 1;
      this.restartWalk();
      return true;
    }
    return false;
  }

  /**
   * Sets the op's bit if (set + op, after, prior) is a new configuration; otherwise leaves it
   * clear. `prior` is the value before the op if it is an unknown one (reduction 3 then limits
   * what may follow), else NO_PRIOR.
   */
  private markIfNew(bit: number, after: number, prior: number): boolean {
    const valueCount = this.problem.valueNames.length;
    const configuration = after + valueCount * (prior + 1);
    this.flip(bit);
    const isNew = this.cache.insertIfAbsent(this.linearized, this.hashA, this.hashB, configuration);
    if (!isNew) this.flip(bit);
    return isNew;
  }

  /** The value before the op on top of the stack if that op is an unknown one, else NO_PRIOR. */
  private priorOfUnknownOnTop(): number {
    if (this.depth === 0 || (this.frameClass[this.depth - 1] as number) < 0) return NO_PRIOR;
    return this.frameState[this.depth - 1] as number;
  }

  private flip(bit: number): void {
    const word = bit >>> 5;
    this.linearized[word] = (this.linearized[word] as number) ^ (1 << (bit & 31));
    this.hashA ^= this.zobristA[bit] as number;
    this.hashB ^= this.zobristB[bit] as number;
  }

  private push(cls: number, node: number): void {
    assert(this.depth < this.frameClass.length, 'each op is on the stack at most once');
    this.frameClass[this.depth] = cls;
    this.frameNode[this.depth] = node;
    this.frameState[this.depth] = this.state;
    this.depth++;
  }

  private restartWalk(): void {
    this.entry = this.next[this.head] as number;
    this.classFrom = 0;
    this.isFreshConfiguration = true;
  }

  /**
   * Undoes frames until one leaves an alternative to try, and resumes the walk there: the next
   * candidate after that op. A committed frame leaves none (reduction 4), so popping it fails
   * its configuration too. Returns false when the stack runs out: no linearization.
   */
  private backtrack(): boolean {
    while (this.depth > 0) {
      this.depth--;
      const frame = this.frameClass[this.depth] as number;
      const node = this.frameNode[this.depth] as number;
      this.state = this.frameState[this.depth] as number;
      this.isFreshConfiguration = false;
      if (frame < 0) {
        this.flip(node >> 1);
        this.unlift(node);
        this.completedPlaced--;
        if (frame === FRAME_COMMITTED) continue;
        this.entry = this.next[node] as number;
        this.classFrom = 0;
        return true;
      }
      const k = (this.placedInClass[frame] as number) - 1;
      this.placedInClass[frame] = k;
      this.flip((this.problem.classes[frame] as UnknownClass).bits[k] as number);
      this.entry = node;
      this.classFrom = frame + 1;
      return true;
    }
    return false;
  }

  /** Removes a call and its return from the list (the call always comes first). */
  private lift(callNode: number): void {
    const { next, prev } = this;
    const retNode = callNode + 1;
    next[prev[callNode] as number] = next[callNode] as number;
    prev[next[callNode] as number] = prev[callNode] as number;
    next[prev[retNode] as number] = next[retNode] as number;
    const after = next[retNode] as number;
    if (after !== NIL) prev[after] = prev[retNode] as number;
  }

  /** Puts them back, in the reverse order of `lift`, so the neighbours' links are restored. */
  private unlift(callNode: number): void {
    const { next, prev } = this;
    const retNode = callNode + 1;
    next[prev[retNode] as number] = retNode;
    const after = next[retNode] as number;
    if (after !== NIL) prev[after] = retNode;
    next[prev[callNode] as number] = callNode;
    prev[next[callNode] as number] = callNode;
  }

  private noteDeadEnd(returnNode: number): void {
    if (this.completedPlaced <= this.bestPlaced) return;
    this.bestPlaced = this.completedPlaced;
    this.bestStuckNode = returnNode;
    this.bestState = this.state;
    this.bestPending = [];
    let node = this.next[this.head] as number;
    for (; node !== returnNode && this.bestPending.length < failurePendingOpsMax; ) {
      if (node >> 1 !== returnNode >> 1) this.bestPending.push(node >> 1);
      node = this.next[node] as number;
    }
  }

  private describeFailure(): string {
    const p = this.problem;
    const describe = (op: number): string => {
      const index = p.inputIndices[op] as number;
      return describeOp(p.ops[index] as HistoryOp, index);
    };
    const value =
      this.bestState === UNOBSERVED
        ? 'a value no operation observed'
        : showValue(p.valueNames[this.bestState] ?? null);
    const stuck = describe(this.bestStuckNode >> 1);
    let detail =
      `no linearization: at most ${this.bestPlaced} of ${p.inputIndices.length} completed ops ` +
      `could be linearized, after which the key held ${value} and ${stuck} could not be placed`;
    if (this.bestPending.length > 0) {
      detail += `; the other candidates then were ${this.bestPending.map(describe).join(', ')}`;
    }
    return detail;
  }
}

function showValue(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}

function describeOp(op: HistoryOp, index: number): string {
  const span = `[${op.call}, ${op.ret ?? 'unknown'}]`;
  const outcome = op.ok === null ? 'outcome unknown' : op.ok ? 'ok' : 'failed';
  switch (op.op) {
    case 'read':
      return `#${index} (client ${op.client} read ${showValue(op.output)} ${span})`;
    case 'write':
      return `#${index} (client ${op.client} write ${showValue(op.value)} ${outcome} ${span})`;
    case 'cas':
      return (
        `#${index} (client ${op.client} cas ${showValue(op.expected)} -> ${showValue(op.value)} ` +
        `${outcome} ${span})`
      );
    default: {
      const unreachable: never = op.op;
      return `#${index} (unknown op ${String(unreachable)})`;
    }
  }
}
