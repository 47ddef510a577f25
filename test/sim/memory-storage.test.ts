/**
 * What this proves about the simulator's storage (src/sim/memory-storage.ts), the crash model
 * every persistence scenario rests on: a write takes virtual time and becomes durable only when
 * it completes; a crash loses every pending write (and its completion callback never runs) but
 * keeps everything durable; writes complete in the order they began even when a later one draws
 * a shorter latency; entries replace the stored suffix from their first index; and a restart
 * loads a copy of exactly what was durable.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import type { Entry, HardState } from '../../src/core/raft/types.ts';
import type { Distribution } from '../../src/sim/distributions.ts';
import { MemoryStorage } from '../../src/sim/memory-storage.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';

function entry(index: number, term: number): Entry {
  return { index, term, kind: 'normal', data: Uint8Array.of(index, term) };
}

function setup(latency: Distribution = { kind: 'constant', us: 1000 }) {
  const scheduler = new Scheduler();
  const storage = new MemoryStorage({ scheduler, prng: createPrng(5), latency });
  return { scheduler, storage };
}

const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });

describe('MemoryStorage', () => {
  it('makes a write durable only when it completes', () => {
    const { scheduler, storage } = setup();
    let durable = false;
    const at = storage.write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1)] }, () => (durable = true));
    expect(at).toBe(1000);
    scheduler.runUntil(999);
    expect(durable).toBe(false);
    expect(storage.hasPendingWrite()).toBe(true);
    expect(storage.load()).toEqual({ hardState: hs(0, null, 0), entries: [] });
    scheduler.runUntil(1000);
    expect(durable).toBe(true);
    expect(storage.hasPendingWrite()).toBe(false);
    expect(storage.load()).toEqual({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1)] });
  });

  it('loses pending writes on a crash and keeps durable ones', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: hs(1, 'n2', 0), entries: [entry(1, 1), entry(2, 1)] }, () => undefined);
    scheduler.runUntil(1000);
    let lateCallback = false;
    storage.write({ hardState: hs(2, 'n3', 2), entries: [entry(3, 2)] }, () => (lateCallback = true));
    scheduler.runUntil(500);
    storage.crash();
    scheduler.runUntil(10_000);
    expect(lateCallback).toBe(false); // the write's Ready never finishes: nothing is sent
    expect(storage.load()).toEqual({ hardState: hs(1, 'n2', 0), entries: [entry(1, 1), entry(2, 1)] });
    expect(storage.stats).toMatchObject({ writes: 1, writesLost: 1, entriesLost: 1 });
    // The node restarts and writes again: storage works as before.
    storage.write({ hardState: null, entries: [entry(3, 3)] }, () => undefined);
    scheduler.runUntil(20_000);
    expect(storage.durableEntries().map((e) => e.term)).toEqual([1, 1, 3]);
  });

  it('completes writes in the order they began', () => {
    const { scheduler, storage } = setup({ kind: 'uniform', minUs: 10, maxUs: 5000 });
    const order: number[] = [];
    for (let i = 1; i <= 20; i++) storage.write({ hardState: null, entries: [entry(i, 1)] }, () => order.push(i));
    scheduler.runUntil(1_000_000);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(storage.durableEntries().length).toBe(20);
  });

  it('replaces the stored suffix from the first index of a write', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }, () => undefined);
    storage.write({ hardState: null, entries: [entry(3, 2)] }, () => undefined);
    scheduler.runUntil(10_000);
    expect(storage.durableEntries().map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    // How the node's log reads once a pending write lands, without waiting for it.
    const pending = [entry(2, 3), entry(3, 3)];
    expect(storage.entryAfter(1, pending)).toEqual(entry(1, 1));
    expect(storage.entryAfter(3, pending)).toEqual(entry(3, 3));
    expect(storage.entryAfter(4, pending)).toBeUndefined();
    expect(storage.lastIndexAfter(pending)).toBe(3);
    expect(storage.lastIndexAfter([])).toBe(3);
  });

  it('loads a copy that the node may change without touching storage', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: hs(1, null, 1), entries: [entry(1, 1)] }, () => undefined);
    scheduler.runUntil(1000);
    const boot = storage.load();
    (boot.entries as Entry[]).push(entry(2, 1));
    expect(storage.durableEntries().length).toBe(1);
  });

  it('refuses a write that would leave a gap in the log', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: null, entries: [entry(3, 1)] }, () => undefined);
    expect(() => scheduler.runUntil(1000)).toThrow(/gap/);
  });
});
