/**
 * What a driver may do with a Ready before its write is durable (DESIGN.md §2 lists the strict
 * order; these are the exceptions that keep it safe and take a disk write off the hot path).
 * `sendableBeforePersist` (messages.ts) says which messages may leave early.
 */
import type { Ready } from './types.ts';

/**
 * How many of `rd.committedEntries`, from the first, the driver may apply BEFORE persisting
 * `rd`: those below the first index this Ready writes. They are committed (durable on a quorum)
 * and already durable HERE, written by earlier Readies, so applying them cannot get ahead of
 * this node's own log after a crash. A leader's committed entries are always of this kind (it
 * counts itself only once durable), so under load a leader answers its callers while it writes
 * the next batch instead of after. None when the Ready carries a snapshot: the state machine
 * must be restored from it first.
 */
export function durableCommitted(rd: Pick<Ready, 'snapshot' | 'entries' | 'committedEntries'>): number {
  if (rd.snapshot !== null) return 0;
  const firstWritten = rd.entries[0]?.index ?? Number.POSITIVE_INFINITY;
  let n = 0;
  while (n < rd.committedEntries.length && (rd.committedEntries[n] as { index: number }).index < firstWritten) n++;
  return n;
}
