/**
 * SWIM §4.3's randomized round-robin choice of whom to probe. Picking a uniformly random member
 * each period leaves a member unprobed for arbitrarily long with some probability; instead the
 * candidates are shuffled into a list that is walked in order, and shuffled again when it is
 * used up. Every candidate is probed once per pass, so a failed member is probed by this node
 * within 2·|candidates| - 1 periods at worst (§4.3). A new candidate is inserted at a random
 * position of the current pass, as SWIM says, not at its end.
 */
import { shuffled, type Prng } from '../prng.ts';
import type { NodeId } from './types.ts';

export class ProbeOrder {
  private list: NodeId[] = [];
  private listed = new Set<NodeId>();
  private index = 0;

  /**
   * The next candidate to probe, or null when there are none. `candidates` is the set this node
   * may probe now (live members it holds a link to); members that left it are skipped.
   */
  next(candidates: ReadonlySet<NodeId>, prng: Prng): NodeId | null {
    if (candidates.size === 0) return null;
    this.insertNew(candidates, prng);
    // One pass over the list at most, then one over a fresh shuffle: bounded by 2 · list length.
    for (let round = 0; round < 2; round++) {
      while (this.index < this.list.length) {
        const id = this.list[this.index++] as NodeId;
        if (candidates.has(id)) return id;
      }
      this.reshuffle(candidates, prng);
    }
    return null;
  }

  private insertNew(candidates: ReadonlySet<NodeId>, prng: Prng): void {
    for (const id of candidates) {
      if (this.listed.has(id)) continue;
      // A random position among those not yet probed in this pass.
      const at = this.index + prng.nextInt(this.list.length - this.index + 1);
      this.list.splice(at, 0, id);
      this.listed.add(id);
    }
  }

  private reshuffle(candidates: ReadonlySet<NodeId>, prng: Prng): void {
    this.list = shuffled(prng, [...candidates]);
    this.listed = new Set(this.list);
    this.index = 0;
  }
}

