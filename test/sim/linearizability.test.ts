/**
 * What this proves about the linearizability checker: it accepts histories that have a
 * linearization and refutes ones that do not, for reads, writes and compare-and-set, including
 * a cas that failed (an observation that the value differed) and operations whose outcome is
 * unknown (they may take effect at any time after their call, or never). It checks each key on
 * its own, treats equal timestamps as concurrent, stops at its budget and says so, and is fast:
 * a randomly generated history of 5,000 operations, produced by a real sequential register
 * with overlapping intervals around the true linearization points (so it IS linearizable),
 * passes; the same history with one read turned stale fails. Small hand-written histories pin
 * each rule (times in the helpers' arguments are call, ret); and thousands of tiny random
 * histories get the same verdict from the checker as from a brute-force search over every
 * order, which shows that the checker's pruning never changes an answer.
 */
import { describe, expect, it } from 'vitest';
import { HistoryFormatError } from '../../src/sim/history.ts';
import type { HistoryOp } from '../../src/sim/history.ts';
import { checkLinearizability } from '../../src/sim/linearizability.ts';

type Value = string | null;

function read(key: string, output: Value, call: number, ret: number | null, client = 0): HistoryOp {
  const ok = ret === null ? null : true;
  return { client, op: 'read', key, value: null, expected: null, output, ok, call, ret };
}

function write(key: string, value: Value, call: number, ret: number | null, client = 0, ok: boolean | null = true): HistoryOp {
  return { client, op: 'write', key, value, expected: null, output: null, ok: ret === null ? null : ok, call, ret };
}

function cas(key: string, expected: Value, value: Value, ok: boolean | null, call: number, ret: number | null, client = 0): HistoryOp {
  return { client, op: 'cas', key, value, expected, output: null, ok, call, ret };
}

function expectPass(ops: HistoryOp[]): void {
  const result = checkLinearizability(ops);
  expect(result.failure).toBeUndefined();
  expect(result.ok).toBe(true);
  expect(result.undecidedKeys).toEqual([]);
}

function expectFail(ops: HistoryOp[], key = 'k'): string {
  const result = checkLinearizability(ops);
  expect(result.ok).toBe(false);
  expect(result.failure?.key).toBe(key);
  return result.failure?.detail ?? '';
}

describe('reads and writes', () => {
  it('accepts a sequential history', () => {
    expectPass([
      read('k', null, 0, 1),
      write('k', 'a', 2, 3),
      read('k', 'a', 4, 5),
      write('k', 'b', 6, 7),
      read('k', 'b', 8, 9),
      write('k', null, 10, 11),
      read('k', null, 12, 13),
    ]);
  });

  it('accepts an empty history', () => {
    expect(checkLinearizability([])).toEqual({ ok: true, keysChecked: 0, undecidedKeys: [] });
  });

  it('accepts a read that sees either of two concurrent writes', () => {
    // a: [0, 10], b: [0, 10], read: [5, 15]; then a read of the survivor.
    for (const [seen, survivor] of [['a', 'a'], ['a', 'b'], ['b', 'a'], ['b', 'b'], [null, 'a']] as const) {
      expectPass([
        write('k', 'a', 0, 10, 1),
        write('k', 'b', 0, 10, 2),
        read('k', seen, 5, 15, 3),
        read('k', survivor, 20, 25, 3),
      ]);
    }
  });

  it('refutes a second read that goes back to an overwritten value', () => {
    // Both writes are concurrent, but once a read saw b after a, nothing may see a again.
    expectFail([
      write('k', 'a', 0, 10, 1),
      write('k', 'b', 0, 10, 2),
      read('k', 'b', 11, 12, 3),
      read('k', 'a', 13, 14, 3),
    ]);
  });

  it('refutes a stale read after a completed write', () => {
    // write a [0, 10], then read [20, 30] must see a.
    const detail = expectFail([write('k', 'a', 0, 10), read('k', null, 20, 30, 1)]);
    expect(detail).toContain('#1 (client 1 read absent [20, 30])');
    expect(detail).toContain('1 of 2 completed ops');
  });

  it('refutes a read of a value never written', () => {
    expectFail([write('k', 'a', 0, 10), read('k', 'zzz', 5, 30, 1)]);
  });

  it('treats equal timestamps as concurrent', () => {
    // write [0, 10] and read [10, 20]: the read may have gone first.
    expectPass([write('k', 'a', 0, 10), read('k', null, 10, 20, 1)]);
    expectFail([write('k', 'a', 0, 10), read('k', null, 11, 20, 1)]);
  });

  it('drops a write that returned ok:false: it had no effect', () => {
    expectPass([write('k', 'a', 0, 10, 0, false), read('k', null, 20, 30, 1)]);
    expectFail([write('k', 'a', 0, 10, 0, false), read('k', 'a', 20, 30, 1)]);
  });
});

