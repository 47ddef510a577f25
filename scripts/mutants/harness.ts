/**
 * The mutation harness (`npm run mutants`, and the CI test test/sim/mutants.test.ts): plant each
 * mutant of the catalogue in its own copy of the source, run the simulator on it in a child
 * process (two at a time on this 2-core machine) until its first failing seed, then run every
 * catching seed once more on a clean copy (the control): a catch counts only if the same seed
 * passes on the unmutated code, so no mutant is "caught" by a simulator that fails anyway.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutants as catalogue, type Mutant, type SimMode } from './catalogue.ts';
import { PlantError, plantCopy, removeCopy } from './plant.ts';
import type { SeedsOutcome, SeedsRequest } from './run-seeds.ts';

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface HarnessOptions {
  /** Seeds per mutant (each stops at its first catch). */
  readonly seeds: number;
  readonly start?: number;
  /** Only the mutants with these names. */
  readonly only?: readonly string[];
  /** Wall-time budget per mutant. */
  readonly budgetMsPerMutant?: number;
  readonly concurrency?: number;
  /** Run every seed and report how many caught each mutant (a catch rate), not only the first. */
  readonly all?: boolean;
  /** Called with each mutant's line as it finishes. */
  readonly onLine?: (line: string) => void;
  readonly root?: string;
}

export type MutantVerdict =
  | {
      readonly kind: 'caught';
      readonly seed: number;
      readonly mode: SimMode;
      readonly seedsRun: number;
      readonly reason: string;
      readonly ms: number;
      readonly controlClean: boolean;
      readonly controlReason?: string;
      /** With `all`: how many of `seedsRun` seeds failed. */
      readonly failing?: number;
    }
  | { readonly kind: 'survived'; readonly seedsRun: number; readonly budgetExhausted: boolean; readonly ms: number }
  | { readonly kind: 'error'; readonly message: string };

export interface MutantResult {
  readonly mutant: Mutant;
  readonly verdict: MutantVerdict;
}

export interface HarnessSummary {
  readonly results: readonly MutantResult[];
  readonly planted: number;
  readonly caught: number;
  readonly survived: number;
  readonly errors: number;
  /** The last line: `mutants: M planted, C caught, S survived` (and errors, if any). */
  readonly line: string;
}

export function selectMutants(only: readonly string[] | undefined): Mutant[] {
  if (only === undefined || only.length === 0) return [...catalogue];
  const unknown = only.filter((name) => !catalogue.some((m) => m.name === name));
  if (unknown.length > 0) throw new Error(`unknown mutant ${unknown.join(', ')}; known: ${catalogue.map((m) => m.name).join(', ')}`);
  return catalogue.filter((m) => only.includes(m.name));
}

export function describeMode(mode: SimMode): string {
  return `--nodes ${mode.nodes}${mode.snapshots === true ? ' --snapshots' : ''}${mode.membership === true ? ' --membership' : ''}${mode.intruder === true ? ' --intruder' : ''}`;
}

/** One line per mutant: `NAME: caught after K seeds (seed S, MODE): REASON` or `NAME: SURVIVED N seeds`. */
export function formatResult(r: MutantResult): string {
  const v = r.verdict;
  const name = r.mutant.name;
  switch (v.kind) {
    case 'caught': {
      const control = v.controlClean ? '' : ` [CONTROL FAILED: seed ${v.seed} fails on the unmutated code too: ${v.controlReason ?? ''}]`;
      const rate = v.failing === undefined ? '' : `, caught by ${v.failing} of ${v.seedsRun} seeds`;
      const when = v.failing === undefined ? `caught after ${v.seedsRun} seeds` : `first caught by seed ${v.seed}`;
      return `${name}: ${when} (seed ${v.seed}, ${describeMode(v.mode)}${rate}, ${(v.ms / 1000).toFixed(1)} s): ${truncate(v.reason, 160)}${control}`;
    }
    case 'survived':
      return `${name}: SURVIVED ${v.seedsRun} seeds${v.budgetExhausted ? ' (time budget used up)' : ''} (${(v.ms / 1000).toFixed(1)} s)`;
    case 'error':
      return `${name}: ERROR ${v.message}`;
    default: {
      const never: never = v;
      return never;
    }
  }
}

