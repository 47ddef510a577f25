/**
 * Protocol constants of the BFT engine: the same on every replica, because a value one replica
 * accepts and another refuses would split the honest replicas' views of one message (unlike
 * `BftConfig`, whose limits bound one replica's own memory and traffic). validate-bft.ts refuses
 * any message that breaks them before a field of it reaches the engine.
 */

/**
 * The highest view a replica ever moves to, as Raft's `termMax`: a peer must never hand a replica
 * a number it cannot count up from (a view-change "to view 2^53 - 1" would leave `view + 1`
 * unsafe). One view change a second would take nine million years to get there.
 */
export const viewMax = 2 ** 48;

/** The highest sequence number (PBFT §4.2 `n`); the same argument as `viewMax`. */
export const seqMax = 2 ** 48;

/** The highest client timestamp (PBFT §4.1 `t`, a per-client counter the client increments). */
export const timestampMax = 2 ** 48;

/** Most replicas of one cluster (N = 3F + 1 <= 64, so F <= 21). */
export const replicasMax = 64;

/** Longest replica or client id, in UTF-16 code units (the codec's ids are at most 128 code points). */
export const idUnitsMax = 128;

/** A digest is SHA-256 as 64 lowercase hex characters, computed by the host, never by core. */
export const digestChars = 64;

/** Longest signature in bytes (ECDSA P-256 raw is 64, Ed25519 64; room for others). */
export const signatureBytesMax = 256;

/** Largest operation of one client request, in bytes. */
export const opBytesMax = 64 * 1024;

/** Largest result of one execution, in bytes (a reply carries it). */
export const resultBytesMax = 256 * 1024;

/** Most requests one pre-prepare may carry (the config's `batchRequestsMax` may not exceed it). */
export const requestsPerBatchMax = 256;

/** Most op bytes one pre-prepare may carry, all requests together (`batchBytesMax` may not exceed it). */
export const batchBytesCeiling = 1024 * 1024;

/**
 * Most sequence numbers between the low and high watermarks (PBFT §4.3 `L`): a view-change
 * carries at most this many prepared certificates, a new-view at most this many pre-prepares.
 */
export const watermarkWindowSeqsMax = 256;

/** Largest proposal of a one-shot vote, and largest answer, in bytes. */
export const voteProposalBytesMax = 64 * 1024;
export const voteValueBytesMax = 64 * 1024;

/** Longest vote id, in UTF-16 code units (`<origin>/<counter>`). */
export const voteIdUnitsMax = 160;
