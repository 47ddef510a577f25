/**
 * `npm run bench -- <name> [options]`: runs one benchmark and prints its figures, with one JSON
 * line last. Benchmarks measure; they never assert on time (tests do not either).
 */
import { runBftBench } from './bft.ts';
import { runBrowserBench } from './browser.ts';
import { runCoreBench } from './core.ts';
import { runCrdtBrowserBench } from './crdt-browser.ts';
import { runCrdtUpdateBench } from './crdt-update.ts';
import { runGossipBench } from './gossip.ts';
import { runServicesBench } from './services.ts';
import { runFuzz } from '../scripts/fuzz.ts';

const benches: Record<string, (args: readonly string[]) => Promise<void> | void> = {
  core: runCoreBench,
  browser: runBrowserBench,
  gossip: runGossipBench,
  'crdt-browser': runCrdtBrowserBench,
  bft: runBftBench,
  'crdt-update': runCrdtUpdateBench,
  services: runServicesBench,
  // The hostile-frame fuzzer at the size: a million frames (flags as `npm run fuzz`).
  fuzz: (args) => {
    process.exitCode = runFuzz(['--frames', '1000000', ...args]);
  },
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : benches[name];
if (bench === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]`);
  process.exit(2);
}
await bench(rest);
