/**
 * Regressions for engine bugs found while writing the interaction scripts, each as the smallest
 * script that showed it and an assertion of the correct behaviour.
 *
 * BUG 1 (fixed): a leader was never "in lease". `Raft.inLease()` compared `now` with
 * `lastLeaderContactTick`, which only a follower refreshes, so a node that had led for an
 * election timeout granted a higher-term pre-vote to a rejoining follower whose log was up to
 * date, then stepped down and voted for it, although check-quorum and pre-vote were both on: a
 * healthy leader deposed by a node that was merely cut off, which pre-vote with check-quorum
 * exists to prevent (dissertation §9.6). A leader now counts as in lease under check-quorum, as
 * in etcd.
 */
import { describe, expect, it } from 'vitest';
import { runScript } from './harness.ts';

/** The `status` lines at the end of a transcript. */
function finalStatus(transcript: string): string[] {
  const lines = transcript.trimEnd().split('\n');
  const start = lines.lastIndexOf('----');
  return lines.slice(start + 1);
}

describe('engine regressions', () => {
  it('BUG 1 (fixed): a rejoining follower with an up-to-date log does not depose the leader (pre-vote + check-quorum)', () => {
    const transcript = runScript(`
      add-nodes 3 prevote=true checkquorum=true
      campaign 1
      stabilize
      hide heartbeat heartbeat-response
      isolate 3
      run 50
      heal
      tick 3 20
      stabilize
      status
    `);
    expect(transcript).not.toMatch(/^script aborted/m);
    // Expected: node 1 still leads term 1; node 3's pre-votes got it nothing.
    // Actual: 1->3 pre-vote-response term=2 granted, then 3 is elected leader of term 2.
    expect(finalStatus(transcript)[0]).toMatch(/^1: leader term=1 /);
  });

  it('BUG 1 (fixed): a leader ignores a higher-term vote request while check-quorum holds it in lease', () => {
    const transcript = runScript(`
      add-nodes 3 prevote=false checkquorum=true
      campaign 1
      stabilize
      hide heartbeat heartbeat-response
      run 15
      campaign 3
      process 3
      drop 3->2
      deliver 1
      process 1
      status 1
    `);
    expect(transcript).not.toMatch(/^script aborted/m);
    // Expected: node 1 ignores the request and stays leader of term 1 (node 2, a follower in
    // lease, would ignore it too). Actual: node 1 steps down to term 2 and grants its vote.
    expect(finalStatus(transcript)).toEqual([expect.stringMatching(/^1: leader term=1 /)]);
  });
});
