/**
 * Client sessions (dissertation §6.3) make any state machine exactly-once: a retried command
 * returns the first result without touching the inner machine again; a command from an
 * unknown or expired session is refused, never applied; expiry depends only on log positions,
 * so replicas agree; snapshots carry the sessions; a resent register (same nonce) answers the
 * session its first copy opened instead of opening another. The inner machine here counts how many times
 * it was really applied, so every duplicate that leaked through would show.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeSessionCommand,
  decodeSessionOutcome,
  encodeSessionCommand,
  encodeSessionOutcome,
  SessionMachine,
  type SessionOutcome,
} from '../../src/machines/sessions.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';

/** Appends each command's first byte to a list; its result is the list length. */
class CountingMachine implements StateMachine {
  applied: number[] = [];
  apply(command: Uint8Array): Uint8Array {
    this.applied.push(command[0] ?? 0);
    return Uint8Array.of(this.applied.length);
  }
  snapshot(): Uint8Array {
    return Uint8Array.from(this.applied);
  }
  restore(snapshot: Uint8Array): void {
    this.applied = Array.from(snapshot);
  }
}

const register = encodeSessionCommand({ type: 'register' });
const request = (clientId: number, seq: number, value: number): Uint8Array =>
  encodeSessionCommand({ type: 'request', clientId, seq, payload: Uint8Array.of(value) });

