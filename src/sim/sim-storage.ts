/**
 * How a simulated node's driver writes (the runtime's `WriteSink`): through the simulator's
 * storage (memory-storage.ts), whose writes take virtual time and are lost if the node crashes
 * before they complete. A completed write reaches the driver `postDurableDelayUs` later, so a
 * crash can also land after the write completed but before anything that depends on it left.
 * The nemesis hears of every write as it begins (when it completes, and whether it carries a
 * vote not yet durable), to aim crashes inside writes.
 *
 * The sabotage `send-before-durable` (sim-node-sabotage.ts) says a write is durable as soon as it
 * BEGINS: what the Ready contract holds back until the write is durable then leaves at once, as
 * with a storage adapter that reports writes done too early.
 */
import type { WriteSink } from '../runtime/driver.ts';
import type { MemoryStorage } from './memory-storage.ts';
import type { Scheduler } from './scheduler.ts';

export function simWrites(
  storage: MemoryStorage,
  scheduler: Scheduler,
  postDurableDelayUs: number,
  /** Whether the driver that wrote is still the node's (not crashed since). */
  alive: () => boolean,
  ackAtBegin: boolean,
  onBegin: (completesAtUs: number, carriesVote: boolean) => void,
): WriteSink {
  return {
    write(w, done) {
      const durable = storage.durableHardState();
      const hs = w.hardState;
      const carriesVote = hs !== null && hs.vote !== null && (hs.vote !== durable.vote || hs.term !== durable.term);
      // A refused write (the storage rules) never completes: the storage reports it and the node
      // stops (sim-node.ts), so `done` is not called and the failure needs no callback here.
      const completesAtUs = storage.write(w, () => {
        if (!alive() || ackAtBegin) return;
        scheduler.after(postDurableDelayUs, () => {
          if (alive()) done();
        });
      });
      onBegin(completesAtUs, carriesVote);
      if (ackAtBegin) done();
    },
  };
}
