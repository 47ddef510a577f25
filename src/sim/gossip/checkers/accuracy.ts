/**
 * Accuracy: how often live members are wrongly suspected or declared dead (SWIM §5 measures the
 * first; Lifeguard, Dadgar et al. 2018 §I, exists to cut both).
 *
 * An EPISODE is the first event anywhere in the swarm that puts member Y in a state at an
 * incarnation i, (Y, suspect, i) or (Y, dead, i): the node that shows it first is the one that
 * raised it (its probe failed, or its suspicion timed out); the others only heard. An episode is
 * FALSE when Y is up, joined, and at i or above in its current life.
 *
 * - False suspicions are counted, not failed: a lossy path can fail a ping and all k indirect
 *   probes (SWIM §3.1), and Y refutes (§4.2). Those of a Y and a suspecter that were NOT impaired
 *   (impairments.ts) for `suspicionWindowUs` (a probe period stretched by the worst local health,
 *   Lifeguard §IV-A) are the ones Lifeguard aims at; the run reports them per node-hour.
 * - A false DEATH of a Y that was not cut off, paused or down, declared by a node that was not
 *   either, from a probe window before the suspicion began until the death (or, if the suspicion
 *   was not seen, for `deathWindowUs`: the longest suspicion plus that window) is a VIOLATION: Y
 *   had all that time to hear the suspicion and refute it, and the declarer to hear the refutation.
 *   False deaths with an impaired party are counted apart (a partition longer than a suspicion
 *   makes both sides declare each other dead, as it must).
 */
import type { GossipEvent } from '../../../core/gossip/events.ts';
import type { GossipSimNode } from '../gossip-sim-node.ts';
import type { SwarmView } from './swarm-view.ts';
import { at, Violations } from './violations.ts';

export class AccuracyChecker {
  /** Suspicion episodes of any member, true or false. */
  suspicions = 0;
  /** Suspicion episodes of a live member. */
  falseSuspicions = 0;
  /** Of those, with neither the member nor the suspecter impaired within the window. */
  falseSuspicionsUnimpaired = 0;
  /** Death episodes of a live member where someone was impaired (expected under partitions and pauses). */
  falseDeathsExcused = 0;
  /** Deaths of a live member nobody impaired: violations. */
  readonly falseDeaths = new Violations();
  private readonly seen = new Set<string>();
  /** When each (member, incarnation) was first suspected. */
  private readonly suspectedAtUs = new Map<string, number>();
  readonly suspicionWindowUs: number;
  readonly deathWindowUs: number;

  constructor(private readonly view: SwarmView) {
    const c = view.config;
    this.suspicionWindowUs = (c.healthScoreMax + 1) * c.probeIntervalTicks * view.tickUs;
    this.deathWindowUs = c.suspicionMaxTicks * view.tickUs + this.suspicionWindowUs;
  }

  observe(viewer: GossipSimNode, events: readonly GossipEvent[]): void {
    for (const e of events) {
      if (e.kind !== 'member-changed' || (e.state !== 'suspect' && e.state !== 'dead') || e.member === viewer.id) continue;
      const key = `${e.state} ${e.member} ${e.incarnation}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      if (e.state === 'suspect') {
        this.suspicions++;
        this.suspectedAtUs.set(`${e.member} ${e.incarnation}`, this.view.nowUs());
      }
      const member = this.view.node(e.member);
      if (member === undefined || !isLiveAt(member, e.incarnation)) continue;
      if (e.state === 'suspect') this.falseSuspicion(viewer, member);
      else this.falseDeath(viewer, member, e.incarnation);
    }
  }

  private falseSuspicion(by: GossipSimNode, member: GossipSimNode): void {
    this.falseSuspicions++;
    const im = this.view.impairments;
    if (!im.impairedWithin(member.id, this.suspicionWindowUs) && !im.impairedWithin(by.id, this.suspicionWindowUs)) this.falseSuspicionsUnimpaired++;
  }

  private falseDeath(by: GossipSimNode, member: GossipSimNode, incarnation: number): void {
    const im = this.view.impairments;
    // From a probe window before the suspicion that led here, when it was seen; else the longest a suspicion lasts.
    const suspectedAt = this.suspectedAtUs.get(`${member.id} ${incarnation}`);
    const windowUs = suspectedAt === undefined ? this.deathWindowUs : this.view.nowUs() - suspectedAt + this.suspicionWindowUs;
    if (im.impairedWithin(member.id, windowUs) || im.impairedWithin(by.id, windowUs)) {
      this.falseDeathsExcused++;
      return;
    }
    this.falseDeaths.add(`${by.id} declared ${member.id} dead at incarnation ${incarnation} at ${at(this.view.nowUs())}; neither was cut off, paused or down for ${at(windowUs)}`);
  }
}

/** Whether `member` is up, joined and running in a life that announced `incarnation` or less. */
function isLiveAt(member: GossipSimNode, incarnation: number): boolean {
  return member.up && member.selfState === 'alive' && member.lifeFirstIncarnation >= 0 && incarnation >= member.lifeFirstIncarnation;
}
