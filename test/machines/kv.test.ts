/**
 * What this proves about the KV state machine (src/machines/kv.ts), a plain byte-level
 * `StateMachine`: commands and results survive their binary encoding exactly (including null
 * values and non-ASCII text) and malformed bytes are refused with a typed error instead of a
 * throw; read, write, delete and compare-and-set behave as a register per key; a command that
 * does not decode changes nothing and yields `invalid` (deterministically, on every replica);
 * replicas that apply the same commands have equal digests and different ones differ; a
 * snapshot is deterministic bytes that restore an equal machine, and bad snapshot bytes are
 * refused without touching the state. Behind the session layer, a retried command reaches the
 * KV machine once.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter, decodeUtf8, encodeUtf8 } from '../../src/machines/bytes.ts';
import {
  decodeKvCommand,
  decodeKvResult,
  encodeKvCommand,
  encodeKvResult,
  KvDecodeError,
  KvMachine,
  type KvCommand,
  type KvResult,
} from '../../src/machines/kv.ts';
import { encodeSessionCommand, SessionMachine } from '../../src/machines/sessions.ts';

const write = (key: string, value: string | null): KvCommand => ({ op: 'write', key, value });
const read = (key: string): KvCommand => ({ op: 'read', key });
const cas = (key: string, expected: string | null, value: string | null): KvCommand => ({ op: 'cas', key, expected, value });

/** Apply through the byte interface, decode the result. */
function apply(m: KvMachine, c: KvCommand, index = 1): KvResult {
  const r = decodeKvResult(m.apply(encodeKvCommand(c), index));
  if (!r.ok) throw r.error;
  return r.value;
}

describe('KV command and result encoding', () => {
  it('round-trips every kind of command, nulls and non-ASCII text', () => {
    const commands: KvCommand[] = [read('k'), write('clé', 'värde 🚀'), write('', null), cas('k', null, 'v'), cas('k', 'v', null), cas('x'.repeat(1000), 'a', 'b')];
    for (const c of commands) expect(decodeKvCommand(encodeKvCommand(c))).toEqual({ ok: true, value: c });
  });

  it('round-trips every kind of result', () => {
    const results: KvResult[] = [
      { op: 'read', value: null },
      { op: 'read', value: 'é' },
      { op: 'write' },
      { op: 'cas', ok: true, observed: null },
      { op: 'cas', ok: false, observed: 'x' },
      { op: 'invalid' },
    ];
    for (const r of results) expect(decodeKvResult(encodeKvResult(r))).toEqual({ ok: true, value: r });
  });

  it('refuses malformed bytes with a KvDecodeError', () => {
    const good = encodeKvCommand(write('key', 'value'));
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      good.subarray(0, good.length - 1), // truncated
      Uint8Array.from([...good, 0]), // trailing byte
      Uint8Array.from([9, ...good.subarray(1)]), // unknown version
      Uint8Array.from([1, 2, 1, 0x6b, 0]), // version 1 (client ids in the command): no longer accepted
      Uint8Array.from([2, 7, ...good.subarray(2)]), // unknown op
      new ByteWriter().u8(2).u8(1).bytes(Uint8Array.from([0xc0, 0x80])).finish(), // overlong UTF-8
      new ByteWriter().u8(2).u8(2).string('k').u8(5).finish(), // bad null flag
      Uint8Array.from([2, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // varuint too long
    ];
    for (const bytes of cases) {
      const decoded = decodeKvCommand(bytes);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.error).toBeInstanceOf(KvDecodeError);
    }
    for (const bytes of [new Uint8Array(0), Uint8Array.from([9]), Uint8Array.from([3, 2, 0]), Uint8Array.from([2, 0])]) {
      expect(decodeKvResult(bytes).ok).toBe(false);
    }
  });

  it('encodes UTF-8 like the platform does', () => {
    for (const s of ['', 'abc', 'é', '€', '𝄞', 'mixed é€𝄞 text']) {
      const bytes = encodeUtf8(s);
      expect([...bytes]).toEqual([...new TextEncoder().encode(s)]);
      expect(decodeUtf8(bytes)).toBe(s);
    }
  });
});

