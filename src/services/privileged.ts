/**
 * Which commands only the LEADER'S RUNTIME may propose, and how a proposal is told apart.
 *
 * The services machine (src/machines/services/) cannot tell who proposed a command: it sees
 * bytes at a log position. Two kinds of command are safe only when the leader's own runtime
 * writes them:
 *   - `time` commands: a stranger's time far in the future would expire every lease and every
 *     lock at once (src/machines/services/composite.ts, TIME);
 *   - the tool transitions `started`, `completed`, `failed`, `indeterminate`: they claim that
 *     THIS leader, in its term, runs (or ran, or gave up on) a call. A page's or a peer's copy
 *     would let a caller write its own outcome, or mark a call indeterminate that is running.
 * So the runtime refuses them at the proposal boundary: from the page (the worker's `propose`),
 * and in `propose` messages a follower forwards to the leader (src/runtime/services-link.ts).
 *
 * The check decodes only as far as it must (session envelope, composite header, the `op` of a
 * tools command) and never throws: bytes that do not decode are not privileged (the machine
 * rejects them alike on every replica, which is harmless).
 */
import { decodeCompositeCommand } from '../machines/services/composite.ts';
import { decodeSessionCommand } from '../machines/sessions.ts';
import { commandValueLimits, decodeValue } from '../machines/services/value.ts';

export const privilegedToolOps: ReadonlySet<string> = new Set(['started', 'completed', 'failed', 'indeterminate']);

/** Why a composite command (the session layer's payload) is privileged, or null when it is not. */
export function privilegedReason(payload: Uint8Array): string | null {
  let decoded;
  try {
    decoded = decodeCompositeCommand(payload);
  } catch {
    return null;
  }
  if (decoded.kind === 'time') return 'a time command: only the leader proposes the replicated time';
  if (decoded.service !== 'tools') return null;
  let value;
  try {
    value = decodeValue(decoded.payload, commandValueLimits);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return null;
  const op = (value as { readonly [k: string]: unknown }).op;
  if (typeof op === 'string' && privilegedToolOps.has(op)) return `a tool ${op} command: only the leader that runs the call proposes it`;
  return null;
}

/** The same check on what the log carries: a session command (src/machines/sessions.ts). */
export function privilegedSessionReason(bytes: Uint8Array): string | null {
  const decoded = decodeSessionCommand(bytes);
  if (!decoded.ok || decoded.value.type !== 'request') return null;
  return privilegedReason(decoded.value.payload);
}
