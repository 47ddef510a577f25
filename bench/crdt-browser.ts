/**
 * The CRDT browser benchmark (`npm run bench -- crdt-browser`, issue 12 item 7): how long an
 * update takes to become visible in the other browsers, for peerquorum's CRDT map, for Yjs over
 * y-webrtc, and for peerquorum's Raft-replicated KV, in ONE run on the same three contexts.
 *
 * It builds bench/browser-pages with Vite and serves it with `vite preview` (in this process),
 * starts a PeerServer (e2e/peer-server.mjs) for peerquorum and y-webrtc's own signaling server
 * (node_modules/y-webrtc/bin/server.js, held to 127.0.0.1) as child processes, launches the system
 * Chromium (CHROMIUM_PATH, default /usr/bin/chromium; never a downloaded one), and stops all of
 * them at the end, whatever happens. Every link is WebRTC between the contexts on 127.0.0.1,
 * with no ICE servers.
 *
 * Three browser contexts (one page each):
 *   1. peerquorum CRDT map: each page runs `createNode({ protocols: ['raft', 'gossip'], secret,
 *      transport: 'webrtc', storage: 'indexeddb' })` (bench/browser-pages/crdt-bench.ts) and
 *      opens `node.crdt('bench', 'map')`; context 0 sets `--updates` keys `--gap-ms` apart (on a
 *      schedule, not waiting for answers); an update is visible in a context when a change event
 *      of its handle holds the key.
 *   2. Raft KV: on the same nodes, the leader's page proposes `--updates` writes of one key
 *      (`seq-<run>` = i) `--gap-ms` apart; a follower sees i once a local read after a `commit`
 *      event answers i or more.
 *   3. Yjs: the nodes are closed and the same contexts load bench/browser-pages/yjs-bench.ts, a
 *      `Y.Doc` over y-webrtc (`peerOpts: { config: { iceServers: [] } }`); context 0 sets the
 *      keys of a `Y.Map` at the same pace; visible when a map observer sees the key.
 * Latency of an update: from just before the writer's call until it is visible in BOTH other
 * contexts (the later of the two), all on one clock: `performance.timeOrigin + performance.now()`
 * in each page of the one browser. Each measure first runs `--warmup` updates, not counted.
 *
 * Options: --updates N (300), --gap-ms N (5), --warmup N (20), --tick-ms N (the node's tick,
 * default its own 10), --gossip JSON (gossip settings, e.g. '{"deltaFlushTicks":1}'), --storage
 * indexeddb|memory (default indexeddb; memory takes the durable writes out of the path, to see what
 * they cost).
 * BENCH_PROFILE=crdt writes CPU profiles of the writer's and a receiver's workers during the
 * CRDT measure (bench/cpu-profile.ts; a measuring aid, it slows them down).
 * A measure that fails prints why and is null in the JSON line. No assertions on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import type { GossipTuning } from '../src/runtime/worker-protocol.ts';
import { freePort, pageCall, percentile, round1, sleep, stopChild, until, waitForUrl } from './browser-util.ts';
import type { BenchSamples, LatencySample } from './bench-samples.ts';
import { profileWorkers } from './cpu-profile.ts';

interface Options {
  updates: number;
  gapMs: number;
  warmup: number;
  tickMs: number | null;
  gossip: GossipTuning | null;
  /** Where the peerquorum nodes keep their state (an experiment: memory takes IndexedDB out of the path). */
  storage: 'indexeddb' | 'memory';
}

