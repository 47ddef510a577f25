/**
 * Faults aimed at the moments that matter, beside the nemesis's random ones (nemesis.ts). Random
 * faults rarely line up into the histories the classic Raft bugs need; these build them on
 * purpose, triggered only by what an operator sees from outside (who leads, a node's public
 * status), never by the engine's internals. Three programs, each in its own file:
 *
 * - leader churn (aimed-churn.ts): every new leader struck soon after it takes office, often
 *   after replicating to a minority, or right after its first commit;
 * - the stale-read trap (aimed-stale-read.ts): a leader cut off (and perhaps asleep) just after
 *   its check-quorum, with readers pinned to it while writers go elsewhere;
 * - Figure 8 (aimed-figure8.ts): the Raft paper's Figure 8 history played on purpose;
 * - split elections (aimed-elections.ts): two candidates in one term, a voter crashing inside
 *   its vote write, slow answers that arrive in the next candidacy.
 *
 * The trap and the plays are experiments, one at a time: the cluster calms down first and the
 * random faults hold off until the experiment is over.
 */
import type { Role } from '../core/raft/types.ts';
import { LeaderChurn, type ChurnMix } from './aimed-churn.ts';
import { SplitElections, type SplitElectionMix } from './aimed-elections.ts';
import { Figure8Play, type Figure8Mix } from './aimed-figure8.ts';
import { StaleReadTrap, type StaleLeaderMix } from './aimed-stale-read.ts';
import type { AimedHost, AimedProgram, AimedStats } from './aimed-host.ts';
import type { SimNode } from './sim-node.ts';

export type { ChurnMix, Figure8Mix, SplitElectionMix, StaleLeaderMix };
export type { AimedClients, AimedHost, AimedProgram, AimedStats } from './aimed-host.ts';

export interface AimedMix {
  readonly churn: ChurnMix | null;
  readonly staleLeader: StaleLeaderMix | null;
  readonly figure8: Figure8Mix | null;
  readonly splitElections: SplitElectionMix | null;
}

export class AimedFaults {
  readonly stats: AimedStats = { leadersStruck: 0, partialCuts: 0, staleLeaderTraps: 0, figure8Plays: 0, figure8Strikes: 0, splitElections: 0 };
  private readonly programs: AimedProgram[] = [];

  constructor(host: Omit<AimedHost, 'stats'>, mix: AimedMix) {
    const h: AimedHost = { ...host, stats: this.stats };
    if (mix.churn !== null) this.programs.push(new LeaderChurn(h, mix.churn));
    if (mix.staleLeader !== null) this.programs.push(new StaleReadTrap(h, mix.staleLeader));
    if (mix.figure8 !== null) this.programs.push(new Figure8Play(h, mix.figure8));
    if (mix.splitElections !== null) this.programs.push(new SplitElections(h, mix.splitElections));
  }

  start(endUs: number): void {
    for (const p of this.programs) p.start(endUs);
  }

  stop(): void {
    for (const p of this.programs) p.stop();
  }

  onRole(node: SimNode, role: Role, term: number): void {
    for (const p of this.programs) {
      p.onRole?.(node, role, term);
      if (role === 'leader') p.onLeader(node, term);
    }
  }

  onLeaderCommit(node: SimNode, term: number, commit: number): void {
    for (const p of this.programs) p.onLeaderCommit(node, term, commit);
  }

  onWriteBegin(node: SimNode, completesAtUs: number, carriesVote: boolean): void {
    for (const p of this.programs) p.onWriteBegin?.(node, completesAtUs, carriesVote);
  }
}
