/**
 * Client sessions: exactly-once commands over any state machine (Raft dissertation §6.3).
 *
 * A client that times out cannot know whether its command was applied; if it retries, a plain
 * state machine may apply it twice (a leader can commit a command and crash before answering).
 * The session layer makes retries safe:
 *
 *   1. A client first registers. The register command's log index becomes its client id, unique
 *      for the life of the cluster without any coordination. A register carrying the nonce of a
 *      live session's register is a copy of it (a client resends a register it has not seen
 *      applied, like any command, §6.3): it answers that session, opening no new one. Without
 *      this every resent copy opened a session nobody used (the services simulator: 969
 *      sessions, 65 used), each carried in every snapshot until it expired.
 *   2. Every later command carries (clientId, seq), seq increasing by one per new command, and
 *      a retry reuses the seq. The wrapper remembers, per client, the last seq it applied and
 *      that command's result. A command with that seq again is a duplicate: the cached result is
 *      returned and the inner machine is not touched. A lower seq is stale (the client has moved
 *      on and does not wait for it).
 *   3. Sessions expire deterministically, by log position: a session unused for
 *      `sessionExpiryEntries` entries is dropped when a later command is applied; an entry's
 *      index is the same on every replica, so every replica drops the same sessions at the same
 *      point, which a local clock could never guarantee. A command for a session that does not
 *      exist (expired, or never registered) is refused with `expired` and NOT applied: the
 *      wrapper cannot tell whether it ran before, so it must not run it now. The client
 *      registers again and learns that its earlier command's outcome is unknown.
 *
 * One command in flight per client (the seq discipline above), as the dissertation's simplest
 * form; a client wanting concurrency opens several sessions.
 */
import { assert } from '../core/assert.ts';
import { err, ok, type Result } from '../core/result.ts';
import { ByteFormatError, ByteReader, ByteWriter, decodeUtf8, encodeUtf8 } from './bytes.ts';
import type { StateMachine } from './state-machine.ts';

export const sessionCommandVersion = 1;
/**
 * Version 2 of the snapshot records whether each session's last command was rejected; version 3
 * each session's register nonce (0: none), so that a replica restored from a snapshot answers a
 * resent register as one that applied the log does.
 */
export const sessionSnapshotVersion = 3;
/** The largest inner command or result a session command may carry. */
export const sessionPayloadBytesMax = 4 * 1024 * 1024;

export interface SessionOptions {
  /** A session unused for this many log entries expires. */
  readonly sessionExpiryEntries: number;
  /** At most this many sessions; beyond it the least recently used expires first. */
  readonly sessionsMax: number;
}

export const sessionDefaults: SessionOptions = { sessionExpiryEntries: 1_000_000, sessionsMax: 65_536 };

export type SessionCommand =
  /**
   * `nonce` lets the caller recognise its own register command when it sees it applied (a
   * forwarded proposal has no index to wait for), and the machine recognise a resent copy of it
   * (it answers the session the first copy opened).
   */
  | { readonly type: 'register'; readonly nonce?: number }
  | { readonly type: 'request'; readonly clientId: number; readonly seq: number; readonly payload: Uint8Array };

export type SessionOutcome =
  /** The register command's index: the new client id. */
  | { readonly status: 'registered'; readonly clientId: number }
  /** Applied now; `result` is the inner machine's result. */
  | { readonly status: 'applied'; readonly result: Uint8Array }
  /** Applied before: the cached result, the inner machine untouched. */
  | { readonly status: 'duplicate'; readonly result: Uint8Array }
  /**
   * The inner machine threw on this command: the same deterministic refusal on every replica
   * (the machine must be deterministic, so it throws alike everywhere), kept as the session's
   * result so that a retry gets it again; the error's message, bounded, is the reason.
   */
  | { readonly status: 'rejected'; readonly reason: string }
  /** The client has since sent a later command: nothing applied, no result kept. */
  | { readonly status: 'stale' }
  /** No such session (expired or never registered): nothing applied. */
  | { readonly status: 'expired' }
  /** The command bytes were not a session command: nothing applied. */
  | { readonly status: 'malformed' };

