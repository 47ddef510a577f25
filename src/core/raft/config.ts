/**
 * Raft configuration: validated once when a node is created, with the relations between the
 * numbers checked, so that the protocol code can rely on them.
 */
import type { Prng } from '../prng.ts';
import { ConfigError } from './errors.ts';
import type { NodeId, Snapshot } from './types.ts';

export interface RaftConfig {
  readonly id: NodeId;
  /** The voting members, including this node (learners and changes come with membership). */
  readonly voters: readonly NodeId[];
  /** Source of the election jitter. */
  readonly prng: Prng;
  /** A follower campaigns after a randomized timeout in [E, 2E) ticks without a leader. */
  readonly electionTimeoutTicks?: number;
  readonly heartbeatIntervalTicks?: number;
  /** Pre-vote (dissertation §9.6): a partitioned node cannot inflate terms on rejoin. */
  readonly preVote?: boolean;
  /**
   * Check-quorum (§6.2): a leader steps down when it has not heard from a quorum for an election
   * timeout, and voters ignore campaigns while they hear from a leader. Lease reads need it.
   */
  readonly checkQuorum?: boolean;
  /** Batching limits of one `append` message. */
  readonly maxEntriesPerAppend?: number;
  readonly maxBytesPerAppend?: number;
  /** Pipelining: appends in flight to one follower before the leader waits for answers. */
  readonly maxInflightAppends?: number;
  /**
   * A leader refuses proposals while this many entries are uncommitted (back-pressure). It also
   * bounds what a leader holds for proposals it cannot commit (its followers gone): 8,192 by
   * default, which leaves room for the runtime's 4,096 writes in flight and their retries.
   */
  readonly maxUncommittedEntries?: number;
  /**
   * Commands of one forwarded `propose` message a leader appends; the rest are refused and
   * counted (`proposalsRefused`). A follower forwards one command a message; the bound keeps one
   * message from filling the log.
   */
  readonly proposalsPerMessageMax?: number;
  /** Bound on linearizable reads waiting for a quorum round. */
  readonly maxPendingReads?: number;
  /** Largest command accepted by `propose`, in bytes. */
  readonly maxCommandBytes?: number;
  /** Followers forward proposals to the leader instead of refusing them. */
  readonly forwardProposals?: boolean;
  /**
   * Ticks of clock drift the lease read tolerates: a lease lasts electionTimeoutTicks minus this
   * many ticks after the quorum round that granted it (§6.4.1 "bounded clock drift").
   */
  readonly leaseDriftTicks?: number;
  /** The index the state machine had applied before boot (0 when it restarts empty). */
  readonly applied?: number;
  /**
   * Learners of the bootstrap configuration. A node joining a running cluster boots with
   * `voters: []` and no learners: it learns the configuration from the leader's log.
   */
  readonly learners?: readonly NodeId[];
  /** InstallSnapshot chunk size, and the largest snapshot a follower accepts. */
  readonly snapshotChunkBytes?: number;
  readonly maxSnapshotBytes?: number;
  /** `shouldSnapshot()` turns true after this many applied entries (0: never by count)... */
  readonly snapshotEveryEntries?: number;
  /** ...or this many applied command bytes (0: never by size). */
  readonly snapshotEveryBytes?: number;
  /** Entries kept in memory behind a snapshot, for followers slightly behind. */
  readonly snapshotTrailingEntries?: number;
  /**
   * Leader: how far behind its newest snapshot it may hold compaction for a follower that still
   * answers and needs the entries after its match, or after the snapshot it is being sent
   * (snapshot-policy.ts). 0: never held (every such follower is sent the newest snapshot).
   */
  readonly snapshotCatchUpEntriesMax?: number;
  /**
   * Automatic promotion (§4.2.1): a learner within `promoteLearnerLagEntries` of the leader's
   * last index for `promoteLearnerAfterTicks` consecutive ticks becomes a voter. 0 turns it off.
   */
  readonly promoteLearnerAfterTicks?: number;
  readonly promoteLearnerLagEntries?: number;
  /**
   * Automatic removal of a voter the leader has not heard from for this many ticks (like
   * Consul's autopilot); never below `minVoters`. 0 turns it off.
   */
  readonly removeUnreachableVoterAfterTicks?: number;
  readonly minVoters?: number;
  /**
   * Admission (admission.ts). A configuration never grows past `votersMax` voters (a promotion,
   * by hand or by the autopilot, is refused at the ceiling) nor past `learnersMax` learners (an
   * `add-learner`, and so a `join`, is refused). Every majority needs more nodes as voters are
   * added, and every learner costs the leader a stream of appends.
   */
  readonly votersMax?: number;
  readonly learnersMax?: number;
  /**
   * A leader acts on at most this many `join` requests per election timeout (counted in ticks);
   * the others are ignored and counted (`joinsRefused`), and the joining node asks again later.
   * Who may join at all is the runtime's business (authenticated links, signed invitations).
   */
  readonly joinsPerElectionTimeoutMax?: number;
  /**
   * Whether this node can install a leader's snapshot: null when it can, else why not. Called
   * once a snapshot has arrived whole, before anything of it changes the node; a snapshot
   * refused is dropped and counted (`snapshotsRefused`) and the leader sends it again later.
   * The runtime restores it into a scratch state machine (driver-ready-host.ts): a snapshot this
   * node's machine cannot restore, installed, would stop the node on every boot. Must be
   * deterministic (the same snapshot, the same answer). Null: every snapshot is installed.
   */
  readonly checkSnapshot?: ((snapshot: Snapshot) => string | null) | null;
}

