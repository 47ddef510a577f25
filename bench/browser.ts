/**
 * The browser benchmark (`npm run bench -- browser`): peerquorum in the system Chromium, driven
 * through the Playwright fixture's `Cluster` (src/playwright) from this plain Node script.
 *
 * It builds bench/browser-pages with Vite and serves it with `vite preview` (in this process),
 * starts a PeerServer (e2e/peer-server.mjs, a child process), both on 127.0.0.1, launches the
 * system Chromium (CHROMIUM_PATH, default /usr/bin/chromium; never a downloaded one), and stops
 * all three at the end, whatever happens.
 *
 * Measures (3 browser contexts over WebRTC with IndexedDB logs, default Raft tuning, unless said):
 *   1. commandsPerSec: `--commands` writes proposed from the leader's page, `--concurrency` in
 *      flight (default 4,096, the node's client sessions); acknowledged writes / wall time (Node
 *      `performance.now()` around the call).
 *   2. latencyP50Ms / latencyP99Ms: `--latency-writes` writes one after another from the leader's
 *      page, each timed in the page with `performance.now()` (propose until committed+applied).
 *   3. failoverCrashP50Ms / P99Ms: the leader's renderer is crashed (CDP `Page.crash`, on a
 *      session opened beforehand: no `pagehide`, no hand-over); time from just before the crash until the first write committed
 *      by a survivor (each survivor's page proposes one write just before the crash; a node holds
 *      it while no leader is known and resubmits it to the new one). `--crash-trials` trials,
 *      each on a fresh cluster, crashed once its followers have followed the leader for 150 ticks
 *      (a leader of some standing; the phi watch of 3b is armed only after 100). Raft alone: across browser contexts no Web Locks oracle sees the
 *      crash, so the survivors wait out their randomized election timeout (15 to 30 ticks of 10 ms).
 *   3b. failoverCrashPhiP50Ms / P99Ms (`--only crash-phi`): the same crash of nodes started with
 *      `protocols: ['raft', 'gossip']` (bench/browser-pages/harness-gossip.html), default tuning:
 *      the followers' phi of the leader, fed by its Raft messages, crosses `leaderPhiThreshold` and
 *      they forget it (src/runtime/gossip-leader-watch.ts). Its trials alternate with those of 3
 *      (`--crash-trials` each), so both meet the same machine. `failoverCrashPhiWrongForgets`:
 *      times, over all its trials, a follower forgot the leader while it was alive (a wrong
 *      suspicion, before the crash). `--leader-phi-threshold X` sets the nodes' threshold.
 *   4. failoverGracefulP50Ms: the leader's page is closed (`pagehide` runs: it hands over);
 *      same clock, `--graceful-trials` trials.
 *   5. failoverTabsP50Ms: 3 tabs of ONE context over BroadcastChannel (IndexedDB); the leader's tab
 *      is closed; same clock, `--tab-trials` trials.
 *   6. peerBroadcastChannelFailoverP50Ms: the `broadcast-channel` package's `createLeaderElection`
 *      (default options) in 3 tabs of one context; the leader's tab is closed; time until a
 *      survivor's `awaitLeadership()` resolves, `--peer-trials` trials.
 * Failover times are Node `performance.now()` from just before the close/crash to the answer of
 * the survivor's page (so they include one page-to-Node hop, well under a millisecond locally).
 *
 * Measures 1-5 (3b too) run twice in the same run (`--auth both`, the default): without a cluster secret,
 * then with one (every frame tagged and checked with HMAC-SHA256 in Web Crypto); the figures with
 * a secret have keys ending in `Auth` (`commandsPerSecAuth`...). `--auth off|on` runs one.
 *
 * Memory: `leaderWorkerHeapUsedBytesMax` / `followerWorkerHeapUsedBytesMax`, the most the V8 heap
 * of the leader's and of a follower's worker held during the throughput measure, sampled every
 * 25 ms over CDP (bench/worker-heap.ts; a peak shorter than that can be missed).
 *
 * The chart (docs/bench/browser.svg): the leader's applied commands per second during the
 * throughput measure (its status read every 100 ms), the latency measure's writes, and every
 * failover trial beside the broadcast-channel package's.
 *
 * A measure that fails prints why and is null in the JSON line. No assertions on time.
 * BENCH_DEBUG=1 prints each node's driver metrics and each failover trial's timeline (with the
 * survivors' leader-watch counters when gossip runs);
 * BENCH_PROFILE=throughput|latency profiles the leader's and a follower's workers during that measure
 * (throughput: the leader's page too; bench/cpu-profile.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import { Cluster, type ClusterOptions } from '../src/playwright/index.ts';
import { percentile, round1, stopChild, waitForUrl } from './browser-util.ts';
import { failoverTrial, steadyTicks } from './browser-failover.ts';
import type { BenchSamples, FailoverTrial, LatencySample, ThroughputPoint } from './bench-samples.ts';
import { watchWorkerHeap } from './worker-heap.ts';
import { profilePage, profileWorkers } from './cpu-profile.ts';

interface BrowserBenchOptions {
  commands: number;
  concurrency: number;
  latencyWrites: number;
  crashTrials: number;
  gracefulTrials: number;
  tabTrials: number;
  peerTrials: number;
  /** The measures to run (all by default): throughput, latency, crash, crash-phi, graceful, tabs, peer. */
  only: ReadonlySet<Measure>;
  /** Links without a secret, with one (HMAC-SHA256 per frame), or both in this run (default). */
  auth: 'off' | 'on' | 'both';
  /** crash-phi: the nodes' `leaderPhiThreshold`; null: createNode's default. */
  leaderPhiThreshold: number | null;
}

