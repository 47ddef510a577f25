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
 *      view-change after a restart still reports them: PBFT §4.4's safety rests on it), the
 *      batches it committed and hands out in this Ready (`committed`: a restart replays them,
 *      see `CommittedBatch`) and the stable checkpoint; drop what is below `discardBelowSeq`.
 *      Wait until durable.
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
import type { ExecutionResult } from './local-input.ts';
import type { CheckpointCertificate, ClientId, PrePrepareHeader, PreparedCertificate, ReplicaId, SignedRequest } from './types.ts';

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

/**
 * A batch this replica committed (PBFT §4.2 committed-local: prepared, and 2F + 1 matching
 * commits) and handed to its host to execute: the primary's header and the batch as ordered.
 *
 * Why it is persisted: the host applies a batch, steps `executed`, and the engine then sends
 * the replies, so a client may hold F + 1 replies ("committed") for a batch no stable
 * checkpoint covers yet. If every replica restarts, no peer holds that state and no checkpoint
 * certifies it; PBFT keeps the message log in stable storage for this (TOCS §4.3 keeps the
 * log from the last stable checkpoint; the thesis §5.3's recovery replays it). The record is
 * written in the Ready that hands the batch out, and a reply to it is only made from the
 * `executed` answer, which is stepped into a LATER Ready, one that the host takes only after this
 * Ready's write is durable (one Ready outstanding, engine.ts): no reply promises a batch a crash
 * can lose. At boot the engine re-executes these, in order, through the same `executed` path, so
 * the state and the reply cache (PBFT §4.1) come back as they were. Kept only above the stable
 * checkpoint, so at most `watermarkWindowSeqs` of them (PBFT §4.3's garbage collection).
 */
export interface CommittedBatch {
  readonly header: PrePrepareHeader;
  readonly requests: readonly SignedRequest[];
}

/** What a replica must not forget across a restart (`BftBoot` is what it boots from). */
export interface BftPersist {
  readonly view: number;
  /** Pre-prepares accepted (or, as primary, sent) since the last Ready: (view, seq, digest). */
  readonly prePrepared: readonly { readonly view: number; readonly seq: number; readonly digest: string }[];
  /** Prepared certificates formed since the last Ready (the highest view per seq replaces older ones). */
  readonly prepared: readonly PreparedCertificate[];
  /** Batches committed and handed out for execution in this Ready, in sequence order (`CommittedBatch`). */
  readonly committed: readonly CommittedBatch[];
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
  /**
   * The reply to each client's last request as of `stableCheckpoint`, from the checkpointed
   * execution state (the host's reply cache travels in it, PBFT §4.3): without it a client's
   * retransmission of its last request before the checkpoint would find the timestamp in the
   * table and no reply to resend. Absent: none known.
   */
  readonly stableReplies?: readonly ExecutionResult[];
  /** The batches committed above `stableCheckpoint` (`CommittedBatch`), re-executed at boot in sequence order. */
  readonly committed?: readonly CommittedBatch[];
}

export const emptyBftBoot: BftBoot = { view: 0, prePrepared: [], prepared: [], stableCheckpoint: null };
