/**
 * Recovery of the file log at open (src/io/storage/file-recovery.ts, file-frames.ts): what a
 * crash can leave is repaired, anything else is refused with FileLogCorruptError.
 *
 * How: a log of five writes is built once; its last segment's bytes are saved. Then, for EVERY
 * byte offset inside the last write, the segment is cut there (a torn write) and the log must
 * open with the first four writes exactly, having cut the torn bytes durably (appending and
 * reopening then works); the same when the last record (the commit) has any one byte flipped,
 * when zeros follow the log (a file extended but never written), and when the last write lacks
 * its commit record. A byte flipped anywhere in an EARLIER write (every offset of write 2), or
 * in a record of the last write followed by its valid commit, or in a segment that is not the
 * last, a missing segment, or a damaged snapshot file, must refuse to open with
 * FileLogCorruptError and leave the files as they were. What cannot be tested here: that the
 * directory fsyncs (file-dir.ts) are needed and done; a kill -9 keeps the page cache, so only
 * a power loss or a fault-injecting file system would show one missing.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootState, Entry } from '../../../src/core/raft/types.ts';
import { FileLogCorruptError } from '../../../src/io/storage/file-errors.ts';
import { fileStorage } from '../../../src/io/storage/file-storage.ts';
import type { StorageWrite } from '../../../src/io/storage/storage.ts';
import { config, hs, write } from '../storage-samples.ts';

const root = mkdtempSync(join(tmpdir(), 'pq-file-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const entry = (index: number, term: number): Entry => ({ index, term, kind: 'normal', data: Uint8Array.of(index, term, 0xab, 0xcd) });

const writes: StorageWrite[] = [
  write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1), entry(2, 1)] }),
  write({ hardState: hs(1, 'n1', 2), entries: [entry(3, 1), entry(4, 1)] }),
  write({ hardState: hs(2, 'n2', 2), entries: [entry(3, 2)] }),
  write({ hardState: hs(2, 'n2', 3), entries: [entry(4, 2), entry(5, 2)] }),
  write({ hardState: hs(2, 'n2', 5), entries: [entry(6, 2)] }),
];

/** Boot states after each write, and the segment's size after each. */
const bootAfter: BootState[] = [];
const sizeAfter: number[] = [];
let dir = '';
let segName = '';
let segBytes = new Uint8Array(0);

const segPath = (): string => join(dir, segName);
const restore = (bytes: Uint8Array = segBytes): void => writeFileSync(segPath(), bytes);

beforeAll(async () => {
  dir = join(root, 'log');
  const storage = await fileStorage({ dir });
  for (const w of writes) {
    await storage.write(w);
    bootAfter.push(await storage.boot());
    segName = readdirSync(dir).find((n) => n.endsWith('.seg')) as string;
    sizeAfter.push(readFileSync(segPath()).byteLength);
  }
  await storage.close();
  segBytes = new Uint8Array(readFileSync(segPath()));
});

async function bootsAs(expected: BootState, tornBytes: number): Promise<void> {
  const storage = await fileStorage({ dir });
  try {
    expect(storage.tornBytesCut).toBe(tornBytes);
    expect(await storage.boot()).toEqual(expected);
  } finally {
    await storage.close();
  }
}

async function refuses(): Promise<void> {
  const before = readFileSync(segPath());
  await expect(fileStorage({ dir })).rejects.toBeInstanceOf(FileLogCorruptError);
  // Refusing changes nothing, and the lock is released (a second try refuses the same way).
  expect(readFileSync(segPath()).equals(before)).toBe(true);
  await expect(fileStorage({ dir })).rejects.toBeInstanceOf(FileLogCorruptError);
}

