/**
 * LWW-Register: a register where the write with the highest timestamp wins (Shapiro et al. 2011;
 * in Almeida et al. 2018, a lexicographic pair of timestamp and value).
 *
 * The core reads no clock (DESIGN.md §1): the caller supplies each write's timestamp (the runtime
 * has milliseconds since 1970; a test has whatever it likes). Two rules make the result the same
 * everywhere and unsurprising:
 * - Ties on the timestamp are broken by replica id, then by the value's order (scalar.ts), so the
 *   merge is a total-order max and therefore a join whatever the clocks say. (The value step only
 *   matters for a replica that wrote twice under one stamp, which the next rule prevents locally;
 *   it keeps the merge commutative for a peer that does it anyway.)
 * - A write is stamped at least one past the write it overwrites: `max(timestamp, seen + 1)`, as a
 *   hybrid logical clock does (Kulkarni et al. 2014). Without it, a replica whose clock runs
 *   behind would write, see its own write lose to the value it just replaced, and the user's edit
 *   would vanish. With it, a write always supersedes everything its replica had seen, and only
 *   truly concurrent writes are decided by the clocks.
 *
 * The delta of a write is the new entry itself, a whole state.
 */
import { err, ok, type Result } from '../result.ts';
import { timestampMax } from './limits.ts';
import { argumentRefusal, type CrdtRefusal } from './refusal.ts';
import { compareScalars, normalizeScalar, scalarArgumentRefusal, type Scalar } from './scalar.ts';
import { compareText } from './text.ts';
import { assertReplicaId, type ReplicaId } from './version-vector.ts';
import { readWire, type WireReader, type WireValue } from './wire-reader.ts';

export interface LwwEntry {
  readonly timestamp: number;
  readonly replica: ReplicaId;
  readonly value: Scalar;
}

/** The winning write, or null before any write. */
export type LwwRegister = LwwEntry | null;

export function lwwEmpty(): LwwRegister {
  return null;
}

/** The order of writes: timestamp, then replica id, then value. */
export function compareLwwEntries(a: LwwEntry, b: LwwEntry): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  const byReplica = compareText(a.replica, b.replica);
  return byReplica !== 0 ? byReplica : compareScalars(a.value, b.value);
}

/**
 * The entry of a write of `value` at `timestamp` by `replica` over a register whose newest seen
 * stamp is `seenTimestamp` (null if none): stamped `max(timestamp, seen + 1)`. Refused for a
 * timestamp that is not an integer in [0, timestampMax], a value a register cannot hold, or a
 * stamp that would pass timestampMax.
 */
export function stampWrite(seenTimestamp: number | null, replica: ReplicaId, timestamp: number, value: Scalar): Result<LwwEntry, CrdtRefusal> {
  assertReplicaId(replica);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > timestampMax) {
    return err(argumentRefusal('CONFIG', 'integer', 'timestamp', `${timestamp} is not an integer in [0, ${timestampMax}]`));
  }
  const refusal = scalarArgumentRefusal(value);
  if (refusal !== null) return err(refusal);
  const stamp = seenTimestamp === null ? timestamp : Math.max(timestamp, seenTimestamp + 1);
  if (stamp > timestampMax) {
    return err(argumentRefusal('TOO_LARGE', 'overflow', 'timestamp', `the write would be stamped ${stamp}, past timestampMax`));
  }
  return ok({ timestamp: stamp, replica, value: normalizeScalar(value) });
}

/** The delta of `replica` writing `value` at `timestamp` (see `stampWrite`). */
export function lwwWrite(state: LwwRegister, replica: ReplicaId, timestamp: number, value: Scalar): Result<LwwRegister, CrdtRefusal> {
  return stampWrite(state === null ? null : state.timestamp, replica, timestamp, value);
}

export function lwwMerge(a: LwwRegister, b: LwwRegister): LwwRegister {
  if (a === null) return b;
  if (b === null) return a;
  return compareLwwEntries(a, b) >= 0 ? a : b;
}

/** The value of the winning write, undefined before any write. */
export function lwwValue(state: LwwRegister): Scalar | undefined {
  return state === null ? undefined : state.value;
}

export function encodeLwwEntry(entry: LwwEntry): WireValue {
  return [entry.timestamp, entry.replica, entry.value];
}

/** `[]` before any write, else `[timestamp, replica, value]`. */
export function encodeLwwRegister(state: LwwRegister): WireValue {
  return state === null ? [] : encodeLwwEntry(state);
}

export function readLwwEntry(reader: WireReader, value: unknown, path: string): LwwEntry {
  const [timestamp, replica, held] = reader.tuple(value, path, 3);
  return {
    timestamp: reader.integer(timestamp, `${path}[0]`, 0, timestampMax),
    replica: reader.replica(replica, `${path}[1]`),
    value: reader.scalar(held, `${path}[2]`),
  };
}

export function readLwwRegister(reader: WireReader, value: unknown, path: string): LwwRegister {
  if (Array.isArray(value) && value.length === 0) return null;
  return readLwwEntry(reader, value, path);
}

export function decodeLwwRegister(input: unknown): Result<LwwRegister, CrdtRefusal> {
  return readWire(input, (reader, value) => readLwwRegister(reader, value, 'state'));
}

export function lwwEntries(state: LwwRegister): number {
  return state === null ? 0 : 1;
}
