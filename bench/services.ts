/**
 * The services benchmark (`npm run bench -- services`, issue 14 item 10). Four figures:
 *
 * - `registryLookupsPerSec`, `routingSelectionsPerSec`: in process, the agents part's machine
 *   (bench/services-machines.ts: 1,000 agents for lookups, 100 for least-used and load-aware
 *   selections; `routingChangedSelectionsPerSec` changes an agent before each). Goals 2,000,000
 *   and 1,000,000.
 * - `toolCallsPerSec`: three browser contexts (three browsers), each a node of
 *   `createNode({ machine: 'services' })` over WebRTC through a local PeerServer
 *   (e2e/peer-server.mjs, 127.0.0.1, no ICE servers), driven by bench/browser-pages/services-bench.ts.
 *   Every page runs a closed loop of `--window` calls of a no-op tool, each with a fresh key: an
 *   exactly-once call (requested, started, run once by the leader, completed: three committed
 *   commands) answered with its committed outcome. ops/s = calls answered `completed` within the
 *   `--seconds` span (after `--warmup-ms`), summed over the pages. Goal 5,000. Each trial also
 *   prints every page's services counters and any role change seen from the span on: a new
 *   leader's takeover marks the started calls of this non-idempotent tool `indeterminate`
 *   (answered, not counted).
 * - `requeueP50Ms`: an agent on a follower's page takes a task (lease `--lease-ms`) and holds it;
 *   agents with the same capability wait on the two other pages; the holder's context is closed.
 *   The figure runs from the close until the task reaches another page's agent handler, on the
 *   browser's clock (this process's clock mapped onto it by a round trip just before the close).
 *   It cannot be below the lease less the time since the holder's last heartbeat: a closed tab
 *   is seen only by its silence. Goal 300 ms.
 *
 * Each trial is a fresh cluster (new contexts, a new cluster name). It builds bench/browser-pages
 * with Vite and serves it with `vite preview` (in this process), starts the PeerServer as a child
 * process, launches the system Chromium (CHROMIUM_PATH, default /usr/bin/chromium), and stops
 * all of them at the end, whatever happens. A measure that fails prints why and is left out.
 *
 * Options: --trials N (5), --seconds N (5), --warmup-ms N (1000), --window N (32 calls per page),
 * --storage indexeddb|memory (indexeddb), --lease-ms N (200), --heartbeat-ms N (50),
 * --time-interval-ms N (50), --micro-seconds N (1 per in-process figure), --skip-browser 1.
 * No assertions on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import { percentile, round1, stopChild, waitForUrl, freePort, pageCall, sleep, until as untilValue } from './browser-util.ts';
import { timelineOfCompletions, type BenchSamples, type ThroughputPoint } from './bench-samples.ts';
import { measureServicesMachines } from './services-machines.ts';

interface Options {
  trials: number;
  seconds: number;
  warmupMs: number;
  window: number;
  storage: 'indexeddb' | 'memory';
  leaseMs: number;
  heartbeatMs: number;
  timeIntervalMs: number;
  microSeconds: number;
  skipBrowser: boolean;
}

const numeric: Record<string, keyof Options> = {
  '--trials': 'trials',
  '--seconds': 'seconds',
  '--warmup-ms': 'warmupMs',
  '--window': 'window',
  '--lease-ms': 'leaseMs',
  '--heartbeat-ms': 'heartbeatMs',
  '--time-interval-ms': 'timeIntervalMs',
  '--micro-seconds': 'microSeconds',
};

function parseOptions(args: readonly string[]): Options {
  const o: Options = { trials: 5, seconds: 5, warmupMs: 1000, window: 32, storage: 'indexeddb', leaseMs: 200, heartbeatMs: 50, timeIntervalMs: 50, microSeconds: 1, skipBrowser: false };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const raw = String(args[i + 1]);
    if (flag === '--storage') {
      if (raw !== 'indexeddb' && raw !== 'memory') throw new Error(`--storage takes indexeddb or memory; got ${raw}`);
      o.storage = raw;
      continue;
    }
    if (flag === '--skip-browser') {
      o.skipBrowser = raw !== '0';
      continue;
    }
    const name = numeric[flag];
    const value = Number(raw);
    if (name === undefined) throw new Error(`unknown option ${flag}`);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
    (o as unknown as Record<string, number>)[name] = value;
  }
  return o;
}

const host = '127.0.0.1';
const ids = ['v0', 'v1', 'v2'];
const viteConfig = fileURLToPath(new URL('./browser-pages/vite.config.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../node_modules/.cache/peerquorum-bench-services/', import.meta.url));
const repoDir = fileURLToPath(new URL('../', import.meta.url));
const call = <T>(page: Page, method: string, ...args: unknown[]): Promise<T> => pageCall<T>(page, 'servicesBench', method, ...args);
const until = <T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> => untilValue(what, timeoutMs, f, 10);
const ms = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);




interface Results {
  readonly done: [number, number][];
  readonly failures: number;
  readonly lastFailure: string;
  readonly outstanding: number;
  readonly leaders: [string | null, number, number][];
}

interface Trial {
  opsPerSec: number | null;
  latencies: number[];
  requeueMs: number | null;
}

async function startCluster(browser: Browser, baseURL: string, peerPort: number, o: Options, trial: number): Promise<{ contexts: BrowserContext[]; pages: Page[]; leader: number }> {
  const contexts: BrowserContext[] = [];
  for (let i = 0; i < ids.length; i++) contexts.push(await browser.newContext());
  const pages = await Promise.all(contexts.map((c) => c.newPage()));
  await Promise.all(
    pages.map(async (p) => {
      await p.goto(`${baseURL}/services-bench.html`);
      await p.waitForFunction(() => 'servicesBench' in window);
    }),
  );
  const cluster = `services-bench-${process.pid}-${trial}-${Date.now().toString(36)}`;
  const signaling = { host, port: peerPort, path: '/peerjs', secure: false, key: 'peerjs' };
  const services = { timeIntervalMs: o.timeIntervalMs, agentHeartbeatMs: o.heartbeatMs, agents: { agentTtlMs: 60_000 } };
  await Promise.all(pages.map((p, i) => call(p, 'start', { cluster, id: ids[i], peers: ids, signaling, iceServers: [], storage: o.storage, services, proposalTimeoutMs: 30_000 })));
  type S = { role: string; openLinks: number };
  const leader = await until('every link open and one leader', 60_000, async () => {
    const all = await Promise.all(pages.map((p) => call<S>(p, 'status')));
    const leaders = all.flatMap((s, i) => (s.role === 'leader' ? [i] : []));
    return all.every((s) => s.openLinks === ids.length - 1) && leaders.length === 1 ? leaders[0] : undefined;
  });
  return { contexts, pages, leader };
}

/** Runs every page's loop for `totalMs`, then stops them; answers when the span began and each page's results. */
async function runLoop(pages: readonly Page[], prefix: string, o: Options, totalMs: number): Promise<{ startedAt: number; results: Results[] }> {
  const stopAt = (await call<number>(pages[0] as Page, 'now')) + totalMs;
  const started = await Promise.all(pages.map((p) => call<number>(p, 'run', prefix, o.window, stopAt)));
  await sleep(totalMs + 200);
  await Promise.all(pages.map((p) => call(p, 'stop')));
  // The calls still out finish after the span (outside it): wait, so the next measure starts idle.
  await until('the calls still out answered', 120_000, async () => ((await Promise.all(pages.map((p) => call<Results>(p, 'results')))).every((r) => r.outstanding === 0) ? true : undefined));
  return { startedAt: Math.min(...started), results: await Promise.all(pages.map((p) => call<Results>(p, 'results'))) };
}