describe('compare-and-set', () => {
  it('accepts a cas that swapped from the current value', () => {
    expectPass([write('k', 'a', 0, 1), cas('k', 'a', 'b', true, 2, 3), read('k', 'b', 4, 5)]);
    expectPass([cas('k', null, 'b', true, 0, 1), read('k', 'b', 2, 3)]);
  });

  it('refutes a cas that swapped although the value was different', () => {
    expectFail([write('k', 'a', 0, 1), cas('k', 'x', 'b', true, 2, 3)]);
  });

  it('accepts a failed cas when the value really differed', () => {
    expectPass([write('k', 'a', 0, 1), cas('k', 'x', 'b', false, 2, 3), read('k', 'a', 4, 5)]);
  });

  it('refutes a failed cas when the value certainly was the expected one', () => {
    expectFail([write('k', 'a', 0, 1), cas('k', 'a', 'b', false, 2, 3)]);
    // Absent is a value too: nothing was ever written, so a cas expecting absent must swap.
    expectFail([cas('k', null, 'b', false, 0, 1)]);
  });

  it('accepts a failed cas that a concurrent write can explain', () => {
    // write b [0, 10] is concurrent with the cas [5, 6] expecting absent.
    expectPass([write('k', 'b', 0, 10), cas('k', null, 'c', false, 5, 6, 1), read('k', 'b', 20, 21)]);
  });

  it('refutes a cas whose swap nobody sees', () => {
    expectFail([write('k', 'a', 0, 1), cas('k', 'a', 'b', true, 2, 3), read('k', 'a', 4, 5)]);
  });
});

describe('operations with an unknown outcome', () => {
  it('accepts a timed-out write that becomes visible later', () => {
    expectPass([read('k', null, 0, 1), write('k', 'x', 2, null), read('k', null, 3, 4, 1), read('k', 'x', 50, 60, 1)]);
  });

  it('accepts a timed-out write that never becomes visible', () => {
    expectPass([write('k', 'x', 0, null), read('k', null, 50, 60, 1), read('k', null, 70, 80, 1)]);
  });

  it('refutes a timed-out write whose effect is seen before its call', () => {
    expectFail([read('k', 'x', 0, 10, 1), write('k', 'x', 20, null)]);
  });

  it('refutes a timed-out write seen, then unseen, then seen', () => {
    // It can take effect once: absent after x needs another write, and there is none.
    expectFail([write('k', 'x', 0, null), read('k', 'x', 10, 11, 1), read('k', null, 12, 13, 1)]);
  });

  it('accepts a timed-out cas that swapped, and one that did not', () => {
    expectPass([cas('k', null, 'x', null, 0, null), read('k', 'x', 10, 20, 1)]);
    expectPass([cas('k', null, 'x', null, 0, null), read('k', null, 10, 20, 1)]);
    // It cannot swap from a value the key never held at the time.
    expectFail([write('k', 'a', 0, 1), cas('k', null, 'x', null, 2, null), read('k', 'x', 10, 20, 1)]);
  });

  it('drops a timed-out read: it observed nothing', () => {
    expectPass([read('k', 'nonsense', 0, null), write('k', 'a', 1, 2), read('k', 'a', 3, 4)]);
  });

  it('lets a timed-out write explain a failed cas, but only once per write', () => {
    // Each failed cas expecting a needs the key to hold something else after the write of a
    // before it: only an unknown write (whose value nobody reads) can provide that.
    const base = [
      write('k', 'a', 10, 11),
      cas('k', 'a', 'b', false, 20, 21),
      write('k', 'a', 30, 31),
      cas('k', 'a', 'b', false, 40, 41),
    ];
    expectPass([write('k', 'u1', 0, null, 1), write('k', 'u2', 0, null, 2), ...base]);
    expectFail([write('k', 'u1', 0, null, 1), ...base]);
  });

  it('stays fast with many pending timed-out writes nobody reads', () => {
    // Without reductions 2 and 3 for unknown ops this refutation would try 2^40 subsets.
    const ops: HistoryOp[] = [];
    for (let i = 0; i < 40; i++) ops.push(write('k', `lost${i}`, i, null, i + 1));
    ops.push(write('k', 'a', 100, 101), read('k', 'a', 102, 103), read('k', 'never', 104, 105));
    const result = checkLinearizability(ops, { maxStatesPerKey: 100_000 });
    expect(result.ok).toBe(false);
    expect(result.undecidedKeys).toEqual([]);
  });
});

