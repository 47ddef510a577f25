/**
 * Majority-quorum arithmetic, kept apart from the protocol so it can be tested by tables
 * (as etcd-raft keeps `quorum/majority.go`). Joint quorums for membership changes build on it.
 */

export type VoteResult = 'won' | 'lost' | 'pending';

/** The number of members that form a majority of `size` voters. */
export function majoritySize(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * The largest index that a majority of `voters` has reached: the commit candidate. `indexOf`
 * returns a voter's acknowledged index (0 when unknown). An empty configuration commits
 * everything, so that joint configurations with an empty half behave (etcd's convention).
 */
export function committedIndex(voters: readonly string[], indexOf: (id: string) => number): number {
  const n = voters.length;
  if (n === 0) return Number.MAX_SAFE_INTEGER;
  if (n === 1) return indexOf(voters[0] as string);
  if (n === 3) {
    // The common cluster, asked after every acknowledgement: the middle of three, with no array
    // to allocate and sort.
    const a = indexOf(voters[0] as string);
    const b = indexOf(voters[1] as string);
    const c = indexOf(voters[2] as string);
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }
  const acked: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) acked[i] = indexOf(voters[i] as string);
  acked.sort((a, b) => b - a);
  return acked[majoritySize(n) - 1] as number;
}

/** Tally of an election: `votes` maps voters that answered to whether they granted. */
export function voteResult(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const need = majoritySize(voters.length);
  if (granted >= need) return 'won';
  if (voters.length - rejected < need) return 'lost';
  return 'pending';
}

/** Whether the members for which `isActive` holds form a majority. */
export function hasQuorum(voters: readonly string[], isActive: (id: string) => boolean): boolean {
  let active = 0;
  for (const id of voters) if (isActive(id)) active++;
  return active >= majoritySize(voters.length);
}
