/**
 * What a replica refused, dropped or noticed, counted (never thrown, never an event per message:
 * STYLE.md, validate-and-drop plus a counter for others' input). A refusal counter that climbs on
 * a healthy cluster is worth a look; one that climbs under attack is the attack being refused.
 */

/** Why the validator (validate-bft.ts) refused a message, before any field reached the engine. */
export const bftRefusalCodes = [
  'NOT_A_MAP',
  'UNKNOWN_TYPE',
  'BAD_FIELDS',
  'BAD_VALUE',
  'OUT_OF_RANGE',
  'TOO_MANY_ITEMS',
  'TOO_LARGE',
  'BAD_ID',
  'BAD_DIGEST',
  'INCONSISTENT',
] as const;

export type BftRefusalCode = (typeof bftRefusalCodes)[number];

export interface BftCounters {
  readonly refused: Record<BftRefusalCode, number>;
  /** Messages for another node, from ourselves, or that only a replica may send from a non-replica. */
  messagesMisrouted: number;
  /** Messages whose signed content names another sender than the authenticated `from` (a checkpoint, view-change or request of someone else). */
  wrongSender: number;
  /** Normal-case messages of a view below ours, or above it (PBFT §4.2 accepts only the current view). */
  staleView: number;
  futureView: number;
  /** Sequence numbers outside the watermarks (PBFT §4.2). */
  outsideWatermarks: number;
  /** Pre-prepares from a replica that is not the primary of their view. */
  notPrimary: number;
  /** A second pre-prepare for a (view, seq) already accepted with another digest: the primary equivocated (PBFT §4.2). */
  equivocations: number;
  /** Prepares or commits for a digest other than the accepted pre-prepare's (counted; they never form a certificate). */
  digestMismatches: number;
  /** Signatures that failed verification, by what they signed. */
  badSignatures: number;
  /** Client requests refused: bad signature, or relayed from a replica with another client's id. */
  requestsInvalid: number;
  /** Pre-prepares whose batch digest is not the digest of their batch (evidence against the primary). */
  badBatchDigests: number;
  /** Pre-prepares refused whole: a request in them failed, too many bytes, or a duplicate request. */
  prePreparesRefused: number;
  /** View-changes refused: a certificate that does not check out (forged, short of proofs, wrong view). */
  viewChangesRefused: number;
  /** New-views refused: short of view-changes, or an O that is not the one V gives. */
  newViewsRefused: number;
  /** Inputs dropped because `cryptoRequestsPendingMax` requests were outstanding. */
  cryptoBusy: number;
  /** Messages dropped because their sender had `perSenderPendingMax` waiting already (Aardvark §4.4). */
  perSenderDropped: number;
  /** Requests dropped from a full pending queue (`pendingRequestsMax`). */
  requestsDropped: number;
  /** Retries of an executed request answered from the reply cache (PBFT §4.1). */
  repliesResent: number;
  /** Requests ordered again whose timestamp was not above their client's last executed one: not applied (exactly-once). */
  duplicatesSkipped: number;
  /** Requests whose timestamp is below the client's last reply: ignored (PBFT §4.1). */
  requestsStale: number;
  /** Read-only requests dropped (`readsPendingMax`), and answers for reads we do not hold. */
  readsDropped: number;
  /** Vote answers for no vote of ours, from a non-member or a second time from one member. */
  voteAnswersIgnored: number;
  /** Vote questions dropped (`voteQuestionsPendingMax`). */
  voteQuestionsDropped: number;
  /** Messages dropped from a full outbox, events from a full event queue. */
  messagesDropped: number;
  eventsDropped: number;
  /** Checkpoints held for no interval of ours or outside the window; certificates that became stable. */
  checkpointsIgnored: number;
  checkpointsStable: number;
  /** Messages resent to peers whose status showed them behind (TOCS §5.2), new-views relayed, our view-changes resent. */
  retransmissions: number;
  newViewsRelayed: number;
  viewChangesResent: number;
  /** View changes this replica started, and new views it entered. */
  viewChangesStarted: number;
  viewsEntered: number;
  /** Batches ordered (as primary), executed, and requests executed. */
  batchesProposed: number;
  batchesExecuted: number;
  /** Batches re-executed at boot from the committed log (ready.ts `CommittedBatch`). */
  batchesReplayed: number;
  requestsExecuted: number;
}

export function createBftCounters(): BftCounters {
  return {
    refused: Object.fromEntries(bftRefusalCodes.map((c) => [c, 0])) as Record<BftRefusalCode, number>,
    messagesMisrouted: 0,
    wrongSender: 0,
    staleView: 0,
    futureView: 0,
    outsideWatermarks: 0,
    notPrimary: 0,
    equivocations: 0,
    digestMismatches: 0,
    badSignatures: 0,
    requestsInvalid: 0,
    badBatchDigests: 0,
    prePreparesRefused: 0,
    viewChangesRefused: 0,
    newViewsRefused: 0,
    cryptoBusy: 0,
    perSenderDropped: 0,
    requestsDropped: 0,
    repliesResent: 0,
    duplicatesSkipped: 0,
    requestsStale: 0,
    readsDropped: 0,
    voteAnswersIgnored: 0,
    voteQuestionsDropped: 0,
    messagesDropped: 0,
    eventsDropped: 0,
    checkpointsIgnored: 0,
    checkpointsStable: 0,
    retransmissions: 0,
    newViewsRelayed: 0,
    viewChangesResent: 0,
    viewChangesStarted: 0,
    viewsEntered: 0,
    batchesProposed: 0,
    batchesExecuted: 0,
    batchesReplayed: 0,
    requestsExecuted: 0,
  };
}
