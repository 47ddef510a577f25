/**
 * What simulated clients and nodes say to each other (the client side of a KV service behind
 * client sessions; Raft's own messages travel on a separate network).
 *
 * A request carries either
 *   - a `command`: an encoded session command (src/machines/sessions.ts), proposed through the
 *     log as is: a `register` (with a nonce, so that the node recognizes its own register when
 *     it is applied, even after forwarding it), or a `request` (clientId, seq, KV command) that
 *     the session layer applies at most once however often it is retried; or
 *   - a `read` served through ReadIndex (`index`) or the leader lease (`lease`), from the local
 *     state machine once its index is applied; it changes nothing, so it needs no session.
 *
 * A response is either `done` (the command was applied, or the read was served: the outcome is
 * certain) or `rejected` (a DEFINITE failure of this attempt: it had no effect, e.g. NotLeader
 * or a proposal dropped before the leader accepted it). Silence means nothing: the client times
 * the attempt out and retries the same command. The `done` result of a command is the encoded
 * `SessionOutcome`; of a read, the encoded `KvResult`.
 */
import type { NodeId } from '../core/raft/types.ts';

/**
 * How a read is served: `log` proposes a read command through the log; `index` asks ReadIndex
 * (a quorum heartbeat round) and reads locally once applied; `lease` uses the leader lease.
 */
export type ReadMode = 'log' | 'index' | 'lease';

export type ClientRequestBody =
  | { readonly kind: 'command'; readonly command: Uint8Array }
  | { readonly kind: 'read'; readonly key: string; readonly mode: 'index' | 'lease' };

export interface ClientRequest {
  /** The simulated client (its network endpoint), not its session id. */
  readonly clientId: number;
  /** The client's own number for this operation (registrations included); attempts share it. */
  readonly requestId: number;
  /** Attempts of one operation (retries after a rejection or a silence) are numbered from 1. */
  readonly attempt: number;
  readonly body: ClientRequestBody;
}

export type RejectReason =
  | 'not-leader'
  | 'proposal-dropped'
  | 'read-dropped'
  /** The leader accepted it at (index, term), but another entry was committed at that index. */
  | 'superseded'
  | 'overloaded';

export type ClientOutcome =
  | { readonly type: 'done'; readonly result: Uint8Array }
  | { readonly type: 'rejected'; readonly reason: RejectReason; readonly leaderHint: NodeId | null };

export interface ClientResponse {
  readonly clientId: number;
  readonly requestId: number;
  readonly attempt: number;
  readonly node: NodeId;
  readonly outcome: ClientOutcome;
}

export type ClientMessage =
  | { readonly kind: 'request'; readonly request: ClientRequest }
  | { readonly kind: 'response'; readonly response: ClientResponse };

export function clientEndpoint(clientId: number): string {
  return `client-${clientId}`;
}
