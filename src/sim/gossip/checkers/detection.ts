/**
 * Detection (SWIM's completeness, §2 and §4): every crashed member is declared dead (or
 * forgotten) by every live member within a bound, unless it comes back first.
 *
 * The clock of an obligation (crashed X, live viewer V) starts at the LATEST of: the crash, the
 * end of V's last impairment (a cut-off or paused viewer can learn nothing), and V joining. By
 * `boundUs` after that, V must no longer hold X alive or suspect. The bound comes from the
 * configuration: the longest suspicion (`suspicionMaxTicks`, Lifeguard §IV-B, when no other
 * member confirms it) plus `probePeriods` protocol periods for X's mesh neighbours to reach it in
 * their round robin (SWIM §4.3) and for the verdict to cross the swarm.
 *
 * `check` runs every few virtual milliseconds; it also records, per crash, how long it took until
 * no live member held X live (the benchmark's detection time).
 */
import type { GossipSimNode } from '../gossip-sim-node.ts';
import { holdsLive, inSomeMesh, type SwarmView } from './swarm-view.ts';
import { at, Violations } from './violations.ts';

/** Protocol periods beside the longest suspicion: SWIM's first detection within a few periods, and dissemination. */
export const detectionProbePeriods = 20;

interface Crash {
  readonly node: GossipSimNode;
  readonly life: number;
  readonly atUs: number;
  /** Viewers already failed for this crash (one violation each). */
  readonly failed: Set<string>;
  /**
   * Viewers seen not holding it live since the crash: their obligation is met. If one holds it
   * live again later (a resurrection, by a sync from a member that missed the death), that is
   * the convergence checker's to judge, not a detection that never happened.
   */
  readonly cleared: Set<string>;
  detectedAtUs: number | null;
}

export class DetectionChecker {
  readonly failures = new Violations();
  /** Of `failures`, those of a crashed member in nobody's mesh (swarm-view.ts `inSomeMesh`): ghosts. */
  readonly ghosts = new Violations();
  /** Crash to "no live member holds it live", per crash detected. */
  readonly detectionsUs: number[] = [];
  private crashes: Crash[] = [];
  readonly boundUs: number;

  constructor(private readonly view: SwarmView) {
    const c = view.config;
    this.boundUs = (c.suspicionMaxTicks + detectionProbePeriods * c.probeIntervalTicks) * view.tickUs;
  }

  onCrash(node: GossipSimNode): void {
    this.crashes.push({ node, life: node.life, atUs: this.view.nowUs(), failed: new Set(), cleared: new Set(), detectedAtUs: null });
  }

  /** Crashed members that came back carry no more obligations. */
  check(): void {
    const now = this.view.nowUs();
    this.crashes = this.crashes.filter((c) => !c.node.up && c.node.life === c.life);
    for (const crash of this.crashes) {
      let anyHolds = false;
      for (const v of this.view.nodes()) {
        if (!v.member || crash.cleared.has(v.id)) continue;
        if (!holdsLive(v, crash.node.id)) {
          crash.cleared.add(v.id);
          continue;
        }
        anyHolds = true;
        const startUs = Math.max(crash.atUs, this.view.impairments.lastImpairedUs(v.id), v.aliveSinceUs);
        if (now <= startUs + this.boundUs || crash.failed.has(v.id)) continue;
        crash.failed.add(v.id);
        const ghost = !inSomeMesh(this.view, crash.node.id);
        const detail = `${v.id} still holds ${crash.node.id} (crashed at ${at(crash.atUs)}) live at ${at(now)}, ${at(now - startUs)} after it could have learned it${ghost ? ' (a ghost: in nobody\'s mesh)' : ''}`;
        this.failures.add(detail);
        if (ghost) this.ghosts.add(detail);
      }
      if (!anyHolds && crash.detectedAtUs === null) {
        crash.detectedAtUs = now;
        this.detectionsUs.push(now - crash.atUs);
      }
    }
  }

  /** Crashes still held live somewhere (not yet detected by all). */
  get pending(): number {
    return this.crashes.filter((c) => c.detectedAtUs === null).length;
  }
}
