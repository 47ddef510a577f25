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
 *      flight; acknowledged writes / wall time (Node `performance.now()` around the call).
 *   2. latencyP50Ms / latencyP99Ms: `--latency-writes` writes one after another from the leader's
 *      page, each timed in the page with `performance.now()` (propose until committed+applied).
 *   3. failoverCrashP50Ms / P99Ms: the leader's renderer is crashed (CDP `Page.crash`: no
 *      `pagehide`, no hand-over); time from just before the crash until the first write committed
 *      by a survivor (each survivor's page loops: if it leads, propose). `--crash-trials` trials;
 *      the node is opened again (same context, same id, its IndexedDB) between trials.
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
 * A measure that fails prints why and is null in the JSON line. No assertions on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import { Cluster, type ClusterOptions } from '../src/playwright/index.ts';

interface BrowserBenchOptions {
  commands: number;
  concurrency: number;
  latencyWrites: number;
  crashTrials: number;
  gracefulTrials: number;
  tabTrials: number;
  peerTrials: number;
  /** The measures to run (all by default): throughput, latency, crash, graceful, tabs, peer. */
  only: ReadonlySet<Measure>;
}

const measures = ['throughput', 'latency', 'crash', 'graceful', 'tabs', 'peer'] as const;
type Measure = (typeof measures)[number];

function parseOptions(args: readonly string[]): BrowserBenchOptions {
  const o: BrowserBenchOptions = { commands: 10_000, concurrency: 1024, latencyWrites: 300, crashTrials: 10, gracefulTrials: 5, tabTrials: 5, peerTrials: 5, only: new Set(measures) };
  const flags: Record<string, Exclude<keyof BrowserBenchOptions, 'only'>> = {
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

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

const round1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);
const fmt = (xs: readonly number[]): string => xs.map((x) => x.toFixed(1)).join(' ');

async function waitForUrl(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---- page-side loops -------------------------------------------------------------------------

declare global {
  interface Window {
    benchStop?: boolean;
  }
}

/**
 * In each page of `survivors`: loop until this node leads and a write commits (answers true), or
 * until told to stop (answers false). The first to answer true wins.
 */
function firstCommit(c: Cluster, survivors: readonly number[], key: string): Promise<number> {
  return Promise.any(
    survivors.map(async (i) => {
      const ok = await c.page(i).evaluate(async (key) => {
        const h = window.peerquorumHarness;
        if (h === undefined) return false;
        window.benchStop = false;
        const deadline = performance.now() + 20_000;
        while ((window.benchStop as boolean | undefined) !== true && performance.now() < deadline) {
          const s = await h.status();
          if (s.ok && s.value.role === 'leader') {
            const r = await h.propose({ op: 'write', key, value: 'x' });
            if (r.ok) return true;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
        return false;
      }, key);
      if (!ok) throw new Error(`node ${i} stopped`);
      return i;
    }),
  );
}

async function stopLoops(c: Cluster, among: readonly number[]): Promise<void> {
  await Promise.all(among.map((i) => c.page(i).evaluate(() => void (window.benchStop = true)).catch(() => undefined)));
}

/**
 * One failover trial on a fresh 3-node cluster (the node is recreated by opening a new cluster:
 * reopening the killed node in place over WebRTC did not rejoin in time in this build, see the
 * report): kill the leader (crash or close) and time until a survivor commits.
 */
async function failoverTrial(browser: Browser, options: ClusterOptions, trial: string, crash: boolean): Promise<number> {
  const c = await Cluster.open(browser, options, baseURL);
  try {
    const leader = await c.waitForLeader();
    await c.writeMany(leader, { prefix: `before-${trial}-`, count: 20 });
    await c.waitForConvergence({ minApplied: 20 });
    const survivors = c.alive.filter((i) => i !== leader);
    await Promise.all(survivors.map((i) => c.page(i).evaluate(() => void (window.benchStop = false))));
    const race = firstCommit(c, survivors, `after-${trial}`);
    const t0 = performance.now();
    const killed = c.kill(leader, { crash });
    if (process.env.BENCH_DEBUG) console.log(`  ${trial}: killing node ${leader}`);
    await race;
    const ms = performance.now() - t0;
    if (process.env.BENCH_DEBUG) console.log(`  ${trial}: ${ms.toFixed(1)} ms`);
    await stopLoops(c, survivors);
    await killed;
    return ms;
  } finally {
    await c.close();
  }
}

// ---- the measures ----------------------------------------------------------------------------

async function measureWebrtc(browser: Browser, o: BrowserBenchOptions, out: Record<string, number | null>): Promise<void> {
  const options: ClusterOptions = { size: 3, transport: 'webrtc', storage: 'indexeddb', signaling, iceServers: [], waitTimeoutMs: 60_000 };
  const c = !o.only.has('throughput') && !o.only.has('latency') ? null : await Cluster.open(browser, options, baseURL);
  if (c !== null) try {
    let leader = await c.waitForLeader();
    // Warm up the links, the worker and IndexedDB.
    await c.writeMany(leader, { prefix: 'warm', count: 500, concurrency: 64 });

    if (o.only.has('throughput')) try {
      const t0 = performance.now();
      const report = await c.writeMany(leader, { prefix: 'tp', count: o.commands, concurrency: o.concurrency });
      const sec = (performance.now() - t0) / 1000;
      const cps = report.acked.length / sec;
      console.log(
        `throughput: ${report.acked.length} acked, ${report.failed.length} failed of ${o.commands} writes, ${o.concurrency} in flight, ${sec.toFixed(2)} s → ${Math.round(cps)} commands/s`,
      );
      out.commandsPerSec = Math.round(cps);
    } catch (e) {
      console.log(`throughput: failed: ${String(e)}`);
    }

    if (o.only.has('latency')) try {
      leader = await c.waitForLeader();
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
      const p50 = percentile(latencies, 0.5);
      const p99 = percentile(latencies, 0.99);
      console.log(`latency: ${latencies.length} sequential writes from the leader: p50 ${p50?.toFixed(2)} ms, p99 ${p99?.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (page performance.now())`);
      out.latencyP50Ms = p50 === null ? null : Math.round(p50 * 100) / 100;
      out.latencyP99Ms = p99 === null ? null : Math.round(p99 * 100) / 100;
    } catch (e) {
      console.log(`latency: failed: ${String(e)}`);
    }

  } finally {
    await c.close();
  }
  {
    const crash: number[] = [];
    try {
      for (let t = 0; o.only.has('crash') && t < o.crashTrials; t++) crash.push(await failoverTrial(browser, options, `crash${t}`, true));
    } catch (e) {
      console.log(`crash failover: failed after ${crash.length} trials: ${String(e)}`);
    }
    if (crash.length > 0) {
      console.log(`crash failover (renderer crashed, no pagehide) over ${crash.length} trials: p50 ${percentile(crash, 0.5)?.toFixed(1)} ms, p99 ${percentile(crash, 0.99)?.toFixed(1)} ms [${fmt(crash)}]`);
      out.failoverCrashP50Ms = round1(percentile(crash, 0.5));
      out.failoverCrashP99Ms = round1(percentile(crash, 0.99));
    }

    const graceful: number[] = [];
    try {
      for (let t = 0; o.only.has('graceful') && t < o.gracefulTrials; t++) graceful.push(await failoverTrial(browser, options, `graceful${t}`, false));
    } catch (e) {
      console.log(`graceful failover: failed after ${graceful.length} trials: ${String(e)}`);
    }
    if (graceful.length > 0) {
      console.log(`graceful failover (page closed, hand-over on pagehide) over ${graceful.length} trials: p50 ${percentile(graceful, 0.5)?.toFixed(1)} ms [${fmt(graceful)}]`);
      out.failoverGracefulP50Ms = round1(percentile(graceful, 0.5));
    }
  }
}

async function measureTabs(browser: Browser, o: BrowserBenchOptions, out: Record<string, number | null>): Promise<void> {
  const options: ClusterOptions = { size: 3, transport: 'broadcast', storage: 'indexeddb', waitTimeoutMs: 60_000 };
  const tabs: number[] = [];
  try {
    for (let t = 0; o.only.has('tabs') && t < o.tabTrials; t++) tabs.push(await failoverTrial(browser, options, `tab${t}`, false));
  } catch (e) {
    console.log(`tab failover: failed after ${tabs.length} trials: ${String(e)}`);
  }
  if (tabs.length > 0) {
    console.log(`tab failover (BroadcastChannel, leader tab closed, until a new commit) over ${tabs.length} trials: p50 ${percentile(tabs, 0.5)?.toFixed(1)} ms [${fmt(tabs)}]`);
    out.failoverTabsP50Ms = round1(percentile(tabs, 0.5));
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
  if (times.length > 0) {
    console.log(`broadcast-channel LeaderElection (default options; leader tab closed, until a new leader) over ${times.length} trials: p50 ${percentile(times, 0.5)?.toFixed(1)} ms [${fmt(times)}]`);
    out.peerBroadcastChannelFailoverP50Ms = round1(percentile(times, 0.5));
  }
}

export async function runBrowserBench(args: readonly string[]): Promise<void> {
  const o = parseOptions(args);
  const out: Record<string, number | null> = {
    commandsPerSec: null,
    latencyP50Ms: null,
    latencyP99Ms: null,
    failoverCrashP50Ms: null,
    failoverCrashP99Ms: null,
    failoverGracefulP50Ms: null,
    failoverTabsP50Ms: null,
    peerBroadcastChannelFailoverP50Ms: null,
  };
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
    for (const [what, run] of [
      ['webrtc', measureWebrtc],
      ['tabs', measureTabs],
      ['peer', measurePeer],
    ] as const) {
      try {
        await run(browser, o, out);
      } catch (e) {
        console.log(`${what}: failed: ${String(e)}`);
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    if (server !== null) await server.close().catch(() => undefined);
    if (peer !== null) await stopChild(peer);
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify({ bench: 'browser', ...out }));
}
