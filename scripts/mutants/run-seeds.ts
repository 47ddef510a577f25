/**
 * The child process of the mutation harness: runs the simulator of ONE source copy (a planted
 * mutant, or the clean control) on seeds `start`, `start + 1`, ... cycling through the given
 * modes, until a seed fails or the seeds or the wall-time budget run out. Prints one JSON line
 * (`SeedsOutcome`) on stdout and exits 0; any other exit is a harness error.
 *
 *   node --import tsx scripts/mutants/run-seeds.ts <json of SeedsRequest>
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SimMode } from './catalogue.ts';
import type { SimulationOptions, SimulationResult } from '../../src/sim/simulation.ts';
import type { IntruderMix } from '../../src/sim/intruder.ts';

export interface SeedsRequest {
  /** The source copy's root (holds `src/`). */
  readonly root: string;
  readonly start: number;
  readonly seeds: number;
  readonly modes: readonly SimMode[];
  readonly budgetMs: number;
  /** Run every seed instead of stopping at the first failing one (to measure a catch rate). */
  readonly all?: boolean;
}

export interface SeedsOutcome {
  readonly caught: boolean;
  /** Seeds run, the catching one included. */
  readonly seedsRun: number;
  /** The failing seed and its mode (when caught). */
  readonly seed?: number;
  readonly mode?: SimMode;
  /** What failed first: a safety property, linearizability or liveness, with detail. */
  readonly reason?: string;
  readonly budgetExhausted: boolean;
  readonly ms: number;
  /** With `all`: how many of the seeds run failed. */
  readonly failing?: number;
}

type RunSimulation = (options: SimulationOptions) => SimulationResult;

export function failureReason(r: SimulationResult): string {
  const v = r.safetyViolations[0];
  if (v !== undefined) return `safety: ${v.property}: ${v.detail}`;
  if (!r.linearizability.ok) return `linearizability: ${r.linearizability.failure?.detail ?? 'not linearizable'}`;
  const l = r.livenessFailures[0];
  return l === undefined ? 'unknown' : `liveness: ${l}`;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as SeedsRequest;
  const url = pathToFileURL(join(request.root, 'src', 'sim', 'simulation.ts')).href;
  const { runSimulation } = (await import(url)) as { runSimulation: RunSimulation };
  const { intruderMixDefault } = (await import(pathToFileURL(join(request.root, 'src', 'sim', 'intruder.ts')).href)) as { intruderMixDefault: IntruderMix };
  const startedMs = performance.now();
  let outcome: SeedsOutcome | null = null;
  let first: { seed: number; mode: SimMode; reason: string; seedsRun: number } | null = null;
  let failing = 0;
  let run = 0;
  for (; run < request.seeds; run++) {
    if (performance.now() - startedMs > request.budgetMs) break;
    const seed = request.start + run;
    const mode = request.modes[run % request.modes.length] as SimMode;
    let reason: string | null;
    try {
      const r = runSimulation({ seed, nodes: mode.nodes, snapshots: mode.snapshots ?? false, membership: mode.membership ?? false, ...(mode.intruder === true ? { intruder: intruderMixDefault } : {}), failFast: true });
      reason = r.ok ? null : failureReason(r);
    } catch (error) {
      // The simulator itself threw (outside the nodes, which crash and restart on an engine
      // error): the mutant broke an invariant the harness asserts. Caught, and said so.
      reason = `the simulator threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (reason !== null) {
      failing++;
      first ??= { seed, mode, reason, seedsRun: run + 1 };
      if (request.all !== true) break;
    }
  }
  const ms = performance.now() - startedMs;
  const budgetExhausted = run < request.seeds && first === null;
  if (first !== null) outcome = { caught: true, seedsRun: request.all === true ? run : first.seedsRun, seed: first.seed, mode: first.mode, reason: first.reason, budgetExhausted, ms, failing };
  outcome ??= { caught: false, seedsRun: run, budgetExhausted, ms, failing };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

await main();
