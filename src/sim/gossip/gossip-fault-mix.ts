/**
 * The weather of one gossip seed: how lossy, duplicating and slow the network is, how often the
 * nemesis partitions, crashes, pauses, and churns members (new members joining, members leaving
 * gracefully and perhaps coming back), and how slow the incarnation writes are. Drawn once from
 * the seed's PRNG before the run starts, and printable, so a failing seed comes with its faults.
 *
 * The ranges are the ones a swarm of browser tabs lives in: WebRTC one-way delays of a few ms to
 * 150 ms, loss up to 10 % (SWIM's own evaluation goes to about that, §5), tabs frozen for up to
 * ten seconds (a hidden tab's timers), IndexedDB writes of about a millisecond with a slow tail.
 * Rates are per second of virtual time; durations are virtual microseconds.
 */
import type { Prng } from '../../core/prng.ts';
import { chance, describe, pick, pickWeighted, type Distribution } from '../distributions.ts';
import type { NetworkFaults } from '../network.ts';

export type GossipPartitionKind = 'halves' | 'isolate-one' | 'minority' | 'one-way';

export interface GossipFaultMix {
  readonly network: NetworkFaults;
  readonly storageLatency: Distribution;
  /** Each node's ticks run at 1 + drift, drift uniform in [-clockDriftMax, clockDriftMax]. */
  readonly clockDriftMax: number;
  readonly partitions: {
    readonly ratePerS: number;
    readonly duration: Distribution;
    readonly kinds: readonly (readonly [GossipPartitionKind, number])[];
  };
  readonly crashes: {
    readonly ratePerS: number;
    /** Probability that a crashed node restarts (from its disk) before the run heals; the rest stay down until the heal, and half of those for good. */
    readonly restartProbability: number;
    readonly downtime: Distribution;
    /** Probability that a crash waits for an incarnation write in flight and lands inside it. */
    readonly duringWriteProbability: number;
  };
  readonly pauses: { readonly ratePerS: number; readonly duration: Distribution };
  /** Graceful leaves; a member that left comes back (a new join, same engine) with `rejoinProbability`. */
  readonly leaves: { readonly ratePerS: number; readonly rejoinProbability: number; readonly away: Distribution };
  /** New members (fresh ids) joining during the faults. */
  readonly joins: { readonly ratePerS: number };
  /** At most this many of the nodes are down, paused or away at once. */
  readonly impairedMax: number;
  /** CRDT updates per second at random members during the faults (crdt-workload.ts). */
  readonly crdtUpdatesPerS: number;
}

const ms = 1000;

function delayDistribution(prng: Prng): Distribution {
  const minUs = 200 + prng.nextInt(2 * ms);
  switch (pick(prng, ['uniform', 'exponential', 'bimodal'] as const)) {
    case 'uniform':
      return { kind: 'uniform', minUs, maxUs: minUs + (1 + prng.nextInt(60)) * ms };
    case 'exponential':
      return { kind: 'exponential', minUs, meanUs: (2 + prng.nextInt(20)) * ms, maxUs: 150 * ms };
    case 'bimodal':
      return {
        kind: 'mixture',
        parts: [
          { weight: 0.9, dist: { kind: 'uniform', minUs, maxUs: minUs + 5 * ms } },
          { weight: 0.1, dist: { kind: 'exponential', minUs: 20 * ms, meanUs: 40 * ms, maxUs: 150 * ms } },
        ],
      };
  }
}

/** Draw the weather of a seed for a swarm of `nodes` initial members. */
export function drawGossipFaultMix(prng: Prng, nodes: number): GossipFaultMix {
  const calm = chance(prng, 0.05);
  const network: NetworkFaults = calm
    ? { lossRate: 0, duplicateRate: 0, delay: { kind: 'uniform', minUs: 1 * ms, maxUs: 5 * ms } }
    : { lossRate: prng.nextFloat() * 0.1, duplicateRate: chance(prng, 0.5) ? prng.nextFloat() * 0.05 : 0, delay: delayDistribution(prng) };
  const rate = (max: number): number => (calm ? 0 : prng.nextFloat() * max);
  return {
    network,
    storageLatency: {
      kind: 'mixture',
      parts: [
        { weight: 0.95, dist: { kind: 'exponential', minUs: 200 + prng.nextInt(600), meanUs: 300 + prng.nextInt(1500), maxUs: 20 * ms } },
        { weight: 0.05, dist: { kind: 'uniform', minUs: 5 * ms, maxUs: (10 + prng.nextInt(40)) * ms } },
      ],
    },
    clockDriftMax: prng.nextFloat() * 0.02,
    partitions: {
      ratePerS: rate(0.08),
      // From shorter than a suspicion to long enough that both sides declare each other dead.
      duration: { kind: 'uniform', minUs: 500 * ms, maxUs: (2 + prng.nextInt(28)) * 1000 * ms },
      kinds: [
        ['halves', 2],
        ['isolate-one', 3],
        ['minority', 2],
        ['one-way', 1],
      ],
    },
    crashes: {
      ratePerS: rate(0.25),
      restartProbability: prng.nextFloat(),
      downtime: { kind: 'uniform', minUs: 200 * ms, maxUs: (1 + prng.nextInt(20)) * 1000 * ms },
      duringWriteProbability: chance(prng, 0.5) ? prng.nextFloat() : 0,
    },
    pauses: { ratePerS: rate(0.2), duration: pickWeighted(prng, pauseDurations) },
    leaves: { ratePerS: rate(0.1), rejoinProbability: prng.nextFloat(), away: { kind: 'uniform', minUs: 100 * ms, maxUs: 10_000 * ms } },
    joins: { ratePerS: rate(0.1) },
    impairedMax: Math.max(1, Math.floor(nodes * (0.1 + prng.nextFloat() * 0.3))),
    crdtUpdatesPerS: 1 + prng.nextFloat() * 19,
  };
}

const pauseDurations: readonly (readonly [Distribution, number])[] = [
  // A busy main thread: shorter than a probe timeout.
  [{ kind: 'uniform', minUs: 50 * ms, maxUs: 400 * ms }, 2],
  // A throttled tab: a few probe periods, within a suspicion.
  [{ kind: 'uniform', minUs: 400 * ms, maxUs: 4000 * ms }, 2],
  // A frozen tab: long enough to be declared dead.
  [{ kind: 'uniform', minUs: 4000 * ms, maxUs: 15_000 * ms }, 1],
];

export function describeGossipFaultMix(mix: GossipFaultMix): string {
  const c = mix.crashes;
  return [
    `network: loss ${pct(mix.network.lossRate)}, dup ${pct(mix.network.duplicateRate)}, delay ${describe(mix.network.delay)}`,
    `storage: ${describe(mix.storageLatency)}; clock drift <= ${pct(mix.clockDriftMax)}`,
    `partitions ${mix.partitions.ratePerS.toFixed(3)}/s for ${describe(mix.partitions.duration)}`,
    `crashes ${c.ratePerS.toFixed(3)}/s down ${describe(c.downtime)}, restart ${pct(c.restartProbability)}, in writes ${pct(c.duringWriteProbability)}`,
    `pauses ${mix.pauses.ratePerS.toFixed(3)}/s for ${describe(mix.pauses.duration)}`,
    `leaves ${mix.leaves.ratePerS.toFixed(3)}/s (rejoin ${pct(mix.leaves.rejoinProbability)}); joins ${mix.joins.ratePerS.toFixed(3)}/s; <= ${mix.impairedMax} impaired`,
    `CRDT updates ${mix.crdtUpdatesPerS.toFixed(1)}/s`,
  ].join('; ');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
