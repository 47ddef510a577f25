/**
 * Split elections (Raft paper §5.2; dissertation §9.6 for pre-vote): the leader of a calm
 * cluster crashes, every follower hears of it (the failure oracle), and the two most up-to-date
 * followers campaign at once, cut off from each other, so that both pass pre-vote
 * together and ask for votes in the same term. Then one of two things, as the seed draws:
 *
 * - a vote forgotten: once the second candidate is a candidate, its links to the voters turn
 *   slow; the first voter to persist a grant to the first candidate crashes inside that write
 *   and comes straight back (a tab reloaded at once), and only then hears the second one. A
 *   voter whose grant left before the vote was on disk grants the same term twice.
 * - a vote counted late: the voters' links to the first candidate turn slow for longer than an
 *   election timeout, so their answers reach it in its next candidacy. A candidate that counts
 *   votes of an earlier term wins on them.
 *
 * An experiment, like the others: the cluster calms down first and the random faults hold off.
 * Candidacy is public status (a node's role); which messages are in flight is not looked at.
 */
import type { NodeId, Role } from '../core/raft/types.ts';
import { chance, shuffled } from './distributions.ts';
import { gapUs, type AimedHost, type AimedProgram } from './aimed-host.ts';
import type { SimNode } from './sim-node.ts';

export interface SplitElectionMix {
  readonly ratePerS: number;
  /** Probability of "a vote counted late" rather than "a vote forgotten". */
  readonly lateProbability: number;
}

interface Split {
  readonly c1: SimNode;
  readonly c2: SimNode;
  readonly voters: readonly SimNode[];
  readonly late: boolean;
  readonly periodUs: number;
  /** Still to crash a voter inside its first vote write. */
  crashVote: boolean;
}

export class SplitElections implements AimedProgram {
  private active = false;
  private endUs = 0;
  private split: Split | null = null;
  private running = false;
  private readonly undo: (() => void)[] = [];

  constructor(
    private readonly host: AimedHost,
    private readonly mix: SplitElectionMix,
  ) {}

  start(endUs: number): void {
    this.active = true;
    this.endUs = endUs;
    this.schedule();
  }

  stop(): void {
    this.active = false;
    this.finish();
  }

  onLeader(): void {}

  onLeaderCommit(): void {}

  onRole(node: SimNode, role: Role): void {
    const sp = this.split;
    if (sp === null) return;
    const { prng, peerNet } = this.host;
    const voters = sp.voters.map((v) => v.id);
    if (!sp.late && role === 'candidate' && node === sp.c2) {
      // Its vote requests reach the voters after the first voter's crash and return.
      this.undo.push(peerNet.slow([node.id], voters, 8000 + prng.nextInt(20_000)));
    } else if (!sp.late && role === 'leader' && node === sp.c1) {
      // And before the first candidate, now leader, tells them so.
      this.undo.push(peerNet.slow([node.id], voters, 40_000 + prng.nextInt(20_000)));
    } else if (sp.late && role === 'candidate' && node === sp.c1) {
      this.undo.push(peerNet.slow(voters, [node.id], Math.round(sp.periodUs * (1.5 + prng.nextFloat()))));
    }
  }

  /** "A vote forgotten": the first vote write of a voter is crashed into; it comes back at once. */
  onWriteBegin(node: SimNode, completesAtUs: number, carriesVote: boolean): void {
    const sp = this.split;
    if (sp === null || !sp.crashVote || !carriesVote || !sp.voters.includes(node)) return;
    sp.crashVote = false;
    const { scheduler, prng } = this.host;
    scheduler.at(scheduler.nowUs + prng.nextInt(Math.max(1, completesAtUs - scheduler.nowUs)), () => {
      if (this.split === sp && node.up) this.host.crash(node, '(split election) while persisting its vote, back at once', 200 + prng.nextInt(3000));
    });
  }

  private live(): boolean {
    return this.active && this.host.scheduler.nowUs < this.endUs;
  }

  private schedule(): void {
    this.host.scheduler.after(gapUs(this.host.prng, this.mix.ratePerS), () => {
      if (this.live()) this.begin();
    });
  }

  private begin(): void {
    const { scheduler, prng } = this.host;
    if (!this.host.beginExperiment()) {
      scheduler.after(50_000 + prng.nextInt(100_000), () => {
        if (this.live()) this.begin();
      });
      return;
    }
    this.running = true;
    this.awaitLeader(100);
  }

  private awaitLeader(triesLeft: number): void {
    if (!this.running) return;
    const leader = this.host.nodes().find((n) => n.up && n.isLeader());
    if (leader === undefined || !this.host.calm()) {
      if (triesLeft <= 0 || !this.live()) this.end();
      else this.host.scheduler.after(10_000, () => this.awaitLeader(triesLeft - 1));
      return;
    }
    this.splitVote(leader);
  }

  private splitVote(leader: SimNode): void {
    const { scheduler, prng } = this.host;
    // The two most up-to-date followers (by their public last index): both pass pre-vote.
    const byLog = shuffled(
      prng,
      this.host.nodes().filter((n) => n !== leader && n.up),
    ).sort((a, b) => logRank(b) - logRank(a));
    const [c1, c2, ...voters] = byLog;
    if (c1 === undefined || c2 === undefined || voters.length === 0) {
      this.end();
      return;
    }
    const late = chance(prng, this.mix.lateProbability);
    this.split = { c1, c2, voters, late, periodUs: this.host.electionTimeoutTicks * leader.tickUs, crashVote: !late };
    this.host.stats.splitElections++;
    // They must not hear each other's term before both campaign.
    this.undo.push(cutBetween(this.host, c1.id, c2.id));
    this.host.crash(leader, '(split election) the leader', 60_000_000);
    this.undo.push(() => this.host.restart(leader));
    this.host.note(`split election (${late ? 'a vote counted late' : 'a vote forgotten'}): ${c1.id} and ${c2.id} campaign at once; voters ${ids(voters)}`);
    for (const f of byLog) f.leaderGone(leader.id, f === c1 || f === c2);
    scheduler.after(4 * (this.split?.periodUs ?? 0), () => this.end());
  }

  private finish(): void {
    if (!this.running) return;
    this.running = false;
    this.split = null;
    for (const u of this.undo.splice(0)) u();
    this.host.endExperiment();
  }

  private end(): void {
    this.finish();
    if (this.live()) this.schedule();
  }
}

function logRank(n: SimNode): number {
  const s = n.status();
  return s === null ? -1 : s.lastTerm * 1e9 + s.lastIndex;
}

function ids(nodes: readonly SimNode[]): string {
  return nodes.map((n) => n.id).join(',');
}

/** Block the two links between `a` and `b`; returns the heal. */
function cutBetween(host: AimedHost, a: NodeId, b: NodeId): () => void {
  const cut = host.peerNet.partition([a], [b]);
  return () => host.peerNet.heal(cut);
}
