/**
 * The Wing–Gong search over one key, with Lowe's cache of configurations already expanded
 * (Porcupine's `checkSingle`, written here with an explicit stack). Its reductions and budget are
 * explained at the top of `linearizability.ts`.
 */
import { assert } from '../core/assert.ts';
import { createPrng } from '../core/prng.ts';
import type { HistoryOp } from './history.ts';
import {
  type KeyProblem,
  NIL,
  STEP_CAS_FAILED,
  STEP_READ,
  UNOBSERVED,
  type UnknownClass,
  buildEventList,
  needsUnknownBefore,
  stepCompleted,
  stepUnknown,
} from './linearizability-model.ts';

export type KeyVerdict =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'undecided' }
  | { readonly kind: 'refuted'; readonly detail: string };

/** 2^26 words = 256 MiB of linearized-op sets in the cache, whatever the budget asked for. */
export const memoWordsMax = 1 << 26;
/** V8's Map holds at most 2^24 entries; stay well below. */
export const memoEntriesMax = 1 << 23;

// ---------------------------------------------------------------------------------------------
// Lowe's cache: configurations (set of linearized ops, register value) already expanded.

export class MemoCache {
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
export const NO_PRIOR = -1;

/** Stack frames of completed ops; frames of unknown ops hold their class index (>= 0). */
export const FRAME_COMPLETED = -1;
/** A completed op placed by reduction 4: its configuration has no alternative to try. */
export const FRAME_COMMITTED = -2;

/** Ops listed in a failure message, at most. */
export const failurePendingOpsMax = 8;

export class KeySearch {
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

export function showValue(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}

export function describeOp(op: HistoryOp, index: number): string {
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
