/**
 * `npm run sim -- --protocol gossip --seeds N [--start S] [--nodes K] [--sabotage NAME]`
 *
 * Runs N gossip seeds from S (default 1) on a swarm of K nodes (default 25) under loss,
 * duplication, delays, partitions, crashes and restarts from disk, pauses, leaves, rejoins and
 * new members (src/sim/gossip/). Every failing seed prints what failed, its faults, and the line
 * that reproduces it. Before the summary: the faults that ran, false suspicions per member-hour,
 * detection and convergence times, and seeds/s. The LAST line is always
 *
 *   sim: N seeds, D detection failures, F false deaths, C convergence failures, I incarnations reused,
 *   M mesh violations, L unwanted links, X CRDT convergence failures, U lost updates, A anti-entropy cost violations, E engine errors
 *
 * (violations summed over the seeds; the anti-entropy cost is measured once, on two nodes), all
 * zero on success. Exit status 1 when any is above 0,
 * 2 on bad arguments. `--sabotage` plants one of the deliberate host bugs
 * (src/sim/gossip/gossip-sabotage.ts) to watch a checker bite. Progress goes to stderr every 100 seeds.
 */
import { describeViolations } from '../src/sim/gossip/gossip-result.ts';
import { gossipSabotages, type GossipSabotage } from '../src/sim/gossip/gossip-sabotage.ts';
import { gossipSimulationDefaults, runGossipSimulation } from '../src/sim/gossip/gossip-simulation.ts';
import { checkAntiEntropyCost } from '../src/sim/gossip/anti-entropy-cost.ts';
import { addRun, describeAntiEntropyCost, describeSweep, emptySweep, sweepSummary, sweepViolations } from '../src/sim/gossip/gossip-sweep.ts';

export const gossipUsage = 'usage: npm run sim -- --protocol gossip --seeds N [--start S] [--nodes K] [--sabotage NAME]';

interface GossipArgs {
  seeds: number;
  start: number;
  nodes: number;
  sabotage: GossipSabotage | null;
}

export class GossipUsageError extends Error {}

function intArg(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new GossipUsageError(`${flag} needs an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new GossipUsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parse(argv: readonly string[]): GossipArgs {
  const args: GossipArgs = { seeds: -1, start: 1, nodes: gossipSimulationDefaults.nodes, sabotage: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    switch (flag) {
      case '--seeds':
        args.seeds = intArg(flag, value, 1);
        break;
      case '--start':
        args.start = intArg(flag, value, 0);
        break;
      case '--nodes':
        args.nodes = intArg(flag, value, 2);
        if (args.nodes > 500) throw new GossipUsageError('--nodes must be at most 500');
        break;
      case '--sabotage':
        if (!gossipSabotages.includes(value as GossipSabotage)) throw new GossipUsageError(`--sabotage must be one of ${gossipSabotages.join(', ')}`);
        args.sabotage = value as GossipSabotage;
        break;
      default:
        throw new GossipUsageError(`unknown argument ${JSON.stringify(flag)}`);
    }
    i++;
  }
  if (args.seeds < 0) throw new GossipUsageError('--seeds is required');
  return args;
}

/** Runs the sweep and prints it; returns the exit status. `argv` excludes `--protocol gossip`. */
export function runGossipCli(argv: readonly string[]): number {
  let args: GossipArgs;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof GossipUsageError)) throw error;
    console.error(`sim: ${error.message}\n${gossipUsage}`);
    return 2;
  }
  const sweep = emptySweep();
  const startedMs = performance.now();
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.start + i;
    const r = runGossipSimulation({ seed, nodes: args.nodes, ...(args.sabotage === null ? {} : { sabotage: [args.sabotage] }) });
    addRun(sweep, r);
    if (!r.ok) {
      console.log(`FAIL SEED=${seed}`);
      for (const line of describeViolations(r)) console.log(line);
      console.log(`  faults: ${r.faultMix}`);
      const nodes = args.nodes === gossipSimulationDefaults.nodes ? '' : ` --nodes ${args.nodes}`;
      const sabotage = args.sabotage === null ? '' : ` --sabotage ${args.sabotage}`;
      console.log(`reproduce: npm run sim -- --protocol gossip --seeds 1 --start ${seed}${nodes}${sabotage}`);
    }
    if ((i + 1) % 100 === 0 && i + 1 < args.seeds) console.error(`sim: ${i + 1}/${args.seeds} seeds...`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const cost = checkAntiEntropyCost(args.start);
  for (const line of describeSweep(sweep)) console.log(line);
  console.log(describeAntiEntropyCost(cost));
  for (const e of cost.violations.examples) console.log(`  anti-entropy cost: ${e}`);
  console.log(`sim: ${(args.seeds / seconds).toFixed(1)} seeds/s (${seconds.toFixed(1)} s)${sweep.failedSeeds.length > 0 ? `; failing seeds: ${sweep.failedSeeds.slice(0, 20).join(' ')}${sweep.failedSeeds.length > 20 ? ' ...' : ''}` : ''}`);
  console.log(sweepSummary(sweep, cost.violations.count));
  return sweepViolations(sweep) + cost.violations.count > 0 ? 1 : 0;
}
