/**
 * `npm run sim -- --services --seeds N [--start S] [--nodes 3|5|7] [--no-snapshots] [--sabotage NAME] [--jobs J]`
 *
 * Runs N services-simulator seeds from S (default 1) on K nodes (default 5): the services
 * machine and runtime on the production Raft driver under a mixed workload and faults
 * (src/sim/services/). Every failing seed prints what failed, its faults, and the line that
 * reproduces it. Before the summary, totals of what ran. The LAST line is always
 *
 *   sim: N seeds, D duplicate runs, A answers not committed, T incomplete audit trails,
 *   K task violations, C config violations, L lock violations, U liveness failures, E engine errors
 *
 * (findings summed over the seeds; liveness failures and engine errors count seeds), all zero
 * on success. Exit status 1 when any is above 0, 2 on bad arguments. `--sabotage` plants one of
 * the deliberate bugs (src/sim/services/services-sabotage.ts) to watch a checker bite.
 * `--jobs J` (at most 16) splits the seeds into J contiguous ranges run by J child processes
 * and sums what they found into the same lines: a seed runs alike in any process (one PRNG per
 * seed), so the line is the one a single process would print, only sooner on several cores.
 */
import { spawn } from 'node:child_process';
import type { ServicesCheckName } from '../src/sim/services/services-checkers.ts';
import { servicesSabotages, type ServicesSabotage } from '../src/sim/services/services-sabotage.ts';
import { describeServicesRun, runServicesSimulation, servicesSimulationDefaults } from '../src/sim/services/services-simulation.ts';

const usage = 'usage: npm run sim -- --services --seeds N [--start S] [--nodes 3|5|7] [--no-snapshots] [--sabotage NAME] [--jobs J]';
const jobsMax = 16;
/** A child (`--jobs`) ends its output with this prefix and its `Sweep` as JSON. */
const childSweepPrefix = 'sim-services-sweep: ';

class ServicesUsageError extends Error {}

interface Args {
  seeds: number;
  start: number;
  nodes: number;
  snapshots: boolean;
  sabotage: ServicesSabotage | null;
  jobs: number;
  /** A child of `--jobs`: print the sweep as JSON last. */
  child: boolean;
}

