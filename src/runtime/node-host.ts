/**
 * One node, assembled: a Driver over its storage (IndexedDB, a file log in Node, or memory), its
 * transport (BroadcastChannel, WebRTC data channels, WebSocket, or a custom module) behind the
 * partition test hook, the wire codec, and the state machine. The worker entry (`worker.ts`)
 * hosts exactly one; Node tests build one directly with a memory transport and storage passed in.
 *
 * Besides the driver's own API it adds what a host in a browser needs:
 * - the transferee for a hand-over: the follower known to be most up to date, learned by
 *   watching the append acknowledgements that pass through the codec (the driver does not
 *   export the leader's progress; the core catches a lagging transferee up anyway, §3.10);
 * - what the node found in storage at boot (term, vote, log), for status and tests;
 * - test hooks: block and unblock links, inject raw bytes on a link, metrics, a state digest.
 *
 * Protocols (`protocols` of the start options, default Raft only): Raft, gossip, or both. The
 * gossip half (gossip-part.ts) runs beside the driver over the same frame router, so the same
 * links and the same secret; with both, every Raft message a peer sends is also an arrival for
 * that peer's phi, and phi suspicion of the leader calls forget-leader (gossip-leader-watch.ts).
 * A gossip-only node has no driver, no log and no state machine: its Raft calls answer CONFIG.
 */
