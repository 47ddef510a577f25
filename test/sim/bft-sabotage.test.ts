/**
 * Each checker of the BFT simulator catches a planted fault (src/sim/bft/bft-sabotage.ts): a
 * crypto provider that accepts any signature lets requests signed by nobody be executed
 * (validity); a restart that does not restore the machine re-applies batches (exactly-once); a
 * host that misnumbers batches (agreement); lost replies (liveness); disks that do not keep the
 * committed batches, when every replica restarts (lost acknowledged writes). The same seeds are
 * clean without the sabotage (bft-seeds.test.ts runs them).
 */
import { describe, expect, it } from 'vitest';
import { runBftSimulation } from '../../src/sim/bft/bft-simulation.ts';

describe('BFT simulator sabotage', () => {
  it('accept-any-signature: validity violations', () => {
    const r = runBftSimulation({ seed: 1, nodes: 4, byzantine: 1, behaviour: 'bad-requests', sabotage: 'accept-any-signature' });
    expect(r.counts.validity).toBeGreaterThan(0);
    expect(runBftSimulation({ seed: 1, nodes: 4, byzantine: 1, behaviour: 'bad-requests' }).counts.validity).toBe(0);
  });

  it('no-restore-on-restart: duplicate executions', () => {
    let dup = 0;
    // Any change to the messages sent moves every later draw of the seed's PRNG (crash times
    // among them): since the view-change retransmission, 14 is the first seed of 1-16 whose
    // first honest replica restarts past a checkpoint (4 was before).
    for (let seed = 1; seed <= 16 && dup === 0; seed++) dup += runBftSimulation({ seed, nodes: 4, byzantine: 0, sabotage: 'no-restore-on-restart' }).counts.duplicates;
    expect(dup).toBeGreaterThan(0);
  });

  it('misnumber: agreement violations', () => {
    expect(runBftSimulation({ seed: 1, nodes: 4, byzantine: 0, sabotage: 'misnumber' }).counts.agreement).toBeGreaterThan(0);
  });

  it('forget-committed: lost acknowledged writes once every replica restarts', () => {
    let lost = 0;
    let clean = 0;
    // Seeds 1-8: those whose heal restarts every replica (half of them, drawn by the seed).
    for (let seed = 1; seed <= 8 && lost === 0; seed++) {
      lost += runBftSimulation({ seed, nodes: 4, byzantine: 0, sabotage: 'forget-committed' }).counts.lostWrites;
      clean += runBftSimulation({ seed, nodes: 4, byzantine: 0 }).counts.lostWrites;
    }
    expect(lost).toBeGreaterThan(0);
    expect(clean).toBe(0);
  });

  it('drop-replies: stalls', () => {
    expect(runBftSimulation({ seed: 1, nodes: 4, byzantine: 0, faults: false, sabotage: 'drop-replies' }).counts.stalls).toBe(1);
  });
});
