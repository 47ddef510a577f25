/**
 * The fault mix of one seed: how lossy, duplicating and slow the network is, how often and how
 * badly the nemesis partitions, crashes and pauses nodes, how slow storage is, what the clients
 * do, and a few engine limits that change which code paths run (small inflight windows and
 * append batches force probing and backtracking). Drawn once from the seed's PRNG, before the
 * run starts, and printable, so a failing seed comes with a description of its weather.
 *
 * Rates are per second of virtual time; durations are virtual microseconds.
 */
import type { Prng } from '../core/prng.ts';
import type { SessionOptions } from '../machines/sessions.ts';
import type { ClientWorkload } from './client.ts';
import { chance, describe, pick, pickWeighted, type Distribution } from './distributions.ts';
import type { MembershipMix } from './membership.ts';
import type { AimedMix } from './nemesis-aimed.ts';
import type { NetworkFaults } from './network.ts';
import type { RaftTuning } from './sim-node.ts';

/** Optional parts of a run that change what is drawn (the CLI's `--snapshots`, `--membership`). */
export interface FaultMixModes {
  /** Small snapshot thresholds and chunks: logs compact and InstallSnapshot runs often. */
  readonly snapshots?: boolean;
  /** Learners join and get promoted, voters (the leader too) are removed, by hand and by autopilot. */
  readonly membership?: boolean;
}

export type PartitionKind = 'halves' | 'isolate-leader' | 'isolate-one' | 'one-way' | 'bridge';

export interface FaultMix {
  readonly network: NetworkFaults;
  readonly storageLatency: Distribution;
  /** Each node's clock runs at 1 + drift, drift uniform in [-clockDriftMax, clockDriftMax]. */
  readonly clockDriftMax: number;
  readonly partitions: {
    readonly ratePerS: number;
    readonly duration: Distribution;
    readonly kinds: readonly (readonly [PartitionKind, number])[];
  };
  readonly crashes: {
    readonly ratePerS: number;
    readonly downtime: Distribution;
    /** Probability that a crash waits for a write in flight and lands inside it. */
    readonly duringWriteProbability: number;
    /** Probability that a write persisting a vote has a crash land inside it. */
    readonly duringVoteProbability: number;
    /** Probability that a crash takes down several nodes at once (up to `downMax`). */
    readonly correlatedProbability: number;
    /** At most this many nodes down at once (may exceed a minority: no progress for a while). */
    readonly downMax: number;
    /** After a leader crash, a follower campaigns at once (a Web Locks failure oracle). */
    readonly oracleProbability: number;
  };
  readonly pauses: {
    readonly ratePerS: number;
    readonly duration: Distribution;
    /** Probability that a paused leader is also cut off from its peers while paused. */
    readonly isolateLeaderProbability: number;
  };
  readonly transfersPerS: number;
  readonly clients: number;
  readonly workload: ClientWorkload;
  /** The session layer's expiry: usually never, on some seeds after a few hundred entries. */
  readonly session: Partial<SessionOptions>;
  /** Engine limits, and with the modes on, its snapshot and membership settings. */
  readonly raft: RaftTuning;
  /** The operator's membership changes (`--membership` only). */
  readonly membership: MembershipMix | null;
  /** Faults aimed at the moments that matter (nemesis-aimed.ts): leader churn, the stale-read trap. */
  readonly aimed: AimedMix;
}

const ms = 1000;

