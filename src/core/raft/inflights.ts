/**
 * The appends in flight to one follower in the replicate state: a bounded ring of the last index
 * of each append sent and not yet acknowledged. When it is full the leader stops sending to that
 * follower until acknowledgements free room (flow control, as etcd-raft's `Inflights`).
 */
import { assert } from '../assert.ts';

export class Inflights {
  private readonly lastIndices: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'inflights capacity must be positive');
    this.lastIndices = new Array<number>(capacity).fill(0);
  }

  get size(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count === this.capacity;
  }

  /** Record an append whose last entry is `lastIndex`; indices must be increasing. */
  add(lastIndex: number): void {
    assert(!this.isFull(), 'inflights: add when full');
    if (this.count > 0) {
      const newest = this.lastIndices[(this.start + this.count - 1) % this.capacity] as number;
      assert(lastIndex > newest, 'inflights: indices must increase');
    }
    this.lastIndices[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Free every append whose last index is at or below `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && (this.lastIndices[this.start] as number) <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}
