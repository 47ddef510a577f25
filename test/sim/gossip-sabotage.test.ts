/**
 * What this proves: each checker of the gossip simulator bites. Whole runs with one deliberate
 * host bug each (src/sim/gossip/gossip-sabotage.ts), in a weather chosen to give the bug its
 * moment, must report violations of the checker meant to catch it, while the same seeds and
 * weather without the bug report none of that kind:
 *
 * - a node that never refutes (claims about itself stripped) under 10 % loss: false deaths of
 *   members nobody cut off or paused (accuracy);
 * - nodes whose suspicions never time out and that drop `dead` news, with crashes: detection and
 *   convergence failures;
 * - storage that forgets the incarnation, with crashes, restarts and updates: incarnations
 *   reused, and updates lost (a restarted life numbered alike mints its dots again);
 * - a host that sends the messages claiming a new incarnation before it is durable, with crashes
 *   aimed inside incarnation writes: incarnations reused;
 * - nodes keeping three times the configured mesh degrees: mesh violations;
 * - a host pinging members it holds no link to: unwanted links;
 * - a data plane that drops anti-entropy states and half the pushed deltas: CRDT states that
 *   never converge;
 * And one bug that is no bug any more: a disk that loses the CRDTs at a crash (the incarnation
 * kept), with crashes, restarts and updates, loses no update and converges, because each life
 * of a node mints under a replica id of its own (src/core/gossip/gossip-node.ts): the lost
 * state comes back from the peers, and nothing is minted twice.
 */
import { describe, expect, it } from 'vitest';
import type { GossipFaultMix } from '../../src/sim/gossip/gossip-fault-mix.ts';
import type { GossipViolations } from '../../src/sim/gossip/gossip-result.ts';
import type { GossipSabotage } from '../../src/sim/gossip/gossip-sabotage.ts';
import { runGossipSimulation } from '../../src/sim/gossip/gossip-simulation.ts';

const ms = 1000;

/** No faults at all, fast links: the weather each case adds its one fault to. */
function calm(m: GossipFaultMix): GossipFaultMix {
  return {
    ...m,
    crdtUpdatesPerS: 0,
    network: { lossRate: 0, duplicateRate: 0, delay: { kind: 'uniform', minUs: 1 * ms, maxUs: 5 * ms } },
    partitions: { ...m.partitions, ratePerS: 0 },
    crashes: { ...m.crashes, ratePerS: 0 },
    pauses: { ...m.pauses, ratePerS: 0 },
    leaves: { ...m.leaves, ratePerS: 0 },
    joins: { ratePerS: 0 },
    impairedMax: 6,
  };
}

const crashes = (restartProbability: number, duringWriteProbability: number) => (m: GossipFaultMix): GossipFaultMix => ({
  ...calm(m),
  storageLatency: { kind: 'uniform', minUs: 20 * ms, maxUs: 50 * ms },
  crashes: { ratePerS: 0.25, restartProbability, downtime: { kind: 'uniform', minUs: 100 * ms, maxUs: 2000 * ms }, duringWriteProbability },
});

interface Case {
  readonly sabotage: GossipSabotage;
  readonly mix: (m: GossipFaultMix) => GossipFaultMix;
  readonly caught: readonly (keyof GossipViolations)[];
}

const cases: readonly Case[] = [
  { sabotage: 'never-refute', mix: (m) => ({ ...calm(m), network: { ...calm(m).network, lossRate: 0.1 } }), caught: ['falseDeaths'] },
  { sabotage: 'never-declare-dead', mix: crashes(0, 0), caught: ['detection', 'convergence'] },
  { sabotage: 'forget-incarnation', mix: (m) => ({ ...crashes(1, 0)(m), crdtUpdatesPerS: 20 }), caught: ['incarnationReuses', 'lostUpdates'] },
  { sabotage: 'send-before-durable', mix: crashes(1, 1), caught: ['incarnationReuses'] },
  { sabotage: 'greedy-mesh', mix: calm, caught: ['mesh'] },
  { sabotage: 'rogue-probe', mix: calm, caught: ['unwantedLinks'] },
  { sabotage: 'drop-merges', mix: (m) => ({ ...calm(m), crdtUpdatesPerS: 10 }), caught: ['crdtConvergence'] },
];

/** A bug no more: the engine's replica lives make it harmless (src/core/gossip/gossip-node.ts). */
const tolerated = { sabotage: 'forget-crdts', mix: (m: GossipFaultMix) => ({ ...crashes(1, 0)(m), crdtUpdatesPerS: 20 }) } as const;

const seeds = [1, 2];

/** Violations of each kind over the seeds, with or without the sabotage. */
function counts(c: Case, sabotaged: boolean): Record<keyof GossipViolations, number> {
  const total = { detection: 0, falseDeaths: 0, convergence: 0, incarnationReuses: 0, mesh: 0, unwantedLinks: 0, crdtConvergence: 0, lostUpdates: 0, errors: 0 };
  for (const seed of seeds) {
    const r = runGossipSimulation({ seed, mix: c.mix, ...(sabotaged ? { sabotage: [c.sabotage] } : {}) });
    expect(r.violations.errors.examples).toEqual([]);
    for (const kind of Object.keys(total) as (keyof GossipViolations)[]) total[kind] += r.violations[kind].count;
  }
  return total;
}

describe('the gossip checkers bite', () => {
  it.each(cases)('$sabotage is caught by $caught', (c) => {
    const clean = counts(c, false);
    const sabotaged = counts(c, true);
    for (const kind of c.caught) {
      expect(clean[kind], `${kind} without the sabotage`).toBe(0);
      expect(sabotaged[kind], `${kind} with ${c.sabotage}`).toBeGreaterThan(0);
    }
  });

  it('a disk that loses the CRDTs at every crash (the incarnation kept) loses no update: each life mints under its own replica id', () => {
    const sabotaged = counts({ ...tolerated, caught: [] }, true);
    expect(sabotaged.lostUpdates).toBe(0);
    expect(sabotaged.crdtConvergence).toBe(0);
  });
});
