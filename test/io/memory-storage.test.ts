/**
 * Runs the storage compliance suite (storage-compliance.ts) against MemoryRaftStorage, and proves
 * what only it has to: a write is in flight until a later macrotask (until `writeDelayMs` has
 * passed), writes become durable in issue order, a crash loses every write in flight and its
 * promise never settles, the storage copies what it is given and what it returns, keeps the
 * entries behind a snapshot that `compactTo` spares, and checks the state it starts from.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Entry } from '../../src/core/raft/types.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { StorageError } from '../../src/io/storage/storage.ts';
import { describeStorageCompliance } from './storage-compliance.ts';
import { config, entry, hs, promiseState, write } from './storage-samples.ts';

describeStorageCompliance('MemoryRaftStorage', async () => {
  let current = new MemoryRaftStorage();
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = new MemoryRaftStorage({ initial: current.durable() });
      return current;
    },
    crash: async () => {
      current.crash();
      return current;
    },
  };
});

describe('MemoryRaftStorage', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps a write in flight until a later macrotask, then makes it durable', async () => {
    const storage = new MemoryRaftStorage();
    const p = storage.write(write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1)] }));
    await Promise.resolve();
    expect(storage.hasInFlight()).toBe(true);
    expect(storage.durable().entries).toEqual([]);
    await p;
    expect(storage.hasInFlight()).toBe(false);
    expect(storage.durable()).toEqual({ hardState: hs(1, 'n1', 0), snapshot: null, entries: [entry(1, 1)] });
  });

  it('waits writeDelayMs before a write is durable', async () => {
    vi.useFakeTimers();
    const storage = new MemoryRaftStorage({ writeDelayMs: 50 });
    let durable = false;
    void storage.write(write({ hardState: hs(1, 'n1', 0) })).then(() => (durable = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(durable).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(durable).toBe(true);
  });

  it('makes writes durable in issue order, and a crash loses every one in flight for good', async () => {
    const storage = new MemoryRaftStorage();
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1)] }));
    // Checked against the state with the writes in flight applied: 3 continues 2.
    const second = storage.write(write({ entries: [entry(2, 1)] }));
    const third = storage.write(write({ entries: [entry(3, 1)] }));
    await second;
    expect(storage.durable().entries.map((e) => e.index)).toEqual([1, 2]);
    await third;
    const fourth = storage.write(write({ entries: [entry(4, 1)] }));
    const fifth = storage.write(write({ hardState: hs(2, 'n2', 0), entries: [entry(5, 2)] }));
    storage.crash();
    expect(await promiseState(fourth)).toBe('pending');
    expect(await promiseState(fifth)).toBe('pending');
    expect(storage.hasInFlight()).toBe(false);
    expect(await storage.boot()).toEqual({ hardState: hs(1, 'n1', 0), snapshot: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    // After the crash, writes are checked against what is durable: 4 may be written again.
    await storage.write(write({ hardState: hs(2, 'n3', 0), entries: [entry(4, 2)] }));
    expect(storage.durable().entries.map((e) => e.term)).toEqual([1, 1, 1, 2]);
  });

  it('copies what it is given and what it returns', async () => {
    const storage = new MemoryRaftStorage();
    const data = Uint8Array.of(1, 2, 3);
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [{ index: 1, term: 1, kind: 'normal', data }] }));
    data[0] = 9;
    const booted = await storage.boot();
    (booted.entries[0] as Entry).data[1] = 9;
    (storage.durable().entries[0] as Entry).data[2] = 9;
    expect(storage.durable().entries[0]?.data).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('keeps the entries behind a snapshot that compactTo spares, and drops the rest', async () => {
    const storage = new MemoryRaftStorage();
    await storage.write(write({ hardState: hs(1, 'n1', 6), entries: Array.from({ length: 8 }, (_, i) => entry(i + 1, 1)) }));
    await storage.write(write({ snapshot: { meta: { index: 6, term: 1, config }, data: new Uint8Array(3) }, compactTo: 4 }));
    expect(storage.durable().entries.map((e) => e.index)).toEqual([5, 6, 7, 8]);
    expect((await storage.boot()).entries.map((e) => e.index)).toEqual([7, 8]);
    const reopened = new MemoryRaftStorage({ initial: storage.durable() });
    expect(reopened.durable()).toEqual(storage.durable());
  });

  it('checks the state it starts from', () => {
    const gap = { hardState: hs(1, null, 0), snapshot: null, entries: [entry(1, 1), entry(3, 1)] };
    expect(() => new MemoryRaftStorage({ initial: gap })).toThrow(StorageError);
    const beyond = { hardState: hs(1, null, 5), snapshot: null, entries: [entry(1, 1)] };
    expect(() => new MemoryRaftStorage({ initial: beyond })).toThrow(StorageError);
  });
});
