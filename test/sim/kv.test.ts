/**
 * What this proves about the KV state machine (src/machines/kv.ts): commands survive their binary
 * encoding exactly (including null values and non-ASCII text) and malformed bytes are refused
 * with a typed error instead of a throw; read, write, delete and compare-and-set behave as a
 * register per key; a repeated request is applied once (a duplicate returns the first result,
 * an older request is stale and changes nothing); replicas that apply the same commands have
 * equal digests and different ones differ; a snapshot restores an equal machine.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter, decodeUtf8, encodeUtf8 } from '../../src/machines/bytes.ts';
import { decodeKvCommand, encodeKvCommand, KvDecodeError, KvMachine, type KvCommand } from '../../src/machines/kv.ts';

const write = (clientId: number, requestId: number, key: string, value: string | null): KvCommand => ({ op: 'write', clientId, requestId, key, value });
const read = (clientId: number, requestId: number, key: string): KvCommand => ({ op: 'read', clientId, requestId, key });
const cas = (clientId: number, requestId: number, key: string, expected: string | null, value: string | null): KvCommand => ({
  op: 'cas',
  clientId,
  requestId,
  key,
  expected,
  value,
});

describe('KV command encoding', () => {
  it('round-trips every kind of command, nulls and non-ASCII text', () => {
    const commands: KvCommand[] = [
      read(0, 1, 'k'),
      write(3, 2 ** 40, 'clé', 'värde 🚀'),
      write(1, 7, '', null),
      cas(2, 9, 'k', null, 'v'),
      cas(2, 10, 'k', 'v', null),
      cas(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'x'.repeat(1000), 'a', 'b'),
    ];
    for (const c of commands) {
      const decoded = decodeKvCommand(encodeKvCommand(c));
      expect(decoded).toEqual({ ok: true, value: c });
    }
  });

  it('refuses malformed bytes with a KvDecodeError', () => {
    const good = encodeKvCommand(write(1, 2, 'key', 'value'));
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      good.subarray(0, good.length - 1), // truncated
      Uint8Array.from([...good, 0]), // trailing byte
      Uint8Array.from([9, ...good.subarray(1)]), // unknown version
      Uint8Array.from([1, 7, ...good.subarray(2)]), // unknown op
      new ByteWriter().u8(1).u8(1).varuint(1).varuint(1).bytes(Uint8Array.from([0xc0, 0x80])).finish(), // overlong UTF-8
      new ByteWriter().u8(1).u8(2).varuint(1).varuint(1).string('k').u8(5).finish(), // bad null flag
      Uint8Array.from([1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // varuint too long
    ];
    for (const bytes of cases) {
      const decoded = decodeKvCommand(bytes);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.error).toBeInstanceOf(KvDecodeError);
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
    expect(m.apply(read(1, 1, 'a'))).toEqual({ status: 'applied', result: { op: 'read', value: null } });
    expect(m.apply(cas(1, 2, 'a', 'x', 'y'))).toEqual({ status: 'applied', result: { op: 'cas', ok: false, observed: null } });
    expect(m.apply(cas(1, 3, 'a', null, 'x'))).toEqual({ status: 'applied', result: { op: 'cas', ok: true, observed: null } });
    expect(m.apply(write(1, 4, 'b', 'B'))).toEqual({ status: 'applied', result: { op: 'write' } });
    expect(m.apply(cas(1, 5, 'a', 'x', 'z'))).toEqual({ status: 'applied', result: { op: 'cas', ok: true, observed: 'x' } });
    expect(m.read('a')).toBe('z');
    expect(m.apply(write(1, 6, 'a', null))).toEqual({ status: 'applied', result: { op: 'write' } });
    expect(m.read('a')).toBeNull();
    expect(m.entriesSnapshot()).toEqual([['b', 'B']]);
  });

  it('applies a request once: duplicates return the first result, older requests are stale', () => {
    const m = new KvMachine();
    expect(m.apply(write(7, 1, 'k', 'first')).status).toBe('applied');
    expect(m.apply(cas(7, 2, 'k', 'first', 'second'))).toEqual({ status: 'applied', result: { op: 'cas', ok: true, observed: 'first' } });
    // The same cas delivered again (a duplicated forwarded proposal) must not fail or re-apply.
    expect(m.apply(cas(7, 2, 'k', 'first', 'second'))).toEqual({ status: 'duplicate', result: { op: 'cas', ok: true, observed: 'first' } });
    // A write of an abandoned request arriving late changes nothing.
    expect(m.apply(write(7, 1, 'k', 'first'))).toEqual({ status: 'stale' });
    expect(m.read('k')).toBe('second');
    // Other clients have their own sequence.
    expect(m.apply(write(8, 1, 'k', 'third')).status).toBe('applied');
    expect(m.read('k')).toBe('third');
  });

  it('gives equal digests to replicas that applied the same commands, and different ones otherwise', () => {
    const commands = [write(1, 1, 'a', '1'), write(2, 1, 'b', '2'), cas(1, 2, 'a', '1', '3'), read(2, 2, 'a')];
    const a = new KvMachine();
    const b = new KvMachine();
    for (const c of commands) {
      a.apply(c);
      b.apply(c);
    }
    expect(a.digest()).toBe(b.digest());
    expect(a.digest()).toMatch(/^[0-9a-f]{16}$/);
    b.apply(write(3, 1, 'a', '4'));
    expect(a.digest()).not.toBe(b.digest());
    // The session table is replicated state too: same data, different sessions, different digest.
    const c = new KvMachine();
    const d = new KvMachine();
    c.apply(write(1, 1, 'a', 'v'));
    d.apply(write(2, 1, 'a', 'v'));
    expect(c.entriesSnapshot()).toEqual(d.entriesSnapshot());
    expect(c.digest()).not.toBe(d.digest());
  });

  it('restores an equal machine from a snapshot', () => {
    const m = new KvMachine();
    m.apply(write(2, 1, 'z', 'last'));
    m.apply(write(1, 5, 'a', 'first'));
    m.apply(cas(3, 1, 'a', 'first', 'second'));
    const restored = KvMachine.restore(m.snapshot());
    expect(restored.digest()).toBe(m.digest());
    expect(restored.entriesSnapshot()).toEqual([
      ['a', 'second'],
      ['z', 'last'],
    ]);
    expect(restored.apply(write(1, 5, 'a', 'again')).status).toBe('duplicate');
  });
});
