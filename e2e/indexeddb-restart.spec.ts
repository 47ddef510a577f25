/**
 * IndexedDbRaftStorage keeps what it acknowledged across real browser restarts (issue 4).
 * `browser.newContext()` keeps storage in memory, so these tests launch Chromium by hand on a
 * user-data directory of their own (`launchPersistentContext`), with the flags and binary of the
 * project in playwright.config.ts, on the e2e server's page e2e/pages/storage-harness.html.
 *
 * What it proves, on Chromium's IndexedDB on disk:
 * 1. Hard state, entries of every kind, a compaction and a 600 KiB snapshot (3 chunks) written
 *    and the storage closed, then the whole browser closed (its process exits) and launched
 *    again on the same directory: boot returns exactly what was written, every field and byte.
 * 2. Then a leader's snapshot replacing the log and entries after it, acknowledged, with the
 *    storage left open, and the browser process killed with SIGKILL (no shutdown, no close of
 *    anything): after a relaunch, boot returns exactly that acknowledged state. This is what
 *    `durability: 'strict'` promises: a write whose promise resolved is on disk.
 * The directory is removed at the end.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { baseUrl } from './config.ts';
import type { WireBoot, WireEntry, WireSnapshot, WireWrite } from './pages/storage-harness.ts';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const pattern = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
const entry = (index: number, term: number, data: Uint8Array, kind: WireEntry['kind'] = 'normal'): WireEntry => ({ index, term, kind, data: b64(data) });
const write = (parts: Partial<WireWrite>): WireWrite => ({ hardState: null, snapshot: null, clearLog: false, compactTo: 0, entries: [], ...parts });

const cluster = 'restart';
const node = 'n1';
const config = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };

// Part 1: a log with every entry kind, compacted behind a 600 KiB snapshot, then appended to.
const log1: WireEntry[] = [
  entry(1, 1, new Uint8Array(0), 'empty'),
  { ...entry(2, 1, Uint8Array.of(7), 'config'), config: { voters: ['n1', 'n2', 'n3'], learners: [] } },
  entry(3, 1, pattern(4096, 3)),
  entry(4, 2, pattern(1, 4)),
  entry(5, 2, Uint8Array.from({ length: 256 }, (_, i) => i)),
  entry(6, 2, pattern(100, 6)),
];
const snapshot1: WireSnapshot = { meta: { index: 4, term: 2, config }, data: b64(pattern(600 * 1024, 1)) };
const log1Tail: WireEntry[] = [entry(7, 3, pattern(10, 7)), entry(8, 3, pattern(20, 8)), entry(9, 3, new Uint8Array(0))];
const writes1: WireWrite[] = [
  write({ hardState: { term: 2, vote: 'n1', commit: 0 }, entries: log1 }),
  write({ hardState: { term: 2, vote: 'n1', commit: 5 } }),
  write({ snapshot: snapshot1, compactTo: 3 }),
  write({ hardState: { term: 3, vote: 'n2', commit: 6 }, entries: log1Tail }),
];
const boot1: WireBoot = {
  hardState: { term: 3, vote: 'n2', commit: 6 },
  snapshot: snapshot1,
  entries: [...log1.slice(4), ...log1Tail],
  bytesAreUint8Arrays: true,
};

// Part 2: a leader's snapshot replaces the log, with entries after it in the same write.
const snapshot2: WireSnapshot = { meta: { index: 30, term: 4, config: { voters: ['n1', 'n2', 'n4'], learners: [] } }, data: b64(pattern(300 * 1024, 2)) };
const log2: WireEntry[] = [entry(31, 4, pattern(64, 31)), { ...entry(32, 4, new Uint8Array(0), 'config'), config: { voters: ['n1', 'n2', 'n4'], learners: ['n5'] } }];
const writes2: WireWrite[] = [
  write({ hardState: { term: 4, vote: null, commit: 30 }, snapshot: snapshot2, clearLog: true, entries: log2 }),
  write({ hardState: { term: 4, vote: 'n2', commit: 31 } }),
];
const boot2: WireBoot = { hardState: { term: 4, vote: 'n2', commit: 31 }, snapshot: snapshot2, entries: log2, bytesAreUint8Arrays: true };

/** The browser running now, if any: closed after the test whatever happened. */
let running: BrowserContext | null = null;

/** Chromium on `dir`, as the project launches it, with a page of the harness ready. */
async function launch(dir: string): Promise<{ context: BrowserContext; page: Page }> {
  const launchOptions = test.info().project.use.launchOptions ?? {};
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: launchOptions.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: launchOptions.args ?? [],
    baseURL: baseUrl,
  });
  running = context;
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto('/storage-harness.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  return { context, page };
}

const bootOn = (page: Page): Promise<WireBoot> => page.evaluate(([c, n]) => window.pqStorage.boot(c, n), [cluster, node] as const);

/** The live processes (not zombies) whose command line names `dir`: the browser this test launched. */
function processesOn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      if (cmdline.includes(`--user-data-dir=${dir}`) && state !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The browser process of the context: the one on `dir` that is not a child (no --type=). */
function browserPid(dir: string): number {
  const main = processesOn(dir).filter((pid) => !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type='));
  expect(main, `one browser process on ${dir}`).toHaveLength(1);
  return main[0] as number;
}

test.describe('IndexedDbRaftStorage across real browser restarts', () => {
  let dir = '';

  test.beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'peerquorum-idb-restart-'));
  });

  test.afterAll(async () => {
    await running?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  // The second test starts from the state the first left on disk.
  test.describe.configure({ mode: 'serial' });

  test('boots exactly what was written after the browser is closed and launched again', async () => {
    let { context, page } = await launch(dir);
    await page.evaluate(([c, n, w]) => window.pqStorage.write(c, n, w), [cluster, node, writes1] as const);
    expect(await bootOn(page)).toEqual(boot1);
    const name = await page.evaluate(([c, n]) => window.pqStorage.databaseName(c, n), [cluster, node] as const);
    await context.close();
    // Closing a persistent context ends its browser; on Linux, check that no process is left.
    if (process.platform === 'linux') await expect.poll(() => processesOn(dir)).toEqual([]);

    // A new browser process on the same directory: everything came back.
    ({ context, page } = await launch(dir));
    expect(await page.evaluate(() => window.pqStorage.databases())).toEqual([name]);
    expect(await bootOn(page)).toEqual(boot1);
    await context.close();
    running = null;
  });

  test('boots exactly the acknowledged writes after the browser is killed with SIGKILL', async () => {
    // Only the kill needs Linux: it finds the browser's own process through /proc.
    test.skip(process.platform !== 'linux', 'finds the browser process through /proc');
    let { context, page } = await launch(dir);
    expect(await bootOn(page)).toEqual(boot1);
    // Acknowledged writes, the storage left open, then SIGKILL the browser: no shutdown at all.
    await page.evaluate(([c, n, w]) => window.pqStorage.write(c, n, w, false), [cluster, node, writes2] as const);
    const pid = browserPid(dir);
    const closed = new Promise<void>((resolve) => context.once('close', () => resolve()));
    process.kill(pid, 'SIGKILL');
    await closed;
    await expect.poll(() => processesOn(dir)).toEqual([]);

    ({ context, page } = await launch(dir));
    expect(await bootOn(page)).toEqual(boot2);
    await context.close();
    running = null;
  });
});
