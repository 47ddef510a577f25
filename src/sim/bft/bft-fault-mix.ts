/**
 * The weather and the villains of one BFT seed, drawn once from the seed's PRNG and printable
 * beside a failing seed: network loss, duplication and delays (the Raft simulator's ranges),
 * partitions and crashes of replicas during the fault phase, storage latency, and which B
 * replicas are Byzantine and how each misbehaves (byzantine.ts).
 */
import type { Prng } from '../../core/prng.ts';
import { describe, pick, shuffled, type Distribution } from '../distributions.ts';
import type { NetworkFaults } from '../network.ts';

export const byzantineBehaviours = ['equivocate', 'forge', 'bad-requests', 'replay', 'wrong-digest', 'silent', 'slow-primary', 'flood', 'collude'] as const;
export type ByzantineBehaviour = (typeof byzantineBehaviours)[number];

export interface BftFaultMix {
  readonly network: NetworkFaults;
  readonly storageLatency: Distribution;
  readonly partitions: { readonly ratePerS: number; readonly duration: Distribution };
  readonly crashes: { readonly ratePerS: number; readonly downtime: Distribution };
  /** Byzantine replica ids and what each does. */
  readonly byzantine: ReadonlyMap<string, ByzantineBehaviour>;
}

const ms = 1000;

/** Draw the mix for `ids` with `b` Byzantine members (b may exceed F: the over-full budget). */
export function drawBftFaultMix(prng: Prng, ids: readonly string[], b: number): BftFaultMix {
  const minUs = 200 + prng.nextInt(2 * ms);
  const delay: Distribution = pick(prng, [
    { kind: 'uniform', minUs, maxUs: minUs + (1 + prng.nextInt(40)) * ms },
    { kind: 'exponential', minUs, meanUs: (2 + prng.nextInt(15)) * ms, maxUs: 120 * ms },
  ] as const);
  const network: NetworkFaults = { lossRate: pick(prng, [0, 0.01, 0.05, 0.1]), duplicateRate: pick(prng, [0, 0.02, 0.1]), delay };
  // Colluders need the primary of view 0 among them to split the honest replicas at once; the
  // other behaviours take any replicas.
  const colluding = b > 0 && prng.nextFloat() < 0.5;
  const chosen = colluding ? [ids[0] as string, ...shuffled(prng, ids.slice(1)).slice(0, b - 1)] : shuffled(prng, ids).slice(0, b);
  const byzantine = new Map<string, ByzantineBehaviour>();
  for (const id of chosen) byzantine.set(id, colluding ? 'collude' : pick(prng, byzantineBehaviours.filter((x) => x !== 'collude')));
  return {
    network,
    storageLatency: { kind: 'exponential', minUs: 100, meanUs: 800, maxUs: 20 * ms },
    partitions: { ratePerS: pick(prng, [0, 0.05, 0.15]), duration: { kind: 'uniform', minUs: 200 * ms, maxUs: 3000 * ms } },
    crashes: { ratePerS: pick(prng, [0, 0.05, 0.1]), downtime: { kind: 'uniform', minUs: 100 * ms, maxUs: 4000 * ms } },
    byzantine,
  };
}

export function describeBftFaultMix(m: BftFaultMix): string {
  const byz = [...m.byzantine].map(([id, b]) => `${id}:${b}`).join(' ') || 'none';
  return (
    `loss ${(m.network.lossRate * 100).toFixed(0)}%, dup ${(m.network.duplicateRate * 100).toFixed(0)}%, delay ${describe(m.network.delay)}, ` +
    `partitions ${m.partitions.ratePerS}/s, crashes ${m.crashes.ratePerS}/s; byzantine ${byz}`
  );
}
