/**
 * Messages between gossip members. Every message is a readonly object with a string-literal
 * `type`, handled by `switch` with an exhaustive check; every count in it has a protocol bound
 * (limits.ts) that validate-gossip.ts enforces before the engine sees it.
 *
 * Membership news never travels in messages of its own: it rides on the probes (SWIM §4.1,
 * "piggybacking"), as `updates`. An update is one kind of `Piggyback`; the replication data
 * plane adds its own kinds to that union later, and the same broadcast queue carries them.
 */
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
 * What the broadcast queue carries and messages piggyback. Only membership today; the data
 * plane (delta CRDTs) adds its kinds to this union and its handler to the engine.
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

/** A member entry of a `sync`: a live member and its incarnation as the sender knows it. */
export interface SyncEntry {
  readonly member: NodeId;
  readonly incarnation: number;
  readonly suspect: boolean;
}

/**
 * Live members the sender knows (bounded), itself first: the answer to a `join`, and the
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

export type GossipMessage =
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