/** The chart's throughput: tool calls completed per `chartIntervalMs`, per trial. */
const chartThroughput: ThroughputPoint[] = [];
const chartIntervalMs = 250;

async function throughput(pages: readonly Page[], o: Options, trial: number): Promise<{ opsPerSec: number; latencies: number[] }> {
  await runLoop(pages, `w${trial}`, o, o.warmupMs);
  const spanMs = o.seconds * 1000;
  const { startedAt, results } = await runLoop(pages, `m${trial}`, o, spanMs);
  const inSpan = results.flatMap((r) => r.done.filter(([, end]) => end <= startedAt + spanMs));
  const failures = results.reduce((a, r) => a + r.failures, 0);
  const latencies = inSpan.map(([s, e]) => e - s);
  const opsPerSec = inSpan.length / o.seconds;
  chartThroughput.push(...timelineOfCompletions(`trial ${trial}`, inSpan.map(([, end]) => end), startedAt, spanMs, chartIntervalMs));
  type M = { takeovers: number; toolStartsProposed: number; toolIndeterminateProposed: number; toolRuns: number };
  const m = await Promise.all(pages.map((p) => call<M>(p, 'metrics')));
  console.log(`trial ${trial}: services metrics per page (takeovers/starts proposed/indeterminate proposed/runs): ${m.map((x) => `${x.takeovers}/${x.toolStartsProposed}/${x.toolIndeterminateProposed}/${x.toolRuns}`).join(', ')}`);
  const why = results.map((r) => r.lastFailure).filter((f) => f !== '');
  // A leader change in the span (seen by any page) turns started calls of the (non-idempotent) tool indeterminate.
  const terms = new Set(results.flatMap((r) => r.leaders.filter(([, , at]) => at >= startedAt).map(([who, term]) => `${term} (${who ?? 'none'})`)));
  console.log(
    `trial ${trial}: ${inSpan.length} tool calls completed in ${o.seconds} s (${ids.length} pages x ${o.window} outstanding): ${opsPerSec.toFixed(0)} calls/s, latency p50 ${ms(percentile(latencies, 0.5))}, p99 ${ms(percentile(latencies, 0.99))}; ${failures} not completed${why.length > 0 ? ` (last: ${why[0]})` : ''}${terms.size > 0 ? `; leader or role changes seen: term ${[...terms].join(', ')}` : ''}`,
  );
  return { opsPerSec, latencies };
}

