/**
 * What the simulation gives one simulated Raft node (sim-node.ts): its identity and bootstrap
 * voters, the simulated world it runs in (scheduler, PRNG, networks, storage latency), the
 * engine's tuning, the driver's bounds and delays, and the hooks through which the simulation
 * (nemesis, membership, checkers) follows it. Apart from the node so that the settings read as
 * one list, and so that the node's parts can share them without importing the driver.
 */
import type { Prng } from '../core/prng.ts';
import type { RaftConfig } from '../core/raft/config.ts';
import type { Message } from '../core/raft/messages.ts';
import type { Entry, NodeId, Role } from '../core/raft/types.ts';
import type { SessionOptions } from '../machines/sessions.ts';
import type { RaftCheckers } from './checkers/raft-checkers.ts';
import type { ClientMessage } from './client-protocol.ts';
import type { Distribution } from './distributions.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';
import type { Sabotage } from './sim-node-sabotage.ts';
import type { SimNode } from './sim-node.ts';

/** Engine settings the simulator may vary per seed (identity, voters and PRNG are its own). */
export type RaftTuning = Omit<RaftConfig, 'id' | 'voters' | 'prng' | 'applied'>;

export interface SimNodeOptions {
  readonly id: NodeId;
  /** The bootstrap configuration's voters; empty for a node that joins a running cluster. */
  readonly voters: readonly NodeId[];
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly peerNet: Network<Message>;
  readonly clientNet: Network<ClientMessage>;
  readonly storageLatency: Distribution;
  /** This node's tick interval in virtual microseconds (its clock drift is folded in). */
  readonly tickUs: number;
  readonly raft: RaftTuning;
  /** The session layer's expiry settings. */
  readonly session?: Partial<SessionOptions>;
  readonly checkers: RaftCheckers;
  /** Sim-wide unique read request ids (see sim-node-requests.ts). */
  readonly nextReadId: () => number;
  /** Processing delay between an input's arrival and the pass that handles it. */
  readonly cpuDelayUs: number;
  /** Gap between a write becoming durable and its Ready's messages leaving. */
  readonly postDurableDelayUs: number;
  /** Bound on queued inputs; more are dropped (and counted). */
  readonly inboxMax: number;
  /** Bound on client requests waiting for an answer; more are refused as `overloaded`. */
  readonly pendingRequestsMax: number;
  /**
   * Called when a write begins (the nemesis arms crashes on writes in flight); `carriesVote`: it
   * persists a vote not yet durable (a candidate's own, or one granted to a peer).
   */
  readonly onWriteBegin?: (node: SimNode, completesAtUs: number, carriesVote: boolean) => void;
  /** Called when the engine threw and the node crashed; the owner decides when to restart. */
  readonly onEngineCrash?: (node: SimNode) => void;
  /** Called when the node's role or term changed (its public status; the aimed faults watch it). */
  readonly onRole?: (node: SimNode, role: Role, term: number) => void;
  /** Called when, as leader, its commit index moved (its public status). */
  readonly onLeaderCommit?: (node: SimNode, term: number, commit: number) => void;
  /** Called for every committed configuration entry the node applies. */
  readonly onConfigApplied?: (node: SimNode, entry: Entry) => void;
  /** Deliberate driver bugs (tests of the checkers only). */
  readonly sabotage?: ReadonlySet<Sabotage>;
  /** A debugging narrative: role changes, client requests and their fate, crashes, pauses. */
  readonly trace?: (line: string) => void;
}
