/**
 * `npm run sim -- --protocol bft --seeds N [--start S] [--nodes 4|7|10] [--byzantine B] [--sabotage NAME] [--trace]`
 *
 * Runs N BFT seeds from S (default 1) on N = 3F + 1 replicas (default 4) of which B (default F)
 * are Byzantine, under loss, duplication, delays, partitions, crashes and restarts
 * (src/sim/bft/). Every failing seed prints what failed, its faults and the line that
 * reproduces it. The LAST line is always
 *
 *   sim: N seeds, A agreement violations, V validity violations, D duplicate executions, S stalls, L lost acknowledged writes, E engine errors
 *
 * (violations summed over the seeds; stalls: seeds where some honest client's request did not
 * complete within the bound after the heal). With B <= F all must be zero; with B = F + 1 some
 * seeds must break. Exit status 1 when any count is above 0, 2 on bad arguments.
 */
import { bftSabotages, type BftSabotage } from '../src/sim/bft/bft-sabotage.ts';
import { bftSimulationDefaults, runBftSimulation } from '../src/sim/bft/bft-simulation.ts';

export const bftUsage = 'usage: npm run sim -- --protocol bft --seeds N [--start S] [--nodes 4|7|10] [--byzantine B] [--sabotage NAME] [--trace]';

class BftUsageError extends Error {}

interface BftArgs {
  seeds: number;
  start: number;
  nodes: number;
  byzantine: number;
  sabotage: BftSabotage | null;
  /** Print the seed's trace (requests, replies, view changes, crashes) to stderr; with one seed. */
  trace: boolean;
}

function intArg(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new BftUsageError(`${flag} needs an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new BftUsageError(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parse(argv: readonly string[]): BftArgs {
  const args: BftArgs = { seeds: -1, start: 1, nodes: bftSimulationDefaults.nodes, byzantine: -1, sabotage: null, trace: false };
  for (let i = 0; i < argv.length; i += 2) {
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
        args.nodes = intArg(flag, value, 4);
        if (![4, 7, 10].includes(args.nodes)) throw new BftUsageError(`--nodes must be 4, 7 or 10, got ${args.nodes}`);
        break;
      case '--byzantine':
        args.byzantine = intArg(flag, value, 0);
        break;
      case '--sabotage':
        if (!bftSabotages.includes(value as BftSabotage)) throw new BftUsageError(`--sabotage must be one of ${bftSabotages.join(', ')}`);
        args.sabotage = value as BftSabotage;
        break;
      case '--trace':
        args.trace = true;
        i--;
        break;
      default:
        throw new BftUsageError(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  if (args.seeds < 0) throw new BftUsageError('--seeds is required');
  const f = (args.nodes - 1) / 3;
  if (args.byzantine < 0) args.byzantine = f;
  if (args.byzantine > args.nodes - 2) throw new BftUsageError(`--byzantine must be at most ${args.nodes - 2}`);
  return args;
}

/** Runs the sweep and prints it; returns the exit status. `argv` excludes `--protocol bft`. */
export function runBftCli(argv: readonly string[]): number {
  let args: BftArgs;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof BftUsageError)) throw error;
    console.error(`sim: ${error.message}\n${bftUsage}`);
    return 2;
  }
  const total = { agreement: 0, validity: 0, duplicates: 0, stalls: 0, lostWrites: 0, engineErrors: 0 };
  const totals = { completed: 0, viewChanges: 0, stateTransfers: 0, linkForgeries: 0, collusionSplits: 0, clusterRestarts: 0 };
  const failing: number[] = [];
  const startedMs = performance.now();
  for (let i = 0; i < args.seeds; i++) {
    const seed = args.start + i;
    const r = runBftSimulation({ seed, nodes: args.nodes, byzantine: args.byzantine, sabotage: args.sabotage, ...(args.trace ? { trace: (line: string) => console.error(line) } : {}) });
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.counts[k];
    totals.completed += r.stats.requestsCompleted;
    totals.viewChanges += r.stats.viewChanges;
    totals.stateTransfers += r.stats.stateTransfers;
    totals.linkForgeries += r.stats.linkForgeriesDropped;
    totals.collusionSplits += r.stats.collusionSplits;
    totals.clusterRestarts += r.stats.clusterRestarts;
    if (!r.ok) {
      failing.push(seed);
      console.log(`FAIL SEED=${seed} ${JSON.stringify(r.counts)}`);
      for (const d of r.details) console.log(`  ${d}`);
      console.log(`  faults: ${r.faultMix}`);
      console.log(`reproduce: npm run sim -- --protocol bft --seeds 1 --start ${seed} --nodes ${args.nodes} --byzantine ${args.byzantine}${args.sabotage === null ? '' : ` --sabotage ${args.sabotage}`}`);
    }
    if ((i + 1) % 100 === 0 && i + 1 < args.seeds) console.error(`sim: ${i + 1}/${args.seeds} seeds...`);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const t = totals;
  console.log(`sim: totals: ${t.completed} requests completed, ${t.viewChanges} view changes entered, ${t.stateTransfers} state transfers, ${t.linkForgeries} link forgeries dropped, ${t.collusionSplits} collusion splits, ${t.clusterRestarts} restarts of every replica`);
  console.log(`sim: ${(args.seeds / seconds).toFixed(1)} seeds/s (${seconds.toFixed(1)} s)${failing.length > 0 ? `; failing seeds: ${failing.slice(0, 20).join(' ')}${failing.length > 20 ? ' ...' : ''}` : ''}`);
  console.log(`sim: ${args.seeds} seeds, ${total.agreement} agreement violations, ${total.validity} validity violations, ${total.duplicates} duplicate executions, ${total.stalls} stalls, ${total.lostWrites} lost acknowledged writes, ${total.engineErrors} engine errors`);
  return total.agreement + total.validity + total.duplicates + total.stalls + total.lostWrites + total.engineErrors > 0 ? 1 : 0;
}
