/**
 * What this proves about the gossip node's storage (src/io/storage/gossip-storage.ts,
 * indexeddb-gossip-storage.ts and file-gossip-storage.ts), the same cases against memory,
 * IndexedDB (fake-indexeddb, a fresh factory per test) and files (a fresh directory): a fresh store boots empty; what a write made durable (the incarnation
 * and each CRDT whole, the last record per (type, name)) comes back at the next boot, after a
 * reopen for IndexedDB; the incarnation never goes down (StorageError, nothing changes); a
 * stored record its CRDT type cannot decode is a StorageError at boot, never handed to the
 * engine (which asserts); the IndexedDB database is its own, beside the Raft log's.
 */
import { IDBFactory } from 'fake-indexeddb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crdtTypes } from '../../src/core/crdt/crdt-types.ts';
import { gCounterIncrement } from '../../src/core/crdt/g-counter.ts';
import type { PersistedCrdt } from '../../src/core/gossip/crdt-store.ts';
import { MemoryGossipStorage, type GossipStorage } from '../../src/io/storage/gossip-storage.ts';
import { gossipDatabaseName, IndexedDbGossipStorage } from '../../src/io/storage/indexeddb-gossip-storage.ts';
import { fileGossipStorage } from '../../src/io/storage/file-gossip-storage.ts';
import { databaseName } from '../../src/io/storage/indexeddb-storage.ts';
import { StorageError } from '../../src/io/storage/storage.ts';

function counter(name: string, by: number): PersistedCrdt {
  const t = crdtTypes['g-counter'];
  const r = gCounterIncrement(t.empty(), 'r1', by);
  if (!r.ok) throw new Error('increment refused');
  return { name, crdt: 'g-counter', state: t.encode(r.value) };
}

interface Adapter {
  /** A store, and how to get the same store back after a restart. */
  open(): Promise<{ store: GossipStorage; reopen: () => Promise<GossipStorage> }>;
}

const memory: Adapter = {
  open: () => {
    const store = new MemoryGossipStorage();
    return Promise.resolve({ store, reopen: () => Promise.resolve(new MemoryGossipStorage(store.durable())) });
  },
};

const indexeddb: Adapter = {
  open: async () => {
    const factory = new IDBFactory();
    const options = { cluster: 'c', node: 'n1', indexedDB: factory };
    const store = await IndexedDbGossipStorage.open(options);
    return {
      store,
      reopen: async () => {
        await store.close();
        return IndexedDbGossipStorage.open(options);
      },
    };
  },
};

const fileDirs: string[] = [];
afterAll(() => fileDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const file: Adapter = {
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pq-gossip-storage-'));
    fileDirs.push(dir);
    const store = await fileGossipStorage({ dir });
    return {
      store,
      reopen: async () => {
        await store.close();
        return fileGossipStorage({ dir });
      },
    };
  },
};

for (const [name, adapter] of [
  ['memory', memory],
  ['indexeddb', indexeddb],
  ['file', file],
] as const) {
  describe(`gossip storage: ${name}`, () => {
    it('boots empty, then with what the writes made durable', async () => {
      const { store, reopen } = await adapter.open();
      expect(await store.boot()).toEqual({ incarnation: 0, crdts: [] });
      await store.write({ incarnation: 1, crdts: [] });
      await store.write({ incarnation: null, crdts: [counter('a', 1), counter('b', 2)] });
      await store.write({ incarnation: 3, crdts: [counter('a', 5)] });
      const again = await reopen();
      const boot = await again.boot();
      expect(boot.incarnation).toBe(3);
      const byName = Object.fromEntries(boot.crdts.map((c) => [c.name, c]));
      expect(Object.keys(byName).sort()).toEqual(['a', 'b']);
      expect(byName['a']).toEqual(counter('a', 5));
      expect(byName['b']).toEqual(counter('b', 2));
      await again.close();
    });

    it('never lowers the incarnation', async () => {
      const { store, reopen } = await adapter.open();
      await store.write({ incarnation: 4, crdts: [] });
      await expect(store.write({ incarnation: 3, crdts: [counter('x', 1)] })).rejects.toBeInstanceOf(StorageError);
      const again = await reopen();
      expect(await again.boot()).toEqual({ incarnation: 4, crdts: [] });
      await again.close();
    });

    it('refuses at boot a stored CRDT its type cannot decode', async () => {
      const { store, reopen } = await adapter.open();
      await store.write({ incarnation: 1, crdts: [{ name: 'bad', crdt: 'g-counter', state: ['not', 'a', 'counter'] }] });
      const again = await reopen();
      await expect(again.boot()).rejects.toBeInstanceOf(StorageError);
      await again.close();
    });
  });
}

it('the IndexedDB database is its own, beside the Raft log of the same node', () => {
  expect(gossipDatabaseName('c', 'n1')).toBe('peerquorum-gossip/c/n1');
  expect(gossipDatabaseName('c', 'n1')).not.toBe(databaseName('c', 'n1'));
});
