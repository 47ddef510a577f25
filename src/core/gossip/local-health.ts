/**
 * Lifeguard's Local Health Multiplier (Dadgar, Phillips, Currey 2018, §IV-A; memberlist's
 * "awareness"). SWIM blames the member that did not answer; Lifeguard noticed that most false
 * suspicions come from a SLOW PROBER (a busy CPU, a throttled tab) whose own timers fire late
 * and who then accuses healthy members. So a node keeps a score of evidence against ITSELF:
 *
 *   +1  a probe of ours failed with no nack to show the relays were reachable (or any failed
 *       probe when we had no relays to ask), per missing nack;
 *   +1  we had to refute a suspicion of ourselves (others could not reach us in time);
 *   -1  a probe of ours was acknowledged.
 *
 * The score runs 0..healthScoreMax, and our probe timeout and protocol period are multiplied by
 * score + 1: an unhealthy node waits longer before accusing anyone, and probes less often.
 */
export class LocalHealth {
  private value = 0;

  constructor(private readonly scoreMax: number) {}

  get score(): number {
    return this.value;
  }

  /** Apply evidence: positive against ourselves, negative for a healthy round. Clamped to 0..scoreMax. */
  apply(delta: number): void {
    this.value = Math.min(this.scoreMax, Math.max(0, this.value + delta));
  }

  /** A timeout or interval in ticks, stretched by our doubt about ourselves. */
  scale(ticks: number): number {
    return ticks * (this.value + 1);
  }
}
