/**
 * Figure 8 of the Raft paper (§5.4.2), played on purpose with partitions, crashes and restarts,
 * timed by who leads and by a leader's public commit index:
 *
 *   1. the leader A keeps only a minority of its peers (the holders) while the clients write to
 *      it: its new entries, from index j on, reach only them; then A crashes and the holders are
 *      cut off;
 *   2. the rest elect a leader C, which appends an entry of its new term at index j; C is cut
 *      off at once and crashes when its write is on disk: that entry lives on C alone;
 *   3. A restarts and the holders come back; A or a holder, X, is elected (the rest hold nothing
 *      at j, so they vote for it) and brings the rest up to date, entries of A's term first;
 *   4. the moment X's commit index first moves, X crashes and the other holders are cut off;
 *   5. C restarts; its last term beats the rest's, so they elect it, and it overwrites index j.
 *
 * A correct X first commits an entry of its own term, which a majority then holds, and C cannot
 * win. An X that counted the replicas of A's entry at j reported it committed, and C erases it
 * (the durability checker sees the committed entry go; or a node that applied it trips over the
 * conflict). Each step waits for its event a bounded time; a play that goes astray (another node
 * wins) is abandoned and healed. A play is an experiment: the cluster calms down first (every
 * node up, no partition) and the random faults hold off until it is over.
 */
import { shuffled } from './distributions.ts';
import { cutOff, gapUs, type AimedHost, type AimedProgram } from './aimed-host.ts';
import type { SimNode } from './sim-node.ts';

export interface Figure8Mix {
  readonly ratePerS: number;
}

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'await-c'; readonly a: SimNode; readonly holders: readonly SimNode[] }
  | { readonly kind: 'await-x'; readonly a: SimNode; readonly holders: readonly SimNode[]; readonly c: SimNode }
  | { readonly kind: 'await-first-commit'; readonly a: SimNode; readonly holders: readonly SimNode[]; readonly c: SimNode; readonly x: SimNode; readonly term: number; readonly commit: number }
  | { readonly kind: 'await-overwrite'; readonly c: SimNode };

/** Downtime long enough that the play, not the nemesis, restarts the node. */
const heldDownUs = 60_000_000;
/** How long a step waits for its event before the play is abandoned. */
const stepUsMax = 1_500_000;

export class Figure8Play implements AimedProgram {
  private active = false;
  private endUs = 0;
  private phase: Phase = { kind: 'idle' };
  /** Bumped per step: a timeout of an older step is void. */
  private step = 0;
  private readonly heals = new Set<() => void>();
  /** An experiment is under way (begun, not yet finished). */
  private playing = false;
  /** Nodes the play crashed and must restart. */
  private readonly down = new Set<SimNode>();

  constructor(
    private readonly host: AimedHost,
    private readonly mix: Figure8Mix,
  ) {}

  start(endUs: number): void {
    this.active = true;
    this.endUs = endUs;
    this.schedule();
  }

  stop(): void {
    this.active = false;
    this.finish('the safety phase ended');
  }

  private live(): boolean {
    return this.active && this.host.scheduler.nowUs < this.endUs;
  }

  private schedule(): void {
    this.host.scheduler.after(gapUs(this.host.prng, this.mix.ratePerS), () => {
      if (this.live()) this.begin();
    });
  }

  /** Begin an experiment (the cluster calms down) and wait for a leader. */
  private begin(): void {
    const { prng, scheduler } = this.host;
    if (!this.host.beginExperiment()) {
      scheduler.after(50_000 + prng.nextInt(100_000), () => {
        if (this.live()) this.begin();
      });
      return;
    }
    this.playing = true;
    this.awaitLeader(100);
  }

  private awaitLeader(triesLeft: number): void {
    if (!this.playing) return;
    const a = this.host.nodes().find((n) => n.up && n.isLeader());
    if (a === undefined || !this.host.calm()) {
      if (triesLeft <= 0 || !this.live()) this.finish('no leader to start from');
      else this.host.scheduler.after(10_000, () => this.awaitLeader(triesLeft - 1));
      return;
    }
    this.play(a);
  }