export class SessionDecodeError extends Error {
  override readonly name = 'SessionDecodeError';
  readonly code = 'SESSION_DECODE';
}

const commandTags = { register: 1, request: 2 } as const;
const outcomeTags = { registered: 1, applied: 2, duplicate: 3, stale: 4, expired: 5, malformed: 6, rejected: 7 } as const;

/** The longest rejection reason kept (a machine's error message, cut). */
export const rejectionReasonBytesMax = 256;

export function encodeSessionCommand(command: SessionCommand): Uint8Array {
  const w = new ByteWriter(16 + (command.type === 'request' ? command.payload.byteLength : 0));
  w.u8(sessionCommandVersion).u8(commandTags[command.type]);
  if (command.type === 'register') w.varuint(command.nonce ?? 0);
  else if (command.type === 'request') w.varuint(command.clientId).varuint(command.seq).bytes(command.payload);
  return w.finish();
}

export function decodeSessionCommand(bytes: Uint8Array): Result<SessionCommand, SessionDecodeError> {
  try {
    const r = new ByteReader(bytes);
    if (r.u8() !== sessionCommandVersion) return err(new SessionDecodeError('unknown session command version'));
    const tag = r.u8();
    let command: SessionCommand;
    if (tag === commandTags.register) {
      const nonce = r.varuint();
      command = nonce === 0 ? { type: 'register' } : { type: 'register', nonce };
    } else if (tag === commandTags.request) {
      const clientId = r.varuint();
      const seq = r.varuint();
      const payload = r.bytes(sessionPayloadBytesMax);
      if (clientId < 1 || seq < 1) return err(new SessionDecodeError('clientId and seq start at 1'));
      command = { type: 'request', clientId, seq, payload };
    } else {
      return err(new SessionDecodeError(`unknown session command tag ${tag}`));
    }
    if (!r.atEnd()) return err(new SessionDecodeError('trailing bytes after a session command'));
    return ok(command);
  } catch (e) {
    if (e instanceof ByteFormatError) return err(new SessionDecodeError(e.message));
    throw e;
  }
}

export function encodeSessionOutcome(outcome: SessionOutcome): Uint8Array {
  const w = new ByteWriter(16);
  w.u8(outcomeTags[outcome.status]);
  if (outcome.status === 'registered') w.varuint(outcome.clientId);
  else if (outcome.status === 'applied' || outcome.status === 'duplicate') w.bytes(outcome.result);
  else if (outcome.status === 'rejected') w.bytes(encodeUtf8(outcome.reason));
  return w.finish();
}

export function decodeSessionOutcome(bytes: Uint8Array): Result<SessionOutcome, SessionDecodeError> {
  try {
    const r = new ByteReader(bytes);
    const tag = r.u8();
    let outcome: SessionOutcome;
    switch (tag) {
      case outcomeTags.registered:
        outcome = { status: 'registered', clientId: r.varuint() };
        break;
      case outcomeTags.applied:
        outcome = { status: 'applied', result: r.bytes(sessionPayloadBytesMax) };
        break;
      case outcomeTags.duplicate:
        outcome = { status: 'duplicate', result: r.bytes(sessionPayloadBytesMax) };
        break;
      case outcomeTags.stale:
        outcome = { status: 'stale' };
        break;
      case outcomeTags.expired:
        outcome = { status: 'expired' };
        break;
      case outcomeTags.malformed:
        outcome = { status: 'malformed' };
        break;
      case outcomeTags.rejected:
        outcome = { status: 'rejected', reason: decodeUtf8(r.bytes(rejectionReasonBytesMax * 4)) };
        break;
      default:
        return err(new SessionDecodeError(`unknown session outcome tag ${tag}`));
    }
    if (!r.atEnd()) return err(new SessionDecodeError('trailing bytes after a session outcome'));
    return ok(outcome);
  } catch (e) {
    if (e instanceof ByteFormatError) return err(new SessionDecodeError(e.message));
    throw e;
  }
}

