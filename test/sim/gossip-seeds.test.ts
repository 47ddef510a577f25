/**
 * What this proves: the gossip engine, driven by the production host, survives the gossip
 * simulator's weather on a fixed range of seeds (20 seeds of 25 nodes: loss, duplication,
 * delays, partitions, crashes inside and outside writes, restarts from disk, pauses, leaves,
 * rejoins, new members, and CRDT updates of every type throughout): after the heal every member
 * holds the same CRDT states, keeping every update that was durable at a member (counters and an
 * add-only set within their bounds), no live member nobody cut off is declared dead, no
 * incarnation is announced again by a restarted node, meshes stay within their bounds and
 * settle, probes and pushes go only over links the sender asked for, the engine never throws;
 * and every crashed member is detected by every live member within the bound, and the views
 * converge after the heal. Ghosts (a gone member some node still holds live, in nobody's mesh)
 * used to be tolerated here; the engine now spreads deaths and leaves in its syncs and probes
 * members outside its mesh at a low rate (test/core/gossip/convergence-gaps.test.ts), so a ghost
 * fails this test like any other detection or convergence failure.
 *
 * And the blocks show that the faults ran: crashes detected, restarts, pauses, leaves, joins.
 * (Longer sweeps: `npm run sim -- --protocol gossip --seeds 1000 --nodes 25`.)
 */
import { describe, expect, it } from 'vitest';
import { describeViolations, type GossipRunResult } from '../../src/sim/gossip/gossip-result.ts';
import { runGossipSimulation } from '../../src/sim/gossip/gossip-simulation.ts';
import { addRun, emptySweep } from '../../src/sim/gossip/gossip-sweep.ts';

/** Every violation the run found. */
function violations(r: GossipRunResult): number {
  const v = r.violations;
  return (
    v.falseDeaths.count +
    v.incarnationReuses.count +
    v.mesh.count +
    v.unwantedLinks.count +
    v.crdtConvergence.count +
    v.lostUpdates.count +
    v.errors.count +
    v.detection.count +
    v.convergence.count
  );
}

const blocks: readonly [number, number][] = [
  [1, 10],
  [11, 20],
];

/**
 * Seeds that once failed, kept as regressions. 25: a false death, n8 holding n3 suspect after
 * every other node heard its refutation (no mesh neighbour of n8 relayed it); fixed by probing
 * suspects outside the mesh (7f0be85; the seed fails with the prober before it).
 */
const regressions: readonly number[] = [25];

describe('gossip simulator seeds (25 nodes)', () => {
  it.each(blocks)('seeds %i to %i', (from, to) => {
    const sweep = emptySweep();
    const failures: string[] = [];
    for (let seed = from; seed <= to; seed++) {
      const r = runGossipSimulation({ seed });
      addRun(sweep, r);
      if (violations(r) > 0) failures.push([`seed ${seed}:`, ...describeViolations(r), `  reproduce: npm run sim -- --protocol gossip --seeds 1 --start ${seed}`].join('\n'));
    }
    expect(failures.join('\n')).toBe('');
    expect(sweep.detectionsUs.length).toBeGreaterThan(0);
    expect(sweep.faults.restarts).toBeGreaterThan(0);
    expect(sweep.faults.pauses).toBeGreaterThan(0);
    expect(sweep.faults.leaves).toBeGreaterThan(0);
    expect(sweep.faults.joins).toBeGreaterThan(0);
    expect(sweep.convergedAfterUs.length).toBeGreaterThan(0);
    expect(sweep.crdtUpdates).toBeGreaterThan(0);
    expect(sweep.crdtConvergedAfterUs.length).toBe(to - from + 1);
  });
});

describe('gossip simulator regression seeds (25 nodes)', () => {
  it.each(regressions)('seed %i', (seed) => {
    const r = runGossipSimulation({ seed });
    expect(describeViolations(r).join('\n')).toBe('');
    expect(violations(r)).toBe(0);
  });
});
