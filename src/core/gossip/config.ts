/**
 * Gossip configuration: validated once when a node is created, with the relations between the
 * numbers checked, so the protocol code can rely on them. Times are ticks (the runtime ticks
 * every 10 ms by default); the defaults suit browsers over WebRTC on the open internet, where a
 * round trip can reach a few hundred ms (memberlist's LAN profile is 1 s / 500 ms).
 */
import type { Prng } from '../prng.ts';
import { ConfigError } from '../raft/errors.ts';
import { replicaIdBytesMax } from '../crdt/limits.ts';
import { merkleDepthDefault, merkleDepthMax } from '../crdt/merkle.ts';
import { textProblem } from '../crdt/text.ts';
import { deltaTtlHopsMax, syncEntriesPerMessageMax, updatesPerMessageMax } from './limits.ts';
import type { NodeId } from './types.ts';

export interface GossipConfig {
  readonly id: NodeId;
  /** Source of every random choice: probe order, relays, mesh peers, sync subsets. */
  readonly prng: Prng;
  /** One SWIM protocol period (§3): one member probed per period. Scaled by local health. */
  readonly probeIntervalTicks?: number;
  /** How long a direct ping waits for its ack before the indirect probes (§3.1). Scaled by local health. */
  readonly probeTimeoutTicks?: number;
  /** k of SWIM §3.1: members asked to probe the target for us. */
  readonly indirectProbesK?: number;
  /** λ of SWIM §4.1: each update is piggybacked at most λ·⌈log10(n + 1)⌉ times (memberlist's rule). */
  readonly retransmitMult?: number;
  /** Most updates piggybacked on one message (at most `updatesPerMessageMax`, limits.ts). */
  readonly piggybackPerMessageMax?: number;
  /** Most estimated bytes of updates piggybacked on one message (messages.ts `updateBytesEstimate`). */
  readonly piggybackBytesPerMessageMax?: number;
  /** Lifeguard §IV-A: the local health score runs 0..healthScoreMax; timeouts scale by score + 1. */
  readonly healthScoreMax?: number;
  /**
   * Lifeguard §IV-B: a suspicion starts at `suspicionMaxTicks` and shrinks logarithmically
   * toward `suspicionMinTicks` as `suspicionConfirmationsK` independent suspecters confirm it.
   */
  readonly suspicionMinTicks?: number;
  readonly suspicionMaxTicks?: number;
  readonly suspicionConfirmationsK?: number;
  /** Phi accrual (Hayashibara 2004): a member whose phi reaches this is reported suspected by phi. */
  readonly phiThreshold?: number;
  /** Inter-arrival samples kept per member. */
  readonly arrivalWindowMax?: number;
  /** Inter-arrival samples needed before phi is reported (0 until then). */
  readonly phiSamplesMin?: number;
  /** Floor of the standard deviation (ticks arrive in whole numbers; a perfectly regular member would have none). */
  readonly phiMinStdDevTicks?: number;
  /** Added to the mean inter-arrival time: a pause this long raises phi little (Akka's acceptable-heartbeat-pause). */
  readonly phiAcceptablePauseTicks?: number;
  /** Gossipsub v1.1 D, D_lo, D_hi: mesh neighbours kept, and the marks that start grafting or pruning. */
  readonly meshDegreeTarget?: number;
  readonly meshDegreeLow?: number;
  readonly meshDegreeHigh?: number;
  /** How often the mesh is maintained (gossipsub's heartbeat). */
  readonly meshHeartbeatTicks?: number;
  /** After a prune, neither side grafts the other again for this long (gossipsub's prune backoff). */
  readonly meshBackoffTicks?: number;
  /**
   * Probe members outside the mesh too (the host says links are cheap: tabs over
   * BroadcastChannel). Off by default: a probe needs a link, and a browser tab holds about 30.
   */
  readonly probeBeyondMesh?: boolean;
  /**
   * Every this many probe periods, the period's probe goes to a live member OUTSIDE the mesh
   * that we have not heard from for as long (0: never). A member in nobody's mesh is otherwise
   * probed by nobody: a crashed member that some node still holds alive (a ghost) is then
   * suspected and confirmed dead like any other (SWIM §4.3 probes every member; this is the
   * bounded-degree mesh's stand-in). Each costs one link opened for one period.
   */
  readonly probeOutsideMeshPeriods?: number;
  /**
   * Every this many ticks, ping one member we hold dead (not left) within `deadRetainTicks`,
   * carrying its death so that it refutes if it is in fact alive (SWIM §4.2): Serf's reconnect,
   * which heals the split a partition longer than a suspicion leaves (each side holds the other
   * dead, and nobody probes the dead). 0: never.
   */
  readonly reconnectIntervalTicks?: number;
  /** Fresh updates are pushed at once to this many mesh neighbours (0: piggyback only). */
  readonly pushFanout?: number;
  /** Most members this node keeps (itself excluded); others are refused and counted. */
  readonly membersMax?: number;
  /** Most updates waiting in the broadcast queue; past it the most-sent one is dropped. */
  readonly broadcastQueueMax?: number;
  /** Most indirect probes this node runs for others at once (ping-req relays). */
  readonly relaysPendingMax?: number;
  /** Most member entries in one `sync` (at most `syncEntriesPerMessageMax`). */
  readonly syncMembersMax?: number;
  /** `sync` answers per probe period at most (a `sync` is large: joins must not amplify floods). */
  readonly syncRepliesPerPeriodMax?: number;
  /** Every this many ticks a `sync` asking for one back goes to a random neighbour (memberlist's push-pull). */
  readonly syncIntervalTicks?: number;
  /** A joining node asks its seeds again after this long without an answer. */
  readonly joinRetryTicks?: number;
  /** Seeds a join asks at most. */
  readonly joinSeedsMax?: number;
  /** Dead and left members stay known this long (to spread the news and let a live one refute), then are forgotten. */
  readonly deadRetainTicks?: number;
  /** Messages waiting for the host's next Ready at most; past it they are dropped and counted (gossip tolerates loss). */
  readonly outboxMessagesMax?: number;
  /** Events waiting for the host's next Ready at most; past it the oldest are dropped and counted. */
  readonly eventsPendingMax?: number;

