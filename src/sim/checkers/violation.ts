/**
 * A safety violation found by a checker: which property broke, when (virtual microseconds), and
 * what was seen, in words a person debugging the seed can act on.
 */
export type SafetyProperty =
  /** Two leaders in one term (Raft paper Figure 3, Election Safety). */
  | 'election-safety'
  /** Two logs agree on an (index, term) but differ before it, or one (index, term) names two entries. */
  | 'log-matching'
  /** A leader lacks an entry committed in an earlier term when it takes office. */
  | 'leader-completeness'
  /**
   * Two nodes applied (or committed) different entries at one index, a node skipped one, or two
   * replicas' states differ after the same index (a snapshot restored a state nobody had there).
   */
  | 'state-machine-safety'
  /**
   * A client command (session, seq) reached the wrapped state machine twice on one replica, or
   * an acknowledged one never did (client sessions, dissertation §6.3).
   */
  | 'exactly-once'
  /** A committed configuration with fewer voters than the minimum or more members than the maximum. */
  | 'membership-bounds'
  /** A leader's commit index moved to an entry a majority of its voters did not hold durably. */
  | 'commit-quorum'
  /** A node removed a committed entry from its durable log (other than by compaction into its snapshot). */
  | 'durability'
  /** A write the client saw acknowledged is missing from the final committed log. */
  | 'lost-acknowledged-write'
  /**
   * A write broke the rules every storage adapter enforces (src/io/storage/write-rules.ts): a
   * vote or term going back, a committed entry replaced, a snapshot older than the stored one...
   */
  | 'storage-rules'
  /** The engine threw (an assertion in `src/core` fired): a bug by definition. */
  | 'engine-assertion'
  /**
   * A frame forged by a stranger without the cluster secret, or a second copy of a member's
   * frame (a replay, a duplicate), reached an engine (src/sim/intruder.ts).
   */
  | 'link-authentication';

export interface Violation {
  readonly property: SafetyProperty;
  readonly timeUs: number;
  readonly detail: string;
}

/** Bound on violations kept per checker: the first few say everything, the rest is noise. */
export const violationsPerCheckerMax = 20;

/** Keep `v` unless the list is full or already says the same thing (periodic checks repeat). */
export function pushViolation(list: Violation[], v: Violation): void {
  if (list.length >= violationsPerCheckerMax) return;
  if (list.some((old) => old.property === v.property && old.detail === v.detail)) return;
  list.push(v);
}

/** Equal bytes (the fast path is the common case: entries travel by reference in the sim). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same index, term, kind and data. */
export function sameEntry(
  a: { readonly index: number; readonly term: number; readonly kind: string; readonly data: Uint8Array },
  b: { readonly index: number; readonly term: number; readonly kind: string; readonly data: Uint8Array },
): boolean {
  return a.index === b.index && a.term === b.term && a.kind === b.kind && sameBytes(a.data, b.data);
}
