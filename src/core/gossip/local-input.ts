/**
 * What a node's own host asks of its gossip engine, as inputs to `step` like messages from peers
 * (src/core/engine.ts): tagged by `local`, so never confused with a peer's message (tagged by
 * `type`). The replication data plane adds its inputs (set a key, merge a delta) to this union
 * and its case to `GossipNode.stepLocal`; the exhaustive `switch` there makes the compiler ask.
 */
import type { CrdtTypeName } from '../crdt/crdt-type-name.ts';
import type { CrdtRefusalReason } from '../crdt/refusal.ts';
import type { ErrorCode } from '../error-code.ts';
import type { CrdtOp } from './crdt-op.ts';
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
  | { readonly local: 'heard'; readonly member: NodeId }
  /**
   * Hold the CRDT (`name`, `crdt`) from now on, empty if new (it counts against `crdtsMax`;
   * nothing is persisted or sent until it is updated). Reading a CRDT never needs this.
   */
  | { readonly local: 'crdt-open'; readonly name: string; readonly crdt: CrdtTypeName }
  /**
   * Update the CRDT (`name`, `op.type`), creating it if new. Taken whether or not the node has
   * joined (offline edits are the point): the change is persisted by the next Ready and its
   * delta pushed, after that write, to mesh neighbours as soon as there are any.
   */
  | { readonly local: 'crdt-update'; readonly name: string; readonly op: CrdtOp };

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

export type GossipRefusedReason =
  | 'incarnation-exhausted'
  | 'invalid-seed'
  /** A CRDT name, op or value the CRDT cannot take (`crdtReason` says which, from src/core/crdt/refusal.ts). */
  | 'crdt-argument'
  /** The store is full (`crdtsMax` CRDTs, or `crdtBytesMax` bytes of state). */
  | 'crdts-full'
  /** The update would make the state larger than `crdtStateBytesMax` or `stateValuesMax`. */
  | 'crdt-too-large';

/** A local request the engine will not take. */
export class GossipRefusedError extends Error {
  override readonly name = 'GossipRefusedError';
  readonly code: ErrorCode;
  readonly reason: GossipRefusedReason;
  /** For `crdt-argument`: the CRDT's own reason (an overflow, a key too long...). */
  readonly crdtReason: CrdtRefusalReason | null;
  constructor(reason: GossipRefusedReason, detail: string, code?: ErrorCode, crdtReason: CrdtRefusalReason | null = null) {
    super(`gossip: ${reason} (${detail})`);
    this.reason = reason;
    this.crdtReason = crdtReason;
    this.code = code ?? defaultCode(reason);
  }
}

function defaultCode(reason: GossipRefusedReason): ErrorCode {
  switch (reason) {
    case 'incarnation-exhausted':
      // A node whose incarnation reached incarnationMax can never announce a new life: it is done.
      return 'STOPPED';
    case 'crdts-full':
    case 'crdt-too-large':
      return 'TOO_LARGE';
    default:
      return 'CONFIG';
  }
}

export type GossipStepRefused = GossipRefusedError;

export function isGossipLocalInput(input: GossipInput): input is GossipLocalInput {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, 'local');
}
