/**
 * Membership convergence after healing (SWIM's views agree once the network is quiet; memberlist's
 * push-pull exists for the cases piggybacking missed): once every partition is healed, every
 * paused node resumed and the nodes meant to come back have restarted or rejoined, within
 * `boundUs` every node that is up and has not left is alive in its own eyes, and every such node
 * holds exactly the others alive (none suspect) at the incarnation each is at, and no node that is down or has left as live.
 *
 * The bound: a crash just before the heal still has to be detected (detection.ts's bound), and a
 * member one side forgot during a long partition has to be learned again by push-pull
 * (`syncIntervalTicks`).
 */
import { detectionProbePeriods } from './detection.ts';
import { holdsLive, inSomeMesh, viewOf, type SwarmView } from './swarm-view.ts';
import { at, Violations } from './violations.ts';

export class ConvergenceChecker {
  readonly failures = new Violations();
  /** Of `failures`, those where the first disagreement is a gone member held live that is in nobody's mesh (a ghost). */
  readonly ghosts = new Violations();
  /** When the views agreed, after the heal; null until then. */
  convergedAtUs: number | null = null;
  private healedAtUs: number | null = null;
  readonly boundUs: number;

  constructor(private readonly view: SwarmView) {
    const c = view.config;
    this.boundUs = (c.suspicionMaxTicks + detectionProbePeriods * c.probeIntervalTicks + c.syncIntervalTicks) * view.tickUs;
  }

  healed(): void {
    this.healedAtUs = this.view.nowUs();
  }

  get done(): boolean {
    return this.convergedAtUs !== null || this.failures.count > 0;
  }

  /** Whether the views agree now (also used before the heal, to know when a bootstrap is complete). */
  agree(): boolean {
    return this.disagreement() === null;
  }

  check(): void {
    if (this.healedAtUs === null || this.done) return;
    const now = this.view.nowUs();
    const problem = this.disagreement();
    if (problem === null) {
      this.convergedAtUs = now;
      return;
    }
    if (now <= this.healedAtUs + this.boundUs) return;
    const detail = `views still differ ${at(now - this.healedAtUs)} after the heal: ${problem.text}${problem.ghost ? " (a ghost: in nobody's mesh)" : ''}`;
    this.failures.add(detail);
    if (problem.ghost) this.ghosts.add(detail);
  }

  /** The first disagreement found, in words, or null. */
  disagreement(): { readonly text: string; readonly ghost: boolean } | null {
    const problem = this.firstProblem();
    if (problem === null) return null;
    return { text: problem.text, ghost: problem.gone !== null && !inSomeMesh(this.view, problem.gone) };
  }

  private firstProblem(): { readonly text: string; readonly gone: string | null } | null {
    const nodes = this.view.nodes();
    const expected = nodes.filter((n) => n.up && n.selfState !== 'left');
    const others = nodes.filter((n) => !(n.up && n.selfState !== 'left'));
    for (const v of expected) {
      if (v.paused) return { text: `${v.id} is paused`, gone: null };
      if (v.selfState !== 'alive') return { text: `${v.id} is still ${v.selfState}`, gone: null };
      for (const m of expected) {
        if (m === v) continue;
        const s = viewOf(v, m.id);
        if (s !== 'alive') return { text: `${v.id} holds ${m.id} ${s ?? 'unknown'}`, gone: null };
        const incarnation = v.engine?.member(m.id)?.incarnation;
        if (incarnation !== m.selfIncarnation) return { text: `${v.id} holds ${m.id} at incarnation ${incarnation}, it is at ${m.selfIncarnation}`, gone: null };
      }
      for (const m of others) if (holdsLive(v, m.id)) return { text: `${v.id} holds ${m.id} ${viewOf(v, m.id)}, but it is ${m.up ? 'left' : 'down'}`, gone: m.id };
    }
    return null;
  }
}
