/**
 * What the simulation gives one simulated Raft node (sim-node.ts): its identity and bootstrap
 * voters, the simulated world it runs in (scheduler, PRNG, network, storage latency, its
 * clock's rate), the engine's tuning, the driver's bounds and delays, and the hooks through
 * which the simulation (nemesis, membership, checkers) follows it. Apart from the node so that
 * the settings read as one list.
 */
import type { Prng } from '../core/prng.ts';
import type { RaftConfig } from '../core/raft/config.ts';
import type { Entry, NodeId, Role } from '../core/raft/types.ts';
import type { SessionOptions } from '../machines/sessions.ts';
import type { RaftCheckers } from './checkers/raft-checkers.ts';
import type { Distribution } from './distributions.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';
import type { Sabotage } from './sim-node-sabotage.ts';
import type { SimNode } from './sim-node.ts';

/** Engine settings the simulator may vary per seed (identity, voters and PRNG are its own). */
export type RaftTuning = Omit<RaftConfig, 'id' | 'voters' | 'prng' | 'applied'>;

export interface SimNodeOptions {
  readonly id: NodeId;
  /** The cluster's name (the wire codec refuses frames of another cluster). */
  readonly cluster: string;
  /** The cluster secret (links authenticated); null: unauthenticated links. */
  readonly secret: string | null;
  /** The bootstrap configuration's voters; empty for a node that joins a running cluster. */
  readonly voters: readonly NodeId[];
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  /** The network of the nodes' frames. */
  readonly peerNet: Network<Uint8Array>;
  readonly storageLatency: Distribution;
  /** One tick of the driver, in virtual microseconds of a clock without drift. */
  readonly baseTickUs: number;
  /** This node's tick in virtual microseconds: its clock drift folded in. */
  readonly tickUs: number;
  readonly raft: RaftTuning;
  /** The session layer's expiry settings. */
  readonly session?: Partial<SessionOptions>;
  /** How long the driver keeps trying a proposal or a read before it answers TIMEOUT. */
  readonly proposalTimeoutMs: number;
  readonly checkers: RaftCheckers;
  /** Gap between a write becoming durable and the driver hearing of it. */
  readonly postDurableDelayUs: number;
  /** Bound on frames held while the node is paused; more are dropped (and counted). */
  readonly inboxMax: number;
  /**
   * Called when a write begins (the nemesis arms crashes on writes in flight); `carriesVote`: it
   * persists a vote not yet durable (a candidate's own, or one granted to a peer).
   */
  readonly onWriteBegin?: (node: SimNode, completesAtUs: number, carriesVote: boolean) => void;
  /** Called when the node stopped on a bug; the owner decides when to restart it. */
  readonly onEngineCrash?: (node: SimNode) => void;
  /** Called when the node's role or term changed (its public status; the aimed faults watch it). */
  readonly onRole?: (node: SimNode, role: Role, term: number) => void;
  /** Called when, as leader, its commit index moved (its public status). */
  readonly onLeaderCommit?: (node: SimNode, term: number, commit: number) => void;
  /** Called when a message that came in `frame` reached the node's engine (the intruder counts its own). */
  readonly onFrameAccepted?: (frame: Uint8Array) => void;
  /** Called for every committed configuration entry the node applies. */
  readonly onConfigApplied?: (node: SimNode, entry: Entry) => void;
  /** Deliberate bugs around the driver (tests of the checkers only). */
  readonly sabotage?: ReadonlySet<Sabotage>;
  /** A debugging narrative: role changes, Readies, crashes, pauses. */
  readonly trace?: (line: string) => void;
}