type TaskRun = [string, number, string, number];

/** A follower's agent holds a task; its context closes; answers ms until another page's agent has it. */
async function requeue(contexts: readonly BrowserContext[], pages: readonly Page[], leader: number, o: Options, trial: number): Promise<number> {
  const holder = (leader + 1) % ids.length;
  const others = pages.filter((_, i) => i !== holder);
  const task = `job-${trial}`;
  await call(pages[holder] as Page, 'registerAgent', `holder-${trial}`, ['summarize']);
  await call(pages[leader] as Page, 'submit', task, ['summarize'], o.leaseMs);
  await until('the holder runs the task', 30_000, async () => ((await call<TaskRun[]>(pages[holder] as Page, 'taskRuns')).some((r) => r[0] === task) ? true : undefined));
  await Promise.all(others.map((p, i) => call(p, 'registerAgent', `backup-${trial}-${i}`, ['summarize'])));
  // Let a few heartbeats pass, so the close falls at a random point of the heartbeat cycle.
  await sleep(o.heartbeatMs * 3 + Math.random() * o.heartbeatMs);
  const early = (await Promise.all(others.map((p) => call<TaskRun[]>(p, 'taskRuns')))).flat().find((r) => r[0] === task);
  if (early !== undefined) throw new Error(`${task} moved to ${early[2]} before the close (the holder's lease lapsed under load)`);
  const a = Date.now();
  const pageNow = await call<number>(others[0] as Page, 'now');
  const closedAt = pageNow + (Date.now() - (a + Date.now()) / 2);
  await (contexts[holder] as BrowserContext).close();
  const run = await until('the task running on another page', 60_000, async () => {
    const runs = (await Promise.all(others.map((p) => call<TaskRun[]>(p, 'taskRuns')))).flat();
    return runs.find((r) => r[0] === task);
  });
  const requeueMs = run[3] - closedAt;
  // Between the check above and the close the lease may still lapse (a loaded machine delays the
  // heartbeat): a run that began before the close is no requeue after it.
  if (requeueMs < 0) throw new Error(`${task} moved to ${run[2]} ${ms(-requeueMs)} before the close (the holder's lease lapsed under load)`);
  console.log(`trial ${trial}: holder ${ids[holder]} closed; task ${task} running on ${run[2]} (token ${run[1]}) after ${ms(requeueMs)} (lease ${o.leaseMs} ms)`);
  return requeueMs;
}

