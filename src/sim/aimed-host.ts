/**
 * What the aimed programs (aimed-*.ts) share: the host they act through (the nemesis and the
 * run), the program contract, their counters, and two helpers.
 */
import type { Prng } from '../core/prng.ts';
import type { NodeId, Role } from '../core/raft/types.ts';
import type { SimClient } from './client.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimNode } from './sim-node.ts';

export interface AimedStats {
  leadersStruck: number;
  partialCuts: number;
  staleLeaderTraps: number;
  figure8Plays: number;
  /** Plays that got as far as striking a leader right after its first commit. */
  figure8Strikes: number;
  splitElections: number;
}

/** The clients a program may steer: the mix's own, and the readers kept for the trap. */
export interface AimedClients {
  readonly regular: readonly SimClient[];
  readonly readers: readonly SimClient[];
}

/** What the aimed programs use of the nemesis and the run. */
export interface AimedHost {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly peerNet: Network<Uint8Array>;
  /** The engine's election timeout in ticks: also a leader's check-quorum period. */
  readonly electionTimeoutTicks: number;
  readonly clients: AimedClients;
  readonly stats: AimedStats;
  nodes(): readonly SimNode[];
  /** Whether the nemesis still injects faults (the safety phase) and until when. */
  active(): boolean;
  /** Whether one more node may go down now. */
  canCrash(): boolean;
  /** Crash `node` (counted, with the nemesis's oracle), restarting it after `downtimeUs`. */
  crash(node: SimNode, how: string, downtimeUs: number): void;
  /** Restart `node` now if it is down (and not retired). */
  restart(node: SimNode): void;
  /** Pause `node` for `durationUs`, cut off from its peers for `isolateUs`. */
  pauseFor(node: SimNode, durationUs: number, isolateUs: number): void;
  /** Every node up and running, no partition: a clean start for an experiment. */
  calm(): boolean;
  /**
   * Begin an experiment (one at a time; false if another runs): the random faults hold off
   * until `end()`, every partition heals, every crashed node restarts and every paused one
   * resumes, so that the experiment starts from a calm cluster once it has elected a leader.
   */
  beginExperiment(): boolean;
  endExperiment(): void;
  note(what: string): void;
}

/** A program: told of leaders and their first commits, started and stopped with the nemesis. */
export interface AimedProgram {
  start(endUs: number): void;
  /** Undo what it holds (cuts); called when the safety phase ends. */
  stop(): void;
  /** A node took office as leader of `term`. */
  onLeader(node: SimNode, term: number): void;
  /** A node's role or term changed (any role). */
  onRole?(node: SimNode, role: Role, term: number): void;
  onLeaderCommit(node: SimNode, term: number, commit: number): void;
  /** A node began a write (`carriesVote`: it persists a vote); see Nemesis.onWriteBegin. */
  onWriteBegin?(node: SimNode, completesAtUs: number, carriesVote: boolean): void;
}

/** Cut `nodes` (as a group) off from everyone else; returns a function that heals the cut. */
export function cutOff(host: AimedHost, group: readonly NodeId[]): () => void {
  const rest = host
    .nodes()
    .map((n) => n.id)
    .filter((id) => !group.includes(id));
  const cut = host.peerNet.partition(group, rest);
  return () => host.peerNet.heal(cut);
}

/** An exponential gap for a program that arrives at `ratePerS`. */
export function gapUs(prng: Prng, ratePerS: number): number {
  return Math.round(-Math.log(1 - prng.nextFloat()) * (1_000_000 / ratePerS));
}