describe('KvMachine', () => {
  it('reads, writes, deletes and compares-and-sets per key', () => {
    const m = new KvMachine();
    expect(apply(m, read('a'))).toEqual({ op: 'read', value: null });
    expect(apply(m, cas('a', 'x', 'y'))).toEqual({ op: 'cas', ok: false, observed: null });
    expect(apply(m, cas('a', null, 'x'))).toEqual({ op: 'cas', ok: true, observed: null });
    expect(apply(m, write('b', 'B'))).toEqual({ op: 'write' });
    expect(apply(m, cas('a', 'x', 'z'))).toEqual({ op: 'cas', ok: true, observed: 'x' });
    expect(m.read('a')).toBe('z');
    expect(apply(m, write('a', null))).toEqual({ op: 'write' });
    expect(m.read('a')).toBeNull();
    expect(m.entriesSnapshot()).toEqual([['b', 'B']]);
    expect(m.size).toBe(1);
  });

  it('answers bytes that are not a command with `invalid` and changes nothing', () => {
    const m = new KvMachine();
    apply(m, write('k', 'v'));
    const before = m.digest();
    expect(decodeKvResult(m.apply(Uint8Array.from([2, 9, 0]), 2))).toEqual({ ok: true, value: { op: 'invalid' } });
    expect(m.digest()).toBe(before);
  });

  it('applies a command every time it is given (duplicates are the session layer\'s business)', () => {
    const m = new KvMachine();
    apply(m, write('k', 'first'));
    expect(apply(m, cas('k', 'first', 'second'))).toEqual({ op: 'cas', ok: true, observed: 'first' });
    expect(apply(m, cas('k', 'first', 'second'))).toEqual({ op: 'cas', ok: false, observed: 'second' });
  });

  it('gives equal digests to replicas that applied the same commands, and different ones otherwise', () => {
    const commands = [write('a', '1'), write('b', '2'), cas('a', '1', '3'), read('a')];
    const a = new KvMachine();
    const b = new KvMachine();
    for (const c of commands) {
      apply(a, c);
      apply(b, c);
    }
    expect(a.digest()).toBe(b.digest());
    expect(a.digest()).toMatch(/^[0-9a-f]{16}$/);
    apply(b, write('a', '4'));
    expect(a.digest()).not.toBe(b.digest());
  });

  it('snapshots to deterministic bytes and restores an equal machine', () => {
    const m = new KvMachine();
    apply(m, write('z', 'last'));
    apply(m, write('a', 'first'));
    apply(m, cas('a', 'first', 'second'));
    // Another insertion order, the same state: the same bytes.
    const other = new KvMachine();
    apply(other, write('a', 'second'));
    apply(other, write('z', 'last'));
    expect([...other.snapshot()]).toEqual([...m.snapshot()]);
    const restored = new KvMachine();
    apply(restored, write('gone', 'x'));
    restored.restore(m.snapshot());
    expect(restored.digest()).toBe(m.digest());
    expect(restored.entriesSnapshot()).toEqual([
      ['a', 'second'],
      ['z', 'last'],
    ]);
  });

  it('refuses bad snapshot bytes and keeps its state', () => {
    const m = new KvMachine();
    apply(m, write('k', 'v'));
    const good = m.snapshot();
    const before = m.digest();
    for (const bad of [new Uint8Array(0), good.subarray(0, good.length - 1), Uint8Array.from([...good, 0]), Uint8Array.from([1, ...good.subarray(1)])]) {
      expect(() => m.restore(bad)).toThrow(KvDecodeError);
      expect(m.digest()).toBe(before);
    }
  });
});

describe('KvMachine behind client sessions', () => {
  it('runs a retried command once, and the retry gets the first result', () => {
    const kv = new KvMachine();
    const m = new SessionMachine(kv);
    expect(m.applyCommand(encodeSessionCommand({ type: 'register' }), 1)).toEqual({ status: 'registered', clientId: 1 });
    const incr = encodeSessionCommand({ type: 'request', clientId: 1, seq: 1, payload: encodeKvCommand(cas('k', null, 'once')) });
    const first = m.applyCommand(incr, 2);
    const retry = m.applyCommand(incr, 3);
    expect(first.status).toBe('applied');
    expect(retry.status).toBe('duplicate');
    if (first.status === 'applied' && retry.status === 'duplicate') {
      expect(decodeKvResult(retry.result)).toEqual({ ok: true, value: { op: 'cas', ok: true, observed: null } });
      expect([...retry.result]).toEqual([...first.result]);
    }
    expect(kv.read('k')).toBe('once');
    // The whole stack snapshots and restores to an equal machine.
    const copy = new SessionMachine(new KvMachine());
    copy.restore(m.snapshot());
    expect([...copy.snapshot()]).toEqual([...m.snapshot()]);
    expect(copy.applyCommand(incr, 4).status).toBe('duplicate');
  });
});
