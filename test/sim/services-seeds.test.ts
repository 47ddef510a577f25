/**
 * What this proves: the coordination services (src/machines/services/ with the runtime of
 * src/services/ on the production Raft driver) keep their promises under the simulator's
 * faults, on a CI-sized range of seeds (the sweep is `npm run sim -- --services --seeds N`):
 * each seed runs the mixed workload (tool calls with leader crashes mid-call, agents joining,
 * dying and cut off with tasks in hand, configuration CAS races, lock contention) under loss,
 * duplication, delays, partitions and crashes, and every checker (no duplicate run of a
 * non-idempotent tool, answers equal to the committed outcome, complete audit trails, task
 * fencing and completion, one linearizable configuration history, increasing lock tokens)
 * reports nothing, the cluster heals and converges, and the faults did happen (crashes,
 * mid-call crashes, calls answered indeterminate). Also: a seed reproduces its run exactly.
 *
 * Snapshots and compaction are on (the simulator's default). Seeds 2 and 3 are regressions: with
 * snapshots they failed liveness while a leader restarted a follower's snapshot transfer from
 * byte 0 at each new snapshot (fixed in 4ea98b1: the transfer it began continues).
 */
import { describe, expect, it } from 'vitest';
import { describeServicesRun, runServicesSimulation } from '../../src/sim/services/services-simulation.ts';

const seeds = [1, 2, 3, 4, 5, 6];

describe('services simulator seeds', () => {
  it(`seeds ${seeds.join(', ')} pass every checker`, () => {
    let midCall = 0;
    let indeterminate = 0;
    let crashes = 0;
    for (const seed of seeds) {
      const r = runServicesSimulation({ seed });
      expect(r.ok, `seed ${seed}\n${describeServicesRun(r).join('\n')}`).toBe(true);
      expect(r.stats.toolCalls).toBeGreaterThan(0);
      expect(r.stats.tasks).toBeGreaterThan(0);
      expect(r.stats.configOps).toBeGreaterThan(0);
      expect(r.stats.lockAcquisitions).toBeGreaterThan(0);
      midCall += r.stats.nemesis.midCallCrashes;
      indeterminate += r.stats.indeterminate;
      crashes += r.stats.nemesis.crashes;
    }
    expect(crashes).toBeGreaterThan(0);
    expect(midCall).toBeGreaterThan(0);
    expect(indeterminate).toBeGreaterThan(0);
  }, 120_000);

  it('a seed reproduces its run', () => {
    const a = runServicesSimulation({ seed: 7, safetyPhaseUs: 2_000_000 });
    const b = runServicesSimulation({ seed: 7, safetyPhaseUs: 2_000_000 });
    expect(b.stats).toEqual(a.stats);
    expect(b.findings).toEqual(a.findings);
  }, 60_000);
});
