/**
 * Deliberate bugs around the BFT engine, one per checker, to prove each checker bites
 * (test/sim/bft-sabotage.test.ts). Never set in a real sweep; the engine itself is never
 * changed.
 *
 * - `accept-any-signature`: honest hosts' crypto answers every verify with "valid" (a provider
 *   that does not check): requests signed by nobody, which `bad-requests` replicas inject, are
 *   executed (validity).
 * - `no-restore-on-restart`: the first honest replica restarts with its machine NOT restored to
 *   its checkpoint (the live machine kept, as a host that forgot to reload state), so the
 *   batches after the checkpoint are applied to it a second time (exactly-once).
 * - `misnumber`: the first honest replica's host reports every third batch one seq too high, as
 *   a host applying batches under wrong sequence numbers would (agreement; planted in what the
 *   host reports, since an honest engine never executes out of order).
 * - `drop-replies`: honest replicas' replies to clients are lost (liveness).
 * - `forget-committed`: every replica's disk drops the committed batches it is asked to keep
 *   (src/core/bft/ready.ts `CommittedBatch`), as a storage adapter that does not write them:
 *   after every replica restarts, what committed above the last stable checkpoint is gone
 *   (lost acknowledged writes).
 */
export type BftSabotage = 'accept-any-signature' | 'no-restore-on-restart' | 'misnumber' | 'drop-replies' | 'forget-committed';

export const bftSabotages: readonly BftSabotage[] = ['accept-any-signature', 'no-restore-on-restart', 'misnumber', 'drop-replies', 'forget-committed'];