import { createPrng } from '../core/prng.ts';
import { resolveRaftConfig, type RaftConfig } from '../core/raft/config.ts';
import type { Message } from '../core/raft/messages.ts';
import type { BootState, NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { fnv1a64Hex } from '../machines/bytes.ts';
import type { RaftStorage, StorageWrite } from '../io/storage/storage.ts';
import type { TransportFactory } from '../io/transport/factory.ts';
import type { Transport } from '../io/transport/transport.ts';
import { Driver, type DriverEvent } from './driver.ts';
import { emptyDriverMetrics } from './driver-options.ts';
import { NodeError, toTaggedError } from './errors.ts';
import { LinkFilter } from './link-filter.ts';
import { checkRaftFitsFrames } from './raft-fits-frames.ts';
import { FrameRouter } from './frame-router.ts';
import { LinkGuard } from '../io/crypto/link-guard.ts';
import type { NodeIdentity } from '../io/crypto/identity.ts';
import { loadNodeIdentity, PeerIdentities } from './peer-identities.ts';
import { createMachine, createStorage, createTransport, type MachineAdapter } from './node-parts.ts';
import { ServicesPart } from './services-part.ts';
import { NodeHealth } from './node-health.ts';
import type { CompositeMachine } from '../machines/services/composite.ts';
import { systemClock } from './clock.ts';
import type { GossipStorage } from '../io/storage/gossip-storage.ts';
import { createGossipStorage, GossipPart, gossipSeeds, gossipSettings, resolveProtocols } from './gossip-part.ts';
import { BftPart, bftSettings } from './bft-part.ts';
import type {
  BftNodeEvent,
  BootSummary,
  GossipNodeEvent,
  MachineDigest,
  MemberInfo,
  NodeMetrics,
  NodeProtocol,
  NodeStatus,
  ReadConsistency,
  WorkerStartOptions,
} from './worker-protocol.ts';

export { kvAdapter, type MachineAdapter, type MachineModule, type TransportModule } from './node-parts.ts';

/** A transport that takes WebRTC data channels from the page (src/io/transport/data-channel-transport.ts). */
export interface ChannelTransport extends Transport {
  /** False when refused (the transport is closed, or holds too many links). */
  addChannel(peer: NodeId, channel: RTCDataChannel): boolean;
  removeChannel(peer: NodeId): void;
}

/** Parts a caller may supply instead of the ones the options name (Node code, tests). */
export interface NodeHostParts {
  /** A transport made already (it wins over `transportFactory` and the options' transport). */
  readonly transport?: Transport;
  /** A factory of the node's transport, called with the node's context instead of the options' transport. */
  readonly transportFactory?: TransportFactory;
  readonly storage?: RaftStorage;
  /** The gossip engine's storage; default IndexedDB beside the log, memory when the log is in memory or supplied. */
  readonly gossipStorage?: GossipStorage;
  readonly machine?: MachineAdapter;
  /**
   * The node's identity (peer-identities.ts); default: kept in IndexedDB or in `<dir>/identity.json`
   * when the node opens its own storage there, else a new one for this life (supplied, memory).
   */
  readonly identity?: NodeIdentity;
}


/** Storage that remembers what `boot()` found (the node's durable state before any message). */
class BootRecorder implements RaftStorage {
  summary: BootSummary = { term: 0, vote: null, commit: 0, lastIndex: 0, snapshotIndex: 0 };
  constructor(private readonly inner: RaftStorage) {}

  async boot(): Promise<BootState> {
    const boot = await this.inner.boot();
    const snapshotIndex = boot.snapshot?.meta.index ?? 0;
    const last = boot.entries[boot.entries.length - 1];
    this.summary = { ...boot.hardState, lastIndex: last?.index ?? snapshotIndex, snapshotIndex };
    return boot;
  }

  write(write: StorageWrite): Promise<void> {
    return this.inner.write(write);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The runtime's Raft defaults, under the page's tuning (`raft` of the start options). */
export const runtimeRaftDefaults = {
  // 15 ticks of 10 ms: a crashed leader in another browser is replaced in 150 to 300 ms
  // (randomized, dissertation §3.4); pre-vote and check-quorum keep a starved or hidden tab
  // that times out early from disrupting a healthy leader (§9.6).
  electionTimeoutTicks: 15,
  // A learner (a tab that joined) that has kept up for 50 ticks (0.5 s) becomes a voter.
  promoteLearnerAfterTicks: 50,
  // Compaction by default (dissertation §5.1): without it the log (in memory and in IndexedDB)
  // grew for as long as the cluster lived. A snapshot every 100,000 applied entries (etcd's
  // SnapshotCount) or 64 MiB of applied commands, keeping 10,000 entries behind it (hashicorp's
  // TrailingLogs is 10,240). Why not more often: taking a snapshot stops the worker while the
  // machine serializes (a 100,000-key KV: about 150 ms here, beside a 150 ms election timeout),
  // and a follower further behind than the trailing entries gets a snapshot install instead of
  // appends (restore, about 300 ms at that size, twice: the check in a scratch machine, then the
  // machine). Every 10,000 with 1,000 trailing cut the browser benchmark's throughput 3 to 8 times
  // (100,000 writes, 4,096 in flight: followers lag more than 1,000 entries, leaders were deposed).
  snapshotEveryEntries: 100_000,
  snapshotEveryBytes: 64 * 1024 * 1024,
  snapshotTrailingEntries: 10_000,
} as const satisfies Partial<RaftConfig>;

/** The node's Raft settings: the runtime's defaults, then the page's tuning, then its identity. */
function raftSettings(options: WorkerStartOptions): Omit<RaftConfig, 'prng' | 'applied'> {
  return {
    ...runtimeRaftDefaults,
    ...options.raft,
    id: options.id,
    voters: options.voters,
  };
}

export class NodeHost {
  /** Build and start a node; rejects with a `NodeError` (code `CONFIG`, `STORAGE`...) when it cannot. */
  static async start(options: WorkerStartOptions, parts: NodeHostParts = {}): Promise<NodeHost> {
    if (typeof options.cluster !== 'string' || options.cluster.length === 0) throw new NodeError('CONFIG', 'cluster must be a non-empty string');
    if (typeof options.id !== 'string' || options.id.length === 0) throw new NodeError('CONFIG', 'id must be a non-empty string');
    const protocols = resolveProtocols(options.protocols);
    const raft = protocols.includes('raft');
    // Before anything is opened: settings whose messages would not fit a frame are refused.
    if (raft) checkRaftFitsFrames(resolveRaftConfig({ ...raftSettings(options), prng: createPrng(0) }));
    if (protocols.includes('gossip')) gossipSettings(options);
    const bft = protocols.includes('bft') ? bftSettings(options) : null;
    const machine = raft || bft !== null ? (parts.machine ?? (await createMachine(options.machine))) : null;
    const storage = raft ? new BootRecorder(parts.storage ?? (await createStorage(options))) : null;
    let transport: Transport;
    let identity: NodeIdentity;
    let gossipStorage: GossipStorage | null = null;
    try {
      if (protocols.includes('gossip')) gossipStorage = parts.gossipStorage ?? (await createGossipStorage(options, parts.storage !== undefined));
      identity = parts.identity ?? (await loadNodeIdentity(parts.storage === undefined ? options.storage : 'memory', options.cluster, options.id));
      const peers = raft ? (options.voters.length > 0 ? options.voters : (options.joinVia ?? [])) : gossipSeeds(options);
      transport = parts.transport ?? (await createTransport(options.transport, options.cluster, options.id, peers, parts.transportFactory));
    } catch (e) {
      await storage?.close().catch(() => undefined);
      await gossipStorage?.close().catch(() => undefined);
      throw e;
    }
    const host = new NodeHost(options, protocols, machine, storage, new LinkFilter(transport), identity);
    try {
      await host.raft?.start();
      if (gossipStorage !== null) await host.startGossip(gossipStorage);
      if (bft !== null) host.bft = await BftPart.start({ options, inMemory: parts.storage !== undefined, router: host.router, identities: host.identities, machine: machine as MachineAdapter, emit: (e) => host.gossipListeners.forEach((l) => l(e)), fail: (e) => host.gossipFail(e) });
      host.health.start();
    } catch (e) {
      if (host.raft !== null) await host.raft.stop('boot failed').catch(() => undefined);
      else await host.router.close().catch(() => undefined);
      host.gossip?.halt();
      if (host.gossip === null) await gossipStorage?.close().catch(() => undefined);
      throw e;
    }
    return host;
  }

  /** The Raft driver; null on a gossip-only node. */
  readonly raft: Driver | null;
  /** The gossip half; null on a Raft-only node. */
  gossip: GossipPart | null = null;
  bft: BftPart | null = null; // the BFT replica and client (bft-part.ts), when the node runs 'bft'
  /** The coordination services' runtime (services-part.ts); null unless the machine is the services machine. */
  readonly services: ServicesPart | null;
  readonly health: NodeHealth = new NodeHealth(this); // lifecycle, metrics, alerts (node-health.ts)
  readonly router: FrameRouter;
  /** This node's identity key pair and the keys its peers published (for signing protocols to come). */
  readonly identities: PeerIdentities;
  /**
   * The highest index each follower has acknowledged since this node last became leader: a
   * hint to pick a transferee, never used for safety (watched as messages are stepped).
   */
  private readonly matched = new Map<NodeId, number>();
  private readonly listeners = new Set<(e: DriverEvent) => void>();
  private readonly gossipListeners = new Set<(e: GossipNodeEvent | BftNodeEvent) => void>();
  private leaderGoneSignals = 0;
  private transfersStarted = 0;

  private constructor(
    readonly options: WorkerStartOptions,
    readonly protocols: readonly NodeProtocol[],
    private readonly machineAdapter: MachineAdapter | null,
    private readonly storage: BootRecorder | null,
    readonly links: LinkFilter,
    identity: NodeIdentity,
  ) {
    this.router = new FrameRouter({
      transport: links,
      cluster: options.cluster,
      self: options.id,
      guard: options.secret === undefined ? null : new LinkGuard({ secret: options.secret, cluster: options.cluster, self: options.id, epoch: bootEpoch(), mac: 'native', identityKey: identity.publicKeyRaw }),
      now: () => performance.now(),
    });
    this.identities = new PeerIdentities(identity, this.router);
    const spec = machineAdapter?.services;
    this.services = spec === undefined || machineAdapter === null ? null : new ServicesPart(options.id, machineAdapter.machine as CompositeMachine, spec, systemClock, options.proposalTimeoutMs ?? 10_000);
    this.raft = storage === null || machineAdapter === null ? null : this.createDriver(storage, machineAdapter);
  }

  private createDriver(storage: BootRecorder, adapter: MachineAdapter): Driver {
    const options = this.options;
    const driver = new Driver({
      raft: raftSettings(options),
      storage,
      link: this.services?.wrapLink(this.router) ?? this.router,
      observer: {
        onApplied: (e) => this.services?.applied(e),
        onRestored: (index) => this.services?.restored(index),
        onStep: (m: Message) => {
          if (m.type === 'append-response' && !m.reject) this.matched.set(m.from, Math.max(this.matched.get(m.from) ?? 0, m.index));
          // Raft traffic is evidence that its sender lives: phi of a leader reacts within ticks.
          this.gossip?.heard(m.from);
          this.health.observe(m);
        },
      },
      machine: adapter.machine,
      ...(adapter.createScratch === undefined ? {} : { createMachine: adapter.createScratch }),
      tickMs: options.tickMs ?? 10,
      ...(options.proposalTimeoutMs === undefined ? {} : { proposalTimeoutMs: options.proposalTimeoutMs }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.voters.length === 0 && options.joinVia !== undefined ? { joinVia: options.joinVia } : {}),
    });
    this.services?.attach(driver);
    driver.on((e) => {
      if (e.type === 'role' && e.role === 'leader') this.matched.clear();
      for (const l of this.listeners) l(e);
    });
    return driver;
  }

  /** Boot the gossip half from `storage` and join (after the driver started, if any). */
  private async startGossip(storage: GossipStorage): Promise<void> {
    const driver = this.raft;
    this.gossip = await GossipPart.start({
      options: this.options,
      router: this.router,
      storage,
      raft:
        driver === null
          ? null
          : {
              role: () => driver.role(),
              term: () => driver.term(),
              leader: () => driver.status().leader,
              // A phi suspicion may be wrong: the leader is followed again if it speaks.
              leaderGone: (leader) => driver.leaderGone(leader, true, true),
            },
      emit: (e) => {
        for (const l of this.gossipListeners) l(e);
      },
      fail: (e) => this.gossipFail(e),
    });
  }

  /** The gossip or BFT part failed (a storage failure is fatal to the node, DESIGN.md §5): it stops, and boots again from what is durable. */
  private gossipFail(e: unknown): void {
    for (const l of this.listeners) l({ type: 'error', error: toTaggedError(e) });
    void this.stop().catch(() => undefined);
  }

  /** The Raft driver; CONFIG on a gossip-only node. */
  get driver(): Driver {
    if (this.raft === null) throw new NodeError('CONFIG', 'this node runs gossip only: it has no Raft log');
    return this.raft;
  }

  private get adapter(): MachineAdapter {
    if (this.machineAdapter === null) throw new NodeError('CONFIG', 'this node runs gossip only: it has no state machine');
    return this.machineAdapter;
  }

  /** Events of the gossip half (member-changed, member-phi, links-wanted); on a BFT node, the BFT part's (bft-*). */
  onGossip<E extends GossipNodeEvent | BftNodeEvent = GossipNodeEvent>(listener: (e: E) => void): () => void {
    this.gossipListeners.add(listener as (e: GossipNodeEvent | BftNodeEvent) => void);
    return () => this.gossipListeners.delete(listener as (e: GossipNodeEvent | BftNodeEvent) => void);
  }

  /** The gossip half; CONFIG on a node that does not run gossip. */
  requireGossip(): GossipPart {
    if (this.gossip === null) throw new NodeError('CONFIG', 'this node does not run gossip');
    return this.gossip;
  }

  /** The gossip view: this node first, then every member it knows, by id. */
  members(): MemberInfo[] {
    return this.requireGossip().members();
  }

  get id(): NodeId {
    return this.options.id;
  }

  on(listener: (e: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async propose(command: Uint8Array): Promise<Uint8Array> {
    this.services?.checkProposal(command);
    return this.health.timed(this.bft !== null ? this.bft.propose(command) : this.driver.propose(command));
  }

  async read(consistency: ReadConsistency, query: unknown): Promise<unknown> {
    if (this.bft !== null) return this.health.counted(this.bft.read(query));
    return this.health.counted(this.driver.read(consistency, (machine) => this.adapter.query(machine, query)));
  }

  status(): NodeStatus {
    if (this.raft === null) return { ...this.gossipOnlyStatus(), health: this.health.status() };
    const s = this.raft.status();
    return {
      id: s.id,
      cluster: this.options.cluster,
      role: s.role,
      term: s.term,
      vote: s.vote,
      leader: s.leader,
      commit: s.commit,
      applied: s.applied,
      lastIndex: s.lastIndex,
      lastTerm: s.lastTerm,
      voters: [...s.config.voters],
      learners: [...s.config.learners],
      links: Object.fromEntries(this.links.links()),
      boot: this.storage?.summary ?? { term: 0, vote: null, commit: 0, lastIndex: 0, snapshotIndex: 0 },
      authenticated: this.router.authenticated,
      identity: this.identities.status(),
      protocols: this.protocols,
      gossip: this.gossip?.status() ?? null,
      health: this.health.status(),
    };
  }

  /** A gossip-only node's status: the Raft fields zero, null or empty. */
  private gossipOnlyStatus(): NodeStatus {
    return {
      id: this.id,
      cluster: this.options.cluster,
      role: 'follower',
      term: 0,
      vote: null,
      leader: null,
      commit: 0,
      applied: 0,
      lastIndex: 0,
      lastTerm: 0,
      voters: [],
      learners: [],
      links: Object.fromEntries(this.links.links()),
      boot: { term: 0, vote: null, commit: 0, lastIndex: 0, snapshotIndex: 0 },
      authenticated: this.router.authenticated,
      identity: this.identities.status(),
      protocols: this.protocols,
      gossip: this.gossip?.status() ?? null,
      bft: this.bft?.status() ?? null,
    };
  }

  /** The follower most likely to take over at once: the highest acknowledged index. */
  bestTransferee(): NodeId | null {
    const s = this.driver.status();
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const v of s.config.voters) {
      if (v === this.id) continue;
      const match = this.matched.get(v) ?? 0;
      if (match > bestMatch) {
        best = v;
        bestMatch = match;
      }
    }
    return best;
  }

  transferLeadership(to?: NodeId): NodeId {
    const s = this.driver.status();
    const target = to ?? (s.role === 'leader' ? this.bestTransferee() : this.id);
    if (target === null) throw new NodeError('NOT_LEADER', 'no follower to hand leadership to');
    this.driver.transferLeadership(target);
    this.transfersStarted++;
    return target;
  }

  /** Fire and forget: a leader hands over to its best follower; anyone else does nothing. */
  handOver(): void {
    if (this.raft === null) return;
    try {
      if (this.driver.status().role !== 'leader') return;
      const target = this.bestTransferee();
      if (target === null) return;
      this.driver.transferLeadership(target, { urgent: true });
      this.transfersStarted++;
      this.health.leaving('handing-over');
    } catch {
      // Stopped meanwhile: nothing to hand over.
    }
  }

  leaderGone(leader: NodeId): void {
    this.leaderGoneSignals++;
    this.driver.leaderGone(leader);
  }

  attachChannel(peer: NodeId, channel: RTCDataChannel): void {
    const t = this.links.inner as Partial<ChannelTransport>;
    if (typeof t.addChannel !== 'function') throw new NodeError('CONFIG', 'this node does not use the WebRTC transport');
    if (!t.addChannel(peer, channel)) throw new NodeError('CONFIG', `the transport refused the channel to ${peer} (closed, or too many links)`);
  }

  detachChannel(peer: NodeId): void {
    const t = this.links.inner as Partial<ChannelTransport>;
    if (typeof t.removeChannel !== 'function') throw new NodeError('CONFIG', 'this node does not use the WebRTC transport');
    t.removeChannel(peer);
  }

  injectFrame(to: NodeId, frame: Uint8Array): void {
    this.links.send(to, frame);
  }

  metrics(): NodeMetrics {
    const router = this.router.metrics;
    return {
      driver: { ...(this.raft?.metrics ?? emptyDriverMetrics()) },
      router: { ...router, dropped: { ...router.dropped } },
      transport: { ...this.links.stats },
      blockedFramesDropped: this.links.blockedFramesDropped,
      leaderGoneSignals: this.leaderGoneSignals,
      transfersStarted: this.transfersStarted,
      gossip: this.gossip?.metrics() ?? null,
      leaderWatch: this.gossip?.watch === null || this.gossip?.watch === undefined ? null : { ...this.gossip.watch.metrics },
    };
  }

  async digest(): Promise<MachineDigest> {
    return this.driver.read('local', (machine) => ({ applied: this.driver.status().applied, digest: fnv1a64Hex(machine.snapshot()) }));
  }

  /** Stop: the gossip half says goodbye first (over links still open), then Raft and the links close. */
  async stop(): Promise<void> {
    this.health.leaving('stopping');
    this.services?.stop();
    await this.gossip?.stop().catch(() => undefined);
    await this.bft?.stop().catch(() => undefined);
    if (this.raft !== null) await this.raft.stop();
    else await this.router.close();
    this.health.stopped();
  }
}

/** Run `f`, turning a throw into a failed result with the error's code (tagged data, DESIGN.md §3). */
export function attempt<T>(f: () => T): Result<T> {
  try {
    return ok(f());
  } catch (e) {
    return err(toTaggedError(e));
  }
}

export async function attemptAsync<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await f());
  } catch (e) {
    return err(toTaggedError(e));
  }
}

/**
 * This life's link epoch (src/io/crypto/link-guard.ts): it must grow from one life of a node to
 * the next, so it is made from the wall clock (milliseconds, times 1,024) with random low bits
 * (two lives started in the same millisecond still differ). Safe up to the year 2255.
 */
function bootEpoch(): number {
  const words = new Uint32Array(1);
  crypto.getRandomValues(words);
  return Date.now() * 1024 + ((words[0] as number) % 1024) + 1;
}