  /** Step 1: the leader keeps only the holders while clients write to it. */
  private play(a: SimNode): void {
    const { prng, scheduler } = this.host;
    const nodes = this.host.nodes();
    this.host.stats.figure8Plays++;
    const others = nodes.filter((n) => n !== a);
    const holders = shuffled(prng, others).slice(0, Math.max(0, Math.floor(others.length / 2) - 1));
    this.hold(cutOff(this.host, [a.id, ...holders.map((h) => h.id)]));
    const periodUs = this.host.electionTimeoutTicks * a.tickUs;
    // Shorter than an election timeout: the rest must not elect anyone yet.
    const writeUs = 20_000 + prng.nextInt(Math.max(1, Math.round(0.6 * periodUs) - 20_000));
    for (const c of this.host.clients.regular) c.steerTo(a.id, scheduler.nowUs + writeUs);
    this.note(`${a.id} (leader) keeps only ${holders.map((h) => h.id).join(',') || 'itself'} for ${Math.round(writeUs / 1000)}ms`);
    const step = ++this.step;
    const rest = others.filter((n) => !holders.includes(n));
    // Until A's log is ahead of the rest's (its public last index), at most an election timeout.
    const ahead = (): boolean => (a.status()?.lastIndex ?? 0) > Math.max(0, ...rest.map((n) => n.status()?.lastIndex ?? 0));
    const deadlineUs = scheduler.nowUs + Math.round(0.9 * periodUs);
    const afterWrites = (): void => {
      if (step !== this.step) return;
      if (a.up && !ahead() && scheduler.nowUs < deadlineUs) {
        scheduler.after(5000, afterWrites);
        return;
      }
      this.crashHeld(a, 'A, after replicating to a minority');
      this.healAll();
      for (const h of holders) this.hold(cutOff(this.host, [h.id]));
      this.phase = { kind: 'await-c', a, holders };
      this.timeout();
    };
    scheduler.after(writeUs, afterWrites);
  }

  onLeader(node: SimNode, term: number): void {
    const p = this.phase;
    if (p.kind === 'await-c') {
      if (node === p.a || p.holders.includes(node)) return;
      // Step 2: C appended an entry of its term at index j; it must live on C alone.
      this.hold(cutOff(this.host, [node.id]));
      this.phase = { kind: 'idle' };
      this.note(`C = ${node.id} (leader of term ${term}) cut off`);
      this.whenWritten(node, () => {
        this.crashHeld(node, 'C, its entry on disk');
        this.host.restart(p.a);
        this.down.delete(p.a);
        this.healAll();
        this.phase = { kind: 'await-x', a: p.a, holders: p.holders, c: node };
        this.timeout();
      });
    } else if (p.kind === 'await-x') {
      if (node !== p.a && !p.holders.includes(node)) {
        this.finish(`${node.id} won instead of A or a holder`);
        return;
      }
      // Step 3: X brings the rest up to date.
      this.phase = { kind: 'await-first-commit', a: p.a, holders: p.holders, c: p.c, x: node, term, commit: node.status()?.commit ?? 0 };
      this.timeout();
    } else if (p.kind === 'await-overwrite' && node === p.c) {
      this.note(`C = ${node.id} leads term ${term}`);
      this.host.scheduler.after(50_000, () => this.finish('played through'));
    }
  }

  onLeaderCommit(node: SimNode, term: number, commit: number): void {
    const p = this.phase;
    if (p.kind !== 'await-first-commit' || node !== p.x || term !== p.term || commit <= p.commit) return;
    // Step 4: X dies the moment its commit index first moves; the other holders are cut off.
    this.host.stats.figure8Strikes++;
    this.crashHeld(node, `X, right after its first commit (index ${commit})`);
    const rest = [p.a, ...p.holders].filter((n) => n !== node && n.up);
    if (rest.length > 0) this.hold(cutOff(this.host, rest.map((n) => n.id)));
    // Step 5: C comes back.
    this.host.restart(p.c);
    this.down.delete(p.c);
    this.phase = { kind: 'await-overwrite', c: p.c };
    this.timeout();
  }

  /** Run `then` once `node` has no write in flight (its leader entry is durable), or give up. */
  private whenWritten(node: SimNode, then: () => void, triesLeft = 60): void {
    const step = ++this.step;
    this.host.scheduler.after(1000, () => {
      if (step !== this.step || !this.live()) return;
      if (!node.up) this.finish('C went down by itself');
      else if (!node.hasWriteInFlight() || triesLeft <= 0) then();
      else this.whenWritten(node, then, triesLeft - 1);
    });
  }

  private timeout(): void {
    const step = ++this.step;
    const kind = this.phase.kind;
    this.host.scheduler.after(stepUsMax, () => {
      if (step === this.step && this.phase.kind !== 'idle') this.finish(`no progress while ${kind}`);
    });
  }

  /** Heal every cut, restart every node the play holds down, and wait for the next play. */
  private finish(why: string): void {
    if (!this.playing) return;
    this.playing = false;
    this.step++;
    this.phase = { kind: 'idle' };
    this.healAll();
    for (const n of this.down) this.host.restart(n);
    this.down.clear();
    this.note(`over (${why})`);
    this.host.endExperiment();
    if (this.live()) this.schedule();
  }

  private crashHeld(node: SimNode, what: string): void {
    if (!node.up) return;
    this.host.crash(node, `(figure 8) ${what}`, heldDownUs);
    this.down.add(node);
  }

  private hold(heal: () => void): void {
    this.heals.add(heal);
  }

  private healAll(): void {
    for (const heal of this.heals) heal();
    this.heals.clear();
  }

  private note(what: string): void {
    this.host.note(`figure 8: ${what}`);
  }
}

