/**
 * The gossip storage in a file (src/io/storage/file-gossip-storage.ts, over file-blob-log.ts)
 * under the file log's crash rules (the cases shared with the memory and IndexedDB adapters are
 * in test/runtime/gossip-storage.test.ts): a last write cut at every byte offset boots the
 * writes before it and the cut is durable (a write after it boots after a reopen); a byte
 * flipped in an earlier write refuses to open with FileLogCorruptError; a file grown past four
 * times its live state (and a floor, 1 MiB by default) is rewritten as one record and boots the same; a second
 * handle on the directory is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crdtTypes } from '../../../src/core/crdt/crdt-types.ts';
import { gCounterIncrement } from '../../../src/core/crdt/g-counter.ts';
import type { PersistedCrdt } from '../../../src/core/gossip/crdt-store.ts';
import { FileLogCorruptError, FileLogLockedError } from '../../../src/io/storage/file-errors.ts';
import { fileGossipStorage } from '../../../src/io/storage/file-gossip-storage.ts';
import type { GossipDurable } from '../../../src/io/storage/gossip-storage.ts';

const root = mkdtempSync(join(tmpdir(), 'pq-file-gossip-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `g-${++dirs}`);

/** A g-counter counted `by` at replica r1. */
function counter(name: string, by: number): PersistedCrdt {
  const t = crdtTypes['g-counter'];
  const r = gCounterIncrement(t.empty(), 'r1', by);
  if (!r.ok) throw new Error('increment refused');
  return { name, crdt: 'g-counter', state: t.encode(r.value) };
}

const sortByName = (d: GossipDurable): GossipDurable => ({ incarnation: d.incarnation, crdts: [...d.crdts].sort((a, b) => a.name.localeCompare(b.name)) });

describe('FileGossipStorage', () => {
  it('cuts a torn last write at every byte offset and boots the writes before it', async () => {
    const dir = freshDir();
    const store = await fileGossipStorage({ dir });
    await store.write({ incarnation: 1, crdts: [counter('a', 1)] });
    await store.write({ incarnation: null, crdts: [counter('b', 2)] });
    const path = join(dir, 'gossip.log');
    const sizeBefore = readFileSync(path).byteLength;
    const before = sortByName(await store.boot());
    await store.write({ incarnation: 2, crdts: [counter('a', 7)] });
    await store.close();
    const whole = readFileSync(path);
    for (let cut = sizeBefore; cut < whole.byteLength; cut++) {
      writeFileSync(path, whole.subarray(0, cut));
      const reopened = await fileGossipStorage({ dir });
      expect(sortByName(await reopened.boot())).toEqual(before);
      await reopened.close();
      expect(readFileSync(path).byteLength).toBe(sizeBefore);
    }
    const again = await fileGossipStorage({ dir });
    await again.write({ incarnation: 3, crdts: [counter('c', 3)] });
    await again.close();
    const last = await fileGossipStorage({ dir });
    expect(sortByName(await last.boot())).toEqual({ incarnation: 3, crdts: [counter('a', 1), counter('b', 2), counter('c', 3)] });
    await last.close();
  });

  it('refuses to open with a byte flipped in an earlier write', async () => {
    const dir = freshDir();
    const store = await fileGossipStorage({ dir });
    await store.write({ incarnation: 1, crdts: [counter('a', 1)] });
    await store.write({ incarnation: 2, crdts: [counter('b', 2)] });
    await store.close();
    const path = join(dir, 'gossip.log');
    const bytes = readFileSync(path);
    bytes[12] = (bytes[12] as number) ^ 0x10;
    writeFileSync(path, bytes);
    await expect(fileGossipStorage({ dir })).rejects.toBeInstanceOf(FileLogCorruptError);
  });

  it('rewrites a file grown past four times its live state, and boots the same', async () => {
    const dir = freshDir();
    const store = await fileGossipStorage({ dir, rewriteBytesMin: 4096 });
    // One small CRDT replaced 300 times: about 30 KB written, 100 bytes live.
    for (let i = 1; i <= 300; i++) await store.write({ incarnation: i, crdts: [counter('c', i)] });
    expect(store.rewrites).toBeGreaterThanOrEqual(5);
    expect(readFileSync(join(dir, 'gossip.log')).byteLength).toBeLessThanOrEqual(4096 + 200);
    await store.close();
    const reopened = await fileGossipStorage({ dir });
    expect(await reopened.boot()).toEqual({ incarnation: 300, crdts: [counter('c', 300)] });
    await reopened.close();
  });

  it('refuses a second handle on the same directory', async () => {
    const dir = freshDir();
    const store = await fileGossipStorage({ dir });
    await expect(fileGossipStorage({ dir })).rejects.toBeInstanceOf(FileLogLockedError);
    await store.close();
  });
});
