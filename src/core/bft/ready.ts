/**
 * One batch of work for a BFT replica's host (src/core/engine.ts states the order every engine's
 * Ready follows). In PBFT's terms (DESIGN.md §2: BFT persists view, prepared certificates and
 * checkpoints before the messages that promise them leave):
 *
 *   1. SEND `messagesBeforeWrite` at once (replies, relayed requests, vote traffic, checkpoints:
 *      they promise nothing a crash could take back). APPLY the first `appliedBeforeWrite` of
 *      `executed` (all of them: a batch is executed once 2F + 1 replicas committed it, so the
 *      quorum holds it durably whatever this replica's disk says).
 *   2. PERSIST `persist` when `mustPersist`: the view (a replica never goes back to a lower view
 *      after a restart), the pre-prepares it accepted (it never accepts, or as primary sends, a
 *      second one for the same view and sequence number), its prepared certificates (a
 *      view-change after a restart still reports them: PBFT §4.4's safety rests on it) and the
 *      stable checkpoint; drop what is below `discardBelowSeq`. Wait until durable.
 *   3. Only THEN SEND `messagesAfterWrite`: pre-prepares, prepares, commits, view-changes,
 *      new-views (each promises what step 2 wrote).
 *   4. Run `cryptoRequests` (proof-requests.ts) and step each answer back as `crypto-result`; answer
 *      each `executed` item with an `executed` input after applying it, each `reads` item with
 *      `read-result`, each `voteQuestions` item with `vote-answer`; deliver `events`. Order among
 *      these does not matter, but `executed` answers come in sequence order.
 *   5. `advance()`.
 */
import type { EngineReady } from '../engine.ts';
import type { CryptoRequest } from './proof-requests.ts';
import type { BftEvent } from './events.ts';
import type { BftMessage } from './messages.ts';
import type { CheckpointCertificate, ClientId, PreparedCertificate, ReplicaId, SignedRequest } from './types.ts';

/** A batch to apply to the state machine, in sequence order (PBFT §4.2: executed once committed-local and all lower ones executed). */
export interface ExecutedBatch {
  readonly seq: number;
  readonly view: number;
  /**
   * The requests to apply, in order: the batch without those whose timestamp is not above the
   * client's last executed one (exactly-once, PBFT §4.1), filtered alike on every replica. May be
   * empty (a null request, PBFT §4.4); the host still answers with `executed`.
   */
  readonly requests: readonly SignedRequest[];
  /** `seq` is a checkpoint (a multiple of K): the `executed` answer must carry the state digest. */
  readonly checkpoint: boolean;
}

/** What a replica must not forget across a restart (`BftBoot` is what it boots from). */
export interface BftPersist {
  readonly view: number;
  /** Pre-prepares accepted (or, as primary, sent) since the last Ready: (view, seq, digest). */
  readonly prePrepared: readonly { readonly view: number; readonly seq: number; readonly digest: string }[];
  /** Prepared certificates formed since the last Ready (the highest view per seq replaces older ones). */
  readonly prepared: readonly PreparedCertificate[];
  /** A newly stable checkpoint with its proof, or null. */
  readonly stableCheckpoint: CheckpointCertificate | null;
  /**
   * With a new stable checkpoint: the exactly-once table as of its seq, (client, last executed
   * timestamp) in service order, to persist beside it (null when this replica had not executed
   * that far: it is behind and needs a state transfer, `state-behind`).
   */
  readonly stableClients: readonly (readonly [ClientId, number])[] | null;
  /** Everything kept for sequence numbers at or below this may be discarded (PBFT §4.3's garbage collection); null: nothing new. */
  readonly discardBelowSeq: number | null;
}

/** A read-only request to run against the executed state without ordering it (TOCS §5.1.3). */
export interface ReadRequest {
  readonly request: SignedRequest;
}

/** A vote question from `origin` this member must answer (with `vote-answer`). */
export interface VoteQuestion {
  readonly voteId: string;
  readonly origin: ReplicaId;
  readonly proposal: Uint8Array;
}

export interface BftReady extends EngineReady<BftMessage> {
  readonly persist: BftPersist | null;
  /** Batches to apply in order; `appliedBeforeWrite` covers all of them (see step 1). */
  readonly executed: readonly ExecutedBatch[];
  readonly reads: readonly ReadRequest[];
  readonly cryptoRequests: readonly CryptoRequest[];
  readonly voteQuestions: readonly VoteQuestion[];
  readonly events: readonly BftEvent[];
}

/** What a replica boots from after a restart: what its Readies persisted. The host restores its machine to `stableCheckpoint`. */
export interface BftBoot {
  readonly view: number;
  readonly prePrepared: readonly { readonly view: number; readonly seq: number; readonly digest: string }[];
  readonly prepared: readonly PreparedCertificate[];
  readonly stableCheckpoint: CheckpointCertificate | null;
  /** The exactly-once table persisted with `stableCheckpoint` (`BftPersist.stableClients`). */
  readonly stableClients?: readonly (readonly [ClientId, number])[];
}

export const emptyBftBoot: BftBoot = { view: 0, prePrepared: [], prepared: [], stableCheckpoint: null };
