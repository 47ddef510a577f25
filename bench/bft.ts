/**
 * The BFT browser benchmark (`npm run bench -- bft`, issue 13 item 6): four browser contexts,
 * each a node of `createNode({ protocol: 'bft', secret, peers })` (a PBFT replica and client in
 * the page's worker, bench/browser-pages/bft-bench.ts) over WebRTC through a local PeerServer
 * (e2e/peer-server.mjs, 127.0.0.1, no ICE servers), IndexedDB storage, the cluster secret
 * (pairwise HMAC-SHA256 on every frame, ECDSA P-256 signatures where PBFT needs them).
 *
 * It builds bench/browser-pages with Vite and serves it with `vite preview` (in this process),
 * starts the PeerServer as a child process, launches the system Chromium (CHROMIUM_PATH, default
 * /usr/bin/chromium; never a downloaded one), and stops all of them at the end, whatever happens.
 *
 * Each trial is a fresh cluster (new contexts, a new cluster name):
 *   1. Throughput and latency: every page runs a closed loop of `--window` proposals (the four
 *      nodes' clients are the concurrent clients; the primary batches what reaches it), first
 *      `--warmup-ms` not counted, then `--seconds`; ops/s = proposals answered (F + 1 matching
 *      replies) in that span / its length, summed over the pages; latency = submit to answer.
 *   2. View change: the loop runs again, and the primary's context is closed (a crashed
 *      primary). The figure is from the close until the first proposal answered on a surviving
 *      page after that page saw the new view (its `bft-view-changed` event), on the browser's
 *      clock (this process's clock is mapped onto it by a round trip just before the close).
 * The JSON line: medians over trials of ops/s, the latency percentiles over every trial's
 * samples, and the p50 of the view-change times.
 *
 * Options: --trials N (5), --seconds N (5), --warmup-ms N (1000), --window N (64 proposals per
 * page), --bft-clients N (32 PBFT clients per node, `bftClients`: each has one request in flight,
 * PBFT §4.1, so a node keeps at most that many), --storage indexeddb|memory, --tick-ms N.
 * BENCH_PROFILE=bft writes CPU profiles of the primary's and a backup's workers during the first
 * trial's measure (bench/cpu-profile.ts; a measuring aid, it slows them down).
 * A measure that fails prints why and is left out. No assertions on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import { percentile, round1, stopChild, waitForUrl, freePort, pageCall, sleep, until as untilValue } from './browser-util.ts';
import { timelineOfCompletions, type BenchSamples, type ThroughputPoint } from './bench-samples.ts';
import { profileWorkers } from './cpu-profile.ts';

interface Options {
  trials: number;
  seconds: number;
  warmupMs: number;
  window: number;
  storage: 'indexeddb' | 'memory';
  tickMs: number | null;
  bftClients: number;
}

function parseOptions(args: readonly string[]): Options {
  const o: Options = { trials: 5, seconds: 5, warmupMs: 1000, window: 64, storage: 'indexeddb', tickMs: null, bftClients: 32 };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const raw = String(args[i + 1]);
    if (flag === '--storage') {
      if (raw !== 'indexeddb' && raw !== 'memory') throw new Error(`--storage takes indexeddb or memory; got ${raw}`);
      o.storage = raw;
      continue;
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--trials') o.trials = value;
    else if (flag === '--seconds') o.seconds = value;
    else if (flag === '--warmup-ms') o.warmupMs = value;
    else if (flag === '--window') o.window = value;
    else if (flag === '--tick-ms') o.tickMs = value;
    else if (flag === '--bft-clients') o.bftClients = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

const host = '127.0.0.1';
const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = `bft-bench-secret-${process.pid}-32-bytes-long`;
const viteConfig = fileURLToPath(new URL('./browser-pages/vite.config.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../node_modules/.cache/peerquorum-bench-bft/', import.meta.url));
const repoDir = fileURLToPath(new URL('../', import.meta.url));
const call = <T>(page: Page, method: string, ...args: unknown[]): Promise<T> => pageCall<T>(page, 'bftBench', method, ...args);
const until = <T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> => untilValue(what, timeoutMs, f, 50);
const ms = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);




interface Results {
  readonly done: [number, number][];
  readonly failures: number;
  readonly viewChanges: { view: number; primary: string; at: number }[];
}

/** Every page's loop for `spanMs` after `delayMs`... simply: runs the loops, waits, stops, answers each page's results. */
async function runLoop(pages: readonly Page[], prefix: string, o: Options, totalMs: number): Promise<{ startedAt: number; results: Results[] }> {
  const stopAt = (await call<number>(pages[0] as Page, 'now')) + totalMs;
  const started = await Promise.all(pages.map((p) => call<number>(p, 'run', prefix, o.window, stopAt)));
  await sleep(totalMs + 200);
  await Promise.all(pages.map((p) => call(p, 'stop')));
  // The proposals outstanding at stopAt finish (or time out) after it; they fall outside the span.
  return { startedAt: Math.min(...started), results: await Promise.all(pages.map((p) => call<Results>(p, 'results'))) };
}