describe('SessionMachine', () => {
  it('registers a client at the log index of the register command', () => {
    const m = new SessionMachine(new CountingMachine());
    expect(m.applyCommand(register, 7)).toEqual({ status: 'registered', clientId: 7 });
    expect(m.sessionCount).toBe(1);
  });

  it('applies a retried command once and returns the cached result', () => {
    const inner = new CountingMachine();
    const m = new SessionMachine(inner);
    m.applyCommand(register, 1);
    const first = m.applyCommand(request(1, 1, 42), 2);
    // The same (clientId, seq) committed again, e.g. retried after a leader change.
    const again = m.applyCommand(request(1, 1, 42), 5);
    expect(first).toEqual({ status: 'applied', result: Uint8Array.of(1) });
    expect(again).toEqual({ status: 'duplicate', result: Uint8Array.of(1) });
    expect(inner.applied).toEqual([42]);
  });

  it('refuses stale sequence numbers and applies the next one', () => {
    const inner = new CountingMachine();
    const m = new SessionMachine(inner);
    m.applyCommand(register, 1);
    m.applyCommand(request(1, 1, 10), 2);
    m.applyCommand(request(1, 2, 20), 3);
    expect(m.applyCommand(request(1, 1, 10), 4)).toEqual({ status: 'stale' });
    expect(inner.applied).toEqual([10, 20]);
  });

  it('refuses a command of an unknown session without applying it', () => {
    const inner = new CountingMachine();
    const m = new SessionMachine(inner);
    expect(m.applyCommand(request(99, 1, 1), 1)).toEqual({ status: 'expired' });
    expect(inner.applied).toEqual([]);
  });

  it('expires sessions by log position, the same on every replica', () => {
    const replicas = [new SessionMachine(new CountingMachine(), { sessionExpiryEntries: 10 }), new SessionMachine(new CountingMachine(), { sessionExpiryEntries: 10 })];
    const log: [Uint8Array, number][] = [
      [register, 1],
      [register, 2],
      [request(1, 1, 5), 3],
      // Client 2 stays silent; client 1 keeps going until index 13 expires client 2 (last active at 2).
      [request(1, 2, 6), 12],
      [request(1, 3, 7), 13],
      [request(2, 1, 8), 14],
      [request(1, 4, 9), 15],
    ];
    const outcomes = replicas.map((m) => log.map(([cmd, index]) => m.applyCommand(cmd, index).status));
    expect(outcomes[0]).toEqual(['registered', 'registered', 'applied', 'applied', 'applied', 'expired', 'applied']);
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(replicas[0]?.snapshot()).toEqual(replicas[1]?.snapshot());
  });

  it('bounds the number of sessions, dropping the least recently used', () => {
    const m = new SessionMachine(new CountingMachine(), { sessionsMax: 2 });
    m.applyCommand(register, 1);
    m.applyCommand(register, 2);
    m.applyCommand(request(1, 1, 1), 3); // client 1 is now the most recent
    m.applyCommand(register, 4); // evicts client 2
    expect(m.sessionCount).toBe(2);
    expect(m.applyCommand(request(2, 1, 1), 5)).toEqual({ status: 'expired' });
    expect(m.applyCommand(request(1, 1, 1), 6).status).toBe('duplicate');
  });

  it('carries sessions through a snapshot: a duplicate after restore is still absorbed', () => {
    const inner = new CountingMachine();
    const m = new SessionMachine(inner);
    m.applyCommand(register, 1);
    m.applyCommand(request(1, 1, 3), 2);
    const restored = new SessionMachine(new CountingMachine());
    restored.restore(m.snapshot());
    expect(restored.snapshot()).toEqual(m.snapshot());
    expect(restored.applyCommand(request(1, 1, 3), 3)).toEqual({ status: 'duplicate', result: Uint8Array.of(1) });
    expect((restored.inner as CountingMachine).applied).toEqual([3]);
  });

  it('answers a resent register (same nonce) with the session its first copy opened', () => {
    const m = new SessionMachine(new CountingMachine());
    const withNonce = (nonce: number): Uint8Array => encodeSessionCommand({ type: 'register', nonce });
    expect(m.applyCommand(withNonce(77), 3)).toEqual({ status: 'registered', clientId: 3 });
    expect(m.applyCommand(withNonce(77), 5)).toEqual({ status: 'registered', clientId: 3 });
    expect(m.applyCommand(withNonce(78), 6)).toEqual({ status: 'registered', clientId: 6 });
    // Registers without a nonce are never taken for copies of each other.
    expect(m.applyCommand(register, 7)).toEqual({ status: 'registered', clientId: 7 });
    expect(m.applyCommand(register, 8)).toEqual({ status: 'registered', clientId: 8 });
    expect(m.sessionCount).toBe(4);
    expect(m.stats.registersRepeated).toBe(1);
    // A replica restored from a snapshot answers the copy alike (the nonce is in the snapshot).
    const restored = new SessionMachine(new CountingMachine());
    restored.restore(m.snapshot());
    expect(restored.applyCommand(withNonce(78), 9)).toEqual({ status: 'registered', clientId: 6 });
    expect(restored.sessionCount).toBe(4);
  });

  it('forgets a nonce with its session: a copy after expiry opens a new one, and the map stays bounded', () => {
    const m = new SessionMachine(new CountingMachine(), { sessionsMax: 2 });
    const withNonce = (nonce: number): Uint8Array => encodeSessionCommand({ type: 'register', nonce });
    m.applyCommand(withNonce(1), 1);
    m.applyCommand(withNonce(2), 2);
    m.applyCommand(withNonce(3), 3); // evicts client 1 and its nonce
    expect(m.applyCommand(withNonce(1), 4)).toEqual({ status: 'registered', clientId: 4 });
    expect(m.sessionCount).toBe(2);
    expect(m.stats.registersRepeated).toBe(0);
    expect(m.applyCommand(withNonce(1), 5)).toEqual({ status: 'registered', clientId: 4 });
  });

  it('restores a version 2 snapshot (no nonces)', () => {
    const m = new SessionMachine(new CountingMachine());
    m.applyCommand(register, 1);
    m.applyCommand(request(1, 1, 3), 2);
    // Version 2 layout: version, inner, count, then per session id, seq, active, rejected, result.
    const v2 = Uint8Array.of(2, 1, 3, 1, 1, 1, 2, 0, 1, 1);
    const restored = new SessionMachine(new CountingMachine());
    restored.restore(v2);
    expect(restored.snapshot()).toEqual(m.snapshot());
  });

  it('reports malformed command bytes without applying anything', () => {
    const inner = new CountingMachine();
    const m = new SessionMachine(inner);
    for (const bytes of [new Uint8Array(0), Uint8Array.of(9, 1), Uint8Array.of(1, 2, 0, 0), Uint8Array.of(1, 1)]) {
      expect(m.applyCommand(bytes, 1)).toEqual({ status: 'malformed' });
    }
    expect(inner.applied).toEqual([]);
  });
});

describe('session encoding', () => {
  it('round-trips commands and outcomes', () => {
    const cmd = { type: 'request', clientId: 300, seq: 70_000, payload: Uint8Array.of(1, 2, 3) } as const;
    const decoded = decodeSessionCommand(encodeSessionCommand(cmd));
    expect(decoded.ok && decoded.value).toEqual(cmd);
    const outcomes: SessionOutcome[] = [
      { status: 'registered', clientId: 12 },
      { status: 'applied', result: Uint8Array.of(9) },
      { status: 'duplicate', result: new Uint8Array(0) },
      { status: 'stale' },
      { status: 'expired' },
      { status: 'malformed' },
    ];
    for (const o of outcomes) {
      const back = decodeSessionOutcome(encodeSessionOutcome(o));
      expect(back.ok && back.value).toEqual(o);
    }
  });

  it('rejects truncated and trailing bytes with a typed error', () => {
    const bytes = encodeSessionCommand({ type: 'request', clientId: 1, seq: 1, payload: Uint8Array.of(1, 2) });
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = decodeSessionCommand(bytes.subarray(0, cut));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SESSION_DECODE');
    }
    const extra = new Uint8Array(bytes.length + 1);
    extra.set(bytes);
    expect(decodeSessionCommand(extra).ok).toBe(false);
  });
});