  // ---- the replication data plane (replication.ts, anti-entropy.ts) ----------------------------

  /** Most CRDTs this node holds; a local update or a peer's state naming one more is refused (counted). */
  readonly crdtsMax?: number;
  /** Most bytes of encoded state (msgpack) all CRDTs hold together; past it new names are refused. */
  readonly crdtBytesMax?: number;
  /** Largest encoded state a local update may make, in bytes (at most 1 MiB: a state must fit one frame alone). */
  readonly crdtStateBytesMax?: number;
  /**
   * Deltas are pushed to this many random mesh neighbours (0: anti-entropy alone). The default,
   * 12 (D_hi), floods the mesh as gossipsub's eager push does: the seed design's fanout 3 left
   * members unreached until anti-entropy found them (`npm run bench -- gossip`: max 9.3 s to the
   * last node, beside 0.3 s flooding), and a flood of a bounded mesh costs D messages a node.
   */
  readonly deltaFanout?: number;
  /** Hops a pushed delta travels (the seed design's TTL 5; at most `deltaTtlHopsMax`). */
  readonly deltaTtlHops?: number;
  /**
   * Each mesh link carries at most one push message per this many ticks, batching what waits
   * for it (push-queue.ts; 1: forwards at every tick and local deltas with their Ready, at once).
   * Longer batches more updates per message, for fewer messages per update under load at the
   * cost of latency, at most this period per hop (the Maelstrom broadcast challenge's trade;
   * 10 gives a 25-node swarm at 100 updates/s under 20 messages per update).
   */
  readonly deltaFlushTicks?: number;
  /** Deltas waiting to be pushed at most; past it forwarded ones are dropped (counted; anti-entropy repairs). */
  readonly deltasPendingMax?: number;
  /** Ids of deltas remembered as seen: a duplicate is dropped without being decoded. */
  readonly deltaIdsSeenMax?: number;
  /** Estimated bytes of one data message at most; a single state larger than this goes alone. */
  readonly dataMessageBytesMax?: number;
  /**
   * A changed CRDT is handed to the host to persist (whole) at most once per this many ticks: the
   * first change after a quiet interval at once, a burst's later changes together after it
   * (replication.ts says why a lost tail is safe: its peers hold it). 0: with every Ready.
   */
  readonly crdtPersistIntervalTicks?: number;
  /** Every this many ticks an anti-entropy exchange starts with the next mesh neighbour (in turn). */
  readonly antiEntropyIntervalTicks?: number;
  /** An exchange with no answer for this long is given up (counted). */
  readonly antiEntropyTimeoutTicks?: number;
  /** Requests of this node's exchange in flight at once. */
  readonly antiEntropyRequestsInFlightMax?: number;
  /** Anti-entropy answers (Merkle and states) this node gives per interval at most; more are refused (counted). */
  readonly antiEntropyAnswersPerIntervalMax?: number;
  /** Levels of the Merkle tree below its root (16^depth leaves). A protocol constant: every node must use the same. */
  readonly antiEntropyTreeDepth?: number;
}

