/**
 * Log Matching (Raft paper, Figure 3): if two logs contain an entry with the same index and term,
 * the logs are identical in all entries up through that index.
 *
 * Two parts: every entry a node hands to storage is recorded by (index, term), and a second
 * entry with the same (index, term) but other contents is a violation at once (a leader creates
 * at most one entry per index in its term, which Log Matching rests on); and `checkLogs`
 * compares the durable logs of all nodes pairwise, periodically and at the end of a run (on the
 * indices both still hold: compaction drops a prefix).
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

  /** Compare every pair of logs (each a contiguous run of entries, possibly compacted). */
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
 * Null when the logs satisfy Log Matching; else what breaks it. Each log is a run of contiguous
 * entries that may start after index 1 (a compacted log: the entries before it live in a
 * snapshot); only the indices both logs still hold are compared. Finds the highest such index
 * where both have the same term, then requires identical entries at and below it.
 */
export function findMismatch(a: readonly Entry[], b: readonly Entry[]): string | null {
  const gap = contiguityProblem(a) ?? contiguityProblem(b);
  if (gap !== null) return gap;
  const firstA = a[0];
  const firstB = b[0];
  if (firstA === undefined || firstB === undefined) return null;
  const lo = Math.max(firstA.index, firstB.index);
  const hi = Math.min(firstA.index + a.length - 1, firstB.index + b.length - 1);
  const at = (log: readonly Entry[], first: Entry, i: number): Entry => log[i - first.index] as Entry;
  let i = hi;
  while (i >= lo && at(a, firstA, i).term !== at(b, firstB, i).term) i--;
  for (let j = i; j >= lo; j--) {
    const ea = at(a, firstA, j);
    const eb = at(b, firstB, j);
    if (!sameEntry(ea, eb)) {
      return `both hold (index ${i}, term ${at(a, firstA, i).term}) but differ at index ${j} (terms ${ea.term} / ${eb.term})`;
    }
  }
  return null;
}

function contiguityProblem(log: readonly Entry[]): string | null {
  const first = log[0];
  if (first === undefined) return null;
  if (first.index < 1) return `a log starts at index ${first.index}`;
  for (let p = 1; p < log.length; p++) {
    const e = log[p] as Entry;
    if (e.index !== first.index + p) return `entry at position ${p + 1} has index ${e.index}, not ${first.index + p}`;
  }
  return null;
}