function parseOptions(args: readonly string[]): Options {
  const o: Options = { updates: 300, gapMs: 5, warmup: 20, tickMs: null, gossip: null, storage: 'indexeddb' };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const raw = String(args[i + 1]);
    if (flag === '--gossip') {
      o.gossip = JSON.parse(raw) as GossipTuning;
      continue;
    }
    if (flag === '--storage') {
      if (raw !== 'indexeddb' && raw !== 'memory') throw new Error(`--storage takes indexeddb or memory; got ${raw}`);
      o.storage = raw;
      continue;
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${flag} needs a non-negative integer`);
    if (flag === '--updates') o.updates = value;
    else if (flag === '--gap-ms') o.gapMs = value;
    else if (flag === '--warmup') o.warmup = value;
    else if (flag === '--tick-ms') o.tickMs = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

const host = '127.0.0.1';
const webPort = Number(process.env.PEERQUORUM_CRDT_BENCH_PORT ?? 4751);
const peerPort = Number(process.env.PEERQUORUM_CRDT_BENCH_PEER_PORT ?? 4752);
const baseURL = `http://${host}:${webPort}`;
const signaling = { host, port: peerPort, path: '/peerjs', secure: false, key: 'peerjs' } as const;
const repoDir = fileURLToPath(new URL('../', import.meta.url));
const viteConfig = fileURLToPath(new URL('./browser-pages/vite.config.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../node_modules/.cache/peerquorum-bench-crdt-browser/', import.meta.url));
const yjsServer = fileURLToPath(new URL('../node_modules/y-webrtc/bin/server.js', import.meta.url));
/**
 * y-webrtc's server calls `server.listen(port)` (every interface); this preload makes a bare
 * port listen on 127.0.0.1 only, so that the bench opens nothing beyond this machine.
 */
const loopbackOnly = `data:text/javascript,${encodeURIComponent(
  "import http from 'node:http'; const listen = http.Server.prototype.listen; http.Server.prototype.listen = function (...a) { return a.length === 1 && (typeof a[0] === 'number' || typeof a[0] === 'string') ? listen.call(this, Number(a[0]), '127.0.0.1') : listen.apply(this, a); };",
)}`;


const ms = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);
const call = <T>(page: Page, method: string, ...args: unknown[]): Promise<T> => pageCall<T>(page, 'crdtBench', method, ...args);



async function startChild(args: readonly string[], env: Record<string, string>, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: repoDir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitForUrl(url, 30_000);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return child;
}




async function load(pages: readonly Page[], file: string): Promise<void> {
  await Promise.all(
    pages.map(async (p) => {
      await p.goto(`${baseURL}/${file}`);
      await p.waitForFunction(() => 'crdtBench' in window);
    }),
  );
}

/** The JSON line's figures (ms; null when the measure failed). */
interface Out {
  p50Ms: number | null;
  p99Ms: number | null;
  yjsP50Ms: number | null;
  yjsP99Ms: number | null;
  raftP50Ms: number | null;
}

interface Latencies {
  /** When the writer sent each update. */
  readonly sent: readonly number[];
  /** Per update: until visible in both receivers (null if not seen in time). */
  readonly both: readonly (number | null)[];
  /** Per receiver, per update. */
  readonly each: readonly (readonly (number | null)[])[];
}

/**
 * Sends `count` updates from `writer` with `write`, then waits (up to 30 s) until every receiver
 * has seen them all, and answers the latencies.
 */
async function measure(
  pages: readonly Page[],
  writer: number,
  count: number,
  write: (p: Page) => Promise<number[]>,
  seen: (p: Page) => Promise<(number | null)[]>,
): Promise<Latencies> {
  const receivers = pages.filter((_, i) => i !== writer);
  const sent = await write(pages[writer] as Page);
  const deadline = Date.now() + 30_000;
  let views: (number | null)[][] = [];
  for (;;) {
    views = await Promise.all(receivers.map(seen));
    if (views.every((v) => v.every((t) => t !== null)) || Date.now() > deadline) break;
    await sleep(100);
  }
  const each = views.map((v) => v.map((t, i) => (t === null ? null : t - (sent[i] as number))));
  const both = sent.map((_, i) => {
    const ts = each.map((e) => e[i] ?? null);
    return ts.some((t) => t === null) ? null : Math.max(...(ts as number[]));
  });
  return { sent, both, each };
}

/** This run's latencies for the chart (docs/bench/crdt-browser.svg), one series per measure. */
const chartLatency: LatencySample[] = [];

function report(label: string, l: Latencies, count: number): { p50: number | null; p99: number | null } {
  const got = l.both.filter((x): x is number => x !== null);
  // The label up to its first comma names the system: ours and Yjs's side by side.
  for (const ms of got) chartLatency.push({ series: label.split(',')[0] as string, ms });
  const p50 = percentile(got, 0.5);
  const p99 = percentile(got, 0.99);
  const perReceiver = l.each.map((e) => ms(percentile(e.filter((x): x is number => x !== null), 0.5))).join(', ');
  console.log(
    `${label}: ${got.length} of ${count} updates visible in both other contexts: p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(got.length === 0 ? null : Math.max(...got))} (p50 per receiver: ${perReceiver})`,
  );
  return { p50, p99 };
}

async function runPeerquorum(pages: readonly Page[], o: Options, out: Out, secret: string): Promise<void> {
  const ids = pages.map((_, i) => `n${i}`);
  const cluster = `crdt-bench-${process.pid}-${Date.now().toString(36)}`;
  await load(pages, 'crdt-bench.html');
  await Promise.all(
    pages.map((p, i) =>
      call(p, 'start', {
        cluster,
        id: ids[i],
        peers: ids,
        signaling,
        iceServers: [],
        secret,
        storage: o.storage,
        ...(o.tickMs === null ? {} : { tickMs: o.tickMs }),
        ...(o.gossip === null ? {} : { gossip: o.gossip }),
      }),
    ),
  );
  type Status = { alive: number; leader: string | null; id: string; openLinks: number };
  const leaderId = await until('every member alive, every link open and one leader', 60_000, async () => {
    const all = await Promise.all(pages.map((p) => call<Status>(p, 'status')));
    const leader = all[0]?.leader ?? null;
    return all.every((s) => s.alive === pages.length && s.openLinks === pages.length - 1 && s.leader !== null && s.leader === leader) ? leader : undefined;
  });
  const leader = ids.indexOf(leaderId as string);
  console.log(`peerquorum: ${pages.length} nodes (raft+gossip, secret, WebRTC, ${o.storage}) up; leader ${leaderId}`);

  try {
    const crdt = (prefix: string, count: number): Promise<Latencies> =>
      measure(
        pages,
        0,
        count,
        (p) => call<number[]>(p, 'writeCrdt', prefix, count, o.gapMs),
        (p) => call<(number | null)[]>(p, 'seenCrdt', prefix, count),
      );
    await crdt('w', o.warmup);
    type G = { readies: number; storageWrites: number; messagesSent: number; messagesReceived: number } | null;
    const before = await Promise.all(pages.map((p) => call<G>(p, 'gossipMetrics')));
    // BENCH_PROFILE=crdt: CPU profiles of the writer's and a receiver's workers (slows them down).
    const profiling = process.env.BENCH_PROFILE === 'crdt' ? [await profileWorkers(pages[0] as Page, 'crdt-writer'), await profileWorkers(pages[1] as Page, 'crdt-receiver')] : [];
    const l = await crdt('m', o.updates);
    for (const stop of profiling) await stop();
    const after = await Promise.all(pages.map((p) => call<G>(p, 'gossipMetrics')));
    const r = report(`peerquorum CRDT map (gossip), ${o.updates} updates ${o.gapMs} ms apart from n0`, l, o.updates);
    out.p50Ms = round1(r.p50);
    out.p99Ms = round1(r.p99);
    // The writer's own change events (page -> worker -> engine Ready -> page, no network): how
    // much of the latency is spent before an update leaves the writer's node.
    const local = await call<(number | null)[]>(pages[0] as Page, 'seenCrdt', 'm', o.updates);
    const echo = local.flatMap((t, i) => (t === null ? [] : [t - (l.sent[i] as number)]));
    console.log(`  the writer's own change event after its set(): p50 ${ms(percentile(echo, 0.5))}, p99 ${ms(percentile(echo, 0.99))}`);
    // From the writer's event (its Ready, before the durable write its deltas wait for) to the
    // later receiver's event: the write, the link, and the receivers' Ready loops.
    const hop = l.both.flatMap((b, i) => (b === null || local[i] === null ? [] : [b - ((local[i] as number) - (l.sent[i] as number))]));
    console.log(`  from the writer's change event to visible in both others: p50 ${ms(percentile(hop, 0.5))}, p99 ${ms(percentile(hop, 0.99))}`);
    const d = (i: number, k: 'readies' | 'storageWrites' | 'messagesSent' | 'messagesReceived'): number => (after[i]?.[k] ?? 0) - (before[i]?.[k] ?? 0);
    console.log(`  gossip hosts during the measure (n0 writes): ${ids.map((id, i) => `${id} ${d(i, 'readies')} Readies, ${d(i, 'storageWrites')} durable writes, ${d(i, 'messagesSent')} sent, ${d(i, 'messagesReceived')} received`).join('; ')}`);
  } catch (e) {
    console.log(`peerquorum CRDT map: failed: ${String(e)}`);
  }

  try {
    const raft = async (run: string, count: number): Promise<Latencies> => {
      await Promise.all(pages.map((p) => call(p, 'watchRaft', run)));
      return measure(
        pages,
        leader,
        count,
        (p) => call<number[]>(p, 'writeRaft', run, count, o.gapMs),
        (p) => call<(number | null)[]>(p, 'seenRaft', run, count),
      );
    };
    await raft('w', o.warmup);
    type D = { storageWrites: number; storageWriteMs: number };
    const before = await Promise.all(pages.map((p) => call<D>(p, 'raftMetrics')));
    const l = await raft('m', o.updates);
    const after = await Promise.all(pages.map((p) => call<D>(p, 'raftMetrics')));
    const r = report(`peerquorum Raft KV, ${o.updates} writes ${o.gapMs} ms apart from the leader ${leaderId}`, l, o.updates);
    out.raftP50Ms = round1(r.p50);
    // Where the time goes: the leader's own answer (committed and applied there) beside visible in both.
    const acked = await call<number[]>(pages[leader] as Page, 'ackedRaft', 'm');
    const ack = acked.flatMap((t, i) => (typeof t === 'number' ? [t - (l.sent[i] as number)] : []));
    console.log(`  the leader's own propose answered: p50 ${ms(percentile(ack, 0.5))}, p99 ${ms(percentile(ack, 0.99))}`);
    const writes = ids.map((id, i) => {
      const n = (after[i]?.storageWrites ?? 0) - (before[i]?.storageWrites ?? 0);
      const t = (after[i]?.storageWriteMs ?? 0) - (before[i]?.storageWriteMs ?? 0);
      return `${id} ${n} (${n === 0 ? 'n/a' : (t / n).toFixed(1)} ms each)`;
    });
    console.log(`  Raft durable writes during the measure: ${writes.join(', ')}`);
  } catch (e) {
    console.log(`peerquorum Raft KV: failed: ${String(e)}`);
  }
  await Promise.all(pages.map((p) => call(p, 'close').catch(() => undefined)));
}

async function runYjs(pages: readonly Page[], o: Options, out: Out, signalingUrl: string): Promise<void> {
  // y-webrtc's mesh sometimes leaves a pair unconnected on this loaded machine (each page dials
  // the others it hears of through the signaling server; no ICE servers, host candidates only):
  // up to three tries, each with a fresh room and fresh pages, before the measure counts as failed.
  for (let attempt = 1; ; attempt++) {
    await load(pages, 'yjs-bench.html');
    const room = `crdt-bench-${process.pid}-${Date.now().toString(36)}`;
    await Promise.all(pages.map((p) => call(p, 'start', { room, signaling: [signalingUrl] })));
    try {
      await until('every Yjs page connected and synced to the two others', 20_000, async () => {
        const all = await Promise.all(pages.map((p) => call<{ connected: number }>(p, 'status')));
        return all.every((s) => s.connected === pages.length - 1) ? true : undefined;
      });
      break;
    } catch (e) {
      const all = await Promise.all(pages.map((p) => call<{ connected: number }>(p, 'status').catch(() => null)));
      console.log(`yjs: try ${attempt}: peers connected per page ${all.map((s) => s?.connected ?? '?').join(', ')}: ${String(e)}`);
      await Promise.all(pages.map((p) => call(p, 'close').catch(() => undefined)));
      if (attempt === 3) throw e;
    }
  }
  console.log(`yjs: ${pages.length} documents over y-webrtc (own signaling server, no ICE servers) connected`);
  try {
    const crdt = (prefix: string, count: number): Promise<Latencies> =>
      measure(
        pages,
        0,
        count,
        (p) => call<number[]>(p, 'writeCrdt', prefix, count, o.gapMs),
        (p) => call<(number | null)[]>(p, 'seenCrdt', prefix, count),
      );
    await crdt('w', o.warmup);
    const l = await crdt('m', o.updates);
    const r = report(`Yjs Y.Map over y-webrtc, ${o.updates} updates ${o.gapMs} ms apart from context 0`, l, o.updates);
    out.yjsP50Ms = round1(r.p50);
    out.yjsP99Ms = round1(r.p99);
  } finally {
    await Promise.all(pages.map((p) => call(p, 'close').catch(() => undefined)));
  }
}

export async function runCrdtBrowserBench(args: readonly string[]): Promise<BenchSamples> {
  const o = parseOptions(args);
  const out: Out = { p50Ms: null, p99Ms: null, yjsP50Ms: null, yjsP99Ms: null, raftP50Ms: null };
  let server: PreviewServer | null = null;
  let peer: ChildProcess | null = null;
  let yjsSignaling: ChildProcess | null = null;
  let browser: Browser | null = null;
  const started = performance.now();
  try {
    await build({ configFile: viteConfig, logLevel: 'warn', build: { outDir } });
    server = await preview({ configFile: viteConfig, logLevel: 'warn', build: { outDir }, preview: { host, port: webPort, strictPort: true } });
    peer = await startChild(['e2e/peer-server.mjs'], { PEERQUORUM_PEER_PORT: String(peerPort) }, `http://${host}:${peerPort}/peerjs`);
    const yjsPort = await freePort();
    yjsSignaling = await startChild(['--import', loopbackOnly, yjsServer], { PORT: String(yjsPort) }, `http://${host}:${yjsPort}/`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    console.log(`browser: ${browser.version()}; pages at ${baseURL}, PeerServer at ${host}:${peerPort}, y-webrtc signaling at ${host}:${yjsPort}`);
    const contexts: BrowserContext[] = [];
    for (let i = 0; i < 3; i++) contexts.push(await browser.newContext());
    const pages = await Promise.all(contexts.map((c) => c.newPage()));
    try {
      await runPeerquorum(pages, o, out, `crdt-bench-secret-${process.pid}-32-bytes`);
    } catch (e) {
      console.log(`peerquorum: failed: ${String(e)}`);
    }
    try {
      await runYjs(pages, o, out, `ws://${host}:${yjsPort}`);
    } catch (e) {
      console.log(`yjs: failed: ${String(e)}`);
    }
  } finally {
    await browser?.close().catch(() => undefined);
    if (server !== null) await server.close().catch(() => undefined);
    if (peer !== null) await stopChild(peer);
    if (yjsSignaling !== null) await stopChild(yjsSignaling);
  }
  if (out.p50Ms !== null && out.yjsP50Ms !== null) {
    const d = out.p50Ms - out.yjsP50Ms;
    console.log(`goal (p50 no slower than Yjs's): ${d <= 0 ? 'met' : `missed by ${d.toFixed(1)} ms (${(out.p50Ms / out.yjsP50Ms).toFixed(1)}x)`}`);
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify({ bench: 'crdt-browser', ...out }));
  return {
    title: `crdt-browser: 3 contexts over WebRTC, ${o.updates} updates ${o.gapMs} ms apart from one`,
    latency: chartLatency,
    latencyLabel: 'update until visible in both other contexts',
  };
}
