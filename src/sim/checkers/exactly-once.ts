/**
 * Exactly-once application of client commands (client sessions, dissertation §6.3): a command
 * (session, seq) reaches the wrapped ("inner") state machine AT MOST ONCE on every replica, and
 * an acknowledged one EXACTLY ONCE in the healed cluster's final state.
 *
 * Observations: each time a replica applies a committed entry it reports whether the inner
 * machine ran, and for which (session, seq), at that index. Every replica applies the same
 * entries in the same order (state machine safety), so the inner applications form ONE sequence
 * over log indices, and a replica's state after index i is the effect of that sequence up to i,
 * whether the replica applied those entries itself, replayed them after a restart, or restored a
 * snapshot that some replica took after applying them. Hence two rules cover every replica and
 * every incarnation, including those that jumped over part of the log by restoring a snapshot:
 *
 *   1. Agreement: at each index, every replica's inner machine ran for the same command, or for
 *      none (a replica whose session layer let a duplicate through disagrees with one whose
 *      layer absorbed it; so does a replica that skipped a command).
 *   2. Once: a (session, seq) runs at no more than one index. A second index means that every
 *      replica whose state covers both applied it twice, which is what the rule forbids.
 *
 * At the end, every acknowledged command must have run at an index the final state covers.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { requestKey, type AcknowledgedCommand } from './acknowledged-writes.ts';
import { pushViolation, type Violation } from './violation.ts';

interface InnerAt {
  /** `session:seq` of the command the inner machine ran at this index; null: it did not run. */
  readonly key: string | null;
  readonly node: NodeId;
}

export class ExactlyOnceChecker {
  private readonly atIndex = new Map<number, InnerAt>();
  /** Where each (session, seq) ran: the first index seen. */
  private readonly ranAt = new Map<string, number>();
  readonly violations: Violation[] = [];
  /** Observations of the inner machine running (all replicas, all incarnations). */
  innerApplies = 0;

  /**
   * `node` applied the entry at `index`; its inner machine ran for `(session, seq)`, or did not
   * run (`null`: a duplicate, stale or expired command, a register, a non-command entry).
   */
  observe(node: NodeId, index: number, ran: { readonly session: number; readonly seq: number } | null, timeUs: number): void {
    const key = ran === null ? null : requestKey(ran.session, ran.seq);
    const seen = this.atIndex.get(index);
    if (seen === undefined) this.atIndex.set(index, { key, node });
    else if (seen.key !== key) {
      pushViolation(this.violations, {
        property: 'exactly-once',
        timeUs,
        detail: `at index ${index} the inner machine ran ${describe(key)} on ${node} but ${describe(seen.key)} on ${seen.node}`,
      });
    }
    if (key === null) return;
    this.innerApplies++;
    const first = this.ranAt.get(key);
    if (first === undefined) this.ranAt.set(key, index);
    else if (first !== index) {
      pushViolation(this.violations, {
        property: 'exactly-once',
        timeUs,
        detail: `command (session ${ran?.session}, seq ${ran?.seq}) applied twice by the inner machine: at index ${Math.min(first, index)} and again at ${Math.max(first, index)} (seen on ${node})`,
      });
    }
  }

  /** Every acknowledged command ran once at an index the final state (up to `finalIndex`) covers. */
  checkAcknowledged(acknowledged: readonly AcknowledgedCommand[], finalIndex: number, timeUs: number): void {
    for (const a of acknowledged) {
      const at = this.ranAt.get(requestKey(a.session, a.seq));
      if (at !== undefined && at <= finalIndex) continue;
      pushViolation(this.violations, {
        property: 'exactly-once',
        timeUs,
        detail:
          at === undefined
            ? `client ${a.client} was answered for (session ${a.session}, seq ${a.seq}: ${a.op}) at ${a.ackUs}us, but no replica's inner machine ever ran it`
            : `client ${a.client} was answered for (session ${a.session}, seq ${a.seq}: ${a.op}) at ${a.ackUs}us, but it ran at index ${at}, beyond the final state (${finalIndex})`,
      });
    }
  }

  /** Where (session, seq) ran, if it did. */
  ranIndex(session: number, seq: number): number | undefined {
    return this.ranAt.get(requestKey(session, seq));
  }
}

function describe(key: string | null): string {
  return key === null ? 'nothing' : `(session:seq ${key})`;
}