export type ResolvedGossipConfig = Required<GossipConfig>;

export const gossipDefaults = {
  probeIntervalTicks: 100,
  probeTimeoutTicks: 40,
  indirectProbesK: 3,
  retransmitMult: 4,
  piggybackPerMessageMax: 32,
  piggybackBytesPerMessageMax: 8 * 1024,
  healthScoreMax: 8,
  suspicionMinTicks: 400,
  suspicionMaxTicks: 2400,
  suspicionConfirmationsK: 3,
  phiThreshold: 8,
  arrivalWindowMax: 100,
  phiSamplesMin: 3,
  phiMinStdDevTicks: 10,
  phiAcceptablePauseTicks: 0,
  meshDegreeTarget: 6,
  meshDegreeLow: 4,
  meshDegreeHigh: 12,
  meshHeartbeatTicks: 100,
  meshBackoffTicks: 6000,
  probeBeyondMesh: false,
  probeOutsideMeshPeriods: 5,
  reconnectIntervalTicks: 500,
  pushFanout: 6,
  membersMax: 1024,
  broadcastQueueMax: 1024,
  relaysPendingMax: 16,
  syncMembersMax: 256,
  syncRepliesPerPeriodMax: 8,
  syncIntervalTicks: 3000,
  joinRetryTicks: 100,
  joinSeedsMax: 8,
  deadRetainTicks: 3000,
  outboxMessagesMax: 4096,
  eventsPendingMax: 4096,
  crdtsMax: 4096,
  crdtBytesMax: 64 * 1024 * 1024,
  crdtStateBytesMax: 256 * 1024,
  deltaFanout: 12,
  deltaTtlHops: 5,
  deltaFlushTicks: 1,
  deltasPendingMax: 4096,
  deltaIdsSeenMax: 16_384,
  dataMessageBytesMax: 64 * 1024,
  crdtPersistIntervalTicks: 10,
  antiEntropyIntervalTicks: 500,
  antiEntropyTimeoutTicks: 200,
  antiEntropyRequestsInFlightMax: 4,
  antiEntropyAnswersPerIntervalMax: 64,
  antiEntropyTreeDepth: merkleDepthDefault,
};

/** Largest `crdtStateBytesMax`: a state travels alone in one frame at worst (the codec's frameBytesMax is 4 MiB by default). */
export const crdtStateBytesCeiling = 1024 * 1024;

type NumberKey = { [K in keyof ResolvedGossipConfig]: ResolvedGossipConfig[K] extends number ? K : never }[keyof ResolvedGossipConfig];

const positive: readonly NumberKey[] = [
  'probeIntervalTicks',
  'probeTimeoutTicks',
  'retransmitMult',
  'piggybackPerMessageMax',
  'piggybackBytesPerMessageMax',
  'suspicionMinTicks',
  'suspicionMaxTicks',
  'arrivalWindowMax',
  'phiMinStdDevTicks',
  'meshDegreeTarget',
  'meshDegreeLow',
  'meshDegreeHigh',
  'meshHeartbeatTicks',
  'membersMax',
  'broadcastQueueMax',
  'syncMembersMax',
  'syncRepliesPerPeriodMax',
  'syncIntervalTicks',
  'joinRetryTicks',
  'joinSeedsMax',
  'deadRetainTicks',
  'outboxMessagesMax',
  'eventsPendingMax',
  'crdtsMax',
  'crdtBytesMax',
  'crdtStateBytesMax',
  'deltaTtlHops',
  'deltaFlushTicks',
  'deltasPendingMax',
  'deltaIdsSeenMax',
  'dataMessageBytesMax',
  'antiEntropyIntervalTicks',
  'antiEntropyTimeoutTicks',
  'antiEntropyRequestsInFlightMax',
  'antiEntropyAnswersPerIntervalMax',
  'antiEntropyTreeDepth',
];

