/**
 * The page side of the WebRTC e2e tests, exposed as `window.pqWebrtc` for `page.evaluate`:
 * - `start` makes this page one node: a `WebRtcLinks` (PeerJS, main thread) whose channels go to
 *   a DataChannelTransport on this thread or, with `inWorker`, are transferred to a dedicated
 *   worker that owns them (webrtc-harness-worker.ts), the production layout of DESIGN.md
 *   section 3;
 * - `call` drives that node's transport (HarnessNode) on whichever thread it lives;
 * - `runCompliance` runs the transport compliance suite (test/io/transport-compliance.ts,
 *   transpiled by the spec) in this page, each node a separate PeerJS peer with its own peer
 *   connections through the PeerServer.
 */
import { WebRtcLinks, type WebRtcSignaling } from '../../src/client/webrtc-links.ts';
import type { BackoffOptions } from '../../src/client/webrtc-backoff.ts';
import { transferChannel } from '../../src/client/webrtc-handoff.ts';
import { DataChannelTransport } from '../../src/io/transport/data-channel-transport.ts';
import { PortTransport, relayTransport } from '../../src/io/transport/relay-transport.ts';
import type { Transport } from '../../src/io/transport/transport.ts';
import { callNode, HarnessNode, type HarnessNodeMethod, type HarnessNodeOptions, type TransportTuning } from './webrtc-harness-node.ts';
import { loadSuite } from './webrtc-vitest-shim.ts';

export interface StartOptions {
  readonly cluster: string;
  readonly self: string;
  readonly peers: string[];
  readonly signaling: WebRtcSignaling;
  /**
   * Where the transport runs: `main` (this page), `worker` (channels transferred to a dedicated
   * worker, the default layout) or `relay` (the fallback: the transport stays here and a
   * PortTransport in the worker relays frames over a MessagePort).
   */
  readonly mode: 'main' | 'worker' | 'relay';
  readonly tuning?: TransportTuning;
  /** What the node does besides recording (HarnessNodeOptions: `greetOnOpen`). */
  readonly node?: HarnessNodeOptions;
  readonly backoff?: BackoffOptions;
  readonly dialTimeoutMs?: number;
}

export interface WorkerEnv {
  readonly realm: string;
  readonly hasRTCPeerConnection: boolean;
  readonly hasRTCDataChannel: boolean;
}

export interface ComplianceResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}

