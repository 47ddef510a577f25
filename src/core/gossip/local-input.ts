/**
 * What a node's own host asks of its gossip engine, as inputs to `step` like messages from peers
 * (src/core/engine.ts): tagged by `local`, so never confused with a peer's message (tagged by
 * `type`). The replication data plane adds its inputs (set a key, merge a delta) to this union
 * and its case to `GossipNode.stepLocal`; the exhaustive `switch` there makes the compiler ask.
 */
import type { ErrorCode } from '../error-code.ts';
import type { GossipMessage } from './messages.ts';
import type { GossipRefusalCode } from './validate-gossip.ts';
import type { NodeId } from './types.ts';

export type GossipLocalInput =
  /**
   * Join through `seeds` (members known from configuration, a signaling server, or persisted by
   * the host from the last run); none: be the first member. Also rejoins after a leave.
   */
  | { readonly local: 'join'; readonly seeds: readonly NodeId[] }
  /** Leave gracefully: members mark this node left at once instead of suspecting it. */
  | { readonly local: 'leave' }
  /**
   * The host heard from `member` outside gossip (a Raft heartbeat on the same authenticated
   * link): an arrival for its phi detector. A Raft leader heartbeats every tick or so, far more
   * often than SWIM probes anyone, so phi of the leader reacts within a few ticks of its crash.
   */
  | { readonly local: 'heard'; readonly member: NodeId };

/** What `step` takes: a peer's message or a local request. */
export type GossipInput = GossipMessage | GossipLocalInput;

/** What `step` answers when it takes an input. */
export type GossipStepAccepted =
  /** A peer's message was stepped (what the engine ignored in it is counted). */
  | { readonly kind: 'stepped' }
  /** A peer's message was refused by the validator and counted (`counters.refused[code]`). */
  | { readonly kind: 'dropped'; readonly code: GossipRefusalCode }
  /** A local request was taken. */
  | { readonly kind: 'accepted' }
  /** Nothing to do (a join while already a member, a leave while not one, news of a stranger). */
  | { readonly kind: 'unchanged' };

export type GossipRefusedReason = 'incarnation-exhausted' | 'invalid-seed';

/** A local request the engine will not take. */
export class GossipRefusedError extends Error {
  override readonly name = 'GossipRefusedError';
  readonly code: ErrorCode;
  readonly reason: GossipRefusedReason;
  constructor(reason: GossipRefusedReason, detail: string) {
    super(`gossip: ${reason} (${detail})`);
    this.reason = reason;
    // A node whose incarnation reached incarnationMax can never announce a new life: it is done.
    this.code = reason === 'incarnation-exhausted' ? 'STOPPED' : 'CONFIG';
  }
}

export type GossipStepRefused = GossipRefusedError;

export function isGossipLocalInput(input: GossipInput): input is GossipLocalInput {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, 'local');
}