interface Trial {
  opsPerSec: number | null;
  latencies: number[];
  viewChangeMs: number | null;
}

async function startCluster(browser: Browser, baseURL: string, peerPort: number, o: Options, trial: number): Promise<{ contexts: BrowserContext[]; pages: Page[] }> {
  const contexts: BrowserContext[] = [];
  for (let i = 0; i < ids.length; i++) contexts.push(await browser.newContext());
  const pages = await Promise.all(contexts.map((c) => c.newPage()));
  await Promise.all(
    pages.map(async (p) => {
      await p.goto(`${baseURL}/bft-bench.html`);
      await p.waitForFunction(() => 'bftBench' in window);
    }),
  );
  const cluster = `bft-bench-${process.pid}-${trial}-${Date.now().toString(36)}`;
  const signaling = { host, port: peerPort, path: '/peerjs', secure: false, key: 'peerjs' };
  await Promise.all(
    pages.map((p, i) =>
      call(p, 'start', { cluster, id: ids[i], peers: ids, signaling, iceServers: [], secret, storage: o.storage, proposalTimeoutMs: 30_000, bftClients: o.bftClients, ...(o.tickMs === null ? {} : { tickMs: o.tickMs }) }),
    ),
  );
  type S = { view: number; primary: string | null; openLinks: number };
  await until('every link open, view 0 everywhere', 60_000, async () => {
    const all = await Promise.all(pages.map((p) => call<S>(p, 'status')));
    return all.every((s) => s.openLinks === ids.length - 1 && s.view === 0) ? true : undefined;
  });
  return { contexts, pages };
}

/** The chart's throughput: proposals answered per `chartIntervalMs`, per trial. */
const chartThroughput: ThroughputPoint[] = [];
const chartIntervalMs = 250;

async function throughput(pages: readonly Page[], o: Options, trial: number): Promise<{ opsPerSec: number; latencies: number[] }> {
  await runLoop(pages, `w${trial}`, o, o.warmupMs);
  const profiling = process.env.BENCH_PROFILE === 'bft' && trial === 0 ? [await profileWorkers(pages[0] as Page, 'bft-primary'), await profileWorkers(pages[1] as Page, 'bft-backup')] : [];
  const spanMs = o.seconds * 1000;
  const { startedAt, results } = await runLoop(pages, `m${trial}`, o, spanMs);
  for (const stop of profiling) await stop();
  const inSpan = results.flatMap((r) => r.done.filter(([, end]) => end <= startedAt + spanMs));
  const failures = results.reduce((a, r) => a + r.failures, 0);
  const latencies = inSpan.map(([s, e]) => e - s);
  const opsPerSec = inSpan.length / o.seconds;
  chartThroughput.push(...timelineOfCompletions(`trial ${trial}`, inSpan.map(([, end]) => end), startedAt, spanMs, chartIntervalMs));
  console.log(
    `trial ${trial}: ${inSpan.length} proposals answered in ${o.seconds} s (${ids.length} pages x ${o.window} outstanding, ${o.bftClients} clients each): ${opsPerSec.toFixed(0)} ops/s, latency p50 ${ms(percentile(latencies, 0.5))}, p99 ${ms(percentile(latencies, 0.99))}; ${failures} failed`,
  );
  return { opsPerSec, latencies };
}

async function viewChange(contexts: readonly BrowserContext[], pages: readonly Page[], o: Options, trial: number): Promise<number> {
  const survivors = pages.slice(1);
  const stopAt = (await call<number>(pages[0] as Page, 'now')) + 60_000;
  await Promise.all(pages.map((p) => call(p, 'run', `v${trial}`, o.window, stopAt)));
  await sleep(500);
  // This process's clock onto the browser's: a round trip to a survivor.
  const a = Date.now();
  const pageNow = await call<number>(survivors[0] as Page, 'now');
  const offset = pageNow - (a + Date.now()) / 2;
  const closedAt = Date.now() + offset;
  await (contexts[0] as BrowserContext).close();
  const end = await until('a proposal answered in the new view', 60_000, async () => {
    const all = await Promise.all(survivors.map((p) => call<Results>(p, 'results')));
    const firsts = all.flatMap((r) => {
      const vc = r.viewChanges.find((v) => v.at >= closedAt);
      if (vc === undefined) return [];
      const first = r.done.find(([, e]) => e >= vc.at);
      return first === undefined ? [] : [first[1]];
    });
    return firsts.length === 0 ? undefined : Math.min(...firsts);
  });
  await Promise.all(survivors.map((p) => call(p, 'stop')));
  const all = await Promise.all(survivors.map((p) => call<Results>(p, 'results')));
  const seen = all.map((r) => {
    const vc = r.viewChanges.find((v) => v.at >= closedAt);
    return vc === undefined ? 'none' : `view ${vc.view} at +${(vc.at - closedAt).toFixed(0)} ms`;
  });
  const vcMs = end - closedAt;
  console.log(`trial ${trial}: primary ${ids[0]} closed; first proposal answered in the new view after ${ms(vcMs)} (new view seen by ${ids.slice(1).join(', ')}: ${seen.join('; ')})`);
  return vcMs;
}

