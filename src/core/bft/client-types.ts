/**
 * The BFT client's contract (PBFT §4.1, TOCS §5.1.3): a pure engine apart from the replica's, so
 * a page, a Node process or a replica's own node can run one. It signs each request (Aardvark
 * §4.1: asks its host, proof-requests.ts), sends it to the primary it believes in, accepts a result once
 * F + 1 replicas sent matching replies (2F + 1 for a read-only request), and on timeout sends it
 * to EVERY replica (PBFT §4.1: backups relay it to the primary and start their timers, so a
 * faulty primary is found out). One request outstanding at a time (PBFT §4.1), others queued.
 */
import type { EngineReady } from '../engine.ts';
import type { CryptoRequest, CryptoResult } from './proof-requests.ts';
import type { ReplyMessage, RequestMessage } from './messages.ts';
import type { ClientId, ExecutionOutcome, ReplicaId } from './types.ts';

export interface BftClientConfig {
  readonly id: ClientId;
  readonly replicas: readonly ReplicaId[];
  /** Without enough matching replies this long, the request goes to every replica again. */
  readonly retransmitTicks?: number;
  /** Requests queued behind the outstanding one. */
  readonly requestsQueuedMax?: number;
  /**
   * A read-only request that has not gathered 2F + 1 matching replies after this many
   * retransmissions is sent again as an ordinary, ordered request (TOCS §5.1.3: concurrent
   * writes can keep tentative answers apart).
   */
  readonly readOnlyRetriesMax?: number;
}

export type ClientInput =
  | ReplyMessage
  /** Submit an operation; answered `{ kind: 'submitted', timestamp }`. */
  | { readonly local: 'submit'; readonly op: Uint8Array; readonly readOnly: boolean }
  | { readonly local: 'crypto-result'; readonly result: CryptoResult };

export type ClientStepAccepted = { readonly kind: 'stepped' } | { readonly kind: 'submitted'; readonly timestamp: number };

export type ClientEvent =
  /** A request completed: F + 1 (read-only: 2F + 1) replicas replied alike. */
  | {
      readonly kind: 'completed';
      readonly timestamp: number;
      readonly readOnly: boolean;
      readonly outcome: ExecutionOutcome;
      readonly result: Uint8Array;
      /** The view the replies named (the client's next guess of the primary). */
      readonly view: number;
    }
  /** A request timed out and was sent to every replica. */
  | { readonly kind: 'retransmitted'; readonly timestamp: number };

/**
 * A client's Ready. PERSIST `timestamp` (the highest timestamp handed out) when `mustPersist`,
 * BEFORE the requests in `messagesAfterWrite` leave: a client restarting from disk must never
 * reuse a timestamp, or replicas would answer its new request with an old reply (exactly-once
 * is keyed on it).
 */
export interface ClientReady extends EngineReady<RequestMessage> {
  readonly timestamp: number | null;
  readonly cryptoRequests: readonly CryptoRequest[];
  readonly events: readonly ClientEvent[];
}