function intArg(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new ServicesUsageError(`${flag} needs an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ServicesUsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parse(argv: readonly string[]): Args {
  const args: Args = { seeds: -1, start: 1, nodes: servicesSimulationDefaults.nodes, snapshots: true, sabotage: null, jobs: 1, child: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    switch (flag) {
      case '--seeds':
        args.seeds = intArg(flag, value, 1);
        i++;
        break;
      case '--start':
        args.start = intArg(flag, value, 0);
        i++;
        break;
      case '--nodes':
        args.nodes = intArg(flag, value, 3);
        if (![3, 5, 7].includes(args.nodes)) throw new ServicesUsageError(`--nodes must be 3, 5 or 7, got ${args.nodes}`);
        i++;
        break;
      // Snapshots and compaction are on by default; --snapshots is kept for old command lines.
      case '--snapshots':
        args.snapshots = true;
        break;
      case '--no-snapshots':
        args.snapshots = false;
        break;
      case '--jobs':
        args.jobs = intArg(flag, value, 1);
        if (args.jobs > jobsMax) throw new ServicesUsageError(`--jobs must be at most ${jobsMax}, got ${args.jobs}`);
        i++;
        break;
      case '--child-sweep':
        args.child = true;
        break;
      case '--sabotage':
        if (!servicesSabotages.includes(value as ServicesSabotage)) throw new ServicesUsageError(`--sabotage must be one of ${servicesSabotages.join(', ')}`);
        args.sabotage = value as ServicesSabotage;
        i++;
        break;
      default:
        throw new ServicesUsageError(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  if (args.seeds < 0) throw new ServicesUsageError('--seeds is required');
  return args;
}

/** What a range of seeds found and ran (summed over its seeds). */
interface Sweep {
  counts: Record<ServicesCheckName, number>;
  liveness: number;
  engine: number;
  totals: { toolCalls: number; toolRuns: number; indeterminate: number; tasks: number; taskAssignments: number; configOps: number; lockAcquisitions: number; crashes: number; midCallCrashes: number; partitions: number };
  failed: number[];
}

function emptySweep(): Sweep {
  return {
    counts: { duplicateRuns: 0, answersUncommitted: 0, auditIncomplete: 0, taskViolations: 0, configViolations: 0, lockViolations: 0 },
    liveness: 0,
    engine: 0,
    totals: { toolCalls: 0, toolRuns: 0, indeterminate: 0, tasks: 0, taskAssignments: 0, configOps: 0, lockAcquisitions: 0, crashes: 0, midCallCrashes: 0, partitions: 0 },
    failed: [],
  };
}

function addSweep(into: Sweep, from: Sweep): void {
  for (const k of Object.keys(into.counts) as ServicesCheckName[]) into.counts[k] += from.counts[k];
  into.liveness += from.liveness;
  into.engine += from.engine;
  for (const k of Object.keys(into.totals) as (keyof Sweep['totals'])[]) into.totals[k] += from.totals[k];
  into.failed.push(...from.failed);
}

function flagsOf(args: Args): string {
  const nodes = args.nodes === servicesSimulationDefaults.nodes ? '' : ` --nodes ${args.nodes}`;
  return `${nodes}${args.snapshots ? '' : ' --no-snapshots'}${args.sabotage === null ? '' : ` --sabotage ${args.sabotage}`}`;
}

/** Runs the seeds of `args` here, printing each failing seed. */
function runRange(args: Args): Sweep {
  const sweep = emptySweep();
  const t = sweep.totals;
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.start + i;
    const r = runServicesSimulation({ seed, nodes: args.nodes, snapshots: args.snapshots, ...(args.sabotage === null ? {} : { sabotage: [args.sabotage] }) });
    for (const k of Object.keys(sweep.counts) as ServicesCheckName[]) sweep.counts[k] += r.findings[k].length;
    if (r.livenessFailures.length > 0) sweep.liveness++;
    if (r.engineErrors.length > 0) sweep.engine++;
    const s = r.stats;
    t.toolCalls += s.toolCalls;
    t.toolRuns += s.toolRuns;
    t.indeterminate += s.indeterminate;
    t.tasks += s.tasks;
    t.taskAssignments += s.taskAssignments;
    t.configOps += s.configOps;
    t.lockAcquisitions += s.lockAcquisitions;
    t.crashes += s.nemesis.crashes;
    t.midCallCrashes += s.nemesis.midCallCrashes;
    t.partitions += s.nemesis.partitions;
    if (!r.ok) {
      sweep.failed.push(seed);
      console.log(`FAIL SEED=${seed}`);
      for (const line of describeServicesRun(r)) console.log(line);
      console.log(`reproduce: npm run sim -- --services --seeds 1 --start ${seed}${flagsOf(args)}`);
    }
    if ((i + 1) % 100 === 0 && i + 1 < args.seeds) console.error(`sim: ${i + 1}/${args.seeds} seeds${args.child ? ` from ${args.start}` : ''}...`);
  }
  return sweep;
}

/**
 * Runs the seeds in `args.jobs` child processes (this script again, under the same loader),
 * passing their output through and summing the sweeps they print last.
 */
function runJobs(args: Args): Promise<Sweep> {
  const per = Math.ceil(args.seeds / args.jobs);
  const runs: Promise<Sweep>[] = [];
  for (let start = args.start; start < args.start + args.seeds; start += per) {
    const seeds = Math.min(per, args.start + args.seeds - start);
    const childArgs = ['--services', '--seeds', String(seeds), '--start', String(start), '--nodes', String(args.nodes), '--child-sweep'];
    if (!args.snapshots) childArgs.push('--no-snapshots');
    if (args.sabotage !== null) childArgs.push('--sabotage', args.sabotage);
    runs.push(
      new Promise<Sweep>((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, ...childArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        let sweepLine: string | null = null;
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const lines = out.split('\n');
          out = lines.pop() as string;
          for (const line of lines) {
            if (line.startsWith(childSweepPrefix)) sweepLine = line;
            else console.log(line);
          }
        });
        child.on('error', reject);
        child.on('close', () => {
          if (out.startsWith(childSweepPrefix)) sweepLine = out;
          if (sweepLine === null) reject(new Error(`sim: the child for seeds ${start}..${start + seeds - 1} printed no sweep`));
          else resolve(JSON.parse(sweepLine.slice(childSweepPrefix.length)) as Sweep);
        });
      }),
    );
  }
  return Promise.all(runs).then((sweeps) => {
    const total = emptySweep();
    for (const s of sweeps) addSweep(total, s);
    return total;
  });
}

function printSweep(args: Args, sweep: Sweep, seconds: number): number {
  const t = sweep.totals;
  const failed = sweep.failed.sort((a, b) => a - b);
  console.log(
    `sim: totals: ${t.toolCalls} tool calls (${t.toolRuns} handler runs, ${t.indeterminate} answered indeterminate), ${t.tasks} tasks (${t.taskAssignments} agent runs), ` +
      `${t.configOps} config CAS, ${t.lockAcquisitions} lock acquisitions; faults: ${t.crashes} crashes (${t.midCallCrashes} mid-call), ${t.partitions} partitions`,
  );
  console.log(`sim: ${(args.seeds / seconds).toFixed(2)} seeds/s (${seconds.toFixed(1)} s${args.jobs > 1 ? `, ${args.jobs} jobs` : ''})${failed.length > 0 ? `; failing seeds: ${failed.slice(0, 20).join(' ')}${failed.length > 20 ? ' ...' : ''}` : ''}`);
  const c = sweep.counts;
  console.log(
    `sim: ${args.seeds} seeds, ${c.duplicateRuns} duplicate runs, ${c.answersUncommitted} answers not committed, ${c.auditIncomplete} incomplete audit trails, ` +
      `${c.taskViolations} task violations, ${c.configViolations} config violations, ${c.lockViolations} lock violations, ${sweep.liveness} liveness failures, ${sweep.engine} engine errors`,
  );
  return Object.values(c).reduce((a, b) => a + b, 0) + sweep.liveness + sweep.engine > 0 ? 1 : 0;
}

/** Runs the sweep and prints it; returns the exit status (a promise with `--jobs`). `argv` excludes `--services`. */
export function runServicesCli(argv: readonly string[]): number | Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof ServicesUsageError)) throw error;
    console.error(`sim: ${error.message}\n${usage}`);
    return 2;
  }
  const startedMs = performance.now();
  if (args.child) {
    console.log(`${childSweepPrefix}${JSON.stringify(runRange(args))}`);
    return 0;
  }
  if (args.jobs > 1) return runJobs(args).then((sweep) => printSweep(args, sweep, (performance.now() - startedMs) / 1000));
  return printSweep(args, runRange(args), (performance.now() - startedMs) / 1000);
}
