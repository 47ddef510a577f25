/**
 * What this proves about the simulator's storage (src/sim/memory-storage.ts), the crash model
 * every persistence scenario rests on: a write takes virtual time and becomes durable only when
 * it completes; a crash loses every pending write (and its completion callback never runs) but
 * keeps everything durable; writes complete in the order they began even when a later one draws
 * a shorter latency; entries replace the stored suffix from their first index; and a restart
 * loads a copy of exactly what was durable. With snapshots: a local snapshot with `compactTo`
 * drops the entries it covers but keeps the trailing ones, and a restart boots from the snapshot
 * and the entries after it; a snapshot installed from the leader replaces the whole log in the
 * same atomic write as its hard state and entries, so a crash before it completes leaves the old
 * log, hard state and snapshot untouched, and one after leaves all of the new ones; a lost
 * compaction write leaves the full log. Every write is held to the rules of the browser's storage
 * adapters (src/io/storage/write-rules.ts): writes that would break them (an older snapshot,
 * compaction beyond it, entries below it, a changed vote, a replaced committed entry) are
 * refused, store nothing, and are reported.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import type { Entry, HardState, Snapshot } from '../../src/core/raft/types.ts';
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
    expect(storage.load()).toEqual({ hardState: hs(0, null, 0), snapshot: null, entries: [] });
    scheduler.runUntil(1000);
    expect(durable).toBe(true);
    expect(storage.hasPendingWrite()).toBe(false);
    expect(storage.load()).toEqual({ hardState: hs(1, 'n1', 0), snapshot: null, entries: [entry(1, 1)] });
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
    expect(storage.load()).toEqual({ hardState: hs(1, 'n2', 0), snapshot: null, entries: [entry(1, 1), entry(2, 1)] });
    expect(storage.stats).toMatchObject({ writes: 1, writesLost: 1, entriesLost: 1 });
    // The node restarts and writes again: storage works as before.
    storage.write({ hardState: hs(3, null, 0), entries: [entry(3, 3)] }, () => undefined);
    scheduler.runUntil(20_000);
    expect(storage.durableEntries().map((e) => e.term)).toEqual([1, 1, 3]);
  });

  it('completes writes in the order they began', () => {
    const { scheduler, storage } = setup({ kind: 'uniform', minUs: 10, maxUs: 5000 });
    const order: number[] = [];
    for (let i = 1; i <= 20; i++) storage.write({ hardState: i === 1 ? hs(1, null, 0) : null, entries: [entry(i, 1)] }, () => order.push(i));
    scheduler.runUntil(1_000_000);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(storage.durableEntries().length).toBe(20);
  });

  it('replaces the stored suffix from the first index of a write', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: hs(2, null, 0), entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }, () => undefined);
    storage.write({ hardState: null, entries: [entry(3, 2)] }, () => undefined);
    scheduler.runUntil(10_000);
    expect(storage.durableEntries().map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    // How the node's log reads once a pending write lands, without waiting for it.
    const pending = { snapshot: null, entries: [entry(2, 3), entry(3, 3)] };
    expect(storage.entryAfter(1, pending)).toEqual(entry(1, 1));
    expect(storage.entryAfter(3, pending)).toEqual(entry(3, 3));
    expect(storage.entryAfter(4, pending)).toBeUndefined();
    expect(storage.lastIndexAfter(pending)).toBe(3);
    expect(storage.lastIndexAfter({ snapshot: null, entries: [] })).toBe(3);
    expect(storage.snapshotAfter(pending)).toBeNull();
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

  it('keeps a local snapshot, drops the entries it covers but the trailing ones, and boots from it', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: hs(1, 'n1', 10), entries: range(1, 10, 1) }, () => undefined);
    storage.write({ snapshot: snap(6, 1), compactTo: 4 }, () => undefined);
    scheduler.runUntil(10_000);
    expect(storage.firstIndex()).toBe(5);
    expect(storage.lastIndex()).toBe(10);
    expect(storage.durableEntries().map((e) => e.index)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(storage.stats).toMatchObject({ snapshotsStored: 1, snapshotsInstalled: 0, entriesCompacted: 4 });
    // A restart boots from the snapshot and the entries after it (5 and 6 stay stored, unloaded).
    const boot = storage.load();
    expect(boot.snapshot).toEqual(snap(6, 1));
    expect(boot.entries.map((e) => e.index)).toEqual([7, 8, 9, 10]);
    expect(storage.entryAfter(4, { snapshot: null, entries: [] })).toBeUndefined();
    expect(storage.entryAfter(5, { snapshot: null, entries: [] })).toEqual(entry(5, 1));
    expect(storage.snapshotAfter({ snapshot: null, entries: [] })).toEqual({ index: 6, term: 1 });
    // The log goes on after it, and a later snapshot compacts further.
    storage.write({ hardState: hs(2, 'n1', 11), entries: [entry(11, 2)] }, () => undefined);
    storage.write({ snapshot: snap(11, 2), compactTo: 11 }, () => undefined);
    scheduler.runUntil(20_000);
    expect(storage.load()).toEqual({ hardState: hs(2, 'n1', 11), snapshot: snap(11, 2), entries: [] });
    expect(storage.firstIndex()).toBe(12);
  });

  it('installs a snapshot from the leader atomically with its Ready: all or nothing across a crash', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: hs(1, 'n1', 2), entries: range(1, 3, 1) }, () => undefined);
    scheduler.runUntil(1000);
    const install = { hardState: hs(3, null, 20), snapshot: snap(20, 3), clearLog: true, entries: [entry(21, 3)] };
    // How the log reads once the install lands: nothing at or below the snapshot.
    const pending = { snapshot: install.snapshot, entries: install.entries };
    expect(storage.entryAfter(2, pending)).toBeUndefined();
    expect(storage.entryAfter(21, pending)).toEqual(entry(21, 3));
    expect(storage.snapshotAfter(pending)).toEqual({ index: 20, term: 3 });
    expect(storage.lastIndexAfter({ snapshot: install.snapshot, entries: [] })).toBe(20);
    // Crash while the install is in flight: the old state, entirely.
    let durable = false;
    storage.write(install, () => (durable = true));
    scheduler.runUntil(1500);
    storage.crash();
    scheduler.runUntil(10_000);
    expect(durable).toBe(false);
    expect(storage.load()).toEqual({ hardState: hs(1, 'n1', 2), snapshot: null, entries: range(1, 3, 1) });
    // Again, to completion: the new state, entirely.
    storage.write(install, () => (durable = true));
    scheduler.runUntil(20_000);
    expect(durable).toBe(true);
    expect(storage.load()).toEqual({ hardState: hs(3, null, 20), snapshot: snap(20, 3), entries: [entry(21, 3)] });
    expect(storage.firstIndex()).toBe(21);
    expect(storage.stats).toMatchObject({ snapshotsInstalled: 1, writesLost: 1 });
  });

  it('loses a compaction write in flight on a crash and keeps the full log', () => {
    const { scheduler, storage } = setup();
    storage.write({ hardState: hs(1, null, 5), entries: range(1, 5, 1) }, () => undefined);
    scheduler.runUntil(1000);
    storage.write({ snapshot: snap(5, 1), compactTo: 5 }, () => undefined);
    scheduler.runUntil(1500);
    storage.crash();
    scheduler.runUntil(10_000);
    expect(storage.load()).toEqual({ hardState: hs(1, null, 5), snapshot: null, entries: range(1, 5, 1) });
  });

  it('refuses, by the storage adapters\' rules, an older snapshot, compaction beyond the snapshot, entries below it', () => {
    const older = setup();
    older.storage.write({ hardState: hs(1, null, 8), entries: range(1, 8, 1) }, () => undefined);
    older.storage.write({ snapshot: snap(6, 1), compactTo: 6 }, () => undefined);
    older.storage.write({ snapshot: snap(4, 1), compactTo: 4 }, () => undefined);
    expect(() => older.scheduler.runUntil(10_000)).toThrow(/not newer/);
    const beyond = setup();
    beyond.storage.write({ hardState: hs(1, null, 8), entries: range(1, 8, 1) }, () => undefined);
    beyond.storage.write({ snapshot: snap(4, 1), compactTo: 6 }, () => undefined);
    expect(() => beyond.scheduler.runUntil(10_000)).toThrow(/beyond the snapshot/);
    const below = setup();
    below.storage.write({ hardState: hs(2, null, 6), entries: range(1, 8, 1) }, () => undefined);
    below.storage.write({ snapshot: snap(6, 1), compactTo: 6 }, () => undefined);
    below.storage.write({ entries: [entry(5, 2)] }, () => undefined);
    expect(() => below.scheduler.runUntil(10_000)).toThrow(/overlap the snapshot/);
    const noSnapshot = setup();
    noSnapshot.storage.write({ clearLog: true, entries: [] }, () => undefined);
    expect(() => noSnapshot.scheduler.runUntil(10_000)).toThrow(/clearLog/);
  });

  it('reports a refused write through onRefused, stores nothing of it and never calls its onDurable', () => {
    const scheduler = new Scheduler();
    const refused: string[] = [];
    const storage = new MemoryStorage({ scheduler, prng: createPrng(5), latency: { kind: 'constant', us: 1000 }, onRefused: (e) => refused.push(e.message) });
    storage.write({ hardState: hs(2, 'n1', 3), entries: range(1, 3, 2) }, () => undefined);
    let durable = false;
    // A vote changed within a term, and a committed entry replaced: both forbidden.
    storage.write({ hardState: hs(2, 'n2', 3), entries: [entry(3, 2)] }, () => (durable = true));
    storage.write({ entries: [entry(2, 1)] }, () => (durable = true));
    scheduler.runUntil(10_000);
    expect(durable).toBe(false);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatch(/vote in term 2 changes/);
    expect(storage.load()).toEqual({ hardState: hs(2, 'n1', 3), snapshot: null, entries: range(1, 3, 2) });
    expect(storage.stats.writesRefused).toBe(2);
  });
});

function range(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}

function snap(index: number, term: number): Snapshot {
  return { meta: { index, term, config: { voters: ['n1'], learners: [] } }, data: Uint8Array.of(index) };
}