export async function runHarness(options: HarnessOptions): Promise<HarnessSummary> {
  const root = options.root ?? repositoryRoot;
  const selected = selectMutants(options.only);
  const budgetMs = options.budgetMsPerMutant ?? Number.POSITIVE_INFINITY;
  const concurrency = Math.max(1, options.concurrency ?? Math.min(2, availableParallelism()));
  const start = options.start ?? 1;
  const results: MutantResult[] = new Array<MutantResult>(selected.length);
  const control = plantCopy(root, [], 'control');
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < selected.length) {
        const i = next++;
        const mutant = selected[i] as Mutant;
        const verdict = await runMutant(root, control, mutant, { seeds: options.seeds, start, budgetMs, all: options.all ?? false });
        const result: MutantResult = { mutant, verdict };
        results[i] = result;
        options.onLine?.(formatResult(result));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, selected.length) }, worker));
  } finally {
    removeCopy(control);
  }
  return summarize(results);
}

function summarize(results: readonly MutantResult[]): HarnessSummary {
  const caught = results.filter((r) => r.verdict.kind === 'caught' && r.verdict.controlClean).length;
  const survived = results.filter((r) => r.verdict.kind === 'survived').length;
  const errors = results.length - caught - survived;
  const planted = results.filter((r) => r.verdict.kind !== 'error').length;
  const line = `mutants: ${planted} planted, ${caught} caught, ${survived} survived${errors > 0 ? `, ${errors} errors` : ''}`;
  return { results, planted, caught, survived, errors, line };
}

async function runMutant(root: string, control: string, mutant: Mutant, o: { seeds: number; start: number; budgetMs: number; all: boolean }): Promise<MutantVerdict> {
  let dir: string;
  try {
    dir = plantCopy(root, mutant.edits, mutant.name);
  } catch (error) {
    if (error instanceof PlantError) return { kind: 'error', message: `cannot plant: ${error.message}` };
    throw error;
  }
  try {
    const out = await runSeeds({ root: dir, start: o.start, seeds: o.seeds, modes: mutant.modes, budgetMs: o.budgetMs, all: o.all });
    if (!out.caught || out.seed === undefined || out.mode === undefined) {
      return { kind: 'survived', seedsRun: out.seedsRun, budgetExhausted: out.budgetExhausted, ms: out.ms };
    }
    // The control: the catching seed, in its mode, on the clean copy.
    const check = await runSeeds({ root: control, start: out.seed, seeds: 1, modes: [out.mode], budgetMs: Number.POSITIVE_INFINITY });
    return {
      kind: 'caught',
      seed: out.seed,
      mode: out.mode,
      seedsRun: out.seedsRun,
      reason: out.reason ?? 'unknown',
      ms: out.ms,
      controlClean: !check.caught,
      ...(check.reason === undefined ? {} : { controlReason: check.reason }),
      ...(o.all ? { failing: out.failing ?? 0 } : {}),
    };
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  } finally {
    removeCopy(dir);
  }
}

const runner = join(dirname(fileURLToPath(import.meta.url)), 'run-seeds.ts');

/** Run `run-seeds.ts` in a child process (the copy's modules load fresh there). */
function runSeeds(request: SeedsRequest): Promise<SeedsOutcome> {
  // JSON has no Infinity: an unbounded budget goes as a large number.
  const wire = { ...request, budgetMs: Number.isFinite(request.budgetMs) ? request.budgetMs : Number.MAX_SAFE_INTEGER };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, JSON.stringify(wire)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`the seed runner exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
        return;
      }
      resolve(JSON.parse(last) as SeedsOutcome);
    });
  });
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
