/**
 * Log Matching (Raft paper, Figure 3): if two logs contain an entry with the same index and term,
 * the logs are identical in all entries up through that index.
 *
 * Two parts: every entry a node hands to storage is recorded by (index, term), and a second
 * entry with the same (index, term) but other contents is a violation at once (a leader creates
 * at most one entry per index in its term, which Log Matching rests on); and `checkLogs`
 * compares the durable logs of all nodes pairwise, periodically and at the end of a run.
 */
import type { Entry, NodeId } from '../../core/raft/types.ts';
import { pushViolation, sameEntry, type Violation } from './violation.ts';

export class LogMatchingChecker {
  /** index -> term -> the entry first seen there. */
  private readonly seen = new Map<number, Map<number, Entry>>();
  readonly violations: Violation[] = [];

  /** Entries a node is about to persist. */
  observeEntries(node: NodeId, entries: readonly Entry[], timeUs: number): void {
    for (const e of entries) {
      let byTerm = this.seen.get(e.index);
      if (byTerm === undefined) {
        byTerm = new Map();
        this.seen.set(e.index, byTerm);
      }
      const first = byTerm.get(e.term);
      if (first === undefined) byTerm.set(e.term, e);
      else if (!sameEntry(first, e)) {
        pushViolation(this.violations, {
          property: 'log-matching',
          timeUs,
          detail: `two different entries at index ${e.index} in term ${e.term} (seen again on ${node})`,
        });
      }
    }
  }

  /** Compare every pair of logs (entry i at position i - 1). */
  checkLogs(logs: ReadonlyMap<NodeId, readonly Entry[]>, timeUs: number): void {
    const ids = [...logs.keys()];
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const idA = ids[a] as NodeId;
        const idB = ids[b] as NodeId;
        const problem = findMismatch(logs.get(idA) ?? [], logs.get(idB) ?? []);
        if (problem !== null) {
          pushViolation(this.violations, { property: 'log-matching', timeUs, detail: `logs of ${idA} and ${idB}: ${problem}` });
        }
      }
    }
  }
}

/**
 * Null when the logs satisfy Log Matching; else what breaks it. Finds the highest index where
 * both logs have the same term, then requires identical entries at and below it.
 */
export function findMismatch(a: readonly Entry[], b: readonly Entry[]): string | null {
  let i = Math.min(a.length, b.length);
  while (i > 0 && (a[i - 1] as Entry).term !== (b[i - 1] as Entry).term) i--;
  for (let j = i; j >= 1; j--) {
    const ea = a[j - 1] as Entry;
    const eb = b[j - 1] as Entry;
    if (ea.index !== j || eb.index !== j) return `entry at position ${j} has index ${ea.index} / ${eb.index}`;
    if (!sameEntry(ea, eb)) {
      return `both hold (index ${i}, term ${(a[i - 1] as Entry).term}) but differ at index ${j} (terms ${ea.term} / ${eb.term})`;
    }
  }
  return null;
}
