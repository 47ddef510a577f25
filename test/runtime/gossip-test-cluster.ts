/**
 * Shared by the node-side gossip tests (test/runtime/gossip-*.test.ts): nodes started as pages
 * start them (`NodeHost.start`), over an in-memory hub, with gossip timings short enough for a
 * test (a probe period of 10 ticks of 5 ms), each with its own memory storage so that a restart
 * finds what the last life made durable.
 */
import { MemoryGossipStorage } from '../../src/io/storage/gossip-storage.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { GossipNodeEvent, GossipTuning, MemberInfo, NodeProtocol, WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

export const fastGossip: GossipTuning = {
  probeIntervalTicks: 10,
  probeTimeoutTicks: 4,
  suspicionMinTicks: 30,
  suspicionMaxTicks: 120,
  meshHeartbeatTicks: 10,
  meshBackoffTicks: 100,
  syncIntervalTicks: 200,
  joinRetryTicks: 10,
  deadRetainTicks: 100_000,
  antiEntropyIntervalTicks: 20,
  antiEntropyTimeoutTicks: 10,
};

export interface TestNode {
  readonly id: string;
  host: NodeHost;
  readonly gossipStorage: MemoryGossipStorage;
  readonly raftStorage: MemoryRaftStorage;
  readonly events: GossipNodeEvent[];
  running: boolean;
}

export interface ClusterOptions {
  readonly protocols: readonly NodeProtocol[];
  readonly secret?: string;
  /** Raft voters (both protocols, or Raft only); default every id. */
  readonly voters?: readonly string[];
  readonly extra?: Partial<WorkerStartOptions>;
}

let nextSeed = 1;

export class GossipTestCluster {
  readonly hub = new MemoryHub();
  readonly nodes = new Map<string, TestNode>();

  constructor(
    readonly ids: readonly string[],
    readonly options: ClusterOptions,
  ) {}

  static async start(ids: readonly string[], options: ClusterOptions): Promise<GossipTestCluster> {
    const c = new GossipTestCluster(ids, options);
    await Promise.all(ids.map((id) => c.boot(id)));
    return c;
  }

  startOptions(id: string, extra: Partial<WorkerStartOptions> = {}): WorkerStartOptions {
    const o = this.options;
    const raft = o.protocols.includes('raft');
    return {
      cluster: 'gossip-test',
      id,
      voters: raft ? (o.voters ?? this.ids) : [],
      protocols: o.protocols,
      gossipSeeds: this.ids,
      gossip: fastGossip,
      transport: { kind: 'broadcast' },
      storage: 'memory',
      machine: { kind: 'kv' },
      tickMs: 5,
      seed: nextSeed++,
      ...(o.secret === undefined ? {} : { secret: o.secret }),
      ...o.extra,
      ...extra,
    };
  }

  /** Start `id` (again: from what its storage made durable, a new life), with `extra` over the options. */
  async boot(id: string, extra: Partial<WorkerStartOptions> = {}): Promise<TestNode> {
    const old = this.nodes.get(id);
    const gossipStorage = new MemoryGossipStorage(old?.gossipStorage.durable());
    const raftStorage = new MemoryRaftStorage(old === undefined ? {} : { initial: old.raftStorage.durable() });
    const host = await NodeHost.start(this.startOptions(id, extra), { transport: this.hub.connect(id), storage: raftStorage, gossipStorage });
    const node: TestNode = { id, host, gossipStorage, raftStorage, events: [], running: true };
    host.onGossip((e) => node.events.push(e));
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  get running(): TestNode[] {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  /** Stop gracefully (the gossip half says goodbye). */
  async stop(id: string): Promise<void> {
    const n = this.node(id);
    n.running = false;
    await n.host.stop();
  }

  /** Crash: everything stops at once and the links go, with no goodbye. */
  async crash(id: string): Promise<void> {
    const n = this.node(id);
    n.running = false;
    n.host.gossip?.halt();
    n.host.raft?.halt('crashed');
    await n.host.router.close();
  }

  /** What `viewer` believes of `member` (undefined: unknown). */
  view(viewer: string, member: string): MemberInfo | undefined {
    return this.node(viewer).host.members().find((m) => m.id === member);
  }

  /** Every running node is alive and sees every other running node alive. */
  converged(): boolean {
    const running = this.running;
    return running.every((a) => running.every((b) => this.view(a.id, b.id)?.state === 'alive'));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.map((n) => this.stop(n.id).catch(() => undefined)));
  }
}

export async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
