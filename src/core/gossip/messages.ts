/**
 * Messages between gossip members: membership (SWIM, the mesh) and the replication data plane.
 * Every message is a readonly object with a string-literal `type`, handled by `switch` with an
 * exhaustive check; every count in it has a protocol bound (limits.ts) that validate-gossip.ts
 * enforces before the engine sees it.
 *
 * Membership news never travels in messages of its own: it rides on the probes (SWIM §4.1,
 * "piggybacking"), as `updates`. CRDT deltas do not ride there: a delta may be far larger than
 * the piggyback budget, and its spread follows its own fanout and TTL rather than SWIM's
 * retransmit count, so the data plane has messages of its own (`crdt-push`, `crdt-merkle`,
 * `crdt-states`), sent to mesh neighbours only.
 */
import type { CrdtTypeName } from '../crdt/crdt-type-name.ts';
import type { WireValue } from '../crdt/wire-reader.ts';
import type { NodeId } from './types.ts';

// ---- piggybacked updates (SWIM §4.1, §4.2) ----------------------------------------------------

/** `member` is alive at `incarnation` (a join, or a refutation of a suspicion). */
export interface AliveUpdate {
  readonly kind: 'alive';
  readonly member: NodeId;
  readonly incarnation: number;
}

/**
 * `by` suspects `member` at `incarnation` (SWIM §4.2). `by` matters for Lifeguard §IV-B: the
 * suspicion timeout shrinks with each INDEPENDENT suspecter, so the suspecter travels along.
 */
export interface SuspectUpdate {
  readonly kind: 'suspect';
  readonly member: NodeId;
  readonly incarnation: number;
  readonly by: NodeId;
}

/** `by` confirmed `member` faulty at `incarnation`: its suspicion timed out unrefuted (SWIM §4.2). */
export interface DeadUpdate {
  readonly kind: 'dead';
  readonly member: NodeId;
  readonly incarnation: number;
  readonly by: NodeId;
}

/** `member` left on purpose at `incarnation`; it rejoins only with a higher one. */
export interface LeftUpdate {
  readonly kind: 'left';
  readonly member: NodeId;
  readonly incarnation: number;
}

export type MemberUpdate = AliveUpdate | SuspectUpdate | DeadUpdate | LeftUpdate;

export type MemberUpdateKind = MemberUpdate['kind'];

export const memberUpdateKinds: readonly MemberUpdateKind[] = ['alive', 'suspect', 'dead', 'left'];

/**
 * What the broadcast queue carries and messages piggyback: membership updates (the data plane
 * sends its deltas in messages of its own, `crdt-push`).
 */
export type Piggyback = MemberUpdate;

/**
 * The dissemination queue's key of a piggyback: a newer item of the same key replaces the older
 * (broadcast-queue.ts). All updates about one member share a key: only its latest state matters.
 */
export function piggybackKey(p: Piggyback): string {
  return memberKey(p.member);
}

/** The queue key of a member's updates. */
export function memberKey(member: NodeId): string {
  return `m:${member}`;
}

// ---- messages --------------------------------------------------------------------------------

interface Head {
  readonly from: NodeId;
  readonly to: NodeId;
}

/**
 * A probe (SWIM §3.1). `seq` is the prober's; the answer echoes it. When the prober believes
 * `to` is suspect, the first update is that suspicion (Lifeguard §IV-C, the buddy system), so
 * the target can refute at once instead of waiting for gossip to reach it.
 */
export interface PingMessage extends Head {
  readonly type: 'ping';
  readonly seq: number;
  /**
   * Whether `to` is in the sender's mesh. Grafts and prunes can be lost; mesh neighbours ping each
   * other every few periods, so this flag repairs a one-sided mesh link (the receiver grafts or
   * prunes to match) without a protocol of acknowledgements for graft and prune.
   */
  readonly mesh: boolean;
  readonly updates: readonly Piggyback[];
}

/** The answer to a `ping`, or a relay's forward of the target's answer to a `ping-req`. */
export interface AckMessage extends Head {
  readonly type: 'ack';
  readonly seq: number;
  readonly updates: readonly Piggyback[];
}