interface Session {
  lastSeq: number;
  lastResult: Uint8Array;
  /** The last command was rejected (the inner machine threw); `lastResult` holds the reason, UTF-8. */
  lastRejected: boolean;
  /** The index of the last command of this session: expiry is by log position. */
  lastActiveIndex: number;
  /** The nonce of the register that opened it (0: none). */
  nonce: number;
}

/** A state machine wrapped with client sessions; itself a state machine. */
export class SessionMachine implements StateMachine {
  /** Insertion order is recency: a session is re-inserted whenever it is used. */
  private readonly sessions = new Map<number, Session>();
  /** Client id by register nonce, for the live sessions that have one (at most `sessionsMax`). */
  private readonly byNonce = new Map<number, number>();
  private readonly options: SessionOptions;
  /** Counters for tests and metrics: duplicates absorbed, commands refused as expired, registers resent. */
  readonly stats = { applied: 0, duplicates: 0, stale: 0, expired: 0, malformed: 0, rejected: 0, sessionsExpired: 0, registersRepeated: 0 };

  constructor(
    readonly inner: StateMachine,
    options: Partial<SessionOptions> = {},
  ) {
    this.options = { ...sessionDefaults, ...options };
    assert(Number.isSafeInteger(this.options.sessionExpiryEntries) && this.options.sessionExpiryEntries > 0, 'sessionExpiryEntries > 0');
    assert(Number.isSafeInteger(this.options.sessionsMax) && this.options.sessionsMax > 0, 'sessionsMax > 0');
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Apply one committed command; the result is an encoded `SessionOutcome`. */
  apply(command: Uint8Array, index: number, term?: number): Uint8Array {
    return encodeSessionOutcome(this.applyCommand(command, index, term));
  }

  /** As `apply`, with the outcome decoded. */
  applyCommand(bytes: Uint8Array, index: number, term?: number): SessionOutcome {
    return this.applyAndDecode(bytes, index, term).outcome;
  }

  /**
   * As `applyCommand`, and the decoded command too (null when malformed), so that a caller that
   * tracks its own commands (the runtime's proposals) does not decode every command twice.
   */
  applyAndDecode(bytes: Uint8Array, index: number, term?: number): { readonly outcome: SessionOutcome; readonly command: SessionCommand | null } {
    this.expireBefore(index);
    const decoded = decodeSessionCommand(bytes);
    if (!decoded.ok) {
      this.stats.malformed++;
      return { outcome: { status: 'malformed' }, command: null };
    }
    return { outcome: this.applyDecoded(decoded.value, index, term), command: decoded.value };
  }

  private applyDecoded(command: SessionCommand, index: number, term: number | undefined): SessionOutcome {
    if (command.type === 'register') return this.register(command.nonce ?? 0, index);
    const session = this.sessions.get(command.clientId);
    if (session === undefined) {
      this.stats.expired++;
      return { status: 'expired' };
    }
    if (command.seq === session.lastSeq) {
      this.stats.duplicates++;
      session.lastActiveIndex = index;
      this.touch(command.clientId, session);
      if (session.lastRejected) return { status: 'rejected', reason: decodeUtf8(session.lastResult) };
      return { status: 'duplicate', result: session.lastResult };
    }
    if (command.seq < session.lastSeq) {
      this.stats.stale++;
      return { status: 'stale' };
    }
    session.lastSeq = command.seq;
    session.lastActiveIndex = index;
    this.touch(command.clientId, session);
    let result: Uint8Array;
    try {
      result = this.inner.apply(command.payload, index, term);
    } catch (error) {
      // A deterministic machine throws alike on every replica: the same refusal everywhere,
      // instead of every replica stopping (and stopping again on every replay of the entry).
      const reason = rejectionReason(error);
      this.stats.rejected++;
      session.lastRejected = true;
      session.lastResult = encodeUtf8(reason);
      return { status: 'rejected', reason };
    }
    this.stats.applied++;
    session.lastRejected = false;
    session.lastResult = result;
    return { status: 'applied', result };
  }

  /** A register: a new session at `index`, or the live one a copy with this nonce opened. */
  private register(nonce: number, index: number): SessionOutcome {
    const existing = nonce === 0 ? undefined : this.byNonce.get(nonce);
    const session = existing === undefined ? undefined : this.sessions.get(existing);
    if (existing !== undefined && session !== undefined) {
      this.stats.registersRepeated++;
      session.lastActiveIndex = index;
      this.touch(existing, session);
      return { status: 'registered', clientId: existing };
    }
    this.touch(index, { lastSeq: 0, lastResult: new Uint8Array(0), lastRejected: false, lastActiveIndex: index, nonce });
    if (nonce !== 0) this.byNonce.set(nonce, index);
    return { status: 'registered', clientId: index };
  }

  private touch(clientId: number, session: Session): void {
    this.sessions.delete(clientId);
    this.sessions.set(clientId, session);
    if (this.sessions.size > this.options.sessionsMax) {
      const oldest = this.sessions.keys().next().value as number;
      this.drop(oldest);
    }
  }

  private drop(clientId: number): void {
    const session = this.sessions.get(clientId);
    assert(session !== undefined, 'dropping a session that does not exist');
    this.sessions.delete(clientId);
    if (session.nonce !== 0 && this.byNonce.get(session.nonce) === clientId) this.byNonce.delete(session.nonce);
    this.stats.sessionsExpired++;
  }

  /** Drop sessions unused for `sessionExpiryEntries` entries before `index` (oldest first). */
  private expireBefore(index: number): void {
    const horizon = index - this.options.sessionExpiryEntries;
    for (const [clientId, session] of this.sessions) {
      if (session.lastActiveIndex >= horizon) break;
      this.drop(clientId);
    }
  }

  /** The inner machine's snapshot and the sessions, in recency order (equal states, equal bytes). */
  snapshot(): Uint8Array {
    const w = new ByteWriter(256);
    w.u8(sessionSnapshotVersion).bytes(this.inner.snapshot()).varuint(this.sessions.size);
    for (const [clientId, s] of this.sessions) {
      w.varuint(clientId).varuint(s.lastSeq).varuint(s.lastActiveIndex).u8(s.lastRejected ? 1 : 0).varuint(s.nonce).bytes(s.lastResult);
    }
    return w.finish();
  }

  restore(snapshot: Uint8Array): void {
    const r = new ByteReader(snapshot);
    const version = r.u8();
    // Version 1 (before rejections existed) had no rejected flag, versions 1 and 2 no nonce.
    if (version !== 1 && version !== 2 && version !== sessionSnapshotVersion) throw new SessionDecodeError('unknown session snapshot version');
    const inner = r.bytes(Number.MAX_SAFE_INTEGER);
    const count = r.varuint();
    const sessions: [number, Session][] = [];
    for (let i = 0; i < count; i++) {
      const clientId = r.varuint();
      const lastSeq = r.varuint();
      const lastActiveIndex = r.varuint();
      const lastRejected = version === 1 ? false : r.u8() === 1;
      const nonce = version < 3 ? 0 : r.varuint();
      const lastResult = r.bytes(sessionPayloadBytesMax);
      sessions.push([clientId, { lastSeq, lastResult, lastRejected, lastActiveIndex, nonce }]);
    }
    if (!r.atEnd()) throw new SessionDecodeError('trailing bytes after a session snapshot');
    this.inner.restore(inner);
    this.sessions.clear();
    this.byNonce.clear();
    for (const [clientId, s] of sessions) {
      this.sessions.set(clientId, s);
      if (s.nonce !== 0) this.byNonce.set(s.nonce, clientId);
    }
  }
}

function rejectionReason(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // Cut by characters, then by bytes: the reason travels in the outcome and the snapshot.
  let reason = message.slice(0, rejectionReasonBytesMax);
  while (encodeUtf8(reason).byteLength > rejectionReasonBytesMax) reason = reason.slice(0, -1);
  return reason;
}
