/**
 * A Playwright fixture for testing apps built on peerquorum in real browsers (exported as
 * `peerquorum/playwright`): `cluster({ size, transport })` opens N pages as the nodes of one
 * key-value cluster, and hands back helpers to drive them, break them and read their state.
 *
 *   import { test, expect } from 'peerquorum/playwright';
 *   test('replicates', async ({ cluster }) => {
 *     const c = await cluster({ size: 3, transport: 'broadcast' });
 *     const leader = await c.waitForLeader();
 *     await c.write(leader, 'k', 'v');
 *     await c.kill(leader);
 *     await c.waitForLeader();
 *   });
 *
 * - `broadcast`: N tabs of one browser context (one origin, BroadcastChannel, one Web Locks
 *   scope); each tab takes a free id of the cluster and keeps it in its sessionStorage.
 * - `webrtc`: N browser contexts (separate storage, like separate browsers), with explicit ids
 *   and the PeerJS server given in `signaling`.
 *
 * Each page is the harness page (`url`, by default `/harness.html` under the config's
 * `baseURL`), a page that calls `installHarness()` from peerquorum's client (see
 * src/client/harness.ts); the fixture drives it with `page.evaluate`. Every wait is on a
 * condition, with a timeout only to stop a hang.
 */
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { isErrorCode } from '../core/error-code.ts';
import type { Harness, HarnessResult, HarnessStartOptions, WriteReport } from '../client/harness.ts';
import { NodeError } from '../client/node-error.ts';
import type { SignalingOptions } from '../client/links.ts';
import type { KvCommand, KvResult } from '../machines/kv.ts';
import type { MachineDigest, NodeEvent, NodeMetrics, NodeStatus, RaftTuning, ReadConsistency } from '../runtime/worker-protocol.ts';

export type { Harness, HarnessStartOptions, WriteReport } from '../client/harness.ts';
export type { MachineDigest, NodeEvent, NodeMetrics, NodeStatus } from '../runtime/worker-protocol.ts';

export interface ClusterOptions {
  readonly size: number;
  readonly transport: 'broadcast' | 'webrtc';
  /** The cluster's name; a fresh one by default. */
  readonly cluster?: string;
  readonly storage?: 'indexeddb' | 'memory';
  /** The harness page; default `/harness.html` (against the config's `baseURL`). */
  readonly url?: string;
  /** The node ids; default `n0` .. `n<size-1>`. */
  readonly ids?: readonly string[];
  /** WebRTC: the PeerJS server. */
  readonly signaling?: SignalingOptions;
  readonly iceServers?: readonly RTCIceServer[];
  readonly raft?: RaftTuning;
  readonly tickMs?: number;
  readonly proposalTimeoutMs?: number;
  /** Hand leadership over on `pagehide` (default true). */
  readonly handOverOnPageHide?: boolean;
  /** The Web Locks failure oracle (default true). */
  readonly livenessOracle?: boolean;
  /** How long a wait helper waits before it fails (default 30 s). */
  readonly waitTimeoutMs?: number;
  /** The cluster secret (authenticated links); none by default: links are then unauthenticated. */
  readonly secret?: string;
  /** Node health: sampling interval, sync threshold, alert rules (lifecycle and alerts in status and events). */
  readonly health?: HarnessStartOptions['health'];
}

/** A failure answered by a node: a `NodeError`, with its code (`NOT_LEADER`, `TIMEOUT`, `STOPPED`...). */
export class ClusterNodeError extends NodeError {
  override readonly name: string = 'ClusterNodeError';
}

/** A page started beside a cluster by `Cluster.startStranger`: not one of its nodes. */
export interface StrangerOptions {
  /** Its node id: a member's (an impostor: the PeerServer lets it register only while that member is down) or a new one. */
  readonly id: string;
  /** Its cluster secret: a wrong one, or none (absent: its links are unauthenticated). */
  readonly secret?: string;
  /** Default `memory`: it has no log worth keeping. */
  readonly storage?: 'indexeddb' | 'memory';
  /** Default: the cluster's. */
  readonly proposalTimeoutMs?: number;
}

