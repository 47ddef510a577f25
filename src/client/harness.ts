/**
 * The page half of the Playwright fixture (`peerquorum/playwright`): a page that calls
 * `installHarness()` exposes `window.peerquorumHarness`, through which a test runs one
 * key-value node in that page and drives it with `page.evaluate`. Everything it answers is
 * JSON data, and every failure is an answer `{ ok: false, error: { code, message } }` (a
 * `Result`, with an `ErrorCode`), never a thrown error (so the code survives the trip to the
 * test).
 */
import type { ErrorCode } from '../core/error-code.ts';
import type { NodeId } from '../core/raft/types.ts';
import type { Result } from '../core/result.ts';
import type { KvCommand, KvResult } from '../machines/kv.ts';
import { NodeError, toTaggedError } from '../runtime/errors.ts';
import type { MachineDigest, NodeEvent, NodeMetrics, NodeStatus, RaftTuning, ReadConsistency } from '../runtime/worker-protocol.ts';
import { createNode, type KvNode } from './create-node.ts';
import type { SignalingOptions } from './links.ts';
import type { HealthOptions } from '../runtime/node-health.ts';

/** The harness's answers: `Result<T>` (src/core/result.ts) under the name the harness has always used. */
export type HarnessResult<T> = Result<T>;

export interface HarnessStartOptions {
  readonly cluster: string;
  readonly id?: NodeId;
  readonly peers: readonly NodeId[];
  readonly transport: 'broadcast' | 'webrtc';
  readonly storage?: 'indexeddb' | 'memory';
  readonly signaling?: SignalingOptions;
  readonly iceServers?: readonly RTCIceServer[];
  readonly raft?: RaftTuning;
  readonly tickMs?: number;
  readonly proposalTimeoutMs?: number;
  readonly handOverOnPageHide?: boolean;
  readonly livenessOracle?: boolean;
  readonly secret?: string;
  readonly health?: HealthOptions;
}

/** Writes `key = value` pairs; `acked` are those whose write was acknowledged. */
export interface WriteReport {
  readonly acked: readonly string[];
  readonly failed: readonly { readonly key: string; readonly code: ErrorCode }[];
}

/** An event with when the page saw it: `performance.timeOrigin + performance.now()` (ms since the epoch, comparable across pages). */
export type TimedEvent = NodeEvent & { readonly atMs: number };

export interface Harness {
  start(options: HarnessStartOptions): Promise<HarnessResult<NodeStatus>>;
  status(): Promise<HarnessResult<NodeStatus>>;
  propose(command: KvCommand): Promise<HarnessResult<KvResult>>;
  read(key: string, consistency: ReadConsistency): Promise<HarnessResult<string | null>>;
  readMany(keys: readonly string[], consistency: ReadConsistency): Promise<HarnessResult<Record<string, string | null>>>;
  /** Write `${prefix}${i}` = `v${i}` for i in [from, from + count), `concurrency` at a time. */
  writeMany(options: { prefix: string; count: number; from?: number; concurrency?: number }): Promise<HarnessResult<WriteReport>>;
  /** Start writing `${prefix}${i}` in the background until `stopWriting`. */
  startWriting(options: { prefix: string; concurrency?: number }): HarnessResult<void>;
  stopWriting(): Promise<HarnessResult<WriteReport>>;
  transferLeadership(to?: NodeId): Promise<HarnessResult<NodeId>>;
  close(): Promise<HarnessResult<void>>;
  block(peers: readonly NodeId[]): Promise<HarnessResult<void>>;
  unblock(peers?: readonly NodeId[]): Promise<HarnessResult<void>>;
  /** Raw bytes (as numbers 0..255) sent to `to` on the real link. */
  injectFrame(to: NodeId, bytes: readonly number[]): Promise<HarnessResult<void>>;
  metrics(): Promise<HarnessResult<NodeMetrics>>;
  digest(): Promise<HarnessResult<MachineDigest>>;
  /** Events seen since start (commit events are not kept; see `status`). */
  events(): readonly TimedEvent[];
}