describe('keys, budget and input', () => {
  it('checks each key on its own', () => {
    const good = [write('a', '1', 0, 10), read('a', '1', 20, 30, 1)];
    const bad = [write('b', '1', 0, 10), read('b', null, 20, 30, 1)];
    // Across keys the real-time order does not matter: b's read may be after a's write.
    const crossed = [write('a', '1', 0, 10), read('b', null, 20, 30, 1)];
    expectPass([...good, ...crossed]);
    const result = checkLinearizability([...good, ...bad]);
    expect(result).toMatchObject({ ok: false, keysChecked: 2, failure: { key: 'b' } });
    expect(checkLinearizability([...bad, ...good]).keysChecked).toBe(2);
  });

  it('reports a key whose search hits the budget as undecided, without failing', () => {
    // Six concurrent writes and six concurrent reads, each of a different value, then a read
    // of a value never written: refuting it means visiting many orders of the first twelve.
    const ops: HistoryOp[] = [];
    for (let i = 0; i < 6; i++) ops.push(write('k', `v${i}`, 0, 100, i), read('k', `v${i}`, 0, 100, 10 + i));
    ops.push(read('k', 'never', 200, 210, 20));
    const small = checkLinearizability(ops, { maxStatesPerKey: 50 });
    expect(small).toEqual({ ok: true, keysChecked: 1, undecidedKeys: ['k'] });
    const withBadKey = checkLinearizability([...ops, write('z', 'a', 0, 1), read('z', null, 2, 3)], {
      maxStatesPerKey: 50,
    });
    expect(withBadKey).toMatchObject({ ok: false, undecidedKeys: ['k'], failure: { key: 'z' } });
    const full = checkLinearizability(ops);
    expect(full.ok).toBe(false);
    expect(full.undecidedKeys).toEqual([]);
  });

  it('rejects a malformed operation and a bad budget', () => {
    const bad = { ...write('k', 'a', 5, 2) };
    expect(() => checkLinearizability([bad])).toThrow(HistoryFormatError);
    expect(() => checkLinearizability([bad])).toThrow(/history op #0: "ret" \(2\) is before "call" \(5\)/);
    expect(() => checkLinearizability([], { maxStatesPerKey: 0 })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Random histories from a real register.

/** mulberry32: a tiny seeded PRNG, so that a failing seed reproduces exactly. */
function createRandom(seed: number): (bound: number) => number {
  let a = seed >>> 0;
  return (bound: number): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000) * bound);
  };
}

interface Generated {
  ops: HistoryOp[];
  /** When the op took effect on the register, or null for a timed-out op that never did. */
  points: (number | null)[];
}

/**
 * Clients issue one op at a time; each op takes effect at a point inside [call, ret] (after
 * call for a timed-out one, possibly never), and the outputs come from applying the ops to a
 * map in the order of those points. That order is a linearization, so the history passes.
 */
function generateHistory(seed: number, opCount: number, keyCount: number, clientCount: number): Generated {
  const random = createRandom(seed);
  const freeAt = new Array<number>(clientCount).fill(0);
  const ops: HistoryOp[] = [];
  const points: (number | null)[] = [];
  for (let i = 0; i < opCount; i++) {
    const client = i % clientCount;
    const call = (freeAt[client] as number) + random(5);
    const ret = call + 1 + random(40);
    const key = `k${random(keyCount)}`;
    const kind = random(10) < 4 ? 'read' : random(3) === 0 ? 'cas' : 'write';
    const timedOut = random(40) === 0;
    ops.push({ client, op: kind, key, value: kind === 'read' ? null : `v${i}`, expected: null, output: null, ok: true, call, ret });
    points.push(timedOut && random(2) === 0 ? null : call + random(ret - call + (timedOut ? 200 : 1)));
    if (timedOut) Object.assign(ops[i] as HistoryOp, { ok: null, ret: null });
    freeAt[client] = ret + 1;
  }
  const order = ops.map((_, i) => i).filter((i) => points[i] !== null);
  order.sort((a, b) => (points[a] as number) - (points[b] as number) || a - b);
  const register = new Map<string, string>();
  const written = ops.filter((op) => op.op !== 'read').map((op) => op.value);
  for (const i of order) applyAtPoint(ops[i] as HistoryOp, register, written, random);
  // A timed-out cas that never took effect still needs an expected value.
  ops.forEach((op, i) => {
    if (op.op === 'cas' && points[i] === null) op.expected = 'v0';
  });
  return { ops, points };
}

function applyAtPoint(op: HistoryOp, register: Map<string, string>, written: Value[], random: (n: number) => number): void {
  const current = register.get(op.key) ?? null;
  switch (op.op) {
    case 'read':
      if (op.ret !== null) op.output = current;
      return;
    case 'write':
      if (op.value !== null) register.set(op.key, op.value);
      return;
    case 'cas': {
      op.expected = random(3) === 0 ? (written[random(written.length)] ?? null) : current;
      const swaps = op.expected === current;
      if (op.ret !== null) op.ok = swaps;
      if (swaps && op.value !== null) register.set(op.key, op.value);
      return;
    }
  }
}

/** A completed read after a completed write that follows another: make it see the older one. */
function corruptOneRead(ops: HistoryOp[]): HistoryOp[] {
  for (let r = ops.length - 1; r >= 0; r--) {
    const reader = ops[r] as HistoryOp;
    if (reader.op !== 'read' || reader.ret === null) continue;
    const completedWrites = ops.filter((op) => op.key === reader.key && op.op === 'write' && op.ok === true);
    for (const newer of completedWrites) {
      if ((newer.ret as number) >= reader.call) continue;
      const older = completedWrites.find((op) => (op.ret as number) < newer.call);
      if (older === undefined) continue;
      // Values are unique, and `older` certainly precedes `newer`, which precedes the read.
      const corrupted = ops.slice();
      corrupted[r] = { ...reader, output: older.value };
      return corrupted;
    }
  }
  throw new Error('no read to corrupt');
}

describe('random histories from a real register', () => {
  it('accepts many small ones and refutes each with one stale read', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { ops } = generateHistory(seed, 60, 2, 4);
      const result = checkLinearizability(ops);
      expect(result.failure, `seed ${seed}`).toBeUndefined();
      expect(result.undecidedKeys, `seed ${seed}`).toEqual([]);
      expect(checkLinearizability(corruptOneRead(ops)).ok, `seed ${seed}`).toBe(false);
    }
  });

  it('accepts 5,000 ops over 10 keys and 5 clients quickly, and refutes one stale read', () => {
    const { ops, points } = generateHistory(42, 5_000, 10, 5);
    // The generator must exercise every kind of op, timeouts included.
    expect(ops.some((op) => op.op === 'cas' && op.ok === false)).toBe(true);
    expect(ops.some((op) => op.op === 'cas' && op.ok === true)).toBe(true);
    expect(ops.some((op, i) => op.ret === null && op.op !== 'read' && points[i] !== null)).toBe(true);
    expect(ops.some((op, i) => op.ret === null && op.op !== 'read' && points[i] === null)).toBe(true);
    const startedMs = performance.now();
    const result = checkLinearizability(ops);
    const elapsedMs = performance.now() - startedMs;
    expect(result).toEqual({ ok: true, keysChecked: 10, undecidedKeys: [] });
    // Typically a few tens of milliseconds; the bound leaves room for a loaded CI machine.
    expect(elapsedMs).toBeLessThan(1_000);
    const corrupted = checkLinearizability(corruptOneRead(ops));
    expect(corrupted.ok).toBe(false);
    expect(corrupted.undecidedKeys).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Against an oracle: tiny random histories, judged by trying every order.

/**
 * The definition, executed literally: place ops one at a time, any op whose real-time
 * predecessors are all placed, until every completed op is placed; an op with an unknown
 * outcome may be placed (a cas then swaps iff the value matches) or left out. No pruning, no
 * folding of values: it checks that the checker's reductions change no verdict.
 */
function isLinearizableByBruteForce(ops: readonly HistoryOp[]): boolean {
  const live = ops.filter((op) => (op.op === 'read' ? op.ok === true : !(op.op === 'write' && op.ok === false)));
  const placed = new Array<boolean>(live.length).fill(false);
  const precedes = (a: HistoryOp, b: HistoryOp): boolean => a.ret !== null && a.ret < b.call;
  const search = (state: Value): boolean => {
    if (live.every((op, i) => placed[i] || op.ret === null)) return true;
    for (let i = 0; i < live.length; i++) {
      const op = live[i] as HistoryOp;
      if (placed[i] || live.some((other, j) => !placed[j] && other.ret !== null && precedes(other, op))) continue;
      const after = stepOracle(op, state);
      if (after === undefined) continue;
      placed[i] = true;
      const found = search(after);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(null);
}

/** The value after `op`, or undefined if it cannot happen now. */
function stepOracle(op: HistoryOp, state: Value): Value | undefined {
  switch (op.op) {
    case 'read':
      return op.output === state ? state : undefined;
    case 'write':
      return op.value;
    case 'cas':
      if (op.ok === null) return op.expected === state ? op.value : state;
      if (op.ok) return op.expected === state ? op.value : undefined;
      return op.expected !== state ? state : undefined;
  }
}

function randomSmallHistory(random: (bound: number) => number): HistoryOp[] {
  const values: Value[] = [null, 'a', 'b', 'c'];
  const pick = (): Value => values[random(values.length)] ?? null;
  const ops: HistoryOp[] = [];
  const count = 2 + random(6);
  for (let i = 0; i < count; i++) {
    const call = random(20);
    const ret = random(5) === 0 ? null : call + random(10);
    const ok = ret === null ? null : random(4) !== 0;
    const kind = random(3);
    if (kind === 0) ops.push(read('k', pick(), call, ret, i));
    else if (kind === 1) ops.push(write('k', pick() ?? 'a', call, ret, i, ok));
    else ops.push(cas('k', pick(), pick(), ok, call, ret, i));
  }
  return ops;
}

describe('agreement with a brute-force oracle', () => {
  it('gives the same verdict on thousands of tiny random histories', () => {
    const random = createRandom(7);
    let passes = 0;
    let failures = 0;
    for (let trial = 0; trial < 5_000; trial++) {
      const ops = randomSmallHistory(random);
      const expected = isLinearizableByBruteForce(ops);
      const result = checkLinearizability(ops);
      expect(result.undecidedKeys).toEqual([]);
      expect(result.ok, `trial ${trial}: ${JSON.stringify(ops)}`).toBe(expected);
      if (expected) passes++;
      else failures++;
    }
    // Both verdicts must be well represented, or the comparison proves little.
    expect(passes).toBeGreaterThan(500);
    expect(failures).toBeGreaterThan(500);
  });
});