/** Ask `to` to probe `target` for us (SWIM §3.1, the k indirect probes). */
export interface PingReqMessage extends Head {
  readonly type: 'ping-req';
  readonly seq: number;
  readonly target: NodeId;
  readonly updates: readonly Piggyback[];
}

/**
 * A relay's "I tried `target` and heard nothing" (memberlist's nack). It tells the prober that
 * the relay, at least, is reachable: a prober that gets neither acks nor nacks is more likely the
 * one at fault, and Lifeguard's local health (§IV-A) counts the missing nacks against itself.
 */
export interface NackMessage extends Head {
  readonly type: 'nack';
  readonly seq: number;
  readonly target: NodeId;
}

/** Eager push of fresh updates to a few mesh neighbours, between probes (gossipsub's mesh forward). */
export interface PushMessage extends Head {
  readonly type: 'push';
  readonly updates: readonly Piggyback[];
}

/** A node asks a known member (a seed) to let it in, at the incarnation it will be alive at. */
export interface JoinMessage extends Head {
  readonly type: 'join';
  readonly incarnation: number;
}

/**
 * A member entry of a `sync`: a member, its state and incarnation as the sender knows it. Dead
 * and left members travel too, while the sender retains them (memberlist's push-pull carries
 * every state): a member that missed a death or a leave learns it here instead of keeping a
 * ghost alive.
 */
export interface SyncEntry {
  readonly member: NodeId;
  readonly incarnation: number;
  readonly state: SyncState;
}

/** The states a sync entry may name (never `joining`: that is a node's own state, not a member's). */
export const syncStates = ['alive', 'suspect', 'dead', 'left'] as const;
export type SyncState = (typeof syncStates)[number];

/**
 * Members the sender knows (bounded), itself first, live and recently gone: the answer to a `join`, and the
 * periodic anti-entropy exchange (memberlist's push-pull) that heals views piggybacking missed,
 * such as a member forgotten by one side of a long partition. `wantReply` asks for the
 * receiver's own list back.
 */
export interface SyncMessage extends Head {
  readonly type: 'sync';
  readonly members: readonly SyncEntry[];
  readonly wantReply: boolean;
}

/** Ask `to` into our mesh (gossipsub v1.1 GRAFT); the mesh is kept symmetric. */
export interface GraftMessage extends Head {
  readonly type: 'graft';
}

/** Leave each other's mesh (gossipsub v1.1 PRUNE); the pruned side backs off before grafting again. */
export interface PruneMessage extends Head {
  readonly type: 'prune';
}

/** A graceful goodbye at `incarnation`: its receivers mark the sender left and spread the news. */
export interface LeaveMessage extends Head {
  readonly type: 'leave';
  readonly incarnation: number;
}

// ---- the replication data plane (replication.ts, anti-entropy.ts) ---------------------------------
//
// A CRDT is named by (`name`, `crdt`): two CRDTs of different types under one name are two CRDTs
// (Riak's choice, as the OR-Map's fields), so no peer can make a name's type conflict. States and
// deltas travel ENCODED (`crdtTypes[crdt].encode`: flat arrays, at most 5 deep), and are decoded
// by the engine when merged (the registry's `decode` is the door for a peer's state); the
// validator only bounds their shape and size.

/** One delta of a push: a state to merge, `ttl` more hops to travel. */
export interface DeltaItem {
  readonly name: string;
  readonly crdt: CrdtTypeName;
  /** Hops left: the receiver forwards it with ttl − 1 when that is above 0 (and it was news). */
  readonly ttl: number;
  readonly state: WireValue;
}

/** One whole state of an anti-entropy answer. */
export interface StateItem {
  readonly name: string;
  readonly crdt: CrdtTypeName;
  readonly state: WireValue;
}

/** A CRDT named, without its state (what `crdt-states` asks for). */
export interface CrdtRef {
  readonly name: string;
  readonly crdt: CrdtTypeName;
}

