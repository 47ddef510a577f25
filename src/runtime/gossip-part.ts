/**
 * The gossip half of a node (DESIGN.md §7b), as the node host (node-host.ts) assembles it beside
 * or instead of the Raft driver: the settings and seeds from the start options, the storage (a
 * database of its own in IndexedDB, or memory when the node's log is in memory), the engine
 * booted from it, the gossip host that drives it (gossip-host.ts), the watch that lets phi
 * suspicion of the Raft leader call forget-leader (gossip-leader-watch.ts), and what the page
 * sees: the members with state, incarnation and phi, and their events.
 *
 * Kept apart from node-host.ts so that a Raft-only node's code reads as before.
 */
import { resolveGossipConfig, type GossipConfig } from '../core/gossip/config.ts';
import type { CrdtTypeName, CrdtValues } from '../core/crdt/crdt-types.ts';
import { isCrdtTypeName } from '../core/crdt/crdt-type-name.ts';
import type { CrdtChangeOf } from '../core/gossip/crdt-change.ts';
import type { CrdtOp } from '../core/gossip/crdt-op.ts';
import type { GossipEvent } from '../core/gossip/events.ts';
import type { GossipStepAccepted, GossipStepRefused } from '../core/gossip/local-input.ts';
import type { Result } from '../core/result.ts';
import { GossipNode } from '../core/gossip/gossip-node.ts';
import { memberStates, type MemberState } from '../core/gossip/types.ts';
import { createPrng } from '../core/prng.ts';
import type { NodeId } from '../core/raft/types.ts';
import { IndexedDbGossipStorage } from '../io/storage/indexeddb-gossip-storage.ts';
import { MemoryGossipStorage, type GossipStorage } from '../io/storage/gossip-storage.ts';
import type { Clock } from './clock.ts';
import { NodeError } from './errors.ts';
import type { FrameRouter } from './frame-router.ts';
import { GossipHost, gossipWritesThrough } from './gossip-host.ts';
import { LeaderPhiWatch, leaderPhiThresholdDefault, type WatchedRaft } from './gossip-leader-watch.ts';
import { storageDirOf, type GossipNodeEvent, type GossipNodeStatus, type MemberInfo, type NodeMetrics, type NodeProtocol, type WorkerStartOptions } from './worker-protocol.ts';

/**
 * The runtime's gossip defaults, under the page's tuning (`gossip` of the start options). The
 * engine's own defaults hold but one: phi's floor on the standard deviation is 2 ticks (20 ms)
 * instead of 10, because the runtime feeds it a Raft leader's heartbeats, one a tick: with a
 * floor of 10 ticks phi of a crashed leader reached 8 only after about 50 ticks, three election
 * timeouts; with 2, after about 11 (y ≈ 5.2 standard deviations past the mean, phi-accrual.ts).
 * Members heard only through SWIM probes (one a period, 100 ticks) vary far more than 2 ticks,
 * so the floor does not matter for them.
 */
export const runtimeGossipDefaults = {
  phiMinStdDevTicks: 2,
} as const satisfies Partial<GossipConfig>;

const protocolNames: readonly NodeProtocol[] = ['raft', 'gossip', 'bft'];

/** The protocols of the start options: default Raft only; CONFIG when empty, unknown or repeated, or 'bft' beside another. */
export function resolveProtocols(protocols: WorkerStartOptions['protocols']): readonly NodeProtocol[] {
  if (protocols === undefined) return ['raft'];
  const list: unknown = protocols;
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => !protocolNames.includes(p as NodeProtocol)) || new Set(list).size !== list.length || (list.includes('bft') && list.length > 1)) {
    throw new NodeError('CONFIG', `protocols must list 'raft', 'gossip' or both, or 'bft' alone, got ${JSON.stringify(protocols)}`);
  }
  return list as NodeProtocol[];
}

/** The engine's settings without its PRNG; CONFIG when the page's tuning breaks a relation. */
export function gossipSettings(options: WorkerStartOptions): Omit<GossipConfig, 'prng'> {
  const settings = { ...runtimeGossipDefaults, ...options.gossip, id: options.id };
  try {
    resolveGossipConfig({ ...settings, prng: createPrng(0) });
  } catch (e) {
    throw new NodeError('CONFIG', `gossip: ${e instanceof Error ? e.message : String(e)}`);
  }
  return settings;
}

/** Whom to join through: `gossipSeeds`, else the voters and `joinVia`; never the node itself. */
export function gossipSeeds(options: WorkerStartOptions): NodeId[] {
  const seeds = options.gossipSeeds ?? [...options.voters, ...(options.joinVia ?? [])];
  return [...new Set(seeds)].filter((s) => s !== options.id);
}

/** IndexedDB for a node whose log is there, memory for one whose log is in memory (or supplied by Node code). */
export async function createGossipStorage(options: WorkerStartOptions, inMemory: boolean): Promise<GossipStorage> {
  if (inMemory || options.storage === 'memory') return new MemoryGossipStorage();
  const dir = storageDirOf(options.storage);
  if (dir !== null) return (await import('./file-node-storage.ts')).openFileGossipStorage(dir);
  if (options.storage === 'indexeddb') return IndexedDbGossipStorage.open({ cluster: options.cluster, node: options.id });
  throw new NodeError('CONFIG', `unknown storage ${JSON.stringify(options.storage)}`);
}

export interface GossipPartOptions {
  readonly options: WorkerStartOptions;
  readonly router: FrameRouter;
  readonly storage: GossipStorage;
  readonly clock?: Clock;
  /** The Raft driver, when the node runs both protocols (the leader watch needs it). */
  readonly raft: WatchedRaft | null;
  readonly emit: (e: GossipNodeEvent) => void;
  /** The gossip host stopped on a failed write or a bug. */
  readonly fail: (e: unknown) => void;
}

