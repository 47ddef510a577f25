/**
 * A simulated node's gossip storage (the runtime's `GossipWriteSink`, src/runtime/gossip-host.ts,
 * over what src/io/storage/gossip-storage.ts keeps: the highest announced incarnation, and each
 * CRDT whole, one record per (name, type)). A write takes virtual time (the seed's storage latency, IndexedDB-like);
 * a crash before it completes loses it, so a restart boots from what was durable, which is
 * exactly what the Ready order has to be right about: a message claiming an incarnation must not
 * leave before the write that holds it completes.
 *
 * Writes complete in call order (one Ready is outstanding at a time, so one write). A write that
 * completes while the node is paused reports `done` only when it runs again (`release`): the
 * disk finished, the CPU that would go on did not run.
 *
 * Sabotage: `forgetful` (forget-incarnation) loses everything at every crash, as storage that
 * never really wrote; `ackAtBegin` (send-before-durable) reports a write done as it BEGINS, so
 * what the Ready holds back until the write is durable leaves at once.
 */
import type { Prng } from '../../core/prng.ts';
import type { PersistedCrdt } from '../../core/gossip/crdt-store.ts';
import { crdtRecordKey, nextIncarnation, type GossipWrite } from '../../io/storage/gossip-storage.ts';
import type { GossipWriteSink } from '../../runtime/gossip-host.ts';
import { sample, type Distribution } from '../distributions.ts';
import type { Scheduler } from '../scheduler.ts';

export interface GossipDiskOptions {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  readonly latency: Distribution;
  readonly forgetful: boolean;
  /** Sabotage forget-crdts: a crash loses the CRDT records. */
  readonly forgetsCrdts: boolean;
  readonly ackAtBegin: boolean;
  /** A write began; it completes at `completesAtUs` unless a crash comes first (the nemesis aims crashes here). */
  readonly onWriteBegin: (completesAtUs: number) => void;
  /** The oldest write in flight is durable (reported at completion, even while paused). */
  readonly onWriteDurable: () => void;
}

export class GossipDisk {
  private incarnationValue = 0;
  private readonly crdtRecords = new Map<string, PersistedCrdt>();
  /** Bumped by a crash: a write begun before it never completes. */
  private generation = 0;
  private paused = false;
  private readonly waiting: (() => void)[] = [];
  writes = 0;
  writesLost = 0;
  private writing = 0;

  constructor(private readonly o: GossipDiskOptions) {}

  /** What a restart boots from. */
  get incarnation(): number {
    return this.incarnationValue;
  }

  /** The CRDTs a restart boots from (`GossipBoot.crdts`). */
  crdts(): PersistedCrdt[] {
    return [...this.crdtRecords.values()].map((c) => structuredClone(c));
  }

  /** The sink a life's host writes through. */
  sink(): GossipWriteSink {
    return { write: (w, done, failed) => this.write(w, done, failed) };
  }

  private write(w: GossipWrite, done: () => void, failed: (error: unknown) => void): void {
    const generation = this.generation;
    this.writes++;
    this.writing++;
    const completesAtUs = this.o.scheduler.nowUs + sample(this.o.prng, this.o.latency);
    this.o.scheduler.at(completesAtUs, () => {
      if (generation !== this.generation) return;
      this.writing--;
      try {
        this.incarnationValue = nextIncarnation(this.incarnationValue, w);
      } catch (e) {
        failed(e);
        return;
      }
      // A copy, as real storage holds bytes: what the engine does later to its own values must not reach the disk.
      for (const c of w.crdts) this.crdtRecords.set(crdtRecordKey(c), structuredClone(c));
      this.o.onWriteDurable();
      if (this.o.ackAtBegin) return;
      if (this.paused) this.waiting.push(done);
      else done();
    });
    this.o.onWriteBegin(completesAtUs);
    if (this.o.ackAtBegin) done();
  }

  pause(): void {
    this.paused = true;
  }

  /** The node runs again: writes that completed meanwhile report now, in order. */
  release(): void {
    this.paused = false;
    for (const done of this.waiting.splice(0)) done();
  }

  /** The node crashed: a write in flight is lost (and everything, if forgetful). */
  crash(): void {
    this.writesLost += this.writing;
    this.writing = 0;
    this.generation++;
    this.paused = false;
    this.waiting.length = 0;
    if (this.o.forgetful) this.incarnationValue = 0;
    if (this.o.forgetful || this.o.forgetsCrdts) this.crdtRecords.clear();
  }
}