/**
 * Eager push of deltas to a few mesh neighbours (Almeida et al. 2018 §4, delta dissemination;
 * gossipsub's mesh forward with a TTL). Batched per tick per neighbour, bounded by
 * `dataItemsPerMessageMax` items and the node's `dataMessageBytesMax`.
 */
export interface CrdtPushMessage extends Head {
  readonly type: 'crdt-push';
  readonly deltas: readonly DeltaItem[];
}

/**
 * One step of a Merkle anti-entropy exchange (src/core/crdt/merkle-exchange.ts; DeCandia et al.
 * 2007 §4.7): `message` is an encoded Merkle request or response (merkle-messages.ts); a
 * response echoes its request's `exchange`, the initiator's number for the exchange.
 */
export interface CrdtMerkleMessage extends Head {
  readonly type: 'crdt-merkle';
  readonly exchange: number;
  readonly message: WireValue;
}

/**
 * The end of an exchange: the initiator's states of the names found to differ, and the names it
 * `want`s back; the answer (same `exchange`, nothing wanted) carries the responder's states of
 * those names that still differ from what it was sent. Bytes grow with the differing names only.
 */
export interface CrdtStatesMessage extends Head {
  readonly type: 'crdt-states';
  readonly exchange: number;
  readonly states: readonly StateItem[];
  readonly want: readonly CrdtRef[];
}

export type DataMessage = CrdtPushMessage | CrdtMerkleMessage | CrdtStatesMessage;

export const dataMessageTypes: readonly DataMessage['type'][] = ['crdt-push', 'crdt-merkle', 'crdt-states'];

export function isDataMessage(m: GossipMessage): m is DataMessage {
  return m.type === 'crdt-push' || m.type === 'crdt-merkle' || m.type === 'crdt-states';
}

export type GossipMessage =
  | DataMessage
  | PingMessage
  | AckMessage
  | PingReqMessage
  | NackMessage
  | PushMessage
  | JoinMessage
  | SyncMessage
  | GraftMessage
  | PruneMessage
  | LeaveMessage;

export type GossipMessageType = GossipMessage['type'];

/** The messages of the membership component (handle-message.ts); the data plane's are `DataMessage`. */
export type MembershipMessage = Exclude<GossipMessage, DataMessage>;

export const gossipMessageTypes: readonly GossipMessageType[] = [
  'ping',
  'ack',
  'ping-req',
  'nack',
  'push',
  'join',
  'sync',
  'graft',
  'prune',
  'leave',
  ...dataMessageTypes,
];

/** The piggybacked updates of a message, or none for the kinds that carry none. */
export function updatesOf(m: GossipMessage): readonly Piggyback[] {
  switch (m.type) {
    case 'ping':
    case 'ack':
    case 'ping-req':
    case 'push':
      return m.updates;
    default:
      return [];
  }
}

/**
 * Whether a message claims this node's own incarnation, so must leave only AFTER that
 * incarnation is durable (engine.ts step 4): a node restarting from disk must never reuse an
 * incarnation it already announced, or its refutation would be ignored as stale by those who
 * heard the first announcement (SWIM §4.2 orders claims by incarnation alone).
 */
export function claimsIncarnationOf(m: GossipMessage, self: NodeId): boolean {
  if (m.from !== self) return false;
  if (m.type === 'join' || m.type === 'leave' || m.type === 'sync') return true;
  return updatesOf(m).some((u) => u.member === self);
}

/**
 * An upper bound of the bytes one update takes on the wire (msgpack: a map of four short keys
 * and values; each id at most 3 bytes of UTF-8 per UTF-16 unit). The broadcast queue packs
 * updates under `piggybackBytesPerMessageMax` by this estimate, so a piggyback never makes a
 * probe exceed what a data channel frame comfortably carries.
 */
export function updateBytesEstimate(u: Piggyback): number {
  const by = u.kind === 'suspect' || u.kind === 'dead' ? u.by.length : 0;
  return 48 + 3 * (u.member.length + by);
}
