/**
 * What this proves: the Raft engine survives the simulator's fault mix on a fixed range of seeds
 * (320 seeds on 5 nodes, 40 on 3 and 40 on 7): no violation of election safety, log matching,
 * leader completeness, state machine safety or "no acknowledged write lost", every client
 * history linearizable (and decided within the search budget), and every operation of the
 * liveness phase completed after the cluster healed. Seeds are split into blocks so the runner
 * reports progress; a failure names each failing seed with the command that reproduces it.
 * (A longer sweep runs on demand: `npm run sim -- --seeds 2000`.)
 */
import { describe, expect, it } from 'vitest';
import { runSimulation, simulationDefaults, summarizeRun, type SimulationResult } from '../../src/sim/simulation.ts';

function describeFailure(r: SimulationResult): string {
  const lines = [summarizeRun(r)];
  for (const v of r.safetyViolations) lines.push(`  safety: ${v.property}: ${v.detail}`);
  if (!r.linearizability.ok) lines.push(`  linearizability: ${r.linearizability.failure?.detail ?? 'not linearizable'}`);
  if (r.linearizability.undecidedKeys.length > 0) lines.push(`  linearizability undecided on keys ${r.linearizability.undecidedKeys.join(', ')}`);
  for (const l of r.livenessFailures) lines.push(`  liveness: ${l}`);
  const nodes = r.nodes === simulationDefaults.nodes ? '' : ` --nodes ${r.nodes}`;
  lines.push(`  reproduce: npm run sim -- --seeds 1 --start ${r.seed}${nodes}`);
  return lines.join('\n');
}

function runSeeds(nodes: number, from: number, to: number): void {
  const failures: string[] = [];
  for (let seed = from; seed <= to; seed++) {
    const r = runSimulation({ seed, nodes });
    if (!r.ok || r.linearizability.undecidedKeys.length > 0) failures.push(describeFailure(r));
  }
  expect(failures, failures.join('\n')).toEqual([]);
}

describe('simulator seeds', () => {
  for (const [from, to] of [
    [1, 80],
    [81, 160],
    [161, 240],
    [241, 320],
  ] as const) {
    it(`5 nodes, seeds ${from}..${to}`, () => runSeeds(5, from, to));
  }
  it('3 nodes, seeds 1..40', () => runSeeds(3, 1, 40));
  it('7 nodes, seeds 1..40', () => runSeeds(7, 1, 40));
});
