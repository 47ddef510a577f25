/**
 * What a replica tells its host happened (a Ready's `events`): view changes and their reasons
 * (status and the simulator's checkers watch them), stable checkpoints, vote outcomes.
 */
import type { Digest, ReplicaId } from './types.ts';

/** Why a replica voted to leave its view. */
export type ViewChangeReason =
  /** A request it holds was not executed within `requestTimeoutTicks` (PBFT §4.4). */
  | 'request-timeout'
  /** Requests pending and no pre-prepare for `prePrepareIntervalTicksMax` (Aardvark §4.3). */
  | 'slow-primary'
  /** The primary sent a pre-prepare with a request whose signature fails, or a batch digest that is not its batch's (Aardvark §4.1: evidence). */
  | 'bad-pre-prepare'
  /** The view change to the previous view did not complete in time (PBFT §4.5.2). */
  | 'new-view-timeout'
  /** F + 1 replicas already asked for a higher view (PBFT §4.5.2: join them). */
  | 'joined';

export type BftEvent =
  /** This replica asked to move to `view` (sent its view-change). */
  | { readonly kind: 'view-change-started'; readonly view: number; readonly reason: ViewChangeReason }
  /** This replica entered `view` (a new-view checked, or sent as its primary). */
  | { readonly kind: 'view-changed'; readonly view: number; readonly primary: ReplicaId }
  /** A checkpoint became stable (2F + 1 matching signed proofs); the log below it was discarded. */
  | { readonly kind: 'checkpoint-stable'; readonly seq: number; readonly stateDigest: Digest }
  /**
   * Others hold a stable checkpoint above what this replica executed: it cannot catch up by
   * executing (the log below it is gone) and needs the state at `seq` from a peer (state
   * transfer, PBFT §5.3.2: the host's business; the proof is in the certificate it saw).
   */
  | { readonly kind: 'state-behind'; readonly seq: number; readonly stateDigest: Digest }
  /**
   * A vote this replica started ended (issue 13 item 2): `quorum-reached` when 2F + 1 members
   * answered and more than F of them agree on `value`; `no-consensus` when no answer can reach
   * F + 1 any more (or 2F + 1 answered without one at the timeout); `timeout` when fewer than
   * 2F + 1 answered in time.
   */
  | {
      readonly kind: 'vote-outcome';
      readonly voteId: string;
      readonly outcome: 'quorum-reached' | 'no-consensus' | 'timeout';
      readonly value: Uint8Array | null;
      readonly answers: number;
    };
