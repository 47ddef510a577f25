/**
 * The simulator's memory storage (virtual time, crash model) passes the same storage compliance
 * suite as the browser and Node adapters, through a thin adapter: a write is begun at once and
 * the virtual clock is run to its completion on a later task, so a crash in between loses it,
 * as a crash loses a write in flight in the simulator. This proves the simulator stores exactly
 * what a real adapter would: refused writes, compaction, leader snapshots, boot.
 */
import { createPrng } from '../../src/core/prng.ts';
import type { BootState } from '../../src/core/raft/types.ts';
import { StorageError, type RaftStorage, type StorageWrite } from '../../src/io/storage/storage.ts';
import { MemoryStorage } from '../../src/sim/memory-storage.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';
import { describeStorageCompliance } from './storage-compliance.ts';

class SimStorageAdapter implements RaftStorage {
  private closed = false;
  constructor(
    private readonly storage: MemoryStorage,
    private readonly scheduler: Scheduler,
    private readonly refusals: ((e: StorageError) => void)[],
  ) {}

  async boot(): Promise<BootState> {
    if (this.closed) throw new StorageError('storage is closed');
    return this.storage.load();
  }

  write(write: StorageWrite): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('storage is closed'));
    return new Promise((resolve, reject) => {
      this.refusals.push(reject);
      const completesAtUs = this.storage.write(write, () => {
        this.refusals.splice(this.refusals.indexOf(reject), 1);
        resolve();
      });
      // Run virtual time to the write's completion on a later task: until then it is in flight.
      setTimeout(() => this.scheduler.runUntil(completesAtUs), 0);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describeStorageCompliance('simulator MemoryStorage', async () => {
  const scheduler = new Scheduler();
  const refusals: ((e: StorageError) => void)[] = [];
  const storage = new MemoryStorage({
    scheduler,
    prng: createPrng(1),
    latency: { kind: 'constant', us: 100 },
    // A refused write is reported to the oldest waiting caller: writes complete in order.
    onRefused: (e) => refusals.shift()?.(e),
  });
  let current = new SimStorageAdapter(storage, scheduler, refusals);
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = new SimStorageAdapter(storage, scheduler, refusals);
      return current;
    },
    crash: async () => {
      storage.crash();
      refusals.length = 0;
      current = new SimStorageAdapter(storage, scheduler, refusals);
      return current;
    },
  };
});