describe('file log recovery', () => {
  it('boots the whole log when nothing is damaged', async () => {
    await bootsAs(bootAfter[4] as BootState, 0);
  });

  it('cuts a torn last write at every byte offset and boots the writes before it', async () => {
    const start = sizeAfter[3] as number;
    const end = sizeAfter[4] as number;
    expect(end - start).toBeGreaterThan(40);
    for (let cut = start; cut < end; cut++) {
      restore(segBytes.subarray(0, cut));
      await bootsAs(bootAfter[3] as BootState, cut - start);
      expect(readFileSync(segPath()).byteLength).toBe(start);
    }
    restore();
  });

  it('writes after a cut torn tail and boots them after a reopen', async () => {
    restore(segBytes.subarray(0, (sizeAfter[4] as number) - 3));
    const storage = await fileStorage({ dir });
    await storage.write(write({ hardState: hs(3, 'n3', 5), entries: [entry(6, 3)] }));
    await storage.close();
    const reopened = await fileStorage({ dir });
    expect(reopened.tornBytesCut).toBe(0);
    const booted = await reopened.boot();
    await reopened.close();
    expect(booted.hardState).toEqual(hs(3, 'n3', 5));
    expect(booted.entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 2], [6, 3]]);
    restore();
  });

  it('cuts a last record with any one byte flipped (a write torn inside its commit record)', async () => {
    const commitStart = (sizeAfter[4] as number) - 17; // commit frame: 9 header + 8 payload bytes
    for (let at = commitStart; at < (sizeAfter[4] as number); at++) {
      const bad = segBytes.slice();
      bad[at] = (bad[at] as number) ^ 0x40;
      restore(bad);
      await bootsAs(bootAfter[3] as BootState, (sizeAfter[4] as number) - (sizeAfter[3] as number));
    }
    restore();
  });

  it('cuts zeros after the log (a file extended but never written)', async () => {
    const bytes = new Uint8Array(segBytes.byteLength + 4096);
    bytes.set(segBytes);
    restore(bytes);
    await bootsAs(bootAfter[4] as BootState, 4096);
    restore();
  });

  it('cuts a last write whose records are whole but whose commit never arrived', async () => {
    restore(segBytes.subarray(0, (sizeAfter[4] as number) - 17));
    await bootsAs(bootAfter[3] as BootState, (sizeAfter[4] as number) - 17 - (sizeAfter[3] as number));
    restore();
  });

  it('refuses a byte flipped at any offset of an earlier write', async () => {
    for (let at = sizeAfter[0] as number; at < (sizeAfter[1] as number); at++) {
      const bad = segBytes.slice();
      bad[at] = (bad[at] as number) ^ 0x01;
      restore(bad);
      await refuses();
    }
    restore();
  });

  it('refuses a byte flipped in a record of the last write that its valid commit follows', async () => {
    const bad = segBytes.slice();
    const at = (sizeAfter[3] as number) + 12; // inside the last write's first record
    bad[at] = (bad[at] as number) ^ 0x80;
    restore(bad);
    await refuses();
    restore();
  });

  it('boots again once the damage is repaired', async () => {
    await bootsAs(bootAfter[4] as BootState, 0);
  });
});

describe('file log recovery across segments and snapshots', () => {
  let multi = '';
  const segs = (): string[] => readdirSync(multi).filter((n) => n.endsWith('.seg')).sort();

  beforeAll(async () => {
    multi = join(root, 'multi');
    const storage = await fileStorage({ dir: multi, segmentBytesMax: 1024 });
    for (let i = 1; i <= 30; i++) {
      const data = new Uint8Array(200).fill(i);
      await storage.write(write({ hardState: hs(1, 'n1', i - 1), entries: [{ index: i, term: 1, kind: 'normal', data }] }));
    }
    await storage.write(write({ hardState: hs(1, 'n1', 30) }));
    await storage.write(write({ snapshot: { meta: { index: 2, term: 1, config }, data: new Uint8Array(300).fill(7) }, compactTo: 1 }));
    await storage.close();
    expect(segs().length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a byte flipped in a segment that is not the last, even in its last record', async () => {
    const name = segs()[1] as string;
    const path = join(multi, name);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    writeFileSync(path, bad);
    await expect(fileStorage({ dir: multi })).rejects.toBeInstanceOf(FileLogCorruptError);
    writeFileSync(path, good);
  });

  it('refuses a missing segment in the middle', async () => {
    const name = segs()[2] as string;
    const path = join(multi, name);
    const good = readFileSync(path);
    rmSync(path);
    await expect(fileStorage({ dir: multi })).rejects.toBeInstanceOf(FileLogCorruptError);
    writeFileSync(path, good);
  });

  it('refuses a snapshot file that does not match its record', async () => {
    const path = join(multi, 'snap-2-1.snap');
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[100] = 0;
    writeFileSync(path, bad);
    await expect(fileStorage({ dir: multi })).rejects.toBeInstanceOf(FileLogCorruptError);
    writeFileSync(path, good);
  });

  it('deletes leftover temporary and unreferenced snapshot files, and boots', async () => {
    writeFileSync(join(multi, 'snap-9-1.snap.tmp'), 'half');
    writeFileSync(join(multi, 'snap-1-1.snap'), 'old');
    const storage = await fileStorage({ dir: multi });
    const booted = await storage.boot();
    await storage.close();
    expect(booted.snapshot?.meta.index).toBe(2);
    expect(booted.entries.map((e) => e.index)).toEqual(Array.from({ length: 28 }, (_, i) => i + 3));
    expect(readdirSync(multi).filter((n) => !n.endsWith('.seg')).sort()).toEqual(['snap-2-1.snap']);
  });
});
