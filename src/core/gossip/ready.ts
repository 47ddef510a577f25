/**
 * One batch of work for the gossip engine's host (src/core/engine.ts states the order every
 * engine's Ready follows). In gossip's terms:
 *
 *   1. SEND `messagesBeforeWrite` at once: probes, acks, pushes, mesh control, everything that
 *      does not claim this node's own incarnation. DELIVER `events` (all of them:
 *      `appliedBeforeWrite` covers every event; they promise nothing about the disk).
 *   2. PERSIST (`mustPersist`) `incarnation` when it is not null: the highest incarnation this
 *      node announced (a restart boots from it, `GossipBoot`, and joins one above it); and
 *      every CRDT of `crdts`, whole, replacing the record of its (name, type) (a restart boots
 *      from them, `GossipBoot.crdts`; a CRDT changed since is handed out again, coalesced by
 *      `crdtPersistIntervalTicks`). One transaction for both is best; both must be durable
 *      before step 3.
 *   3. Only AFTER step 2 is durable, SEND `messagesAfterWrite`: the messages that claim that
 *      incarnation (a refutation's alive update, a join, a sync, a leave), and, while
 *      this life made a CRDT update and its number is not durable yet, every data message
 *      (pushes, anti-entropy). Sent earlier, a crash could make this node announce the same
 *      incarnation twice in two lives, and members that heard the first would ignore the
 *      second's refutations as stale (SWIM §4.2 orders claims by incarnation alone); and data
 *      could carry dots of a life a restart would number alike and mint again (gossip-node.ts).
 *      A changed CRDT's state does NOT hold its data: the life's own replica id makes a lost
 *      tail harmless (gossip-node.ts header).
 *   4. OPEN links to `linksWanted` when it is not null, and close links to peers no longer in it
 *      (unless the peer still uses them: the mesh is kept symmetric, so both ends agree).
 *   5. Call `advance()`, once the write is durable (the engine counts on it: a life's number is
 *      durable once the Ready that persists it is advanced). One Ready is outstanding at a
 *      time; the host keeps stepping and ticking.
 */
import type { EngineReady } from '../engine.ts';
import type { PersistedCrdt } from './crdt-store.ts';
import type { GossipEvent } from './events.ts';
import type { GossipMessage } from './messages.ts';
import type { NodeId } from './types.ts';

export interface GossipReady extends EngineReady<GossipMessage> {
  /** This node's incarnation, to PERSIST before `messagesAfterWrite` leave; null: unchanged. */
  readonly incarnation: number | null;
  /**
   * The CRDTs changed since they were last handed out, each whole (its canonical encoding), to
   * PERSIST before `messagesAfterWrite` leave; empty: none to write now (writes are coalesced:
   * `crdtPersistIntervalTicks`, replication.ts). At most one per CRDT held.
   */
  readonly crdts: readonly PersistedCrdt[];
  /** Every message, in order: `messagesBeforeWrite` and `messagesAfterWrite` say when each may leave. */
  readonly messages: readonly GossipMessage[];
  /** Membership changes and phi crossings since the last Ready, oldest first, then one `crdt-changed` per CRDT changed. */
  readonly events: readonly GossipEvent[];
  /**
   * The peers this node wants links to, sorted (its mesh, the probe under way, the relays it
   * runs, its seeds while joining), when that set changed since the last Ready; null otherwise.
   * Bounded by 2·meshDegreeHigh (grafts taken between heartbeats) + 1 + indirectProbesK +
   * relaysPendingMax + joinSeedsMax; about meshDegreeTarget + 1 in a quiet swarm.
   */
  readonly linksWanted: readonly NodeId[] | null;
}