declare global {
  interface Window {
    peerquorumHarness?: Harness;
  }
}

async function result<T>(f: () => Promise<T> | T): Promise<HarnessResult<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, error: toTaggedError(e) };
  }
}

const eventsMax = 10_000;

export function installHarness(): Harness {
  let node: KvNode | null = null;
  const seen: TimedEvent[] = [];
  let load: { stop: boolean; acked: string[]; failed: { key: string; code: ErrorCode }[]; workers: Promise<void>[] } | null = null;

  const requireNode = (): KvNode => {
    if (node === null) throw new NodeError('STOPPED', 'no node was started in this page');
    return node;
  };

  const write = async (n: KvNode, key: string, value: string, report: { acked: string[]; failed: { key: string; code: ErrorCode }[] }): Promise<void> => {
    try {
      await n.propose({ op: 'write', key, value });
      report.acked.push(key);
    } catch (e) {
      report.failed.push({ key, code: toTaggedError(e).code });
    }
  };

  const harness: Harness = {
    start: (options) =>
      result(async () => {
        if (node !== null) throw new NodeError('CONFIG', 'a node already runs in this page');
        const n = await createNode({ ...options, machine: 'kv' });
        for (const type of ['role', 'leader', 'link', 'error', 'lifecycle', 'alert', 'alert-cleared'] as const) {
          n.on(type, (e) => {
            if (seen.length < eventsMax) seen.push({ ...e, atMs: performance.timeOrigin + performance.now() });
          });
        }
        node = n;
        return n.status();
      }),
    status: () => result(() => requireNode().status()),
    propose: (command) => result(() => requireNode().propose(command)),
    read: (key, consistency) => result(() => requireNode().read(key, { consistency })),
    readMany: (keys, consistency) =>
      result(async () => {
        const n = requireNode();
        const values = await Promise.all(keys.map((k) => n.read(k, { consistency })));
        return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? null]));
      }),
    writeMany: ({ prefix, count, from = 0, concurrency = 32 }) =>
      result(async () => {
        const n = requireNode();
        const report = { acked: [] as string[], failed: [] as { key: string; code: ErrorCode }[] };
        let next = from;
        const end = from + count;
        const worker = async (): Promise<void> => {
          while (next < end) {
            const i = next++;
            await write(n, `${prefix}${i}`, `v${i}`, report);
          }
        };
        await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
        return report;
      }),
    startWriting: ({ prefix, concurrency = 4 }) => {
      if (node === null || load !== null) return { ok: false, error: { code: 'CONFIG', message: 'no node, or already writing' } };
      const n = node;
      const l = { stop: false, acked: [] as string[], failed: [] as { key: string; code: ErrorCode }[], workers: [] as Promise<void>[] };
      let next = 0;
      const worker = async (): Promise<void> => {
        while (!l.stop) {
          const i = next++;
          await write(n, `${prefix}${i}`, `v${i}`, l);
        }
      };
      l.workers = Array.from({ length: Math.max(1, concurrency) }, worker);
      load = l;
      return { ok: true, value: undefined };
    },
    stopWriting: () =>
      result(async () => {
        const l = load;
        if (l === null) throw new NodeError('CONFIG', 'not writing');
        l.stop = true;
        await Promise.all(l.workers);
        load = null;
        return { acked: l.acked, failed: l.failed };
      }),
    transferLeadership: (to) => result(() => requireNode().transferLeadership(to)),
    close: () =>
      result(async () => {
        const n = node;
        node = null;
        await n?.close();
      }),
    block: (peers) => result(() => requireNode().testing.block(peers)),
    unblock: (peers) => result(() => requireNode().testing.unblock(peers)),
    injectFrame: (to, bytes) => result(() => requireNode().testing.injectFrame(to, Uint8Array.from(bytes))),
    metrics: () => result(() => requireNode().testing.metrics()),
    digest: () => result(() => requireNode().testing.digest()),
    events: () => seen.slice(),
  };
  window.peerquorumHarness = harness;
  return harness;
}
