/**
 * What this proves: replicas of every type converge however deltas travel, and deltas carry
 * exactly what full states do (Almeida et al. 2018: a δ-CRDT converges under any delivery
 * that eventually delivers every delta, duplicated and reordered). For 3, 4 and 5 replicas and
 * several seeds, a random history (crdt-histories.ts) runs with deltas delivered in random order,
 * some twice, some replicas syncing whole states; then every delta still queued is delivered in a
 * random order with repeats. Every replica must end in the same state, equal to the merge of ALL
 * deltas from the empty state in a shuffled, duplicated order, and equal to the merge of the
 * replicas' final states: merging deltas in any order equals merging full states.
 */
import { describe, expect, it } from 'vitest';
import { createPrng, shuffled } from '../../../src/core/prng.ts';
import { crdtTypeNames, crdtTypes, type CrdtType } from '../../../src/core/crdt/crdt-types.ts';
import { runHistory } from './crdt-histories.ts';

const cases = [3, 4, 5].flatMap((replicaCount) => [1, 2, 3, 4].map((s) => ({ replicaCount, seed: replicaCount * 100 + s })));

describe.each(crdtTypeNames)('%s', (name) => {
  const type = crdtTypes[name] as CrdtType<unknown, unknown>;

  it.each(cases)('$replicaCount replicas converge, and deltas equal full states (seed $seed)', ({ replicaCount, seed }) => {
    const history = runHistory(name, seed, { replicaCount, steps: 250 });
    const prng = createPrng(seed + 7);
    // Deliver what is still queued, in random order, some twice.
    const replicas = history.replicas.map((state, i) => {
      const inbox = history.inboxes[i] ?? [];
      const late = shuffled(prng, [...inbox, ...inbox.filter(() => prng.nextInt(3) === 0)]);
      return late.reduce<unknown>((merged, delta) => type.merge(merged, delta), state);
    });
    const [first, ...rest] = replicas;
    for (const state of rest) expect(type.encode(state), `${name} seed ${seed}`).toEqual(type.encode(first));

    const everyDelta = history.deltas;
    const fromDeltas = shuffled(prng, [...everyDelta, ...everyDelta.filter(() => prng.nextInt(4) === 0)]).reduce<unknown>(
      (merged, delta) => type.merge(merged, delta),
      type.empty(),
    );
    expect(type.encode(fromDeltas), `${name} seed ${seed}: deltas vs replicas`).toEqual(type.encode(first));
    const fromStates = shuffled(prng, history.replicas).reduce<unknown>((merged, state) => type.merge(merged, state), type.empty());
    expect(type.encode(fromStates), `${name} seed ${seed}: full states`).toEqual(type.encode(fromDeltas));
    expect(type.value(fromStates)).toEqual(type.value(first));
  });
});
