/**
 * Runs the storage compliance suite (../storage-compliance.ts) against FileRaftStorage, in a
 * temporary directory per test, with a crash that drops the handle as a killed process would
 * (writes not yet handed to the kernel are lost); and proves what only the file log has to:
 * CRC-32C gives the standard check values; concurrent writes share one write and one fdatasync
 * (group commit), at most 1,024 per group; segments roll at their size limit and compaction deletes whole segments
 * (the log then boots the same from what is left); a snapshot file is replaced, not
 * accumulated; the lock keeps a second handle out and a stale lock (a dead pid) is taken over;
 * a node's Raft, gossip and BFT storages open side by side under one new data directory
 * (nodeDataDirs); a write that cannot be encoded is refused and changes nothing; and a write that fails on disk
 * poisons the handle.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/core/raft/types.ts';
import { crc32c } from '../../../src/io/storage/crc32c.ts';
import { fileBftStorage } from '../../../src/io/storage/file-bft-storage.ts';
import { nodeDataDirs } from '../../../src/io/storage/file-dir.ts';
import { FileLogLockedError } from '../../../src/io/storage/file-errors.ts';
import { fileGossipStorage } from '../../../src/io/storage/file-gossip-storage.ts';
import { FileRaftStorage, fileStorage } from '../../../src/io/storage/file-storage.ts';
import { StorageError } from '../../../src/io/storage/storage.ts';
import { describeStorageCompliance } from '../storage-compliance.ts';
import { config, hs, write } from '../storage-samples.ts';

const root = mkdtempSync(join(tmpdir(), 'pq-file-storage-'));
let dirs = 0;
const freshDir = (): string => join(root, `node-${++dirs}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeStorageCompliance('FileRaftStorage', async () => {
  const dir = freshDir();
  let current = await fileStorage({ dir });
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = await fileStorage({ dir });
      return current;
    },
    crash: async () => {
      await current.crashForTest();
      current = await fileStorage({ dir });
      return current;
    },
  };
});

/** An entry with `bytes` of data that tell its index apart. */
function bigEntry(index: number, term: number, bytes: number): Entry {
  const data = new Uint8Array(bytes);
  data.fill(index & 0xff);
  return { index, term, kind: 'normal', data };
}

const segmentsIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

describe('crc32c', () => {
  it('gives the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // 32 bytes of ones
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e); // incrementing
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('continues across calls and over any start and end', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    const whole = crc32c(bytes);
    for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) expect(crc32c(bytes, cut, bytes.length, crc32c(bytes, 0, cut))).toBe(whole);
    expect(crc32c(bytes, 3, 20)).toBe(crc32c(bytes.slice(3, 20)));
  });
});

