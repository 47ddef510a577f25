/**
 * Ground truth for the accuracy and detection checkers: when each node was last IMPAIRED, that
 * is, cut off by a partition (any blocked link with it at one end), paused, down (crashed,
 * or not yet started again), or away after a graceful leave. A suspicion of a node that was
 * impaired recently is the detector doing its job (SWIM §4.2), not a false one; a live node
 * that was never impaired in the window a suspicion or a death needs to form, and that was still
 * suspected or declared dead, is what Lifeguard exists to prevent (Dadgar et al. 2018, §I).
 *
 * Reasons nest (a paused node may also be cut off): a node is impaired while any reason holds,
 * and `lastImpairedUs` is now while impaired, else when the last reason ended.
 */
import { assert } from '../../core/assert.ts';

export type ImpairmentReason = 'cut' | 'paused' | 'down' | 'away';

interface State {
  /** Reasons holding now, counted (cuts may overlap). */
  readonly holding: Map<ImpairmentReason, number>;
  /** When the last reason ended; -Infinity when never impaired. */
  endedUs: number;
}

export class Impairments {
  private readonly nodes = new Map<string, State>();

  constructor(private readonly nowUs: () => number) {}

  private state(id: string): State {
    let s = this.nodes.get(id);
    if (s === undefined) {
      s = { holding: new Map(), endedUs: -Infinity };
      this.nodes.set(id, s);
    }
    return s;
  }

  begin(id: string, reason: ImpairmentReason): void {
    const s = this.state(id);
    s.holding.set(reason, (s.holding.get(reason) ?? 0) + 1);
  }

  end(id: string, reason: ImpairmentReason): void {
    const s = this.state(id);
    const n = s.holding.get(reason) ?? 0;
    assert(n > 0, `impairment ${reason} of ${id} ended without beginning`);
    if (n === 1) s.holding.delete(reason);
    else s.holding.set(reason, n - 1);
    if (s.holding.size === 0) s.endedUs = this.nowUs();
  }

  isImpaired(id: string): boolean {
    return this.state(id).holding.size > 0;
  }

  /** Now while impaired, else when it last ended (-Infinity: never). */
  lastImpairedUs(id: string): number {
    const s = this.state(id);
    return s.holding.size > 0 ? this.nowUs() : s.endedUs;
  }

  /** Whether `id` was impaired at any time in the last `windowUs`. */
  impairedWithin(id: string, windowUs: number): boolean {
    return this.lastImpairedUs(id) >= this.nowUs() - windowUs;
  }
}
