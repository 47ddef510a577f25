/**
 * What a replica's own host tells its BFT engine, as inputs to `step` like peers' messages
 * (src/core/engine.ts): tagged by `local`, never confused with a message (tagged by `type`).
 */
import type { ErrorCode } from '../error-code.ts';
import type { CryptoResult } from './proof-requests.ts';
import type { ReplicaMessage } from './messages.ts';
import type { BftRefusalCode } from './counters.ts';
import type { ClientId, Digest, ExecutionOutcome, ReplicaId } from './types.ts';

/** The outcome of one executed request, as the host's state machine gave it. */
export interface ExecutionResult {
  readonly client: ClientId;
  readonly timestamp: number;
  readonly outcome: ExecutionOutcome;
  readonly result: Uint8Array;
}

export type BftLocalInput =
  /** The answer to one of the Ready's `cryptoRequests`. */
  | { readonly local: 'crypto-result'; readonly result: CryptoResult }
  /**
   * The host applied the batch executed at `seq` (a Ready's `executed` item): one result per
   * request of it, in order. `stateDigest` (SHA-256 of the machine's snapshot after `seq`) is
   * required when the item asked for a checkpoint (`checkpoint: true`), null otherwise. Every
   * item must be answered, in sequence order, empty batches included: replies and checkpoints
   * wait for it.
   */
  | { readonly local: 'executed'; readonly seq: number; readonly results: readonly ExecutionResult[]; readonly stateDigest: Digest | null }
  /**
   * After a `state-behind` event: the host fetched the state at the stable checkpoint `seq` from
   * peers, checked it against `stateDigest` and restored its machine to it, with the exactly-once
   * table persisted beside that checkpoint (`BftPersist.stableClients`, from F + 1 agreeing peers).
   */
  | { readonly local: 'state-transferred'; readonly seq: number; readonly stateDigest: Digest; readonly clients: readonly (readonly [ClientId, number])[] }
  /** The host ran a read-only request (a Ready's `reads` item) against the state as executed so far (TOCS §5.1.3). */
  | { readonly local: 'read-result'; readonly client: ClientId; readonly timestamp: number; readonly outcome: ExecutionOutcome; readonly result: Uint8Array }
  /**
   * Start a one-shot quorum vote (issue 13 item 2): every member (this one included) is asked for
   * its answer to `proposal`; the outcome comes as a `vote-outcome` event within `timeoutTicks`.
   */
  | { readonly local: 'vote'; readonly proposal: Uint8Array; readonly timeoutTicks: number }
  /** This member's answer to a vote question (a Ready's `voteQuestions` item), sent to the vote's origin. */
  | { readonly local: 'vote-answer'; readonly voteId: string; readonly origin: ReplicaId; readonly value: Uint8Array };

/** What `step` takes: a peer's message (sender link-authenticated by the host) or a local request. */
export type BftInput = ReplicaMessage | BftLocalInput;

export type BftStepAccepted =
  /** A peer's message was stepped (what the engine ignored in it is counted). */
  | { readonly kind: 'stepped' }
  /** A peer's message was refused by the validator and counted (`counters.refused[code]`). */
  | { readonly kind: 'dropped'; readonly code: BftRefusalCode }
  /** A local input was taken. */
  | { readonly kind: 'accepted' }
  /** A vote was started under `voteId`. */
  | { readonly kind: 'vote-started'; readonly voteId: string };

export type BftRefusedReason =
  /** A local input with a bad field (a negative timeout, an unknown crypto id, a result count that does not fit). */
  | 'bad-argument'
  /** A bound is full (votes running). */
  | 'busy'
  | 'too-large';

/** A local input the engine will not take. */
export class BftRefusedError extends Error {
  override readonly name = 'BftRefusedError';
  readonly code: ErrorCode;
  readonly reason: BftRefusedReason;
  constructor(reason: BftRefusedReason, detail: string) {
    super(`bft: ${reason} (${detail})`);
    this.reason = reason;
    this.code = reason === 'too-large' ? 'TOO_LARGE' : reason === 'busy' ? 'PROPOSAL_DROPPED' : 'CONFIG';
  }
}

export function isBftLocalInput(input: BftInput): input is BftLocalInput {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, 'local');
}
