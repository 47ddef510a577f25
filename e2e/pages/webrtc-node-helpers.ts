/**
 * Node-side helpers of the WebRTC specs (e2e/webrtc-*.spec.ts); not loaded by any page.
 * - A compliance suite (test/io/*-compliance.ts) transpiled to CommonJS, to be evaluated in a
 *   page with the Vitest shim, and its tests, listed the same way in Node: the transport suite
 *   here, the storage suite for e2e/indexeddb-compliance.spec.ts.
 * - Browser contexts opened as nodes on the harness page, with typed calls into `window.pq`.
 * - A PeerServer in a child process that a test can kill and restart (the shared one that
 *   playwright.config.ts starts must stay up for the other tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import ts from 'typescript';
import type { WebRtcSignaling } from '../../src/client/webrtc-links.ts';
import { e2eHost, peerServerPath, peerServerPort } from '../config.ts';
import type { ComplianceResult, HarnessApi, StartOptions } from './webrtc-harness.ts';
import type { HarnessNodeMethod, NodeSnapshot, ReceivedFrame } from './webrtc-harness-node.ts';
import { loadSuite } from './webrtc-vitest-shim.ts';

const repoDir = fileURLToPath(new URL('../../', import.meta.url));

/** The shared PeerServer that playwright.config.ts starts (e2e/config.ts). */
export const sharedSignaling: WebRtcSignaling = { host: e2eHost, port: peerServerPort, path: peerServerPath, secure: false, key: 'peerjs' };

/** `test/io/<file>` (a Vitest suite that imports only Vitest and our sources) as CommonJS for `loadSuite`. */
export function transpiledSuite(file: string): string {
  const source = readFileSync(`${repoDir}test/io/${file}`, 'utf8');
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: file,
  }).outputText;
}

/**
 * The suite's tests, in order, found by calling its describe function `describeName` with
 * `args` against the shim (nothing runs: the tests are only registered). `modules` answers the
 * suite's value imports other than Vitest (see `loadSuite`).
 */
export function suiteTests(
  code: string,
  describeName: string,
  args: readonly unknown[],
  modules: Readonly<Record<string, unknown>> = {},
): { readonly name: string; readonly path: string }[] {
  const { exports, shim } = loadSuite(code, modules);
  const describeSuite = exports[describeName];
  if (typeof describeSuite !== 'function') throw new Error(`the suite exports no function ${describeName}`);
  (describeSuite as (...a: readonly unknown[]) => void)(...args);
  return shim.tests.map(({ name, path }) => ({ name, path }));
}

/** The transport compliance suite (test/io/transport-compliance.ts), transpiled. */
export function transpiledComplianceSuite(): string {
  return transpiledSuite('transport-compliance.ts');
}

/** The transport suite's test names, in order. */
export function complianceTestNames(code: string): string[] {
  return suiteTests(code, 'describeTransportCompliance', ['webrtc', {}]).map((t) => t.name);
}

/** A page that is one node of a test, with typed access to the harness API. */
export class NodePage {
  constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly self: string,
  ) {}

  start(options: Omit<StartOptions, 'self'>): Promise<Awaited<ReturnType<HarnessApi['start']>>> {
    return this.page.evaluate((o) => window.pqWebrtc.start(o), { ...options, self: this.self });
  }

  call(method: HarnessNodeMethod, ...args: unknown[]): Promise<unknown> {
    return this.page.evaluate(([m, a]) => window.pqWebrtc.call(m, ...a), [method, args] as const);
  }

  send(to: string, bytes: number[]): Promise<unknown> {
    return this.call('send', to, bytes);
  }

  snapshot(): Promise<NodeSnapshot> {
    return this.call('snapshot') as Promise<NodeSnapshot>;
  }

  frames(): Promise<ReceivedFrame[]> {
    return this.call('frames') as Promise<ReceivedFrame[]>;
  }

  signaling(): Promise<ReturnType<HarnessApi['signaling']>> {
    return this.page.evaluate(() => window.pqWebrtc.signaling());
  }

  dropLink(peer: string): Promise<void> {
    return this.page.evaluate((p) => window.pqWebrtc.dropLink(p), peer);
  }

  stop(): Promise<void> {
    return this.page.evaluate(() => window.pqWebrtc.stop());
  }

  runCompliance(code: string, only: string | null, signaling: WebRtcSignaling, variant: 'direct' | 'relay'): Promise<ComplianceResult[]> {
    return this.page.evaluate(([c, o, s, v]) => window.pqWebrtc.runCompliance(c, o, s, v), [code, only, signaling, variant] as const);
  }
}

declare global {
  interface Window {
    pqWebrtc: HarnessApi;
  }
}

/** Open one browser context per id, each on the harness page. */
export async function openNodes(browser: Browser, ids: readonly string[]): Promise<NodePage[]> {
  return Promise.all(
    ids.map(async (id) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`[${id}] page error: ${e.message}`));
      await page.goto('/webrtc-harness.html');
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
      return new NodePage(context, page, id);
    }),
  );
}

export async function closeNodes(nodes: readonly NodePage[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      await n.stop().catch(() => undefined);
      await n.context.close();
    }),
  );
}

/** A unique cluster name per test, so that PeerJS ids never collide across tests or runs. */
export function uniqueCluster(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, e2eHost, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A PeerServer of the test's own, in a child process on 127.0.0.1 and a free port, so that the
 * test can kill it (a crash: SIGKILL, no goodbye to the clients) and start it again on the same
 * port. `stop` must be called (afterAll), and leaves no process behind.
 */
export class OwnPeerServer {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnPeerServer> {
    const server = new OwnPeerServer(await freePort());
    await server.restart();
    return server;
  }

  get signaling(): WebRtcSignaling {
    return { host: e2eHost, port: this.port, path: '/peerjs', secure: false, key: 'peerjs' };
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Start the server (again) on the same port; resolves once it listens. */
  async restart(): Promise<void> {
    if (this.child !== undefined) throw new Error('the PeerServer is already running');
    const bin = `${repoDir}node_modules/peer/dist/bin/peerjs.js`;
    const child = spawn(process.execPath, [bin, '--host', e2eHost, '--port', String(this.port), '--path', '/peerjs'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`PeerServer did not start: ${out}`)), 15_000);
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Started PeerServer')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`PeerServer exited with ${code}: ${out}`));
      });
    });
    // Keep draining its output so that a chatty server never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
  }

  /** Kill the server at once (SIGKILL): every client's WebSocket drops, as in a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  stop(): Promise<void> {
    return this.kill();
  }
}
