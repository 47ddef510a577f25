/**
 * What simulated clients and nodes say to each other (the client side of a KV service; Raft's
 * own messages travel on a separate network).
 *
 * A response is either `done` (the command was applied, or the read was served: the outcome is
 * certain) or `rejected` (a DEFINITE failure: the request had no effect, e.g. NotLeader or a
 * proposal dropped before the leader accepted it). Silence means nothing: the client times out
 * and records the outcome as unknown.
 */
import type { NodeId } from '../core/raft/types.ts';
import type { KvCommand, KvResult } from '../machines/kv.ts';

/**
 * How a read is served: `log` proposes a read command through the log; `index` asks ReadIndex
 * (a quorum heartbeat round) and reads locally once applied; `lease` uses the leader lease.
 */
export type ReadMode = 'log' | 'index' | 'lease';

export interface ClientRequest {
  readonly clientId: number;
  readonly requestId: number;
  /** Retries of one operation after definite rejections share the request id. */
  readonly attempt: number;
  readonly command: KvCommand;
  readonly readMode: ReadMode;
}

export type RejectReason =
  | 'not-leader'
  | 'proposal-dropped'
  | 'read-dropped'
  /** The leader accepted it at (index, term), but another entry was committed at that index. */
  | 'superseded'
  | 'overloaded';

export type ClientOutcome =
  | { readonly type: 'done'; readonly result: KvResult }
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