interface WorkerReply {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** Fast retries for tests: a link lost in a test comes back within about a second. */
const testBackoff: BackoffOptions = { initialMs: 100, maxMs: 1000 };

class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const p = this.pending.get(e.data.id);
      if (p === undefined) return;
      this.pending.delete(e.data.id);
      if (e.data.error !== undefined) p.reject(new Error(e.data.error));
      else p.resolve(e.data.result);
    };
  }

  request(message: Record<string, unknown>, transfer: Transferable[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

let links: WebRtcLinks | undefined;
let localNode: HarnessNode | undefined;
/** In `relay` mode, the transport that stays on this thread. */
let relayed: DataChannelTransport | undefined;
let workerClient: WorkerClient | undefined;
const channelLog: string[] = [];
const signalingLog: string[] = [];

async function start(options: StartOptions): Promise<{ peerId: string; workerEnv?: WorkerEnv }> {
  if (links !== undefined) throw new Error('already started');
  let workerEnv: WorkerEnv | undefined;
  let onChannel: (peer: string, channel: RTCDataChannel) => void;
  if (options.mode === 'main') {
    const node = HarnessNode.overDataChannels(options.self, options.tuning ?? {}, options.node ?? {});
    localNode = node;
    onChannel = (peer, channel) => {
      channelLog.push(`${peer}:local`);
      node.transport.addChannel?.(peer, channel);
    };
  } else {
    const worker = new Worker(new URL('./webrtc-harness-worker.ts', import.meta.url), { type: 'module' });
    workerClient = new WorkerClient(worker);
    if (options.mode === 'worker') {
      workerEnv = (await workerClient.request({ kind: 'init', self: options.self, tuning: options.tuning ?? {}, options: options.node ?? {} })) as WorkerEnv;
      onChannel = (peer, channel) => {
        const moved = transferChannel(worker, peer, channel);
        // After a transfer the main thread's object is detached: what is left of it here?
        channelLog.push(`${peer}:${moved ? 'transferred' : 'NOT-transferred'}:${channel.readyState}`);
      };
    } else {
      const transport = new DataChannelTransport({ self: options.self, ...options.tuning });
      relayed = transport;
      const { port1, port2 } = new MessageChannel();
      relayTransport(transport, port1);
      workerEnv = (await workerClient.request({ kind: 'init', self: options.self, tuning: {}, options: options.node ?? {}, relayPort: port2 }, [port2])) as WorkerEnv;
      onChannel = (peer, channel) => {
        channelLog.push(`${peer}:relay`);
        transport.addChannel(peer, channel);
      };
    }
  }
  links = new WebRtcLinks({
    cluster: options.cluster,
    self: options.self,
    peers: options.peers,
    signaling: options.signaling,
    iceServers: [],
    onChannel,
    onSignalingState: (state) => signalingLog.push(state),
    backoff: options.backoff ?? testBackoff,
    dialTimeoutMs: options.dialTimeoutMs ?? 5000,
  });
  return workerEnv === undefined ? { peerId: links.peerId } : { peerId: links.peerId, workerEnv };
}

async function call(method: HarnessNodeMethod, ...args: unknown[]): Promise<unknown> {
  if (workerClient !== undefined) return workerClient.request({ kind: 'call', method, args });
  if (localNode === undefined) throw new Error('not started');
  return callNode(localNode, method, args);
}

function signaling(): { state: string; log: string[]; stats: unknown; links: Record<string, string>; channels: string[] } {
  if (links === undefined) throw new Error('not started');
  return {
    state: links.signalingState,
    log: [...signalingLog],
    stats: { ...links.stats },
    links: Object.fromEntries(links.links()),
    channels: [...channelLog],
  };
}

function dropLink(peer: string): void {
  links?.dropLink(peer);
}

async function stop(): Promise<void> {
  links?.close();
  links = undefined;
  if (workerClient !== undefined) {
    await workerClient.request({ kind: 'call', method: 'close', args: [] }).catch(() => undefined);
    workerClient.worker.terminate();
    workerClient = undefined;
  }
  await localNode?.close();
  localNode = undefined;
  await relayed?.close();
  relayed = undefined;
}

async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const startMs = performance.now();
  while (!predicate()) {
    if (performance.now() - startMs > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The compliance suite's factory over real WebRTC: `connect(network, id)` makes node `id` of the
 * cluster `network` (its own PeerJS Peer, peer connections and channels, in this page) and
 * resolves once its links to every node already connected to that network are open, so that
 * the suite's first send has somewhere to go, as with the other adapters.
 */
function complianceFactory(signalingOptions: WebRtcSignaling, universe: string[], variant: 'direct' | 'relay') {
  const members = new Map<string, Set<string>>();
  const opened: { links: WebRtcLinks; transport: DataChannelTransport }[] = [];
  const factory = {
    frameBytesMax: 4 * 1024 * 1024,
    async connect(network: string, id: string): Promise<Transport> {
      const transport = new DataChannelTransport({ self: id, frameBytesMax: factory.frameBytesMax });
      const nodeLinks = new WebRtcLinks({
        cluster: network,
        self: id,
        peers: universe,
        signaling: signalingOptions,
        iceServers: [],
        onChannel: (peer, channel) => transport.addChannel(peer, channel),
        backoff: testBackoff,
        dialTimeoutMs: 5000,
      });
      opened.push({ links: nodeLinks, transport });
      // The relay variant hands the suite the far end of a MessagePort relay instead.
      let facing: Transport = transport;
      if (variant === 'relay') {
        const { port1, port2 } = new MessageChannel();
        relayTransport(transport, port1);
        facing = new PortTransport({ self: id, port: port2, frameBytesMax: factory.frameBytesMax });
      }
      let present = members.get(network);
      if (present === undefined) {
        present = new Set();
        members.set(network, present);
      }
      present.add(id);
      const net = present;
      // Closing the node the suite holds closes everything under it (bound before replacing:
      // in the direct variant `facing` IS `transport`).
      const closeFacing = facing.close.bind(facing);
      const closeTransport = transport.close.bind(transport);
      facing.close = async () => {
        net.delete(id);
        await closeFacing();
        await closeTransport();
        nodeLinks.close();
      };
      const t = facing;
      await until(`${id} to link to ${[...net].join(',')}`, () => [...net].every((p) => p === id || t.links().get(p) === 'open'), 15_000);
      return facing;
    },
    async closeAll(): Promise<void> {
      for (const o of opened) {
        await DataChannelTransport.prototype.close.call(o.transport);
        o.links.close();
      }
    },
  };
  return factory;
}

async function runCompliance(
  code: string,
  only: string | null,
  signalingOptions: WebRtcSignaling,
  variant: 'direct' | 'relay',
): Promise<ComplianceResult[]> {
  const { exports, shim } = loadSuite(code);
  const describeSuite = exports.describeTransportCompliance as (name: string, factory: unknown) => void;
  const factory = complianceFactory(signalingOptions, ['a', 'b', 'c'], variant);
  describeSuite('webrtc', factory);
  const results: ComplianceResult[] = [];
  try {
    for (const t of shim.tests) {
      if (only !== null && t.name !== only) continue;
      const startMs = performance.now();
      try {
        await t.fn();
        results.push({ name: t.name, ok: true, ms: performance.now() - startMs });
      } catch (e) {
        results.push({ name: t.name, ok: false, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e), ms: performance.now() - startMs });
      }
    }
  } finally {
    await factory.closeAll();
  }
  return results;
}

/** A rough JS heap reading (Chromium only), for the flood test's report. */
function heapBytes(): number | null {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory === undefined ? null : memory.usedJSHeapSize;
}

const api = { start, call, signaling, dropLink, stop, runCompliance, heapBytes };
export type HarnessApi = typeof api;
(window as unknown as { pqWebrtc: HarnessApi }).pqWebrtc = api;
document.body.dataset.ready = 'true';
