/**
 * Lifeguard's dynamic suspicion timeout (§IV-B) for one suspected member. SWIM (§4.2) waits a
 * fixed time before a suspect is declared dead; Lifeguard starts at a long timeout and shortens
 * it as OTHER members independently suspect the same member, because k independent witnesses
 * are stronger evidence than one possibly slow prober:
 *
 *   timeout(c) = max(min, max - (max - min) · log(c + 1) / log(k + 1))
 *
 * with c the confirmations so far. The suspecter who started it does not count (its suspicion
 * comes back to it through gossip), and neither does anyone twice; past k confirmations nothing
 * changes, so the set is bounded by k + 1 ids whatever a peer sends.
 */
import { assert } from '../assert.ts';
import type { NodeId } from './types.ts';

export class Suspicion {
  private readonly suspecters = new Set<NodeId>();
  private confirmationsSeen = 0;

  /**
   * @param startTick when this node began to suspect (the timeout counts from here)
   * @param firstBy who raised the suspicion (excluded from confirmations)
   * @param confirmationsK confirmations that bring the timeout down to `minTicks` (0: `minTicks` at once)
   */
  constructor(
    readonly startTick: number,
    readonly firstBy: NodeId,
    private readonly confirmationsK: number,
    private readonly minTicks: number,
    private readonly maxTicks: number,
  ) {
    assert(minTicks <= maxTicks, 'suspicion min above max');
    this.suspecters.add(firstBy);
  }

  get confirmations(): number {
    return this.confirmationsSeen;
  }

  /** `by` suspects the member too. True when that was new evidence (worth spreading further). */
  confirm(by: NodeId): boolean {
    if (this.confirmationsSeen >= this.confirmationsK) return false;
    if (this.suspecters.has(by)) return false;
    this.suspecters.add(by);
    this.confirmationsSeen++;
    return true;
  }

  /** The tick at which the member is declared dead unless it refutes first. */
  deadlineTick(): number {
    return this.startTick + suspicionTimeoutTicks(this.confirmationsSeen, this.confirmationsK, this.minTicks, this.maxTicks);
  }
}

/** Lifeguard §IV-B's timeout after `confirmations` of the `k` expected (see the file's comment). */
export function suspicionTimeoutTicks(confirmations: number, k: number, minTicks: number, maxTicks: number): number {
  if (k < 1) return minTicks;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minTicks, Math.floor(maxTicks - fraction * (maxTicks - minTicks)));
}
