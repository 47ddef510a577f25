/**
 * The vocabulary of the BFT engine (PBFT, Castro & Liskov OSDI'99 / TOCS'02): ids, digests,
 * signatures, client requests and the certificates that third parties check.
 *
 * Digests and signatures are never computed in core (DESIGN.md §1: no crypto). A `Digest` is a
 * SHA-256 the host computed; a `Signature` is bytes the host made with a member's identity key
 * (or a client's key) and that any host can check with the signer's public key. See proof-requests.ts for
 * how the engine asks for them and ready.ts for where the answers come back.
 */

/** A replica's node id (a member of the cluster). */
export type ReplicaId = string;
/** A client's id: the authenticated peer a request came from (a client may also be a replica's node). */
export type ClientId = string;
/** SHA-256, 64 lowercase hex characters, computed by the host (limits.ts `digestChars`). */
export type Digest = string;
/** A signature made by the host with an identity key; opaque to core, at most `signatureBytesMax` bytes. */
export type Signature = Uint8Array;

/**
 * What a client signs (PBFT §4.1 ⟨REQUEST, o, t, c⟩, with Aardvark §4.1's signed requests): the
 * operation, the client's timestamp and whether it is read-only (TOCS §5.1.3).
 */
export interface RequestBody {
  readonly client: ClientId;
  /** Strictly increasing per client: the exactly-once key (PBFT §4.1). */
  readonly timestamp: number;
  readonly op: Uint8Array;
  readonly readOnly: boolean;
}

/**
 * A client request as replicas hold it: the body, the client's signature over it, and its
 * digest.
 *
 * `digest` NEVER comes from the wire: the host's decoder computes it (SHA-256 of the body's
 * canonical encoding, the bytes the signature covers) for every request it decodes, whether it
 * arrived alone or inside a pre-prepare or a certificate. A sender cannot forge it, so two
 * replicas holding the same digest hold the same body; a body whose signature fails is caught by
 * the `verify` the engine asks for before it orders or accepts the request.
 */
export interface SignedRequest extends RequestBody {
  readonly signature: Signature;
  readonly digest: Digest;
}

/**
 * A replica's signed checkpoint (PBFT §4.3 ⟨CHECKPOINT, n, d, i⟩): its state after executing
 * `seq` has digest `stateDigest`. 2F + 1 matching ones from distinct replicas prove a stable
 * checkpoint to anyone.
 */
export interface SignedCheckpoint {
  readonly replica: ReplicaId;
  readonly seq: number;
  readonly stateDigest: Digest;
  readonly signature: Signature;
}

/**
 * The primary's signed pre-prepare header (PBFT §4.2 ⟨PRE-PREPARE, v, n, d⟩): the batch of
 * requests travels beside it; `digest` is the batch digest (proof-requests.ts `batch` payload: SHA-256
 * over the ordered request digests; the empty list is the null request of §4.4).
 */
export interface PrePrepareHeader {
  readonly view: number;
  readonly seq: number;
  readonly digest: Digest;
  readonly signature: Signature;
}

/** A backup's signed prepare (PBFT §4.2 ⟨PREPARE, v, n, d, i⟩), as kept in a certificate. */
export interface SignedPrepare {
  readonly replica: ReplicaId;
  readonly signature: Signature;
}

/**
 * A prepared certificate (PBFT §4.4 the set P of a view-change): the pre-prepare for (view, seq,
 * digest) signed by that view's primary, with its batch, and 2F prepares for the same triple
 * signed by distinct backups. Anyone holding the members' public keys can check it.
 */
export interface PreparedCertificate {
  readonly prePrepare: PrePrepareHeader;
  readonly requests: readonly SignedRequest[];
  readonly prepares: readonly SignedPrepare[];
}

/** A stable checkpoint's proof: 2F + 1 signed checkpoints for the same (seq, stateDigest). */
export interface CheckpointCertificate {
  readonly seq: number;
  readonly stateDigest: Digest;
  readonly proofs: readonly SignedCheckpoint[];
}

/** How an execution ended (a machine that throws is `rejected`, alike on every replica: the host's business). */
export type ExecutionOutcome = 'ok' | 'rejected';