export type ResolvedRaftConfig = Required<RaftConfig>;

export const raftDefaults = {
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 1024,
  maxBytesPerAppend: 1024 * 1024,
  maxInflightAppends: 64,
  maxUncommittedEntries: 8192,
  proposalsPerMessageMax: 256,
  maxPendingReads: 4096,
  maxCommandBytes: 1024 * 1024,
  forwardProposals: true,
  leaseDriftTicks: 2,
  applied: 0,
  learners: [] as readonly NodeId[],
  snapshotChunkBytes: 64 * 1024,
  maxSnapshotBytes: 64 * 1024 * 1024,
  snapshotEveryEntries: 0,
  snapshotEveryBytes: 0,
  snapshotTrailingEntries: 0,
  snapshotCatchUpEntriesMax: 4096,
  promoteLearnerAfterTicks: 0,
  promoteLearnerLagEntries: 16,
  removeUnreachableVoterAfterTicks: 0,
  minVoters: 3,
  votersMax: 7,
  learnersMax: 16,
  joinsPerElectionTimeoutMax: 2,
  checkSnapshot: null as ((snapshot: Snapshot) => string | null) | null,
};

function positiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${name} must be a positive integer, got ${value}`);
}

export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  const c: ResolvedRaftConfig = { ...raftDefaults, ...config };
  if (typeof c.id !== 'string' || c.id.length === 0) throw new ConfigError('id must be a non-empty string');
  const members = [...c.voters, ...c.learners];
  if (new Set(members).size !== members.length) throw new ConfigError('voters and learners must be distinct');
  if (members.length > 0 && !members.includes(c.id)) {
    throw new ConfigError(`the bootstrap configuration must include this node (${c.id}), or be empty to join`);
  }
  if (c.voters.length === 0 && c.learners.length > 0) throw new ConfigError('a configuration with learners needs voters');
  for (const name of [
    'electionTimeoutTicks',
    'heartbeatIntervalTicks',
    'maxEntriesPerAppend',
    'maxBytesPerAppend',
    'maxInflightAppends',
    'maxUncommittedEntries',
    'maxPendingReads',
    'maxCommandBytes',
    'snapshotChunkBytes',
    'maxSnapshotBytes',
    'promoteLearnerLagEntries',
    'minVoters',
    'proposalsPerMessageMax',
    'votersMax',
  ] as const) {
    positiveInt(name, c[name]);
  }
  for (const name of [
    'snapshotEveryEntries',
    'snapshotEveryBytes',
    'snapshotTrailingEntries',
    'snapshotCatchUpEntriesMax',
    'promoteLearnerAfterTicks',
    'removeUnreachableVoterAfterTicks',
    'learnersMax',
    'joinsPerElectionTimeoutMax',
  ] as const) {
    if (!Number.isSafeInteger(c[name]) || c[name] < 0) throw new ConfigError(`${name} must be >= 0, got ${c[name]}`);
  }
  if (c.removeUnreachableVoterAfterTicks > 0 && c.removeUnreachableVoterAfterTicks <= c.electionTimeoutTicks) {
    // Removing a voter after less than an election timeout would treat a slow node as dead.
    throw new ConfigError('removeUnreachableVoterAfterTicks must exceed electionTimeoutTicks');
  }
  checkMembershipLimits(c);
  if (!Number.isSafeInteger(c.applied) || c.applied < 0) throw new ConfigError(`applied must be >= 0, got ${c.applied}`);
  if (!Number.isSafeInteger(c.leaseDriftTicks) || c.leaseDriftTicks < 0) {
    throw new ConfigError(`leaseDriftTicks must be >= 0, got ${c.leaseDriftTicks}`);
  }
  // Heartbeats must arrive several times per election timeout, or followers campaign against a
  // healthy leader (Raft paper §5.6: broadcastTime << electionTimeout).
  if (c.electionTimeoutTicks <= c.heartbeatIntervalTicks) {
    throw new ConfigError(
      `electionTimeoutTicks (${c.electionTimeoutTicks}) must exceed heartbeatIntervalTicks (${c.heartbeatIntervalTicks})`,
    );
  }
  if (c.leaseDriftTicks >= c.electionTimeoutTicks) {
    throw new ConfigError('leaseDriftTicks must be below electionTimeoutTicks');
  }
  return c;
}

/** The membership ceilings agree with each other and with the bootstrap configuration. */
function checkMembershipLimits(c: ResolvedRaftConfig): void {
  // The autopilot removes voters down to `minVoters`; a ceiling below it could never be met.
  if (c.votersMax < c.minVoters) throw new ConfigError(`votersMax (${c.votersMax}) must be at least minVoters (${c.minVoters})`);
  if (c.voters.length > c.votersMax) {
    throw new ConfigError(`the bootstrap configuration has ${c.voters.length} voters, above votersMax (${c.votersMax})`);
  }
  if (c.learners.length > c.learnersMax) {
    throw new ConfigError(`the bootstrap configuration has ${c.learners.length} learners, above learnersMax (${c.learnersMax})`);
  }
}
