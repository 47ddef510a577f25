/**
 * `npm run bench -- <name> [options]`: runs one benchmark and prints its figures, with one JSON
 * line last. Benchmarks measure; they never assert on time (tests do not either).
 *
 * A benchmark that hands back its samples (bench-samples.ts) also gets a chart of its run,
 * written to docs/bench/<name>.svg (bench/chart.ts), footnoted with the command and the date.
 * Where it was written goes to stderr, so the JSON line stays last on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchSamples } from './bench-samples.ts';
import { renderChart } from './chart.ts';
import { runBftBench } from './bft.ts';
import { runBrowserBench } from './browser.ts';
import { runCoreBench } from './core.ts';
import { runCrdtBrowserBench } from './crdt-browser.ts';
import { runCrdtUpdateBench } from './crdt-update.ts';
import { runEdgeBench } from './edge.ts';
import { runFileLogBench } from './file-log.ts';
import { runGossipBench } from './gossip.ts';
import { runServicesBench } from './services.ts';
import { runFuzz } from '../scripts/fuzz.ts';

type Bench = (args: readonly string[]) => Promise<BenchSamples | void> | BenchSamples | void;

const benches: Record<string, Bench> = {
  core: runCoreBench,
  browser: runBrowserBench,
  gossip: runGossipBench,
  'crdt-browser': runCrdtBrowserBench,
  bft: runBftBench,
  'crdt-update': runCrdtUpdateBench,
  services: runServicesBench,
  // Three `peerquorum node` processes over WebSocket with file logs (issue 15 item 6).
  edge: runEdgeBench,
  'file-log': runFileLogBench,
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
const samples = await bench(rest);
if (samples !== undefined) {
  const command = ['npm run bench --', name, ...rest].join(' ');
  const svg = await renderChart(samples, `${command} (${new Date().toISOString().slice(0, 10)})`);
  if (svg !== null) {
    const dir = fileURLToPath(new URL('../docs/bench/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}${name}.svg`, svg);
    console.error(`chart: docs/bench/${name}.svg`);
  }
}