const measures = ['throughput', 'latency', 'crash', 'crash-phi', 'graceful', 'tabs', 'peer'] as const;
type Measure = (typeof measures)[number];

function parseOptions(args: readonly string[]): BrowserBenchOptions {
  const o: BrowserBenchOptions = { commands: 100_000, concurrency: 4096, latencyWrites: 300, crashTrials: 10, gracefulTrials: 5, tabTrials: 5, peerTrials: 5, only: new Set(measures), auth: 'both', leaderPhiThreshold: null };
  const flags: Record<string, Exclude<keyof BrowserBenchOptions, 'only' | 'auth' | 'leaderPhiThreshold'>> = {
    '--commands': 'commands',
    '--concurrency': 'concurrency',
    '--latency-writes': 'latencyWrites',
    '--crash-trials': 'crashTrials',
    '--graceful-trials': 'gracefulTrials',
    '--tab-trials': 'tabTrials',
    '--peer-trials': 'peerTrials',
  };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    if (flag === '--only') {
      const names = String(args[i + 1]).split(',');
      const bad = names.find((n) => !(measures as readonly string[]).includes(n));
      if (bad !== undefined) throw new Error(`--only takes a comma-separated list of ${measures.join(', ')}; got ${bad}`);
      o.only = new Set(names as Measure[]);
      continue;
    }
    if (flag === '--auth') {
      const a = String(args[i + 1]);
      if (a !== 'off' && a !== 'on' && a !== 'both') throw new Error(`--auth takes off, on or both; got ${a}`);
      o.auth = a;
      continue;
    }
    if (flag === '--leader-phi-threshold') {
      const x = Number(args[i + 1]);
      if (!(Number.isFinite(x) && x > 0)) throw new Error(`--leader-phi-threshold needs a positive number; got ${String(args[i + 1])}`);
      o.leaderPhiThreshold = x;
      continue;
    }
    const key = flags[flag];
    if (key === undefined) throw new Error(`unknown option ${flag}`);
    const value = Number(args[i + 1]);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer`);
    o[key] = value;
  }
  return o;
}

const host = '127.0.0.1';
const webPort = Number(process.env.PEERQUORUM_BENCH_PORT ?? 4741);
const peerPort = Number(process.env.PEERQUORUM_BENCH_PEER_PORT ?? 4742);
const baseURL = `http://${host}:${webPort}`;
const signaling = { host, port: peerPort, path: '/peerjs', secure: false, key: 'peerjs' } as const;
const repoDir = fileURLToPath(new URL('../', import.meta.url));
const viteConfig = fileURLToPath(new URL('./browser-pages/vite.config.ts', import.meta.url));


const fmt = (xs: readonly number[]): string => xs.map((x) => x.toFixed(1)).join(' ');

/** This run's samples for the chart (bench-samples.ts), filled by the measures as they go. */
const chart = { throughput: [] as ThroughputPoint[], latency: [] as LatencySample[], failover: [] as FailoverTrial[] };
const seriesName = (v: Variant, what: string): string => `${what}${v.suffix === 'Auth' ? ', secret' : ''}`;
const addTrials = (series: string, times: readonly number[]): void => {
  for (const [trial, ms] of times.entries()) chart.failover.push({ series, trial, ms });
};

/** Reads the leader's applied index every `intervalMs` until stopped: its throughput over time. */
function watchApplied(c: Cluster, leader: number, series: string, intervalMs = 100): () => Promise<void> {
  let stopped = false;
  const t0 = performance.now();
  const loop = (async () => {
    let last: { t: number; applied: number } | null = null;
    while (!stopped) {
      const s = await c.status(leader).catch(() => null);
      const t = performance.now();
      if (s !== null && last !== null && t > last.t) chart.throughput.push({ series, tSec: (t - t0) / 1000, perSec: ((s.applied - last.applied) * 1000) / (t - last.t) });
      if (s !== null) last = { t, applied: s.applied };
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}


async function startPeerServer(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['e2e/peer-server.mjs'], {
    cwd: repoDir,
    env: { ...process.env, PEERQUORUM_PEER_PORT: String(peerPort) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForUrl(`http://${host}:${peerPort}/peerjs`, 30_000);
  return child;
}


// ---- the measures ----------------------------------------------------------------------------

/**
 * Links unauthenticated (no secret) or authenticated (a secret: every frame tagged with
 * HMAC-SHA256 in Web Crypto and checked before it is decoded). The same measures run for each;
 * an authenticated one's JSON keys end in `Auth`, beside the others in the same line.
 */
interface Variant {
  readonly label: string;
  readonly suffix: '' | 'Auth';
  readonly secret?: string;
}

const variants: readonly Variant[] = [
  { label: 'no secret', suffix: '' },
  { label: 'secret', suffix: 'Auth', secret: `bench-secret-${process.pid}` },
];

async function measureWebrtc(browser: Browser, o: BrowserBenchOptions, out: Record<string, number | null>, v: Variant): Promise<void> {
  const options: ClusterOptions = { size: 3, transport: 'webrtc', storage: 'indexeddb', signaling, iceServers: [], waitTimeoutMs: 60_000, ...(v.secret === undefined ? {} : { secret: v.secret }) };
  const c = !o.only.has('throughput') && !o.only.has('latency') ? null : await Cluster.open(browser, options, baseURL);
  if (c !== null) try {
    let leader = await c.waitForLeader();
    // Warm up the links, the worker, IndexedDB and the client sessions (one per write in flight).
    await c.writeMany(leader, { prefix: 'warm', count: 2 * o.concurrency, concurrency: o.concurrency });

    if (o.only.has('throughput')) try {
      const stopProfile = process.env.BENCH_PROFILE === 'throughput' ? await profileWorkers(c.page(leader), 'throughput-leader') : null;
      const stopProfile2 = process.env.BENCH_PROFILE === 'throughput' ? await profileWorkers(c.page(c.alive.find((i) => i !== leader) as number), 'throughput-follower') : null;
      const stopProfile3 = process.env.BENCH_PROFILE === 'throughput' ? await profilePage(c.page(leader), 'throughput-leader') : null;
      const follower = c.alive.find((i) => i !== leader) as number;
      const stopHeaps = await Promise.all([watchWorkerHeap(c.page(leader)), watchWorkerHeap(c.page(follower))]);
      const stopApplied = watchApplied(c, leader, seriesName(v, 'peerquorum, 3 contexts over WebRTC'));
      const t0 = performance.now();
      const report = await c.writeMany(leader, { prefix: 'tp', count: o.commands, concurrency: o.concurrency });
      const sec = (performance.now() - t0) / 1000;
      await stopApplied();
      const [leaderHeap, followerHeap] = await Promise.all(stopHeaps.map((stop) => stop()));
      out[`leaderWorkerHeapUsedBytesMax${v.suffix}`] = leaderHeap?.usedBytesMax ?? null;
      out[`followerWorkerHeapUsedBytesMax${v.suffix}`] = followerHeap?.usedBytesMax ?? null;
      console.log(`[${v.label}] worker heap during the throughput measure, at most: leader ${mib(leaderHeap?.usedBytesMax)}, a follower ${mib(followerHeap?.usedBytesMax)} (CDP Runtime.getHeapUsage every 25 ms)`);
      const cps = report.acked.length / sec;
      console.log(
        `[${v.label}] throughput: ${report.acked.length} acked, ${report.failed.length} failed of ${o.commands} writes, ${o.concurrency} in flight, ${sec.toFixed(2)} s → ${Math.round(cps)} commands/s`,
      );
      out[`commandsPerSec${v.suffix}`] = Math.round(cps);
      await stopProfile?.();
      await stopProfile2?.();
      await stopProfile3?.();
      if (process.env.BENCH_DEBUG) {
        for (const i of c.alive) console.log(`  node ${i}${i === leader ? ' (leader)' : ''}: ${JSON.stringify((await c.metrics(i)).driver)}`);
      }
    } catch (e) {
      console.log(`[${v.label}] throughput: failed: ${String(e)}`);
    }

    if (o.only.has('latency')) try {
      leader = await c.waitForLeader();
      const stopLatProfile = process.env.BENCH_PROFILE === 'latency' ? await profileWorkers(c.page(leader), 'latency-leader') : null;
      const stopLatProfile2 = process.env.BENCH_PROFILE === 'latency' ? await profileWorkers(c.page(c.alive.find((i) => i !== leader) as number), 'latency-follower') : null;
      const latencies = await c.page(leader).evaluate(async (n) => {
        const h = window.peerquorumHarness;
        if (h === undefined) throw new Error('no harness');
        const ms: number[] = [];
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const r = await h.propose({ op: 'write', key: `lat${i}`, value: `v${i}` });
          if (!r.ok) throw new Error(`write ${i}: ${r.error.code}`);
          ms.push(performance.now() - t);
        }
        return ms;
      }, o.latencyWrites);
      await stopLatProfile?.();
      await stopLatProfile2?.();
      for (const ms of latencies) chart.latency.push({ series: seriesName(v, 'peerquorum'), ms });
      const p50 = percentile(latencies, 0.5);
      const p99 = percentile(latencies, 0.99);
      console.log(`[${v.label}] latency: ${latencies.length} sequential writes from the leader: p50 ${p50?.toFixed(2)} ms, p99 ${p99?.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (page performance.now())`);
      out[`latencyP50Ms${v.suffix}`] = p50 === null ? null : Math.round(p50 * 100) / 100;
      if (process.env.BENCH_DEBUG) {
        for (const i of c.alive) console.log(`  node ${i}${i === leader ? ' (leader)' : ''}: ${JSON.stringify((await c.metrics(i)).driver)}`);
      }
      out[`latencyP99Ms${v.suffix}`] = p99 === null ? null : Math.round(p99 * 100) / 100;
    } catch (e) {
      console.log(`[${v.label}] latency: failed: ${String(e)}`);
    }

  } finally {
    await c.close();
  }
  {
    await crashTrials(browser, o, out, v, options);

    const graceful: number[] = [];
    try {
      for (let t = 0; o.only.has('graceful') && t < o.gracefulTrials; t++) graceful.push((await failoverTrial(browser, options, baseURL, `graceful${t}`, false)).ms);
    } catch (e) {
      console.log(`[${v.label}] graceful failover: failed after ${graceful.length} trials: ${String(e)}`);
    }
    addTrials(seriesName(v, 'graceful: leader page closed (hand-over)'), graceful);
    if (graceful.length > 0) {
      console.log(`[${v.label}] graceful failover (page closed, hand-over on pagehide) over ${graceful.length} trials: p50 ${percentile(graceful, 0.5)?.toFixed(1)} ms [${fmt(graceful)}]`);
      out[`failoverGracefulP50Ms${v.suffix}`] = round1(percentile(graceful, 0.5));
    }
  }
}

/** The harness-gossip page's query: the leader's phi threshold, when `--leader-phi-threshold` sets one. */
const leaderPhiQuery = (o: BrowserBenchOptions): string => (o.leaderPhiThreshold === null ? '' : `?leaderPhiThreshold=${o.leaderPhiThreshold}`);

/** The two crash measures: Raft alone (election timeout), and Raft with gossip (the phi leader watch). */
const crashKinds = [
  { measure: 'crash', key: 'failoverCrash', label: 'crash failover (Raft alone; renderer crashed, no pagehide)', url: undefined },
  { measure: 'crash-phi', key: 'failoverCrashPhi', label: 'crash failover (raft+gossip: phi leader watch; renderer crashed)', url: '/harness-gossip.html' },
] as const satisfies readonly { measure: Measure; key: string; label: string; url: string | undefined }[];

/**
 * The crash measures, their trials interleaved (Raft alone, then raft+gossip, then Raft alone...)
 * so that both meet the same machine: a 2-core machine shared with other work swings 3-10x, and
 * a measure run after the other would compare two machines. One that fails stops; the other goes on.
 */
async function crashTrials(browser: Browser, o: BrowserBenchOptions, out: Record<string, number | null>, v: Variant, options: ClusterOptions): Promise<void> {
  const kinds = crashKinds.filter((k) => o.only.has(k.measure)).map((k) => ({ ...k, times: [] as number[], wrongForgets: 0, failed: false }));
  for (let t = 0; t < o.crashTrials; t++) {
    for (const k of kinds) {
      if (k.failed) continue;
      try {
        const trial = await failoverTrial(browser, { ...options, ...(k.url === undefined ? {} : { url: k.url + leaderPhiQuery(o) }) }, baseURL, `${k.measure}${t}`, true);
        k.times.push(trial.ms);
        k.wrongForgets += trial.wrongForgets;
      } catch (e) {
        k.failed = true;
        console.log(`[${v.label}] ${k.label}: failed after ${k.times.length} trials: ${String(e)}`);
      }
    }
  }
  for (const k of kinds) {
    addTrials(seriesName(v, k.measure === 'crash' ? 'crash: renderer crashed (Raft)' : 'crash: renderer crashed (raft+gossip phi)'), k.times);
    if (k.times.length === 0) continue;
    console.log(`[${v.label}] ${k.label} over ${k.times.length} trials: p50 ${percentile(k.times, 0.5)?.toFixed(1)} ms, p99 ${percentile(k.times, 0.99)?.toFixed(1)} ms [${fmt(k.times)}]`);
    out[`${k.key}P50Ms${v.suffix}`] = round1(percentile(k.times, 0.5));
    out[`${k.key}P99Ms${v.suffix}`] = round1(percentile(k.times, 0.99));
    if (k.url !== undefined) {
      console.log(`[${v.label}] ${k.label}: the live leader was forgotten ${k.wrongForgets} times in the ${steadyTicks} ticks before its crash, over all trials (wrong suspicions)`);
      out[`${k.key}WrongForgets${v.suffix}`] = k.wrongForgets;
    }
  }
}

async function measureTabs(browser: Browser, o: BrowserBenchOptions, out: Record<string, number | null>, v: Variant): Promise<void> {
  const options: ClusterOptions = { size: 3, transport: 'broadcast', storage: 'indexeddb', waitTimeoutMs: 60_000, ...(v.secret === undefined ? {} : { secret: v.secret }) };
  const tabs: number[] = [];
  try {
    for (let t = 0; o.only.has('tabs') && t < o.tabTrials; t++) tabs.push((await failoverTrial(browser, options, baseURL, `tab${t}`, false)).ms);
  } catch (e) {
    console.log(`[${v.label}] tab failover: failed after ${tabs.length} trials: ${String(e)}`);
  }
  addTrials(seriesName(v, 'tab closed: peerquorum'), tabs);
  if (tabs.length > 0) {
    console.log(`[${v.label}] tab failover (BroadcastChannel, leader tab closed, until a new commit) over ${tabs.length} trials: p50 ${percentile(tabs, 0.5)?.toFixed(1)} ms [${fmt(tabs)}]`);
    out[`failoverTabsP50Ms${v.suffix}`] = round1(percentile(tabs, 0.5));
  }
}

async function measurePeer(browser: Browser, o: BrowserBenchOptions, out: Record<string, number | null>): Promise<void> {
  if (!o.only.has('peer')) return;
  const context = await browser.newContext();
  const name = `bench-bc-${process.pid}-${Date.now().toString(36)}`;
  const open = async (): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`${baseURL}/bc-election.html`);
    await page.waitForFunction(() => window.bcElection !== undefined);
    await page.evaluate((name) => window.bcElection?.start(name), name);
    return page;
  };
  const leaderOf = async (pages: readonly Page[]): Promise<number> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const flags = await Promise.all(pages.map((p) => p.evaluate(() => window.bcElection?.isLeader() ?? false)));
      const leaders = flags.flatMap((f, i) => (f ? [i] : []));
      if (leaders.length === 1) return leaders[0] as number;
      if (Date.now() > deadline) throw new Error(`no single broadcast-channel leader (${leaders.length} leaders)`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const times: number[] = [];
  try {
    const pages: Page[] = [];
    for (let i = 0; i < 3; i++) pages.push(await open());
    for (let t = 0; t < o.peerTrials; t++) {
      const leader = await leaderOf(pages);
      const survivors = pages.filter((_, i) => i !== leader);
      const race = Promise.any(survivors.map((p) => p.evaluate(() => window.bcElection?.leader())));
      const t0 = performance.now();
      const closed = (pages[leader] as Page).close();
      await race;
      times.push(performance.now() - t0);
      await closed;
      pages.splice(leader, 1, await open());
    }
  } catch (e) {
    console.log(`broadcast-channel LeaderElection failover: failed after ${times.length} trials: ${String(e)}`);
  } finally {
    await context.close();
  }
  addTrials('tab closed: broadcast-channel LeaderElection (peer)', times);
  if (times.length > 0) {
    console.log(`broadcast-channel LeaderElection (default options; leader tab closed, until a new leader) over ${times.length} trials: p50 ${percentile(times, 0.5)?.toFixed(1)} ms [${fmt(times)}]`);
    out.peerBroadcastChannelFailoverP50Ms = round1(percentile(times, 0.5));
  }
}

const mib = (bytes: number | null | undefined): string => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

export async function runBrowserBench(args: readonly string[]): Promise<BenchSamples> {
  const o = parseOptions(args);
  const out: Record<string, number | null> = {
    peerBroadcastChannelFailoverP50Ms: null,
  };
  const running = variants.filter((v) => o.auth === 'both' || (o.auth === 'on') === (v.secret !== undefined));
  for (const v of running) {
    for (const k of ['commandsPerSec', 'latencyP50Ms', 'latencyP99Ms', 'failoverCrashP50Ms', 'failoverCrashP99Ms', 'failoverCrashPhiP50Ms', 'failoverCrashPhiP99Ms', 'failoverCrashPhiWrongForgets', 'failoverGracefulP50Ms', 'failoverTabsP50Ms', 'leaderWorkerHeapUsedBytesMax', 'followerWorkerHeapUsedBytesMax']) out[`${k}${v.suffix}`] = null;
  }
  let server: PreviewServer | null = null;
  let peer: ChildProcess | null = null;
  let browser: Browser | null = null;
  const started = performance.now();
  try {
    await build({ configFile: viteConfig, logLevel: 'warn' });
    server = await preview({ configFile: viteConfig, logLevel: 'warn' });
    peer = await startPeerServer();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    console.log(`browser: ${browser.version()}; pages at ${baseURL}, PeerServer at ${host}:${peerPort}`);
    // Each measure with and without a secret, one after the other, so both meet the same machine.
    for (const [what, run] of [
      ['webrtc', measureWebrtc],
      ['tabs', measureTabs],
    ] as const) {
      for (const v of running) {
        try {
          await run(browser, o, out, v);
        } catch (e) {
          console.log(`[${v.label}] ${what}: failed: ${String(e)}`);
        }
      }
    }
    try {
      await measurePeer(browser, o, out);
    } catch (e) {
      console.log(`peer: failed: ${String(e)}`);
    }
  } finally {
    await browser?.close().catch(() => undefined);
    if (server !== null) await server.close().catch(() => undefined);
    if (peer !== null) await stopChild(peer);
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify({ bench: 'browser', ...out }));
  return {
    title: `browser: 3 nodes in Chromium, ${o.commands} writes with ${o.concurrency} in flight; failover trials`,
    throughput: chart.throughput,
    throughputUnit: 'commands applied/s (leader)',
    latency: chart.latency,
    latencyLabel: 'one write at a time from the leader page, propose to applied',
    failover: chart.failover,
    failoverLabel: 'time from the kill until a survivor commits (peer: until a new leader)',
  };
}
