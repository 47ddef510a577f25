/**
 * A simulated node's durable storage for gossip: the one number it must not forget, its highest
 * announced incarnation (src/core/gossip/ready.ts). A write takes virtual time (the seed's
 * storage latency, IndexedDB-like) and a crash before it completes loses it, so a restart boots
 * from what was durable, exactly what the Ready order has to be right about: a message claiming
 * the incarnation must not leave before the write that holds it completes.
 *
 * One write at a time (the engine has one Ready outstanding). `forgetful` (the sabotage
 * `forget-incarnation`) boots every life from 0, as storage that loses its writes would.
 */
import { assert } from '../../core/assert.ts';
import type { Prng } from '../../core/prng.ts';
import { sample, type Distribution } from '../distributions.ts';
import type { Scheduler } from '../scheduler.ts';

export class IncarnationDisk {
  private durableValue = 0;
  /** Bumped by a crash: a write begun before it never completes. */
  private generation = 0;
  private writing = false;
  writes = 0;
  writesLost = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly latency: Distribution,
    private readonly forgetful: boolean,
  ) {}

  /** What a restart boots from. */
  get durable(): number {
    return this.forgetful ? 0 : this.durableValue;
  }

  get inFlight(): boolean {
    return this.writing;
  }

  /** Begin writing `incarnation`; `done` runs once it is durable (never, if a crash comes first). Returns when it completes. */
  write(incarnation: number, done: () => void): number {
    assert(!this.writing, 'a second incarnation write while one is in flight');
    assert(incarnation >= this.durableValue, 'incarnation written below what is durable');
    this.writing = true;
    this.writes++;
    const generation = this.generation;
    const completesAtUs = this.scheduler.nowUs + sample(this.prng, this.latency);
    this.scheduler.at(completesAtUs, () => {
      if (generation !== this.generation) return;
      this.writing = false;
      this.durableValue = incarnation;
      done();
    });
    return completesAtUs;
  }

  /** The node crashed: a write in flight is lost. */
  crash(): void {
    if (this.writing) this.writesLost++;
    this.writing = false;
    this.generation++;
  }
}
