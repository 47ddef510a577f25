/**
 * BFT replica configuration: validated once when a replica is created, with the relations
 * between the numbers checked (N = 3F + 1, the watermark window a multiple of the checkpoint
 * interval, batch bounds within the protocol's). Times are ticks (the runtime ticks every 10 ms
 * by default).
 */
import { ConfigError } from '../raft/errors.ts';
import { batchBytesCeiling, idUnitsMax, replicasMax, requestsPerBatchMax, watermarkWindowSeqsMax } from './limits.ts';
import type { ReplicaId } from './types.ts';

export interface BftConfig {
  readonly id: ReplicaId;
  /**
   * Every replica, in the order that fixes the primary of each view: the primary of view v is
   * `replicas[v mod N]` (PBFT §4.1). The same list on every replica; N = 3F + 1 with F >= 1.
   */
  readonly replicas: readonly ReplicaId[];
  /** K of PBFT §4.3: a checkpoint every K sequence numbers. */
  readonly checkpointIntervalSeqs?: number;
  /** L of PBFT §4.3: high watermark = low watermark + L (default 2K; a multiple of K). */
  readonly watermarkWindowSeqs?: number;
  /** Most requests in one pre-prepare (TOCS §5.1.4), at most `requestsPerBatchMax`. */
  readonly batchRequestsMax?: number;
  /** Most op bytes in one pre-prepare, at most `batchBytesCeiling`. */
  readonly batchBytesMax?: number;
  /**
   * The primary keeps at most this many batches in flight (pre-prepared, not yet executed);
   * requests arriving meanwhile wait and go out in fuller batches (TOCS §5.1.4's sliding window).
   */
  readonly batchesInFlightMax?: number;
  /**
   * A backup that holds a request it has not seen executed for this long suspects the primary
   * and starts a view change (PBFT §4.4's timer).
   */
  readonly requestTimeoutTicks?: number;
  /**
   * Aardvark §4.3: with requests pending, a primary must issue a pre-prepare at least this often;
   * a backup that waits longer votes to change view (a slow primary is replaced).
   */
  readonly prePrepareIntervalTicksMax?: number;
  /**
   * How long a replica waits for the new view after sending its view-change before moving to the
   * next view; doubled for each consecutive view change (PBFT §4.5.2).
   */
  readonly viewChangeTimeoutTicks?: number;
  /**
   * Every this many ticks a replica tells the others where it stands (`status`), and a peer
   * behind it gets what it missed, at most once per interval per peer (TOCS §5.2).
   */
  readonly statusIntervalTicks?: number;
  /** Requests a replica holds waiting to be ordered (the primary's queue, a backup's watch list). */
  readonly pendingRequestsMax?: number;
  /** Clients whose last reply is cached for exactly-once (PBFT §4.1); the least recently served is forgotten past it. */
  readonly clientsMax?: number;
  /** Crypto requests outstanding at the host (proof-requests.ts). */
  readonly cryptoRequestsPendingMax?: number;
  /** Items of one verify request (a view-change with its certificates is one request). */
  readonly verifyItemsPerRequestMax?: number;
  /**
   * Messages from one sender waiting on crypto (Aardvark §4.4: a flooding replica fills its own
   * queue, never the others'); more are dropped and counted.
   */
  readonly perSenderPendingMax?: number;
  /** Read-only requests waiting for the host's tentative execution. */
  readonly readsPendingMax?: number;
  /** Votes this replica runs at once (issue 13 item 2), and questions from others awaiting our answer. */
  readonly votesPendingMax?: number;
  readonly voteQuestionsPendingMax?: number;
  /** Messages and events a Ready may hold; past them the oldest are dropped and counted (the host is not taking Readies). */
  readonly outboxMessagesMax?: number;
  readonly eventsPendingMax?: number;
}

export type ResolvedBftConfig = Required<BftConfig> & {
  /** F: the faults tolerated, (N - 1) / 3. */
  readonly f: number;
};

export const bftDefaults = {
  checkpointIntervalSeqs: 16,
  watermarkWindowSeqs: 32,
  batchRequestsMax: 64,
  batchBytesMax: 256 * 1024,
  batchesInFlightMax: 4,
  requestTimeoutTicks: 200,
  prePrepareIntervalTicksMax: 50,
  viewChangeTimeoutTicks: 200,
  statusIntervalTicks: 20,
  pendingRequestsMax: 4096,
  clientsMax: 10_000,
  cryptoRequestsPendingMax: 1024,
  verifyItemsPerRequestMax: 4096,
  perSenderPendingMax: 256,
  readsPendingMax: 1024,
  votesPendingMax: 16,
  voteQuestionsPendingMax: 64,
  outboxMessagesMax: 65_536,
  eventsPendingMax: 1024,
} as const;

type NumberKey = keyof typeof bftDefaults;

export function resolveBftConfig(config: BftConfig): ResolvedBftConfig {
  const watermarkWindowSeqs = config.watermarkWindowSeqs ?? 2 * (config.checkpointIntervalSeqs ?? bftDefaults.checkpointIntervalSeqs);
  const merged = { ...bftDefaults, ...config, watermarkWindowSeqs };
  if (typeof merged.id !== 'string' || merged.id.length === 0 || merged.id.length > idUnitsMax) throw new ConfigError('id must be a non-empty string of at most 128 units');
  for (const name of Object.keys(bftDefaults) as NumberKey[]) {
    const v = merged[name];
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${v}`);
  }
  const n = merged.replicas.length;
  if (n < 4 || n > replicasMax || (n - 1) % 3 !== 0) throw new ConfigError(`replicas must number 3F + 1 with 1 <= F and N <= ${replicasMax}, got ${n}`);
  if (new Set(merged.replicas).size !== n) throw new ConfigError('replicas must be distinct');
  if (merged.replicas.some((r) => typeof r !== 'string' || r.length === 0 || r.length > idUnitsMax)) throw new ConfigError('replica ids must be non-empty strings');
  if (!merged.replicas.includes(merged.id)) throw new ConfigError(`id ${merged.id} is not among the replicas`);
  // PBFT §4.3: the window must hold whole checkpoint intervals so that a stable checkpoint always moves it.
  if (watermarkWindowSeqs % merged.checkpointIntervalSeqs !== 0 || watermarkWindowSeqs < merged.checkpointIntervalSeqs) {
    throw new ConfigError(`watermarkWindowSeqs (${watermarkWindowSeqs}) must be a multiple of checkpointIntervalSeqs (${merged.checkpointIntervalSeqs})`);
  }
  if (watermarkWindowSeqs > watermarkWindowSeqsMax) throw new ConfigError(`watermarkWindowSeqs must be at most ${watermarkWindowSeqsMax}`);
  if (merged.batchRequestsMax > requestsPerBatchMax) throw new ConfigError(`batchRequestsMax must be at most ${requestsPerBatchMax}: receivers refuse more`);
  if (merged.batchBytesMax > batchBytesCeiling) throw new ConfigError(`batchBytesMax must be at most ${batchBytesCeiling}: receivers refuse more`);
  return { ...merged, f: (n - 1) / 3 };
}

/** The primary of `view` (PBFT §4.1). */
export function primaryOf(replicas: readonly ReplicaId[], view: number): ReplicaId {
  return replicas[view % replicas.length] as ReplicaId;
}