async function runTrial(browser: Browser, baseURL: string, peerPort: number, o: Options, trial: number): Promise<Trial> {
  const t: Trial = { opsPerSec: null, latencies: [], viewChangeMs: null };
  const { contexts, pages } = await startCluster(browser, baseURL, peerPort, o, trial);
  try {
    try {
      Object.assign(t, await throughput(pages, o, trial));
    } catch (e) {
      console.log(`trial ${trial}: throughput failed: ${String(e)}`);
    }
    try {
      t.viewChangeMs = await viewChange(contexts, pages, o, trial);
    } catch (e) {
      console.log(`trial ${trial}: view change failed: ${String(e)}`);
    }
  } finally {
    await Promise.all(pages.map((p) => call(p, 'close').catch(() => undefined)));
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  }
  return t;
}

export async function runBftBench(args: readonly string[]): Promise<BenchSamples> {
  const o = parseOptions(args);
  let server: PreviewServer | null = null;
  let peer: ChildProcess | null = null;
  let browser: Browser | null = null;
  const trials: Trial[] = [];
  const started = performance.now();
  try {
    const webPort = await freePort();
    await build({ configFile: viteConfig, logLevel: 'warn', build: { outDir } });
    server = await preview({ configFile: viteConfig, logLevel: 'warn', build: { outDir }, preview: { host, port: webPort, strictPort: true } });
    const peerPort = await freePort();
    peer = spawn(process.execPath, ['e2e/peer-server.mjs'], { cwd: repoDir, env: { ...process.env, PEERQUORUM_PEER_PORT: String(peerPort) }, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForUrl(`http://${host}:${peerPort}/peerjs`, 30_000);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const baseURL = `http://${host}:${webPort}`;
    console.log(`browser: ${browser.version()}; pages at ${baseURL}, PeerServer at ${host}:${peerPort}; ${o.trials} trials, ${o.storage}`);
    for (let i = 0; i < o.trials; i++) {
      try {
        trials.push(await runTrial(browser, baseURL, peerPort, o, i));
      } catch (e) {
        console.log(`trial ${i}: failed: ${String(e)}`);
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    if (server !== null) await server.close().catch(() => undefined);
    if (peer !== null) await stopChild(peer);
  }
  const rates = trials.flatMap((t) => (t.opsPerSec === null ? [] : [t.opsPerSec]));
  const latencies = trials.flatMap((t) => t.latencies);
  const vcs = trials.flatMap((t) => (t.viewChangeMs === null ? [] : [t.viewChangeMs]));
  const out = {
    bench: 'bft',
    opsPerSec: rates.length === 0 ? null : Math.round(percentile(rates, 0.5) as number),
    latencyP50Ms: round1(percentile(latencies, 0.5)),
    latencyP99Ms: round1(percentile(latencies, 0.99)),
    viewChangeP50Ms: round1(percentile(vcs, 0.5)),
    viewChangeTrials: vcs.length,
  };
  console.log(`view change per trial: ${vcs.map((v) => v.toFixed(0)).join(', ')} ms`);
  if (out.opsPerSec !== null) console.log(`goal 5,000 ops/s: ${out.opsPerSec >= 5000 ? 'met' : `missed (${out.opsPerSec} ops/s, ${(5000 / Math.max(1, out.opsPerSec)).toFixed(1)}x short)`}`);
  if (out.viewChangeP50Ms !== null) console.log(`goal view change p50 <= 500 ms: ${out.viewChangeP50Ms <= 500 ? 'met' : `missed by ${(out.viewChangeP50Ms - 500).toFixed(0)} ms`}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify(out));
  return {
    title: `bft: 4 nodes (PBFT) in Chromium, ${o.trials} trials of ${o.seconds} s`,
    throughput: chartThroughput,
    throughputUnit: 'proposals answered/s',
    latency: latencies.map((ms) => ({ series: 'peerquorum BFT', ms })),
    latencyLabel: 'proposal until answered (F+1 matching replies)',
    failover: vcs.map((ms, trial) => ({ series: 'primary closed: view change', trial, ms })),
    failoverLabel: 'primary gone until the new view commits',
  };
}