describe('FileRaftStorage', () => {
  it('gathers writes issued together into one write and one fdatasync (group commit)', async () => {
    const storage = await fileStorage({ dir: freshDir() });
    await storage.write(write({ hardState: hs(1, 'n1', 0) }));
    const before = storage.groupsWritten;
    const writes = Array.from({ length: 16 }, (_, i) => storage.write(write({ entries: [bigEntry(i + 1, 1, 10)] })));
    await Promise.all(writes);
    // The first write's group may start before the rest are issued; the other 15 share one.
    expect(storage.groupsWritten - before).toBeLessThanOrEqual(2);
    expect((await storage.boot()).entries.map((e) => e.index)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    await storage.close();
  });

  it('bounds a group at 1,024 writes: a burst of 2,500 takes at least 3 groups, all kept in order', async () => {
    const storage = await fileStorage({ dir: freshDir() });
    await storage.write(write({ hardState: hs(1, 'n1', 0) }));
    const before = storage.groupsWritten;
    await Promise.all(Array.from({ length: 2500 }, (_, i) => storage.write(write({ entries: [bigEntry(i + 1, 1, 1)] }))));
    expect(storage.groupsWritten - before).toBeGreaterThanOrEqual(3);
    const booted = await storage.boot();
    expect(booted.entries.length).toBe(2500);
    expect(booted.entries.every((e, i) => e.index === i + 1)).toBe(true);
    await storage.close();
  });

  it('rolls segments at their size limit and deletes whole segments behind a snapshot', async () => {
    const dir = freshDir();
    let storage = await fileStorage({ dir, segmentBytesMax: 4096 });
    for (let i = 1; i <= 40; i++) await storage.write(write({ hardState: hs(1, 'n1', i - 1), entries: [bigEntry(i, 1, 1000)] }));
    const rolled = segmentsIn(dir);
    expect(rolled.length).toBeGreaterThanOrEqual(10);
    await storage.write(write({ hardState: hs(1, 'n1', 40) }));
    await storage.write(write({ snapshot: { meta: { index: 35, term: 1, config }, data: Uint8Array.of(1, 2, 3) }, compactTo: 33 }));
    // Dead segments are deleted after the write is acknowledged; boot() waits for that.
    const booted = await storage.boot();
    const kept = segmentsIn(dir);
    // Only segments holding entries from 34 on remain (4 KiB hold 3-4 entries of 1 KB).
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept[0]! > rolled[0]!).toBe(true);
    expect(booted.snapshot?.meta.index).toBe(35);
    expect(booted.entries.map((e) => e.index)).toEqual([36, 37, 38, 39, 40]);
    await storage.close();
    storage = await fileStorage({ dir, segmentBytesMax: 4096 });
    const again = await storage.boot();
    expect(again.hardState).toEqual(hs(1, 'n1', 40));
    expect(again.entries.map((e) => [e.index, e.data[0]])).toEqual([36, 37, 38, 39, 40].map((i) => [i, i]));
    // It goes on appending after the compaction.
    await storage.write(write({ entries: [bigEntry(41, 1, 10)] }));
    await storage.close();
    storage = await fileStorage({ dir, segmentBytesMax: 4096 });
    expect((await storage.boot()).entries.map((e) => e.index)).toEqual([36, 37, 38, 39, 40, 41]);
    await storage.close();
  });

  it('keeps one snapshot file: the one the log refers to', async () => {
    const dir = freshDir();
    const storage = await fileStorage({ dir });
    await storage.write(write({ hardState: hs(1, 'n1', 5), entries: [1, 2, 3, 4, 5].map((i) => bigEntry(i, 1, 4)) }));
    await storage.write(write({ snapshot: { meta: { index: 3, term: 1, config }, data: new Uint8Array(100) }, compactTo: 3 }));
    await storage.write(write({ snapshot: { meta: { index: 5, term: 1, config }, data: new Uint8Array(50) }, compactTo: 5 }));
    await storage.boot();
    expect(readdirSync(dir).filter((n) => n.endsWith('.snap'))).toEqual(['snap-5-1.snap']);
    await storage.close();
  });

  it('refuses a second handle on an open directory, and takes over a lock whose process is gone', async () => {
    const dir = freshDir();
    const storage = await fileStorage({ dir });
    await expect(fileStorage({ dir })).rejects.toBeInstanceOf(FileLogLockedError);
    await storage.close();
    // A lock left by a dead process: pid 2^22 + 1 is above Linux's pid_max default (4,194,304).
    writeFileSync(join(dir, 'LOCK'), `${2 ** 22 + 1}\n`);
    const reopened = await fileStorage({ dir });
    await reopened.close();
    // A lock held by a live process (ours, the parent of vitest's worker) is refused.
    writeFileSync(join(dir, 'LOCK'), `${process.ppid}\n`);
    await expect(fileStorage({ dir })).rejects.toBeInstanceOf(FileLogLockedError);
    rmSync(join(dir, 'LOCK'));
  });

  it('poisons the handle after a failed write: every later call rejects', async () => {
    const dir = freshDir();
    const storage = await fileStorage({ dir });
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [bigEntry(1, 1, 4)] }));
    // Pull the directory away under the handle: the snapshot's temporary file cannot be created.
    rmSync(dir, { recursive: true, force: true });
    const snap = { meta: { index: 1, term: 1, config }, data: new Uint8Array(8) };
    await expect(storage.write(write({ hardState: hs(1, 'n1', 1), snapshot: snap }))).rejects.toBeInstanceOf(StorageError);
    await expect(storage.write(write({ entries: [bigEntry(2, 1, 4)] }))).rejects.toBeInstanceOf(StorageError);
    await expect(storage.boot()).rejects.toBeInstanceOf(StorageError);
    await storage.close().catch(() => undefined);
  });

  it('refuses a write it cannot encode (a node id over 65,535 bytes) and keeps working', async () => {
    const dir = freshDir();
    const storage = await fileStorage({ dir });
    await expect(storage.write(write({ hardState: hs(1, 'x'.repeat(70_000), 0) }))).rejects.toBeInstanceOf(StorageError);
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [bigEntry(1, 1, 4)] }));
    await storage.close();
    const reopened = await fileStorage({ dir });
    expect(await reopened.boot()).toEqual({ hardState: hs(1, 'n1', 0), snapshot: null, entries: [bigEntry(1, 1, 4)] });
    await reopened.close();
  });

  it("opens a node's three storages side by side under one data directory, creating it", async () => {
    const dirs3 = nodeDataDirs(join(freshDir(), 'deep', 'data'));
    const raft = await fileStorage({ dir: dirs3.raft });
    const gossip = await fileGossipStorage({ dir: dirs3.gossip });
    const bft = await fileBftStorage({ dir: dirs3.bft });
    await raft.write(write({ hardState: hs(1, 'n1', 0) }));
    await gossip.write({ incarnation: 1, crdts: [] });
    await bft.writeClientTimestamp(5);
    await Promise.all([raft.close(), gossip.close(), bft.close()]);
    expect(readdirSync(dirs3.raft).sort()).toEqual(['wal-0000000000000001.seg']);
    expect(readdirSync(dirs3.gossip)).toEqual(['gossip.log']);
    expect(readdirSync(dirs3.bft)).toEqual(['bft.log']);
  });

  it('refuses a segment size limit below 1 KiB', async () => {
    await expect(FileRaftStorage.open({ dir: freshDir(), segmentBytesMax: 10 })).rejects.toBeInstanceOf(StorageError);
  });
});
