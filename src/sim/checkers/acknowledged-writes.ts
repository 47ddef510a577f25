/**
 * No acknowledged write is lost: every write or compare-and-set whose outcome a client received
 * (it was applied, so it was committed) must be in the final committed log of the healed cluster.
 * Commands are recognized by their (clientId, requestId), read from the log's entries through
 * `requestOf` (the KV machine's decoder by default).
 */
import type { Entry } from '../../core/raft/types.ts';
import { decodeKvCommand } from '../../machines/kv.ts';
import { pushViolation, type Violation } from './violation.ts';

export interface AcknowledgedWrite {
  readonly clientId: number;
  readonly requestId: number;
  readonly op: 'write' | 'cas';
  readonly key: string;
  /** When the client received the acknowledgement (virtual microseconds). */
  readonly ackUs: number;
}

export type RequestOf = (data: Uint8Array) => { readonly clientId: number; readonly requestId: number } | null;

export const kvRequestOf: RequestOf = (data) => {
  const decoded = decodeKvCommand(data);
  return decoded.ok ? { clientId: decoded.value.clientId, requestId: decoded.value.requestId } : null;
};

export function checkAcknowledgedWrites(
  acknowledged: readonly AcknowledgedWrite[],
  finalLog: readonly Entry[],
  timeUs: number,
  requestOf: RequestOf = kvRequestOf,
): Violation[] {
  const inLog = new Set<string>();
  for (const e of finalLog) {
    if (e.kind !== 'normal') continue;
    const r = requestOf(e.data);
    if (r !== null) inLog.add(`${r.clientId}:${r.requestId}`);
  }
  const violations: Violation[] = [];
  for (const a of acknowledged) {
    if (inLog.has(`${a.clientId}:${a.requestId}`)) continue;
    pushViolation(violations, {
      property: 'lost-acknowledged-write',
      timeUs,
      detail: `client ${a.clientId} request ${a.requestId} (${a.op} ${JSON.stringify(a.key)}) was acknowledged at ${a.ackUs}us but is not in the final committed log (${finalLog.length} entries)`,
    });
  }
  return violations;
}