const nonNegative: readonly NumberKey[] = [
  'indirectProbesK',
  'healthScoreMax',
  'suspicionConfirmationsK',
  'phiAcceptablePauseTicks',
  'phiSamplesMin',
  'meshBackoffTicks',
  'pushFanout',
  'relaysPendingMax',
  'deltaFanout',
  'crdtPersistIntervalTicks',
  'probeOutsideMeshPeriods',
  'reconnectIntervalTicks',
];

export function resolveGossipConfig(config: GossipConfig): ResolvedGossipConfig {
  const c: ResolvedGossipConfig = { ...gossipDefaults, ...config };
  if (typeof c.id !== 'string' || c.id.length === 0) throw new ConfigError('id must be a non-empty string');
  for (const name of positive) {
    if (!Number.isSafeInteger(c[name]) || c[name] < 1) throw new ConfigError(`${name} must be a positive integer, got ${c[name]}`);
  }
  for (const name of nonNegative) {
    if (!Number.isSafeInteger(c[name]) || c[name] < 0) throw new ConfigError(`${name} must be >= 0, got ${c[name]}`);
  }
  if (!(Number.isFinite(c.phiThreshold) && c.phiThreshold > 0)) throw new ConfigError(`phiThreshold must be a positive number, got ${c.phiThreshold}`);
  // SWIM §3.1: the indirect probes happen within the same period, after the direct timeout.
  if (c.probeTimeoutTicks >= c.probeIntervalTicks) {
    throw new ConfigError(`probeTimeoutTicks (${c.probeTimeoutTicks}) must be below probeIntervalTicks (${c.probeIntervalTicks})`);
  }
  if (c.phiSamplesMin > c.arrivalWindowMax) {
    throw new ConfigError(`phiSamplesMin (${c.phiSamplesMin}) must be at most arrivalWindowMax (${c.arrivalWindowMax}): phi would never speak`);
  }
  if (c.suspicionMinTicks > c.suspicionMaxTicks) {
    throw new ConfigError(`suspicionMinTicks (${c.suspicionMinTicks}) must be at most suspicionMaxTicks (${c.suspicionMaxTicks})`);
  }
  // Gossipsub v1.1: D_lo <= D <= D_hi, or maintenance would graft and prune the same peers.
  if (!(c.meshDegreeLow <= c.meshDegreeTarget && c.meshDegreeTarget <= c.meshDegreeHigh)) {
    throw new ConfigError(`mesh degrees must satisfy low (${c.meshDegreeLow}) <= target (${c.meshDegreeTarget}) <= high (${c.meshDegreeHigh})`);
  }
  if (c.piggybackPerMessageMax > updatesPerMessageMax) {
    throw new ConfigError(`piggybackPerMessageMax (${c.piggybackPerMessageMax}) must be at most ${updatesPerMessageMax}: receivers refuse more`);
  }
  if (c.syncMembersMax > syncEntriesPerMessageMax) {
    throw new ConfigError(`syncMembersMax (${c.syncMembersMax}) must be at most ${syncEntriesPerMessageMax}: receivers refuse more`);
  }
  checkDataPlane(c);
  return c;
}

function checkDataPlane(c: ResolvedGossipConfig): void {
  // The node's id names its replica in every CRDT it updates (dots, counter entries).
  if (textProblem(c.id, replicaIdBytesMax, false) !== null) throw new ConfigError(`id must be at most ${replicaIdBytesMax} bytes of UTF-8, well-formed: it is the CRDT replica id`);
  if (c.deltaTtlHops > deltaTtlHopsMax) throw new ConfigError(`deltaTtlHops (${c.deltaTtlHops}) must be at most ${deltaTtlHopsMax}: receivers refuse more`);
  if (c.crdtStateBytesMax > crdtStateBytesCeiling) {
    throw new ConfigError(`crdtStateBytesMax (${c.crdtStateBytesMax}) must be at most ${crdtStateBytesCeiling}: a state must fit one frame alone`);
  }
  if (c.crdtStateBytesMax > c.crdtBytesMax) {
    throw new ConfigError(`crdtStateBytesMax (${c.crdtStateBytesMax}) must be at most crdtBytesMax (${c.crdtBytesMax})`);
  }
  if (c.antiEntropyTreeDepth > merkleDepthMax) {
    throw new ConfigError(`antiEntropyTreeDepth (${c.antiEntropyTreeDepth}) must be at most ${merkleDepthMax}`);
  }
}