export class GossipPart {
  private constructor(
    readonly host: GossipHost,
    readonly watch: LeaderPhiWatch | null,
    private readonly storage: GossipStorage,
    private readonly router: FrameRouter,
  ) {}

  /** Boot from storage, build the engine and its host, and join through the seeds. */
  static async start(o: GossipPartOptions): Promise<GossipPart> {
    const { options } = o;
    const settings = gossipSettings(options);
    const boot = await o.storage.boot();
    const engine = new GossipNode({ ...settings, prng: createPrng(prngSeed(options.seed)) }, { incarnation: boot.incarnation, crdts: boot.crdts });
    let watch: LeaderPhiWatch | null = null;
    const host = new GossipHost({
      engine,
      link: o.router.gossip,
      writes: gossipWritesThrough(o.storage),
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      tickMs: options.tickMs ?? 10,
      onEvent: (e) => o.emit(toNodeEvent(e)),
      onLinksWanted: (peers) => o.emit({ type: 'links-wanted', peers: [...peers] }),
      onTicked: () => {
        try {
          watch?.check(host.metrics.ticks);
        } catch {
          // The driver stopped (its own failure is reported by it): nothing to watch.
        }
      },
      fail: o.fail,
    });
    const threshold = options.leaderPhiThreshold ?? leaderPhiThresholdDefault;
    if (o.raft !== null && threshold > 0) {
      // Confirm over 2 ticks; watch a leader once phi's window (arrivalWindowMax intervals, a tick each) holds its heartbeats.
      watch = new LeaderPhiWatch(options.id, (m) => host.phi(m), o.raft, { thresholdPhi: threshold, confirmTicks: 2, warmupTicks: engine.config().arrivalWindowMax });
    }
    host.start(gossipSeeds(options));
    return new GossipPart(host, watch, o.storage, o.router);
  }

  /** Traffic from `peer` outside gossip (a Raft message) arrived. */
  heard(peer: NodeId): void {
    this.host.heard(peer);
  }

  /** Hold the CRDT (`name`, `crdt`) from now on (empty if new); answers its value. */
  crdtOpen<N extends CrdtTypeName>(name: string, crdt: N): CrdtValues[N] {
    refusalToError(this.host.stepLocal({ local: 'crdt-open', name, crdt }));
    return this.host.crdtValue(name, crdt);
  }

  /** Update a CRDT (creating it if new): persisted by the next Ready, its delta pushed after that write. */
  crdtUpdate(name: string, op: CrdtOp): void {
    refusalToError(this.host.stepLocal({ local: 'crdt-update', name, op }));
  }

  /** The value of the CRDT (`name`, `crdt`) here, its type's empty value when not held. */
  crdtValue<N extends CrdtTypeName>(name: string, crdt: N): CrdtValues[N] {
    if (!isCrdtTypeName(crdt)) throw new NodeError('CONFIG', `unknown CRDT type ${JSON.stringify(crdt)}`);
    return this.host.crdtValue(name, crdt);
  }

  members(): MemberInfo[] {
    const s = this.host.status();
    const self: MemberInfo = { id: s.id, state: s.state, incarnation: s.incarnation, phi: 0, inMesh: false, self: true };
    return [self, ...s.members.map((m) => ({ id: m.id, state: m.state, incarnation: m.incarnation, phi: m.phi, inMesh: m.inMesh, self: false }))];
  }

  status(): GossipNodeStatus {
    const s = this.host.status();
    const members = Object.fromEntries(memberStates.map((state) => [state, 0])) as Record<MemberState, number>;
    for (const m of s.members) members[m.state]++;
    return { state: s.state, incarnation: s.incarnation, members, mesh: [...s.mesh], linksWanted: [...this.host.linksWanted()] };
  }

  metrics(): NonNullable<NodeMetrics['gossip']> {
    return { ...this.host.metrics, engine: this.host.status().counters };
  }

  /**
   * Leave gracefully (members mark this node left at once instead of suspecting it), let the
   * goodbyes reach the transport, then stop and close the storage.
   */
  async stop(): Promise<void> {
    if (!this.host.isStopped) {
      this.host.leave();
      await this.router.flush().catch(() => undefined);
    }
    this.host.stop();
    await this.storage.close();
  }

  /** Stop at once, without goodbyes (the node failed). */
  halt(): void {
    this.host.stop();
    void this.storage.close().catch(() => undefined);
  }
}

/** The page's form of an engine event. */
function toNodeEvent(e: GossipEvent): GossipNodeEvent {
  switch (e.kind) {
    case 'member-changed':
      return { type: 'member-changed', member: e.member, previous: e.previous, state: e.state, incarnation: e.incarnation, phi: e.phi };
    case 'member-phi':
      return { type: 'member-phi', member: e.member, phi: e.phi, suspected: e.suspected };
    case 'crdt-changed':
      // The engine's change is of the event's type (crdt-change.ts), which its union does not tie to `crdt`.
      return { type: 'crdt-changed', name: e.name, crdt: e.crdt, origin: e.origin, change: e.change as CrdtChangeOf<CrdtTypeName> };
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** A refused local request as the NodeError the page sees (its code: CONFIG, TOO_LARGE, STOPPED). */
function refusalToError(r: Result<GossipStepAccepted, GossipStepRefused>): void {
  if (!r.ok) throw new NodeError(r.error.code, r.error.message);
}

/** The engine's PRNG seed: from the node's seed (tests, the simulator), else random. */
function prngSeed(seed: number | undefined): number {
  if (seed !== undefined) return (seed ^ 0x2f6b_9c1d) >>> 0;
  const words = new Uint32Array(1);
  crypto.getRandomValues(words);
  return words[0] as number;
}
