/**
 * `npm run sim -- --services --seeds N [--start S] [--nodes 3|5|7] [--no-snapshots] [--sabotage NAME]`
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
 */
import type { ServicesCheckName } from '../src/sim/services/services-checkers.ts';
import { servicesSabotages, type ServicesSabotage } from '../src/sim/services/services-sabotage.ts';
import { describeServicesRun, runServicesSimulation, servicesSimulationDefaults } from '../src/sim/services/services-simulation.ts';

const usage = 'usage: npm run sim -- --services --seeds N [--start S] [--nodes 3|5|7] [--no-snapshots] [--sabotage NAME]';

class ServicesUsageError extends Error {}

interface Args {
  seeds: number;
  start: number;
  nodes: number;
  snapshots: boolean;
  sabotage: ServicesSabotage | null;
}

function intArg(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new ServicesUsageError(`${flag} needs an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ServicesUsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parse(argv: readonly string[]): Args {
  const args: Args = { seeds: -1, start: 1, nodes: servicesSimulationDefaults.nodes, snapshots: true, sabotage: null };
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

/** Runs the sweep and prints it; returns the exit status. `argv` excludes `--services`. */
export function runServicesCli(argv: readonly string[]): number {
  let args: Args;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof ServicesUsageError)) throw error;
    console.error(`sim: ${error.message}\n${usage}`);
    return 2;
  }
  const counts: Record<ServicesCheckName, number> = { duplicateRuns: 0, answersUncommitted: 0, auditIncomplete: 0, taskViolations: 0, configViolations: 0, lockViolations: 0 };
  let liveness = 0;
  let engine = 0;
  const totals = { toolCalls: 0, toolRuns: 0, indeterminate: 0, tasks: 0, taskAssignments: 0, configOps: 0, lockAcquisitions: 0, crashes: 0, midCallCrashes: 0, partitions: 0 };
  const failed: number[] = [];
  const startedMs = performance.now();
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.start + i;
    const r = runServicesSimulation({ seed, nodes: args.nodes, snapshots: args.snapshots, ...(args.sabotage === null ? {} : { sabotage: [args.sabotage] }) });
    for (const k of Object.keys(counts) as ServicesCheckName[]) counts[k] += r.findings[k].length;
    if (r.livenessFailures.length > 0) liveness++;
    if (r.engineErrors.length > 0) engine++;
    const s = r.stats;
    totals.toolCalls += s.toolCalls;
    totals.toolRuns += s.toolRuns;
    totals.indeterminate += s.indeterminate;
    totals.tasks += s.tasks;
    totals.taskAssignments += s.taskAssignments;
    totals.configOps += s.configOps;
    totals.lockAcquisitions += s.lockAcquisitions;
    totals.crashes += s.nemesis.crashes;
    totals.midCallCrashes += s.nemesis.midCallCrashes;
    totals.partitions += s.nemesis.partitions;
    if (!r.ok) {
      failed.push(seed);
      console.log(`FAIL SEED=${seed}`);
      for (const line of describeServicesRun(r)) console.log(line);
      const nodes = args.nodes === servicesSimulationDefaults.nodes ? '' : ` --nodes ${args.nodes}`;
      const flags = `${args.snapshots ? '' : ' --no-snapshots'}${args.sabotage === null ? '' : ` --sabotage ${args.sabotage}`}`;
      console.log(`reproduce: npm run sim -- --services --seeds 1 --start ${seed}${nodes}${flags}`);
    }
    if ((i + 1) % 100 === 0 && i + 1 < args.seeds) console.error(`sim: ${i + 1}/${args.seeds} seeds...`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const t = totals;
  console.log(
    `sim: totals: ${t.toolCalls} tool calls (${t.toolRuns} handler runs, ${t.indeterminate} answered indeterminate), ${t.tasks} tasks (${t.taskAssignments} agent runs), ` +
      `${t.configOps} config CAS, ${t.lockAcquisitions} lock acquisitions; faults: ${t.crashes} crashes (${t.midCallCrashes} mid-call), ${t.partitions} partitions`,
  );
  console.log(`sim: ${(args.seeds / seconds).toFixed(2)} seeds/s (${seconds.toFixed(1)} s)${failed.length > 0 ? `; failing seeds: ${failed.slice(0, 20).join(' ')}${failed.length > 20 ? ' ...' : ''}` : ''}`);
  const c = counts;
  console.log(
    `sim: ${args.seeds} seeds, ${c.duplicateRuns} duplicate runs, ${c.answersUncommitted} answers not committed, ${c.auditIncomplete} incomplete audit trails, ` +
      `${c.taskViolations} task violations, ${c.configViolations} config violations, ${c.lockViolations} lock violations, ${liveness} liveness failures, ${engine} engine errors`,
  );
  return Object.values(c).reduce((a, b) => a + b, 0) + liveness + engine > 0 ? 1 : 0;
}
