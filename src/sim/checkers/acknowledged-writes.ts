/**
 * No acknowledged write is lost: every write or compare-and-set whose outcome a client received
 * (it was applied, so it was committed) must be in the final committed log of the healed cluster.
 * Commands are recognized by their session and seq, read from the log's entries through
 * `requestOf` (the session layer's decoder by default).
 *
 * With snapshots the final log is the healed leader's stored entries, preceded (below its first
 * stored index) by the entries every replica applied there: its snapshot holds their effect, and
 * state machine safety checks that the snapshot's state is the one those entries produce.
 */
import type { Entry } from '../../core/raft/types.ts';
import { decodeSessionCommand } from '../../machines/sessions.ts';
import { pushViolation, type Violation } from './violation.ts';

/** A command through the log whose outcome a client received. */
export interface AcknowledgedCommand {
  /** The simulated client. */
  readonly client: number;
  /** Its session id (the register command's index) and the command's seq in that session. */
  readonly session: number;
  readonly seq: number;
  readonly op: 'read' | 'write' | 'cas';
  readonly key: string;
  /** When the client received the acknowledgement (virtual microseconds). */
  readonly ackUs: number;
}

export type RequestOf = (data: Uint8Array) => { readonly session: number; readonly seq: number } | null;

/** The (session, seq) of a session `request` command; null for anything else. */
export const sessionRequestOf: RequestOf = (data) => {
  const decoded = decodeSessionCommand(data);
  if (!decoded.ok || decoded.value.type !== 'request') return null;
  return { session: decoded.value.clientId, seq: decoded.value.seq };
};

export function requestKey(session: number, seq: number): string {
  return `${session}:${seq}`;
}

export function checkAcknowledgedWrites(
  acknowledged: readonly AcknowledgedCommand[],
  finalLog: readonly Entry[],
  timeUs: number,
  requestOf: RequestOf = sessionRequestOf,
): Violation[] {
  const inLog = new Set<string>();
  for (const e of finalLog) {
    if (e.kind !== 'normal') continue;
    const r = requestOf(e.data);
    if (r !== null) inLog.add(requestKey(r.session, r.seq));
  }
  const violations: Violation[] = [];
  for (const a of acknowledged) {
    if (a.op === 'read' || inLog.has(requestKey(a.session, a.seq))) continue;
    pushViolation(violations, {
      property: 'lost-acknowledged-write',
      timeUs,
      detail: `client ${a.client} (session ${a.session}, seq ${a.seq}: ${a.op} ${JSON.stringify(a.key)}) was acknowledged at ${a.ackUs}us but is not in the final committed log (${finalLog.length} entries)`,
    });
  }
  return violations;
}
