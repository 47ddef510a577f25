/**
 * `npm run mutants [-- --seeds N] [--start S] [--only NAME[,NAME...]] [--budget-s T]`
 *
 * Plants each bug of the catalogue (scripts/mutants/catalogue.ts) in a copy of the source, one
 * at a time, runs the simulator on it until its first failing seed (at most N seeds, default
 * 1,000; at most T seconds of wall time per mutant, default unbounded), checks that the catching
 * seed passes on the unmutated code, and prints one line per mutant:
 *
 *   NAME: caught after K seeds (seed S, MODE, T s): what failed
 *   NAME: SURVIVED N seeds
 *
 * and, last, `mutants: M planted, C caught, S survived`. Exit status 1 unless every mutant was
 * planted and caught, 2 on bad arguments. `--rate` runs all N seeds of every mutant and says how
 * many of them caught it (a steadier measure than the first catching seed, for tuning the
 * nemesis); `--list` prints the catalogue.
 */
import { mutants } from './mutants/catalogue.ts';
import { runHarness, selectMutants } from './mutants/harness.ts';

const usage = 'usage: npm run mutants -- [--seeds N] [--start S] [--only NAME[,NAME...]] [--budget-s T] [--rate] [--list]';

interface Args {
  seeds: number;
  start: number;
  only: string[];
  budgetS: number;
  list: boolean;
  rate: boolean;
}

function positiveInt(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${flag} needs a positive integer`);
  return Number(value);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { seeds: 1000, start: 1, only: [], budgetS: Number.POSITIVE_INFINITY, list: false, rate: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--seeds':
        args.seeds = positiveInt(flag, value);
        i++;
        break;
      case '--start':
        args.start = positiveInt(flag, value);
        i++;
        break;
      case '--budget-s':
        args.budgetS = positiveInt(flag, value);
        i++;
        break;
      case '--only':
        if (value === undefined) throw new Error('--only needs a name');
        args.only.push(...value.split(',').filter((s) => s !== ''));
        i++;
        break;
      case '--list':
        args.list = true;
        break;
      case '--rate':
        args.rate = true;
        break;
      case '--help':
      case '-h':
        console.log(usage);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(flag)}`);
    }
  }
  return args;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
    selectMutants(args.only);
  } catch (error) {
    console.error(`mutants: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (args.list) {
    for (const m of selectMutants(args.only)) console.log(`${m.name}: ${m.bug} (${m.source})`);
    return 0;
  }
  const count = args.only.length > 0 ? args.only.length : mutants.length;
  console.error(`mutants: planting ${count} mutants, up to ${args.seeds} seeds each from seed ${args.start}`);
  const startedMs = performance.now();
  const summary = await runHarness({
    seeds: args.seeds,
    start: args.start,
    only: args.only,
    budgetMsPerMutant: args.budgetS * 1000,
    all: args.rate,
    onLine: (line) => console.log(line),
  });
  console.log(`mutants: ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
  console.log(summary.line);
  return summary.caught === summary.results.length ? 0 : 1;
}

process.exitCode = await main();
