/**
 * Every message of the BFT engine (PBFT, Castro & Liskov OSDI'99 §4 / TOCS'02 §4; Aardvark,
 * Clement et al. NSDI'09 §4), as the engine takes them from `step` and hands them out in its
 * Ready. Each names its sender and receiver: the runtime puts `from` on what it decoded from the
 * AUTHENTICATED link (pairwise HMAC, src/io/crypto/link-guard.ts) and refuses a frame whose
 * `from` is not that peer, so within the engine `from` is who sent it. That is all the normal
 * case needs between replicas (commit, reply): PBFT's MAC authenticators, one pairwise tag per
 * link.
 *
 * What a THIRD party must check carries a signature the engine asked the host to make
 * (proof-requests.ts): client requests (relayed inside pre-prepares: Aardvark §4.1, so that a request
 * is valid for every replica or for none, never for some), pre-prepare headers and prepares
 * (they form the prepared certificates of a view change), checkpoints (checkpoint
 * certificates), view-changes. A new-view carries no signature of its own: everything in it is
 * signed (the 2F + 1 view-changes by their senders, each pre-prepare by the new primary), so a
 * receiver checks the parts and recomputes the rest (PBFT §4.4).
 *
 * Bounds (limits.ts) are checked by validate-bft.ts before any field reaches the engine.
 */
import type {
  CheckpointCertificate,
  ClientId,
  Digest,
  ExecutionOutcome,
  PrePrepareHeader,
  PreparedCertificate,
  ReplicaId,
  Signature,
  SignedCheckpoint,
  SignedRequest,
} from './types.ts';

/** A client's request (PBFT §4.1), to the primary, or to every replica on retransmission; a backup relays it to the primary. */
export interface RequestMessage {
  readonly type: 'request';
  readonly from: string;
  readonly to: ReplicaId;
  readonly request: SignedRequest;
}

/** The primary orders a batch at `header.seq` (PBFT §4.2, batching TOCS §5.1.4). */
export interface PrePrepareMessage {
  readonly type: 'pre-prepare';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly header: PrePrepareHeader;
  readonly requests: readonly SignedRequest[];
}

/** A backup accepted the pre-prepare for (view, seq, digest) (PBFT §4.2). Signed: it may go into a prepared certificate. */
export interface PrepareMessage {
  readonly type: 'prepare';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly view: number;
  readonly seq: number;
  readonly digest: Digest;
  readonly signature: Signature;
}

/** The sender holds a prepared certificate for (view, seq, digest) (PBFT §4.2). Link-authenticated only. */
export interface CommitMessage {
  readonly type: 'commit';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly view: number;
  readonly seq: number;
  readonly digest: Digest;
}

/**
 * The result of a request (PBFT §4.1 ⟨REPLY, v, t, c, i, r⟩) to its client. Read-only replies
 * (`readOnly`) were executed tentatively without ordering (TOCS §5.1.3); the client needs 2F + 1
 * of those that match, F + 1 of the others.
 */
export interface ReplyMessage {
  readonly type: 'reply';
  readonly from: ReplicaId;
  readonly to: ClientId;
  readonly view: number;
  readonly timestamp: number;
  readonly readOnly: boolean;
  readonly outcome: ExecutionOutcome;
  readonly result: Uint8Array;
}

/** A replica's signed checkpoint (PBFT §4.3), to every replica. */
export interface CheckpointMessage {
  readonly type: 'checkpoint';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly checkpoint: SignedCheckpoint;
}

/**
 * What a replica signs to move to `newView` (PBFT §4.4 ⟨VIEW-CHANGE, v+1, n, C, P, i⟩): its last
 * stable checkpoint with its proof (null: the initial state, seq 0) and a prepared certificate
 * for every sequence number above it that prepared at this replica (the highest view per seq).
 */
export interface ViewChangeBody {
  readonly newView: number;
  readonly replica: ReplicaId;
  readonly checkpoint: CheckpointCertificate | null;
  readonly prepared: readonly PreparedCertificate[];
}

export interface SignedViewChange {
  readonly body: ViewChangeBody;
  readonly signature: Signature;
}

export interface ViewChangeMessage {
  readonly type: 'view-change';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly viewChange: SignedViewChange;
}

/** One pre-prepare of a new-view's set O (PBFT §4.4): signed by the new primary, for the new view. */
export interface NewViewPrePrepare {
  readonly header: PrePrepareHeader;
  readonly requests: readonly SignedRequest[];
}

/**
 * The new primary starts `view` (PBFT §4.4 ⟨NEW-VIEW, v+1, V, O⟩): 2F + 1 signed view-changes for
 * it (V) and the pre-prepares (O) that every receiver recomputes from V and must find equal.
 */
export interface NewViewMessage {
  readonly type: 'new-view';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly view: number;
  readonly viewChanges: readonly SignedViewChange[];
  readonly prePrepares: readonly NewViewPrePrepare[];
}

/** A one-shot quorum vote (issue 13 item 2): `origin` asks every member for its answer to `proposal`. */
export interface VoteRequestMessage {
  readonly type: 'vote-request';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  /** `<origin>/<counter>`: unique per origin. */
  readonly voteId: string;
  readonly proposal: Uint8Array;
}

/**
 * A member's answer to a vote. Link-authenticated only: it goes straight to the member that
 * asked and is never relayed, so no third party needs to check it.
 */
export interface VoteAnswerMessage {
  readonly type: 'vote-answer';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly voteId: string;
  readonly value: Uint8Array;
}

/**
 * Where a replica stands, sent to every replica every `statusIntervalTicks` (TOCS §5.2's
 * receiver-based retransmission): a peer that sees it behind resends what it is missing. Link-
 * authenticated; it promises nothing, and a lie in it costs the liar at most one retransmission
 * per interval.
 */
export interface StatusMessage {
  readonly type: 'status';
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  readonly view: number;
  readonly viewChanging: boolean;
  readonly lastExecutedSeq: number;
  readonly stableSeq: number;
}

export type BftMessage =
  | RequestMessage
  | PrePrepareMessage
  | PrepareMessage
  | CommitMessage
  | ReplyMessage
  | CheckpointMessage
  | ViewChangeMessage
  | NewViewMessage
  | VoteRequestMessage
  | VoteAnswerMessage
  | StatusMessage;

export type BftMessageType = BftMessage['type'];

export const bftMessageTypes: readonly BftMessageType[] = [
  'request',
  'pre-prepare',
  'prepare',
  'commit',
  'reply',
  'checkpoint',
  'view-change',
  'new-view',
  'vote-request',
  'vote-answer',
  'status',
];

/** Messages a replica takes (a reply goes to clients only; `BftClient` takes it). */
export type ReplicaMessage = Exclude<BftMessage, ReplyMessage>;
