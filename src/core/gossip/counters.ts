/**
 * What a gossip node refused, dropped or noticed, counted (never thrown, never an event per
 * message: STYLE.md, validate-and-drop plus a counter for others' input). Exported through
 * `GossipStatus.counters`; a refusal counter that climbs on a healthy swarm is worth a look, one
 * that climbs under attack is the attack being refused.
 */
import { crdtRefusalReasons, type CrdtRefusalReason } from '../crdt/refusal.ts';
import type { GossipRefusalCode } from './validate-gossip.ts';

export interface GossipCounters {
  /** Messages refused by the validator, by reason (validate-gossip.ts). */
  readonly refused: Record<GossipRefusalCode, number>;
  /** Messages for another node or from ourselves. */
  messagesMisrouted: number;
  /** Messages that arrived while this node had not joined, or had left. */
  messagesWhileInactive: number;
  /** Messages from a sender we do not know that only members may send (all but join and sync). */
  messagesFromNonMembers: number;
  /** Updates about a member refused for an incarnation far above what we know (limits.ts `incarnationJumpMax`). */
  incarnationJumpsRefused: number;
  /** Members not added because the table was full of live members (`membersMax`). */
  membersRefused: number;
  /** Updates ignored as stale, or about members we do not know (suspect/dead of a stranger). */
  updatesIgnored: number;
  /** Updates dropped from a full broadcast queue (`broadcastQueueMax`). */
  broadcastsEvicted: number;
  /** Acks and nacks that answer no probe of ours. */
  acksUnexpected: number;
  /** Ping-reqs not relayed: too many relays running (`relaysPendingMax`), or the target unknown. */
  relaysRefused: number;
  /** Join answers not sent: too many this period (`syncRepliesPerPeriodMax`). */
  syncsRefused: number;
  /** Grafts refused (mesh full, or the sender backed off): each is answered by a prune. */
  graftsRefused: number;
  /** Messages dropped from a full outbox (`outboxMessagesMax`): the host is not taking Readies. */
  messagesDropped: number;
  /** Events dropped from a full event queue (`eventsPendingMax`), oldest first. */
  eventsDropped: number;
  /** Probes answered (directly or through a relay). */
  probesAcked: number;
  /** Probes that ended with no ack: their target became suspect. */
  probesFailed: number;
  /** Suspicions of ourselves we refuted by raising our incarnation (SWIM §4.2). */
  refutations: number;
  /** Suspicions we could not refute: our incarnation is at `incarnationMax`. */
  refutationsImpossible: number;
  /** Members this node declared dead when their suspicion expired. */
  membersDeclaredDead: number;
  /** Pings to a member we hold dead, in case it is alive after all (Serf's reconnect). */
  reconnects: number;
  /** Stale suspicions of ourselves answered by our alive at our current incarnation, again. */
  reassertions: number;

  // ---- the replication data plane ----
  /** Peers' states and deltas refused by the registry's `decode`, by reason (src/core/crdt/refusal.ts). */
  readonly crdtRefused: Record<CrdtRefusalReason, number>;
  /** Peers' states naming a CRDT this node has no room for (`crdtsMax`, `crdtBytesMax`). */
  crdtsRefused: number;
  /** Deltas received in pushes. */
  deltasReceived: number;
  /** Deltas dropped unread: their id was seen before. */
  deltasDuplicate: number;
  /** Deltas and states merged that changed a state here (news). */
  statesMerged: number;
  /** Deltas and states merged that changed nothing (already known: the causal context covered them). */
  statesStale: number;
  /** Deltas forwarded (one per neighbour sent to). */
  deltasForwarded: number;
  /** Deltas dropped from a full pending queue (`deltasPendingMax`), or with no neighbour to go to. */
  deltasDropped: number;
  /** States too large to ship whole by anti-entropy (a merge passed `stateValuesMax` or `crdtStateBytesMax`). */
  statesUnshippable: number;
  /** Data messages sent, and their estimated bytes (msgpack of the body), by purpose. */
  pushMessagesSent: number;
  pushBytesSent: number;
  antiEntropyMessagesSent: number;
  antiEntropyBytesSent: number;
  /** Anti-entropy exchanges started, finished, given up for silence. */
  antiEntropyStarted: number;
  antiEntropyCompleted: number;
  antiEntropyTimeouts: number;
  /** Names found to differ by exchanges this node started. */
  antiEntropyNamesDiffering: number;
  /** Merkle messages refused: undecodable, or not fitting our tree or our bounds (the exchange is given up). */
  antiEntropyRefused: number;
  /** Answers not given: the budget of the interval was spent (`antiEntropyAnswersPerIntervalMax`). */
  antiEntropyAnswersRefused: number;
  /** Anti-entropy responses for no exchange of ours (late, or from another peer). */
  antiEntropyUnexpected: number;
}

export function createGossipCounters(refusalCodes: readonly GossipRefusalCode[]): GossipCounters {
  const refused = Object.fromEntries(refusalCodes.map((code) => [code, 0])) as Record<GossipRefusalCode, number>;
  return {
    refused,
    messagesMisrouted: 0,
    messagesWhileInactive: 0,
    messagesFromNonMembers: 0,
    incarnationJumpsRefused: 0,
    membersRefused: 0,
    updatesIgnored: 0,
    broadcastsEvicted: 0,
    acksUnexpected: 0,
    relaysRefused: 0,
    syncsRefused: 0,
    graftsRefused: 0,
    messagesDropped: 0,
    eventsDropped: 0,
    probesAcked: 0,
    probesFailed: 0,
    refutations: 0,
    refutationsImpossible: 0,
    reconnects: 0,
    reassertions: 0,
    membersDeclaredDead: 0,
    crdtRefused: Object.fromEntries(crdtRefusalReasons.map((reason) => [reason, 0])) as Record<CrdtRefusalReason, number>,
    crdtsRefused: 0,
    deltasReceived: 0,
    deltasDuplicate: 0,
    statesMerged: 0,
    statesStale: 0,
    deltasForwarded: 0,
    deltasDropped: 0,
    statesUnshippable: 0,
    pushMessagesSent: 0,
    pushBytesSent: 0,
    antiEntropyMessagesSent: 0,
    antiEntropyBytesSent: 0,
    antiEntropyStarted: 0,
    antiEntropyCompleted: 0,
    antiEntropyTimeouts: 0,
    antiEntropyNamesDiffering: 0,
    antiEntropyRefused: 0,
    antiEntropyAnswersRefused: 0,
    antiEntropyUnexpected: 0,
  };
}