function delayDistribution(prng: Prng): Distribution {
  const kind = pick(prng, ['uniform', 'exponential', 'bimodal'] as const);
  const minUs = 50 + prng.nextInt(500);
  switch (kind) {
    case 'uniform':
      return { kind: 'uniform', minUs, maxUs: minUs + (1 + prng.nextInt(20)) * ms };
    case 'exponential':
      return { kind: 'exponential', minUs, meanUs: (1 + prng.nextInt(8)) * ms, maxUs: 80 * ms };
    case 'bimodal':
      return {
        kind: 'mixture',
        parts: [
          { weight: 0.9, dist: { kind: 'uniform', minUs, maxUs: minUs + 2 * ms } },
          { weight: 0.1, dist: { kind: 'exponential', minUs: 10 * ms, meanUs: 20 * ms, maxUs: 150 * ms } },
        ],
      };
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function storageDistribution(prng: Prng): Distribution {
  // IndexedDB here: ~0.8 ms a transaction (DESIGN.md §7), with the occasional slow one.
  return {
    kind: 'mixture',
    parts: [
      { weight: 0.95, dist: { kind: 'exponential', minUs: 200 + prng.nextInt(600), meanUs: 300 + prng.nextInt(1500), maxUs: 20 * ms } },
      { weight: 0.05, dist: { kind: 'uniform', minUs: 5 * ms, maxUs: (10 + prng.nextInt(40)) * ms } },
    ],
  };
}

/** Draw the fault mix of a seed for a cluster of `nodes` voters. */
export function drawFaultMix(prng: Prng, nodes: number, modes: FaultMixModes = {}): FaultMix {
  const minority = Math.floor((nodes - 1) / 2);
  const calm = chance(prng, 0.05); // a few seeds run without any fault at all
  const network: NetworkFaults = calm
    ? { lossRate: 0, duplicateRate: 0, delay: { kind: 'uniform', minUs: 100, maxUs: 2 * ms } }
    : { lossRate: prng.nextFloat() * 0.2, duplicateRate: chance(prng, 0.5) ? prng.nextFloat() * 0.1 : 0, delay: delayDistribution(prng) };
  const clients = 3 + prng.nextInt(5);
  const tightSessions = chance(prng, 0.25);
  const base = {
    network,
    storageLatency: storageDistribution(prng),
    // Clocks that drift apart: on a third of the seeds by up to 8% (the lease tolerates
    // leaseDriftTicks per election timeout, 20% by default: engine config.ts), which stretches
    // how long a deposed leader keeps believing in itself.
    clockDriftMax: prng.nextFloat() * (chance(prng, 1 / 3) ? 0.08 : 0.01),
    partitions: {
      ratePerS: calm ? 0 : prng.nextFloat() * 1.5,
      duration: { kind: 'uniform', minUs: 100 * ms, maxUs: (300 + prng.nextInt(1200)) * ms },
      kinds: [
        ['halves', 3],
        ['isolate-leader', 3],
        ['isolate-one', 2],
        ['one-way', 2],
        ['bridge', 1],
      ],
    },
    crashes: {
      ratePerS: calm ? 0 : prng.nextFloat() * 3,
      downtime: { kind: 'exponential', minUs: 1 * ms, meanUs: (20 + prng.nextInt(400)) * ms, maxUs: 1500 * ms },
      duringWriteProbability: 0.75,
      duringVoteProbability: calm ? 0 : prng.nextFloat() * 0.3,
      correlatedProbability: 0.15,
      downMax: pickWeighted(prng, [
        [Math.max(1, minority), 7],
        [minority + 1, 2],
        [nodes, 1],
      ] as const),
      oracleProbability: 0.3,
    },
    pauses: {
      ratePerS: calm ? 0 : prng.nextFloat() * 1.5,
      duration: { kind: 'uniform', minUs: 20 * ms, maxUs: (100 + prng.nextInt(900)) * ms },
      isolateLeaderProbability: 0.4,
    },
    transfersPerS: calm ? 0 : prng.nextFloat() * 0.5,
    clients,
    workload: {
      keys: ['a', 'b', 'c', 'd', 'e'].slice(0, 1 + prng.nextInt(4)),
      think: { kind: 'uniform', minUs: 10 * ms, maxUs: (50 + prng.nextInt(150)) * ms },
      opTimeoutUs: 1000 * ms,
      callDelay: { kind: 'uniform', minUs: 20, maxUs: 100 + prng.nextInt(900) },
      retryBackoff: { kind: 'uniform', minUs: 5 * ms, maxUs: 40 * ms },
      opWeights: { read: 4, write: 4, cas: 2 },
      readModeWeights: tightSessions
        ? { log: 1, index: 0, lease: 0 }
        : pickWeighted(prng, [
            [{ log: 1, index: 1, lease: 1 }, 4],
            [{ log: 1, index: 0, lease: 0 }, 1],
            [{ log: 0, index: 1, lease: 0 }, 1],
            [{ log: 0, index: 0, lease: 1 }, 1],
          ] as const),
      deleteProbability: 0.05,
      routingWeights: pickWeighted(prng, [
        [{ sticky: 1, home: 0, random: 0 }, 2],
        [{ sticky: 0, home: 1, random: 0 }, 1],
        [{ sticky: 2, home: 1, random: 1 }, 2],
      ] as const),
      naps: tightSessions ? { probability: 0.06, duration: { kind: 'uniform', minUs: 2000 * ms, maxUs: 8000 * ms } } : null,
    },
    // A quarter of the seeds expire sessions left idle for 50-90 entries; their clients doze off
    // now and then during the faults (naps of seconds, cut short when the cluster heals), so that
    // the drivers' sessions expire and their proposal trackers must not reuse one that may have
    // (runtime/proposals.ts). Their reads all go through the log. The machine keeps enough
    // sessions for every node's pool: eviction by count is not what these seeds are about.
    session: tightSessions ? { sessionExpiryEntries: 50 + prng.nextInt(41), sessionsMax: 16 * 8 * clients } : {},
    raft: {
      maxInflightAppends: pick(prng, [1, 2, 4, 64]),
      maxEntriesPerAppend: pick(prng, [1, 3, 64, 1024]),
      maxUncommittedEntries: pick(prng, [8, 64, 65_536]),
    },
  } satisfies Omit<FaultMix, 'membership' | 'aimed'>;
  let raft: RaftTuning = base.raft;
  if (modes.snapshots === true) {
    raft = {
      ...raft,
      snapshotEveryEntries: 10 + prng.nextInt(41),
      // A session machine's snapshot is a few hundred bytes: several chunks each.
      snapshotChunkBytes: 48 + prng.nextInt(273),
      snapshotTrailingEntries: pick(prng, [0, 0, 1, 4, 10]),
    };
  }
  let membership: MembershipMix | null = null;
  if (modes.membership === true) {
    const manualPromotions = chance(prng, 0.2);
    raft = {
      ...raft,
      promoteLearnerAfterTicks: manualPromotions ? 0 : 5 + prng.nextInt(40),
      promoteLearnerLagEntries: 4 + prng.nextInt(29),
      // 0.25 to 1.5 s of silence: crashes and partitions of the mix outlast it now and then.
      removeUnreachableVoterAfterTicks: 25 + prng.nextInt(126),
      minVoters: 3,
    };
    membership = {
      changesPerS: 0.5 + prng.nextFloat() * 2.5,
      weights: { add: 4, promote: manualPromotions ? 4 : 1, removeVoter: 2, removeLeader: 1, removeLearner: 1 },
      membersMax: 7,
      votersMin: 3,
      retireProbability: 0.7,
      retireDelay: { kind: 'uniform', minUs: 0, maxUs: 500 * ms },
      nodesMax: 16,
    };
  }
  const aimed: AimedMix = calm ? { churn: null, staleLeader: null, figure8: null, splitElections: null } : drawAimedMix(prng, tightSessions);
  return { ...base, raft, membership, aimed };
}

/**
 * The aimed faults of a seed: leader churn on about half the seeds, in one or two windows of the
 * safety phase; the stale-read trap on 60% (not on seeds whose reads all go through the
 * log to keep sessions alive: pinned clients read outside it); Figure 8 plays and split
 * elections on half each.
 */
function drawAimedMix(prng: Prng, tightSessions: boolean): AimedMix {
  let churn: AimedMix['churn'] = null;
  if (chance(prng, 0.5)) {
    const windows: [number, number][] = [];
    for (let i = 1 + prng.nextInt(2); i > 0; i--) {
      const startUs = prng.nextInt(4000) * ms;
      windows.push([startUs, startUs + (500 + prng.nextInt(1500)) * ms]);
    }
    churn = {
      windows,
      strikeProbability: 0.3 + prng.nextFloat() * 0.6,
      strikeOnFirstCommitProbability: prng.nextFloat(),
      strikeAfter: { kind: 'uniform', minUs: 200, maxUs: (1 + prng.nextInt(30)) * ms },
      partialProbability: prng.nextFloat(),
      partialFor: { kind: 'uniform', minUs: 2 * ms, maxUs: (5 + prng.nextInt(60)) * ms },
      downtime: { kind: 'exponential', minUs: 1 * ms, meanUs: (10 + prng.nextInt(100)) * ms, maxUs: 400 * ms },
    };
  }
  let staleLeader: AimedMix['staleLeader'] = null;
  if (!tightSessions && chance(prng, 0.6)) {
    staleLeader = {
      ratePerS: 0.3 + prng.nextFloat() * 1.2,
      isolation: { kind: 'uniform', minUs: 150 * ms, maxUs: (300 + prng.nextInt(600)) * ms },
      readMode: pickWeighted(prng, [
        ['both', 4],
        ['index', 1],
        ['lease', 1],
      ] as const),
      pauseProbability: prng.nextFloat(),
    };
  }
  const figure8 = chance(prng, 0.5) ? { ratePerS: 0.3 + prng.nextFloat() * 0.7 } : null;
  const splitElections = chance(prng, 0.5) ? { ratePerS: 0.3 + prng.nextFloat() * 0.7, lateProbability: prng.nextFloat() } : null;
  return { churn, staleLeader, figure8, splitElections };
}

export function describeFaultMix(mix: FaultMix): string {
  const c = mix.crashes;
  return [
    `network: loss ${pct(mix.network.lossRate)}, dup ${pct(mix.network.duplicateRate)}, delay ${describe(mix.network.delay)}`,
    `storage: ${describe(mix.storageLatency)}; clock drift <= ${pct(mix.clockDriftMax)}`,
    `partitions ${mix.partitions.ratePerS.toFixed(2)}/s for ${describe(mix.partitions.duration)}`,
    `crashes ${c.ratePerS.toFixed(2)}/s down ${describe(c.downtime)}, <= ${c.downMax} down`,
    `pauses ${mix.pauses.ratePerS.toFixed(2)}/s for ${describe(mix.pauses.duration)}; transfers ${mix.transfersPerS.toFixed(2)}/s`,
    `clients ${mix.clients} on ${mix.workload.keys.length} keys, reads ${JSON.stringify(mix.workload.readModeWeights)}, routing ${JSON.stringify(mix.workload.routingWeights)}`,
    `sessions ${JSON.stringify(mix.session)}`,
    `raft ${JSON.stringify(mix.raft)}`,
    ...(mix.membership === null ? [] : [`membership ${mix.membership.changesPerS.toFixed(2)}/s ${JSON.stringify(mix.membership.weights)}`]),
    ...(mix.aimed.churn === null ? [] : [`leader churn in ${mix.aimed.churn.windows.map(([a, b]) => `${a / ms}-${b / ms}ms`).join(', ')}, strike ${pct(mix.aimed.churn.strikeProbability)} after ${describe(mix.aimed.churn.strikeAfter)}, partial ${pct(mix.aimed.churn.partialProbability)}`]),
    ...(mix.aimed.staleLeader === null ? [] : [`stale-read trap ${mix.aimed.staleLeader.ratePerS.toFixed(2)}/s for ${describe(mix.aimed.staleLeader.isolation)} (${mix.aimed.staleLeader.readMode})`]),
    ...(mix.aimed.figure8 === null ? [] : [`figure 8 plays ${mix.aimed.figure8.ratePerS.toFixed(2)}/s`]),
    ...(mix.aimed.splitElections === null ? [] : [`split elections ${mix.aimed.splitElections.ratePerS.toFixed(2)}/s`]),
  ].join('; ');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