async function runTrial(browser: Browser, baseURL: string, peerPort: number, o: Options, trial: number): Promise<Trial> {
  const t: Trial = { opsPerSec: null, latencies: [], requeueMs: null };
  const { contexts, pages, leader } = await startCluster(browser, baseURL, peerPort, o, trial);
  try {
    try {
      Object.assign(t, await throughput(pages, o, trial));
    } catch (e) {
      console.log(`trial ${trial}: throughput failed: ${String(e)}`);
    }
    try {
      t.requeueMs = await requeue(contexts, pages, leader, o, trial);
    } catch (e) {
      console.log(`trial ${trial}: requeue failed: ${String(e)}`);
    }
  } finally {
    await Promise.all(pages.map((p) => (p.isClosed() ? undefined : call(p, 'close').catch(() => undefined))));
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  }
  return t;
}

async function runBrowserTrials(o: Options): Promise<Trial[]> {
  let server: PreviewServer | null = null;
  let peer: ChildProcess | null = null;
  let browser: Browser | null = null;
  const trials: Trial[] = [];
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
  return trials;
}

function goal(name: string, value: number | null, target: number, higherIsBetter: boolean): void {
  if (value === null) return console.log(`${name}: not measured`);
  const met = higherIsBetter ? value >= target : value <= target;
  const by = higherIsBetter ? `${(target / Math.max(1, value)).toFixed(1)}x short` : `${(value - target).toFixed(0)} ms over`;
  console.log(`${name}: ${value} (goal ${target}): ${met ? 'met' : `missed, ${by}`}`);
}

export async function runServicesBench(args: readonly string[]): Promise<BenchSamples> {
  const o = parseOptions(args);
  const started = performance.now();
  const micro = measureServicesMachines(o.microSeconds);
  console.log(`registry: ${micro.registryLookupsPerSec} lookups/s (1,000 agents), ${micro.registryQueriesPerSec} checked queries/s; routing: ${micro.routingSelectionsPerSec} selections/s (100 agents), ${micro.routingChangedSelectionsPerSec}/s with an agent changed before each`);
  const trials = o.skipBrowser ? [] : await runBrowserTrials(o);
  const rates = trials.flatMap((t) => (t.opsPerSec === null ? [] : [t.opsPerSec]));
  const latencies = trials.flatMap((t) => t.latencies);
  const requeues = trials.flatMap((t) => (t.requeueMs === null ? [] : [t.requeueMs]));
  const out = {
    bench: 'services',
    registryLookupsPerSec: micro.registryLookupsPerSec,
    registryQueriesPerSec: micro.registryQueriesPerSec,
    routingSelectionsPerSec: micro.routingSelectionsPerSec,
    routingChangedSelectionsPerSec: micro.routingChangedSelectionsPerSec,
    toolCallsPerSec: rates.length === 0 ? null : Math.round(percentile(rates, 0.5) as number),
    toolCallLatencyP50Ms: round1(percentile(latencies, 0.5)),
    toolCallLatencyP99Ms: round1(percentile(latencies, 0.99)),
    requeueP50Ms: round1(percentile(requeues, 0.5)),
    requeueTrials: requeues.length,
    leaseMs: o.leaseMs,
    storage: o.storage,
  };
  if (requeues.length > 0) console.log(`requeue per trial: ${requeues.map((v) => v.toFixed(0)).join(', ')} ms`);
  goal('registryLookupsPerSec', out.registryLookupsPerSec, 2_000_000, true);
  goal('routingSelectionsPerSec', out.routingSelectionsPerSec, 1_000_000, true);
  goal('toolCallsPerSec', out.toolCallsPerSec, 5_000, true);
  goal('requeueP50Ms', out.requeueP50Ms, 300, false);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify(out));
  return {
    title: `services: tool calls exactly once in Chromium, ${trials.length} trials of ${o.seconds} s`,
    throughput: chartThroughput,
    throughputUnit: 'tool calls completed/s',
    latency: latencies.map((ms) => ({ series: 'peerquorum tool call', ms })),
    latencyLabel: 'tool call until its completion is committed',
    failover: requeues.map((ms, trial) => ({ series: `agent page closed: task requeued (lease ${o.leaseMs} ms)`, trial, ms })),
    failoverLabel: 'agent gone until its task runs elsewhere',
  };
}
