/**
 * `npm run bench -- <name> [options]`: runs one benchmark and prints its figures, with one JSON
 * line last. Benchmarks measure; they never assert on time (tests do not either).
 */
import { runBrowserBench } from './browser.ts';
import { runCoreBench } from './core.ts';

const benches: Record<string, (args: readonly string[]) => Promise<void> | void> = {
  core: runCoreBench,
  browser: runBrowserBench,
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (bench === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]`);
  process.exit(2);
}
await bench(rest);