/** A node in a page of its own context, started by `Cluster.startStranger`; driven like a cluster's node. */
export class Stranger {
  constructor(
    readonly id: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** Call a harness method in its page; a failed answer throws `ClusterNodeError` (as `Cluster.invoke`). */
  async invoke<K extends keyof Harness>(method: K, ...args: Parameters<Harness[K]>): Promise<Unwrapped<ReturnType<Harness[K]>>> {
    const answer = await this.page.evaluate(
      async ({ method, args }) => {
        const h = window.peerquorumHarness;
        if (h === undefined) return { ok: false, error: { code: 'CONFIG', message: 'this page did not install the peerquorum harness' } };
        return (h[method] as (...a: unknown[]) => unknown)(...args);
      },
      { method, args: args as unknown[] },
    );
    if (typeof answer === 'object' && answer !== null && 'ok' in answer) {
      const r = answer as HarnessResult<unknown>;
      if (!r.ok) throw new ClusterNodeError(isErrorCode(r.error.code) ? r.error.code : 'INTERNAL', `stranger ${this.id}: ${r.error.code}: ${r.error.message}`);
      return r.value as Unwrapped<ReturnType<Harness[K]>>;
    }
    return answer as Unwrapped<ReturnType<Harness[K]>>;
  }

  status(): Promise<NodeStatus> {
    return this.invoke('status');
  }

  async write(key: string, value: string | null): Promise<void> {
    await this.invoke('propose', { op: 'write', key, value });
  }

  read(key: string, consistency: ReadConsistency = 'local'): Promise<string | null> {
    return this.invoke('read', key, consistency);
  }

  metrics(): Promise<NodeMetrics> {
    return this.invoke('metrics');
  }

  /** Close its page and context (its node stops with them). */
  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

type Value<R> = R extends { readonly ok: true; readonly value: infer V } ? V : R extends { readonly ok: false } ? never : R;
type Unwrapped<T> = Value<Awaited<T>>;

interface Member {
  readonly context: BrowserContext;
  page: Page | null;
  id: string;
}

let clusterCounter = 0;

export class Cluster {
  /** Open a cluster of `options.size` nodes; resolves once every node has started. */
  static async open(browser: Browser, options: ClusterOptions, baseURL?: string): Promise<Cluster> {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new Error(`size must be a positive integer, got ${options.size}`);
    const ids = options.ids ?? Array.from({ length: options.size }, (_, i) => `n${i}`);
    if (ids.length !== options.size) throw new Error('ids must list size ids');
    const name = options.cluster ?? `pq-${process.pid}-${Date.now().toString(36)}-${clusterCounter++}`;
    const url = new URL(options.url ?? '/harness.html', baseURL ?? 'http://127.0.0.1/').href;
    const cluster = new Cluster(browser, options, name, url, ids);
    try {
      const shared = options.transport === 'broadcast' ? await browser.newContext() : null;
      for (let i = 0; i < options.size; i++) {
        const context = shared ?? (await browser.newContext());
        cluster.members.push({ context, page: null, id: ids[i] as string });
      }
      // One at a time: in one context each tab takes the first free id, so tab i runs ids[i].
      for (let i = 0; i < options.size; i++) await cluster.startPage(i, await (cluster.members[i] as Member).context.newPage());
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  readonly name: string;
  private readonly members: Member[] = [];
  private readonly strangers: Stranger[] = [];
  private readonly waitTimeoutMs: number;

  private constructor(
    readonly browser: Browser,
    readonly options: ClusterOptions,
    name: string,
    readonly url: string,
    readonly initialIds: readonly string[],
  ) {
    this.name = name;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 30_000;
  }

  get size(): number {
    return this.members.length;
  }

  /** The node ids, by index. */
  get ids(): readonly string[] {
    return this.members.map((m) => m.id);
  }

  /** The indices of the nodes whose pages are open. */
  get alive(): number[] {
    return this.members.flatMap((m, i) => (m.page === null ? [] : [i]));
  }

  page(i: number): Page {
    const page = this.member(i).page;
    if (page === null) throw new Error(`node ${i} is down`);
    return page;
  }

  indexOf(id: string): number {
    const i = this.members.findIndex((m) => m.id === id);
    if (i < 0) throw new Error(`no node ${id} in ${this.name}`);
    return i;
  }

  // ---- driving one node ----------------------------------------------------------------------

  /** Call a harness method in node i's page; a failed answer throws `ClusterNodeError`. */
  async invoke<K extends keyof Harness>(i: number, method: K, ...args: Parameters<Harness[K]>): Promise<Unwrapped<ReturnType<Harness[K]>>> {
    const answer = await this.page(i).evaluate(
      async ({ method, args }) => {
        const h = window.peerquorumHarness;
        if (h === undefined) return { ok: false, error: { code: 'CONFIG', message: 'this page did not install the peerquorum harness' } };
        return (h[method] as (...a: unknown[]) => unknown)(...args);
      },
      { method, args: args as unknown[] },
    );
    if (typeof answer === 'object' && answer !== null && 'ok' in answer) {
      const r = answer as HarnessResult<unknown>;
      if (!r.ok) throw new ClusterNodeError(isErrorCode(r.error.code) ? r.error.code : 'INTERNAL', `node ${i} (${this.member(i).id}): ${r.error.code}: ${r.error.message}`);
      return r.value as Unwrapped<ReturnType<Harness[K]>>;
    }
    return answer as Unwrapped<ReturnType<Harness[K]>>;
  }

  status(i: number): Promise<NodeStatus> {
    return this.invoke(i, 'status');
  }

  propose(i: number, command: KvCommand): Promise<KvResult> {
    return this.invoke(i, 'propose', command);
  }

  async write(i: number, key: string, value: string | null): Promise<void> {
    await this.propose(i, { op: 'write', key, value });
  }

  read(i: number, key: string, consistency: ReadConsistency = 'linearizable'): Promise<string | null> {
    return this.invoke(i, 'read', key, consistency);
  }

  readMany(i: number, keys: readonly string[], consistency: ReadConsistency = 'linearizable'): Promise<Record<string, string | null>> {
    return this.invoke(i, 'readMany', keys, consistency);
  }

  /** Write `${prefix}${j}` = `v${j}` for j in [from, from + count) from node i. */
  writeMany(i: number, options: { prefix: string; count: number; from?: number; concurrency?: number }): Promise<WriteReport> {
    return this.invoke(i, 'writeMany', options);
  }

  startWriting(i: number, options: { prefix: string; concurrency?: number }): Promise<void> {
    return this.invoke(i, 'startWriting', options);
  }

  stopWriting(i: number): Promise<WriteReport> {
    return this.invoke(i, 'stopWriting');
  }

  transferLeadership(i: number, to?: string): Promise<string> {
    return to === undefined ? this.invoke(i, 'transferLeadership') : this.invoke(i, 'transferLeadership', to);
  }

  metrics(i: number): Promise<NodeMetrics> {
    return this.invoke(i, 'metrics');
  }

  digest(i: number): Promise<MachineDigest> {
    return this.invoke(i, 'digest');
  }

  events(i: number): Promise<readonly NodeEvent[]> {
    return this.invoke(i, 'events');
  }

  /** Send raw bytes from node `from` to node `to` on their real link. */
  async injectFrame(from: number, to: number, bytes: Uint8Array | readonly number[]): Promise<void> {
    await this.invoke(from, 'injectFrame', this.member(to).id, Array.from(bytes));
  }

  // ---- faults --------------------------------------------------------------------------------

  /**
   * Take node i down. By default its page is closed as a user closes a tab (`pagehide` runs: a
   * leader hands over). `crash: true` kills the page's renderer instead: no handler runs.
   */
  async kill(i: number, options: { readonly crash?: boolean } = {}): Promise<void> {
    const m = this.member(i);
    const page = m.page;
    if (page === null) return;
    m.page = null;
    if (options.crash === true) {
      const cdp = await m.context.newCDPSession(page);
      const crashed = page.waitForEvent('crash', { timeout: this.waitTimeoutMs });
      // The renderer dies before it can answer: do not wait for one.
      void cdp.send('Page.crash').catch(() => undefined);
      await crashed;
    }
    await page.close();
  }

  /** Reload node i's page and start its node again: it boots from its storage. */
  async reload(i: number): Promise<NodeStatus> {
    const page = this.page(i);
    await page.reload();
    return this.startPage(i, page);
  }

  /** Open node i again in a new page (after `kill`). In one context it takes a free id. */
  async restart(i: number): Promise<NodeStatus> {
    const m = this.member(i);
    if (m.page !== null) throw new Error(`node ${i} is up`);
    return this.startPage(i, await m.context.newPage());
  }

  /**
   * BroadcastChannel clusters: open one more tab in the cluster's browser context. Every id of
   * the cluster already runs, so the new node joins as a learner under a new id (and is promoted
   * once it has caught up). Answers its index.
   */
  async join(): Promise<number> {
    if (this.options.transport !== 'broadcast') throw new Error('join opens a tab in the shared context of a broadcast cluster');
    const context = this.member(0).context;
    this.members.push({ context, page: null, id: '' });
    const i = this.members.length - 1;
    await this.startPage(i, await context.newPage());
    return i;
  }

  /**
   * Open a page in a browser context of its own (its own storage, like another browser) running
   * a node with this cluster's settings but `options`' id, secret and storage: an outsider who
   * tries to join, or an impostor under a member's id. It is not one of the cluster's nodes
   * (`size`, `alive` and the wait helpers ignore it); `close()` closes it with the cluster.
   */
  async startStranger(options: StrangerOptions): Promise<Stranger> {
    const context = await this.browser.newContext();
    const stranger = new Stranger(options.id, context, await context.newPage());
    this.strangers.push(stranger);
    const o = this.options;
    const proposalTimeoutMs = options.proposalTimeoutMs ?? o.proposalTimeoutMs;
    const start: HarnessStartOptions = {
      cluster: this.name,
      id: options.id,
      peers: this.initialIds,
      transport: o.transport,
      storage: options.storage ?? 'memory',
      ...(o.signaling === undefined ? {} : { signaling: o.signaling }),
      ...(o.iceServers === undefined ? {} : { iceServers: o.iceServers }),
      ...(o.raft === undefined ? {} : { raft: o.raft }),
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      ...(proposalTimeoutMs === undefined ? {} : { proposalTimeoutMs }),
      ...(options.secret === undefined ? {} : { secret: options.secret }),
    };
    await stranger.page.goto(this.url);
    await stranger.page.waitForFunction(() => window.peerquorumHarness !== undefined);
    await stranger.invoke('start', start);
    return stranger;
  }

  /** Cut the nodes `group` off from the others, both ways (links blocked on both sides). */
  async partition(group: number | readonly number[]): Promise<void> {
    const inside = new Set(typeof group === 'number' ? [group] : group);
    const outside = this.members.map((_, i) => i).filter((i) => !inside.has(i));
    const ids = (set: Iterable<number>): string[] => [...set].map((i) => this.member(i).id);
    for (const i of inside) if (this.member(i).page !== null) await this.invoke(i, 'block', ids(outside));
    for (const i of outside) if (this.member(i).page !== null) await this.invoke(i, 'block', ids(inside));
  }

  /** Unblock every link of every live node. */
  async heal(): Promise<void> {
    for (const i of this.alive) await this.invoke(i, 'unblock');
  }

  // ---- waiting on conditions -----------------------------------------------------------------

  /** Poll `probe` until it answers a value other than undefined; fail after the wait timeout. */
  async until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = this.waitTimeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = undefined;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The statuses of the live nodes among `among` (default: all live nodes). */
  async statuses(among: readonly number[] = this.alive): Promise<Map<number, NodeStatus>> {
    const all = await Promise.all(among.map(async (i) => [i, await this.status(i)] as const));
    return new Map(all);
  }

  /**
   * Wait until the nodes `among` (default: all live nodes) agree on one leader among them: it
   * says it leads, and every other one follows it in its term. Returns its index.
   */
  async waitForLeader(options: { readonly among?: readonly number[]; readonly timeoutMs?: number } = {}): Promise<number> {
    return this.until(
      'one leader',
      async () => {
        const among = options.among ?? this.alive;
        const statuses = await this.statuses(among);
        const leaders = [...statuses].filter(([, s]) => s.role === 'leader');
        if (leaders.length !== 1) return undefined;
        const [index, leader] = leaders[0] as [number, NodeStatus];
        const agreed = [...statuses.values()].every((s) => s.leader === leader.id && s.term === leader.term);
        return agreed ? index : undefined;
      },
      options.timeoutMs,
    );
  }

  /**
   * Wait until the nodes `among` (default: all live nodes) have applied the same index, at
   * least `minApplied`, and hold equal state (equal digests). Returns that digest.
   */
  async waitForConvergence(options: { readonly among?: readonly number[]; readonly minApplied?: number; readonly timeoutMs?: number } = {}): Promise<MachineDigest> {
    return this.until(
      'the replicas to converge',
      async () => {
        const among = options.among ?? this.alive;
        const digests = await Promise.all(among.map((i) => this.digest(i)));
        const first = digests[0];
        if (first === undefined || first.applied < (options.minApplied ?? 0)) return undefined;
        return digests.every((d) => d.applied === first.applied && d.digest === first.digest) ? first : undefined;
      },
      options.timeoutMs,
    );
  }

  /** Close every page and context. */
  async close(): Promise<void> {
    for (const s of this.strangers) await s.close();
    const contexts = new Set(this.members.map((m) => m.context));
    for (const m of this.members) m.page = null;
    for (const c of contexts) await c.close().catch(() => undefined);
  }

  // ---- internals -----------------------------------------------------------------------------

  private member(i: number): Member {
    const m = this.members[i];
    if (m === undefined) throw new Error(`no node ${i} in ${this.name} (size ${this.members.length})`);
    return m;
  }

  private async startPage(i: number, page: Page): Promise<NodeStatus> {
    const m = this.member(i);
    m.page = page;
    if (page.url() !== this.url) await page.goto(this.url);
    await page.waitForFunction(() => window.peerquorumHarness !== undefined);
    const o = this.options;
    const start: HarnessStartOptions = {
      cluster: this.name,
      peers: this.initialIds,
      transport: o.transport,
      // In one context the tab takes a free id itself (and keeps it across reloads).
      ...(o.transport === 'broadcast' ? {} : { id: m.id }),
      ...(o.storage === undefined ? {} : { storage: o.storage }),
      ...(o.signaling === undefined ? {} : { signaling: o.signaling }),
      ...(o.iceServers === undefined ? {} : { iceServers: o.iceServers }),
      ...(o.raft === undefined ? {} : { raft: o.raft }),
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      ...(o.proposalTimeoutMs === undefined ? {} : { proposalTimeoutMs: o.proposalTimeoutMs }),
      ...(o.handOverOnPageHide === undefined ? {} : { handOverOnPageHide: o.handOverOnPageHide }),
      ...(o.livenessOracle === undefined ? {} : { livenessOracle: o.livenessOracle }),
      ...(o.secret === undefined ? {} : { secret: o.secret }),
      ...(o.health === undefined ? {} : { health: o.health }),
    };
    const status = await this.invoke(i, 'start', start);
    m.id = status.id;
    return status;
  }
}

export interface PeerquorumFixtures {
  /** Open a cluster; every cluster opened in a test is closed after it. */
  cluster: (options: ClusterOptions) => Promise<Cluster>;
}

export const test = base.extend<PeerquorumFixtures>({
  cluster: async ({ browser, baseURL }, use) => {
    const opened: Cluster[] = [];
    await use(async (options) => {
      const c = await Cluster.open(browser, options, baseURL);
      opened.push(c);
      return c;
    });
    for (const c of opened) await c.close();
  },
});

export { expect };
