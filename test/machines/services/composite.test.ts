/**
 * The composite machine and the value codec it rests on:
 * - values have one canonical encoding (map keys sorted, integers as integers) and decoding
 *   refuses every non-canonical or hostile form (unsorted or duplicate keys, __proto__, NaN,
 *   integers as floats, too deep, too many items, trailing bytes) with ValueDecodeError;
 * - commands route by service tag to their part; kv and board work unchanged as parts and
 *   report their changes; queries route likewise;
 * - time comes only from time commands and never goes back;
 * - a malformed command (bad bytes, an unknown service, a bad field, an unknown field, a part
 *   that throws) is `rejected` with the same reason on two instances and changes nothing;
 * - DETERMINISM: the same seeded mix of commands (valid, refused and malformed, over every
 *   service, with time commands) on two instances gives equal snapshots at every step, and a
 *   third restored from a snapshot half-way ends equal too;
 * - restore is all or nothing across parts;
 * - the term passes through the session layer to the machine.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, type Prng } from '../../../src/core/prng.ts';
import { decodeBoardResult, encodeBoardCommand } from '../../../src/machines/board.ts';
import { decodeKvResult, encodeKvCommand } from '../../../src/machines/kv.ts';
import { SessionMachine, encodeSessionCommand } from '../../../src/machines/sessions.ts';
import { decodeServiceAnswer, encodeServiceCommand } from '../../../src/machines/services/codec.ts';
import { CompositeMachine, decodeCompositeResult, serviceCommand, timeCommand } from '../../../src/machines/services/composite.ts';
import type { ApplyContext, MachinePart } from '../../../src/machines/services/part.ts';
import { createServicesMachine } from '../../../src/machines/services/services-machine.ts';
import { decodeValue, encodeValue, ValueDecodeError, valuesEqual, type Value } from '../../../src/machines/services/value.ts';
import { Driver } from './harness.ts';

describe('value codec', () => {
  it('round-trips values canonically: map key order does not matter, integers stay integers', () => {
    const v: Value = { b: [1, -2, 2.5, 'ü€😀', null, true, false, new Uint8Array([1, 2])], a: { z: 2 ** 53 - 1, y: -(2 ** 53 - 1), x: 1e300 } };
    expect(decodeValue(encodeValue(v))).toEqual(v);
    expect(encodeValue({ a: 1, b: 2 })).toEqual(encodeValue({ b: 2, a: 1 }));
    expect(encodeValue(-0)).toEqual(encodeValue(0));
    expect(valuesEqual({ a: [1] }, { a: [1] })).toBe(true);
    expect(() => encodeValue(NaN)).toThrow(RangeError);
  });

  it('refuses non-canonical and hostile encodings', () => {
    const bad: [string, number[]][] = [
      ['unsorted keys', [9, 2, 1, 0x62, 0, 1, 0x61, 0]],
      ['duplicate keys', [9, 2, 1, 0x61, 0, 1, 0x61, 0]],
      ['__proto__ key', [9, 1, 9, ...Array.from('__proto__', (c) => c.charCodeAt(0)), 0]],
      ['an integer as a float', [5, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]],
      ['NaN', [5, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f]],
      ['negative zero integer', [4, 0]],
      ['trailing bytes', [0, 0]],
      ['unknown tag', [42]],
      ['truncated', [6, 5, 0x61]],
      ['a count beyond the items bound', [8, 0xff, 0xff, 0xff, 0x7f]],
    ];
    for (const [what, bytes] of bad) expect(() => decodeValue(Uint8Array.from(bytes)), what).toThrow(ValueDecodeError);
    let deep: Value = 0;
    for (let i = 0; i < 20; i++) deep = [deep];
    expect(() => decodeValue(encodeValue(deep))).toThrow(ValueDecodeError);
  });
});

describe('composite machine', () => {
  it('routes kv and board commands and queries, and reports what changed', () => {
    const s = createServicesMachine();
    const m = s.machine;
    const kv = decodeCompositeResult(m.apply(serviceCommand('kv', encodeKvCommand({ op: 'write', key: 'k', value: 'v' })), 1));
    expect(kv.status === 'applied' && decodeKvResult(kv.result)).toEqual({ ok: true, value: { op: 'write' } });
    expect(m.takeChanges()).toEqual([{ service: 'kv', kind: 'key', key: 'k' }]);
    m.apply(serviceCommand('kv', encodeKvCommand({ op: 'cas', key: 'k', expected: 'nope', value: 'x' })), 2);
    expect(m.takeChanges()).toEqual([]);
    const board = decodeCompositeResult(m.apply(serviceCommand('board', encodeBoardCommand({ op: 'add', text: 'hello', author: 'n1' })), 3));
    expect(board.status === 'applied' && decodeBoardResult(board.result)).toEqual({ ok: true, value: { status: 'added', id: 'i3' } });
    expect(m.takeChanges()).toEqual([{ service: 'board', kind: 'board' }]);
    expect(m.query({ service: 'kv', query: 'k' })).toBe('v');
    expect(m.query({ service: 'board', query: null })).toMatchObject({ items: [{ id: 'i3', text: 'hello' }] });
    expect(() => m.query({ service: 'nope', query: null })).toThrow();
  });

  it('takes time only from time commands, and never backwards', () => {
    const d = new Driver(createServicesMachine().machine);
    expect(d.time(1_000)).toEqual({ status: 'time', timeMs: 1_000, advanced: true });
    expect(d.lastChanges).toEqual([{ service: '', kind: 'time', timeMs: 1_000 }]);
    expect(d.time(400)).toEqual({ status: 'time', timeMs: 1_000, advanced: false });
    expect(d.lastChanges).toEqual([]);
    expect(d.machine.timeMs).toBe(1_000);
  });

  it('rejects malformed commands alike on two instances, with no change of state', () => {
    const a = new Driver(createServicesMachine().machine);
    const b = new Driver(createServicesMachine().machine);
    for (const d of [a, b]) {
      d.run('locks', { op: 'lock', name: 'L', owner: 'o', ttlMs: 10 });
      d.run('config', { op: 'set', key: 'k', value: 1 });
    }
    const before = a.machine.snapshot();
    const hostile: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(9, 9, 9),
      serviceCommand('nope', encodeValue({ op: 'x' })),
      serviceCommand('locks', Uint8Array.of(0xff)),
      encodeServiceCommand('locks', { op: 'lock', name: 'L', owner: 'o', ttlMs: -1 }),
      encodeServiceCommand('locks', { op: 'lock', name: 'L', owner: 'o', ttlMs: 1.5 }),
      encodeServiceCommand('locks', { op: 'lock', name: '', owner: 'o', ttlMs: 5 }),
      encodeServiceCommand('locks', { op: 'lock', name: 'L', owner: 'o', ttlMs: 5, extra: 1 }),
      encodeServiceCommand('config', { op: 'set', key: 'k' }),
      encodeServiceCommand('config', { op: 'set', key: 'x'.repeat(10_000), value: 1 }),
      encodeServiceCommand('tools', { op: 'requested', key: 'k', tool: 't', node: 'n', term: 2 ** 60 }),
      encodeServiceCommand('tools', { op: 'completed', key: 'k', node: 'n', term: 1, result: 1, junk: true }),
      encodeServiceCommand('agents', { op: 'register', id: 'a', capabilities: ['x', 'x'], node: 'n' }),
      encodeServiceCommand('agents', { op: 'heartbeat', id: 'a', successRate: 2 }),
      encodeServiceCommand('agents', { op: 'submit', capabilities: ['x'], strategy: 'random' }),
      encodeServiceCommand('agents', [1, 2, 3]),
      timeCommand(5).subarray(0, 2),
    ];
    for (const bytes of hostile) {
      const ra = a.raw(bytes);
      const rb = b.raw(bytes);
      expect(ra.status, `${bytes.join(',')}`).toBe('rejected');
      expect(rb).toEqual(ra);
      expect(a.lastChanges).toEqual([]);
    }
    expect(a.machine.snapshot()).toEqual(before);
    expect(b.machine.snapshot()).toEqual(before);
    expect(a.machine.stats.rejected).toBe(hostile.length);
  });

  it('rejects a command that makes a part throw, alike everywhere, and drops its half-reported changes', () => {
    class Thrower implements MachinePart {
      n = 0;
      apply(command: Uint8Array, ctx: ApplyContext): Uint8Array {
        ctx.report({ kind: 'board' });
        if (command[0] === 1) throw new TypeError('cannot read properties of undefined');
        this.n++;
        return Uint8Array.of(this.n);
      }
      snapshot(): Uint8Array {
        return Uint8Array.of(this.n);
      }
      restore(s: Uint8Array): void {
        this.n = s[0] ?? 0;
      }
    }
    const m = new CompositeMachine({ t: new Thrower() });
    expect(decodeServiceAnswer(m.apply(serviceCommand('t', Uint8Array.of(1)), 1))).toEqual({ status: 'rejected', reason: 'TypeError: cannot read properties of undefined' });
    expect(m.takeChanges()).toEqual([]);
    expect(m.snapshot()).toEqual(new CompositeMachine({ t: new Thrower() }).snapshot());
  });

  it('restores all or nothing across parts, and only snapshots naming exactly its parts', () => {
    const s = createServicesMachine();
    const d = new Driver(s.machine);
    d.run('config', { op: 'set', key: 'k', value: 1 });
    const good = s.machine.snapshot();
    const other = createServicesMachine();
    new Driver(other.machine).run('locks', { op: 'lock', name: 'L', owner: 'o', ttlMs: 10 });
    const before = other.machine.snapshot();
    // Corrupt the last part's bytes (locks, by name order the last): config must not be half-restored.
    const corrupt = good.slice(0, good.length - 3);
    expect(() => other.machine.restore(corrupt)).toThrow();
    expect(other.machine.snapshot()).toEqual(before);
    expect(() => new CompositeMachine({ kv: s.kv }).restore(good)).toThrow();
  });

  it('passes the term through the session layer to the machine', () => {
    const s = createServicesMachine();
    const sessions = new SessionMachine(s.machine);
    sessions.apply(encodeSessionCommand({ type: 'register' }), 1, 3);
    const payload = encodeServiceCommand('tools', { op: 'requested', key: 'k', tool: 't', node: 'n', term: 4 });
    sessions.apply(encodeSessionCommand({ type: 'request', clientId: 1, seq: 1, payload }), 2, 3);
    expect(s.tools.call('k')).toBeNull(); // BAD_TERM: term 4 claimed in a term-3 entry
  });
});

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('determinism', () => {
  const caps = ['a', 'b', 'c'];
  function randomCommand(p: Prng, index: number): Uint8Array {
    const pick = <T>(xs: readonly T[]): T => xs[p.nextInt(xs.length)] as T;
    const agent = pick(['g1', 'g2', 'g3', 'g4']);
    const key = pick(['k1', 'k2', 'k3']);
    const term = 1 + Math.floor(index / 50);
    switch (p.nextInt(16)) {
      case 0:
        return timeCommand(index * 37 + p.nextInt(500) - 250);
      case 1:
        return encodeServiceCommand('agents', { op: 'register', id: agent, capabilities: [pick(caps), ...(p.nextInt(2) === 0 ? [] : ['z'])], node: 'n' });
      case 2:
        return encodeServiceCommand('agents', { op: 'heartbeat', id: agent, load: p.nextInt(10), latencyMs: p.nextInt(1000), successRate: p.nextFloat() });
      case 3:
        return encodeServiceCommand('agents', { op: 'submit', capabilities: [pick(caps)], strategy: pick(['round-robin', 'least-used', 'load-aware']), leaseMs: 200 + p.nextInt(800) });
      case 4:
        return encodeServiceCommand('agents', { op: pick(['complete', 'fail', 'renew']), task: `t${p.nextInt(index + 1)}`, token: 1 + p.nextInt(20), error: 'e', ...(p.nextInt(2) === 0 ? {} : {}) });
      case 5:
        return encodeServiceCommand('agents', { op: 'deregister', id: agent });
      case 6:
        return encodeServiceCommand('tools', { op: 'requested', key, tool: 't', node: 'n', term, idempotent: p.nextInt(2) === 0 });
      case 7:
        return encodeServiceCommand('tools', { op: pick(['started', 'indeterminate']), key, node: pick(['n1', 'n2']), term: term - p.nextInt(2) });
      case 8:
        return encodeServiceCommand('tools', { op: pick(['completed', 'failed']), key, node: pick(['n1', 'n2']), term, ...(p.nextInt(2) === 0 ? { result: index } : { error: 'x' }) });
      case 9:
        return encodeServiceCommand('config', { op: 'set', key, value: { i: index, f: p.nextFloat() }, ...(p.nextInt(2) === 0 ? { expectedVersion: p.nextInt(4) } : {}) });
      case 10:
        return encodeServiceCommand('config', { op: 'rollback', key, toVersion: 1 + p.nextInt(5) });
      case 11:
        return encodeServiceCommand('locks', { op: pick(['lock', 'campaign']), [p.nextInt(2) === 0 ? 'name' : 'role']: key, owner: agent, ttlMs: 100 + p.nextInt(1000) });
      case 12:
        return encodeServiceCommand('locks', { op: pick(['release', 'renew']), name: key, owner: agent, token: 1 + p.nextInt(10), ttlMs: 500 });
      case 13:
        return serviceCommand('kv', encodeKvCommand({ op: 'write', key, value: String(index) }));
      case 14: {
        const junk = new Uint8Array(p.nextInt(12));
        for (let i = 0; i < junk.length; i++) junk[i] = p.nextInt(256);
        return junk;
      }
      default:
        return encodeServiceCommand('agents', { op: 'broadcast', capabilities: ['z'], payload: index });
    }
  }

  it('gives equal snapshots and results on two instances, and on one restored half-way', () => {
    for (const seed of [1, 2, 3]) {
      const p = createPrng(seed);
      const a = createServicesMachine({ agents: { agentTtlMs: 2_000 } }).machine;
      const b = createServicesMachine({ agents: { agentTtlMs: 2_000 } }).machine;
      let c: CompositeMachine | null = null;
      const steps = 2_000;
      const statuses = new Set<string>();
      for (let i = 1; i <= steps; i++) {
        const cmd = randomCommand(p, i);
        const term = 1 + Math.floor(i / 50);
        const ra = a.apply(cmd, i, term);
        // A byte comparison per step (vitest's deep equality is too slow for 6,000 steps).
        if (!sameBytes(b.apply(cmd, i, term), ra)) expect.fail(`seed ${seed} step ${i}: results differ`);
        if (c !== null && !sameBytes(c.apply(cmd, i, term), ra)) expect.fail(`seed ${seed} step ${i}: the restored machine differs`);
        if (JSON.stringify(b.takeChanges()) !== JSON.stringify(a.takeChanges())) expect.fail(`seed ${seed} step ${i}: changes differ`);
        const answer = decodeServiceAnswer<{ status?: string }>(ra);
        statuses.add(answer.status === 'applied' ? String(answer.result?.status ?? 'bytes') : answer.status);
        if (i === steps / 2) {
          c = createServicesMachine({ agents: { agentTtlMs: 2_000 } }).machine;
          c.restore(a.snapshot());
        }
        if (i % 250 === 0) expect(b.digest()).toBe(a.digest());
      }
      expect(c !== null && sameBytes(c.snapshot(), a.snapshot())).toBe(true);
      // The mix exercised acceptance, refusal and rejection alike.
      for (const s of ['rejected', 'refused', 'time', 'set', 'submitted', 'acquired']) expect(statuses, `seed ${seed}`).toContain(s);
    }
  });
});
