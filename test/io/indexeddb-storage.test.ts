/**
 * Runs the storage compliance suite (storage-compliance.ts) against IndexedDbRaftStorage, and
 * proves what only it has to (MemoryRaftStorage is memory-storage.test.ts).
 *
 * Under fake-indexeddb with a fresh `IDBFactory` per test, wrapped to see every connection and
 * transaction: the database name and record layout (snapshot in 256 KiB chunks); one read-write
 * transaction with strict durability per write; a connection the browser force-closes, or that
 * is closed under us, is replaced and the write succeeds; a database deleted while in use is not
 * silently recreated; a transaction aborted after its requests were issued leaves nothing behind,
 * and the same write succeeds afterwards; corrupt records of every kind fail the boot with
 * StorageError; `requestPersistence` answers with or without `navigator.storage`. The IndexedDB
 * "crash" aborts every transaction of the old handle's connection after its requests are issued,
 * as a dying page would leave them: uncommitted.
 */
import { IDBFactory, IDBKeyRange, forceCloseDatabase } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Entry } from '../../src/core/raft/types.ts';
import {
  IndexedDbRaftStorage,
  crc32,
  databaseName,
  idbLayout,
  requestPersistence,
} from '../../src/io/storage/indexeddb-storage.ts';
import { segmentEntriesMax } from '../../src/io/storage/indexeddb-log-segments.ts';
import { toSegmentRecord } from '../../src/io/storage/indexeddb-records.ts';
import { StorageError } from '../../src/io/storage/storage.ts';
import { describeStorageCompliance } from './storage-compliance.ts';
import { config, entry, hs, promiseState, write } from './storage-samples.ts';

interface TxRecord {
  readonly mode: IDBTransactionMode;
  readonly durability: string;
}

/**
 * A fresh fake-indexeddb factory that lets a test see every connection and transaction, abort
 * the next read-write transaction once its requests are issued, or kill every connection opened
 * so far (every transaction on them, live or future, aborts before it commits).
 */
function trackedFactory() {
  const inner = new IDBFactory();
  const connections: IDBDatabase[] = [];
  const transactions: TxRecord[] = [];
  const live = new Set<IDBTransaction>();
  const dead = new Set<IDBDatabase>();
  let abortNextWrite = false;
  const abortQuietly = (tx: IDBTransaction) => {
    try {
      tx.abort();
    } catch {
      // already finished
    }
  };
  const watch = (db: IDBDatabase) => {
    connections.push(db);
    const original = db.transaction.bind(db);
    db.transaction = (storeNames: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) => {
      const tx = original(storeNames, mode, options);
      transactions.push({ mode: tx.mode, durability: tx.durability });
      live.add(tx);
      tx.addEventListener('complete', () => live.delete(tx));
      tx.addEventListener('abort', () => live.delete(tx));
      const doomed = dead.has(db) || (abortNextWrite && tx.mode === 'readwrite');
      if (tx.mode === 'readwrite') abortNextWrite = false;
      // A microtask: after the caller has issued its requests, before the transaction commits.
      if (doomed) queueMicrotask(() => abortQuietly(tx));
      return tx;
    };
  };
  const factory = {
    open(name: string, version?: number) {
      const request = inner.open(name, version);
      request.addEventListener('success', () => watch(request.result));
      return request;
    },
    deleteDatabase: (name: string) => inner.deleteDatabase(name),
    cmp: (a: unknown, b: unknown) => inner.cmp(a, b),
    databases: () => inner.databases(),
  } as IDBFactory;
  return {
    inner,
    factory,
    connections,
    transactions,
    abortNextWrite: () => {
      abortNextWrite = true;
    },
    killAll: () => {
      for (const db of connections) dead.add(db);
      for (const tx of live) abortQuietly(tx);
    },
  };
}

function openIdb(factory: IDBFactory, node = 'n1'): IndexedDbRaftStorage {
  return new IndexedDbRaftStorage({ cluster: 'c1', node, indexedDB: factory, IDBKeyRange });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The raw database, to look at or tamper with what the adapter wrote. */
async function rawStore<T>(inner: IDBFactory, mode: IDBTransactionMode, use: (store: IDBObjectStore) => Promise<T>): Promise<T> {
  const db = await request(inner.open(databaseName('c1', 'n1')));
  try {
    const tx = db.transaction(idbLayout.storeName, mode);
    const result = await use(tx.objectStore(idbLayout.storeName));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    });
    return result;
  } finally {
    db.close();
  }
}

describeStorageCompliance('IndexedDbRaftStorage (fake-indexeddb)', async () => {
  const tracked = trackedFactory();
  let current = openIdb(tracked.factory);
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = openIdb(tracked.factory);
      return current;
    },
    crash: async () => {
      tracked.killAll();
      current = openIdb(tracked.factory);
      return current;
    },
  };
});

describe('IndexedDbRaftStorage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('names the database peerquorum/<cluster>/<node> and lays out meta, log and snapshot chunk records', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    const snapData = new Uint8Array(600 * 1024).fill(7);
    await storage.write(write({ hardState: hs(2, 'n1', 10), snapshot: { meta: { index: 10, term: 2, config }, data: snapData }, clearLog: true }));
    await storage.write(write({ entries: [entry(11, 2), entry(12, 2)] }));
    await storage.close();
    expect((await tracked.inner.databases()).map((d) => d.name)).toEqual(['peerquorum/c1/n1']);
    expect(databaseName('a/b', 'c d')).toBe('peerquorum/a%2Fb/c%20d');
    const keys = await rawStore(tracked.inner, 'readonly', (s) => request(s.getAllKeys()));
    // The two entries were written together: one log segment.
    expect(keys).toEqual([['log', 11], ['meta'], ['snapshot', 0], ['snapshot', 1], ['snapshot', 2]]);
    const chunks = await rawStore(tracked.inner, 'readonly', (s) =>
      request(s.getAll(IDBKeyRange.bound(['snapshot', 0], ['snapshot', Infinity]))),
    );
    expect(chunks.map((c: Uint8Array) => c.byteLength)).toEqual([256 * 1024, 256 * 1024, 88 * 1024]);
    const meta = await rawStore(tracked.inner, 'readonly', (s) => request(s.get(idbLayout.metaKey())));
    expect(meta).toMatchObject({ format: 2, hardState: hs(2, 'n1', 10), snapshot: { index: 10, term: 2, config, bytes: 600 * 1024, chunks: 3 }, firstIndex: 11, lastIndex: 12 });
  });

  it('deletes the log segments compactTo wholly covers and the chunks of a replaced snapshot', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    const run = (from: number, to: number): Entry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, 1));
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: run(1, 3) }));
    await storage.write(write({ entries: run(4, 6) }));
    await storage.write(write({ hardState: hs(1, 'n1', 8), entries: run(7, 10) }));
    // Segment 1..3 still holds entry 3: nothing is deleted.
    await storage.write(write({ snapshot: { meta: { index: 4, term: 1, config }, data: new Uint8Array(300 * 1024) }, compactTo: 2 }));
    let keys = await rawStore(tracked.inner, 'readonly', (s) => request(s.getAllKeys()));
    expect(keys).toEqual([['log', 1], ['log', 4], ['log', 7], ['meta'], ['snapshot', 0], ['snapshot', 1]]);
    // The log now starts at 7: segments 1..3 and 4..6 go.
    await storage.write(write({ snapshot: { meta: { index: 8, term: 1, config }, data: new Uint8Array(5) }, compactTo: 6 }));
    keys = await rawStore(tracked.inner, 'readonly', (s) => request(s.getAllKeys()));
    expect(keys).toEqual([['log', 7], ['meta'], ['snapshot', 0]]);
    expect((await storage.boot()).entries).toEqual(run(9, 10));
    await storage.close();
    expect((await openIdb(tracked.factory).boot()).entries).toEqual(run(9, 10));
  });

  it('replaces a conflicting suffix by shadowing: a later segment wins from its start on', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }));
    await storage.write(write({ entries: [entry(5, 1), entry(6, 1)] }));
    // A new leader's entries from 3 on: segment 5 is deleted, segment 1 keeps 3..4 shadowed.
    await storage.write(write({ hardState: hs(2, 'n2', 0), entries: [entry(3, 2), entry(4, 2)] }));
    await storage.close();
    const keys = await rawStore(tracked.inner, 'readonly', (s) => request(s.getAllKeys()));
    expect(keys).toEqual([['log', 1], ['log', 3], ['meta']]);
    expect((await openIdb(tracked.factory).boot()).entries).toEqual([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
  });

  it('splits a large write into segments of at most segmentEntriesMax entries', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    const entries = Array.from({ length: 2 * segmentEntriesMax + 5 }, (_, i) => entry(i + 1, 1));
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries }));
    await storage.close();
    const keys = await rawStore(tracked.inner, 'readonly', (s) => request(s.getAllKeys()));
    expect(keys).toEqual([['log', 1], ['log', segmentEntriesMax + 1], ['log', 2 * segmentEntriesMax + 1], ['meta']]);
    expect((await openIdb(tracked.factory).boot()).entries).toEqual(entries);
  });

  it('writes each StorageWrite in one read-write transaction with strict durability', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    await storage.boot();
    const before = tracked.transactions.length;
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: Array.from({ length: 100 }, (_, i) => entry(i + 1, 1)) }));
    await storage.write(write({ hardState: hs(1, 'n1', 50), snapshot: { meta: { index: 50, term: 1, config }, data: new Uint8Array(10) }, compactTo: 40 }));
    expect(tracked.transactions.slice(before)).toEqual([
      { mode: 'readwrite', durability: 'strict' },
      { mode: 'readwrite', durability: 'strict' },
    ]);
    await storage.close();
  });

  it('packs the entries of a write into one buffer, with config entries and empty data, and reads them back', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    const frame = new Uint8Array(4096).fill(9);
    const entries: Entry[] = [
      { index: 1, term: 1, kind: 'empty', data: new Uint8Array(0) },
      { index: 2, term: 1, kind: 'config', data: new Uint8Array(0), config: { voters: ['n1', 'n2'], learners: ['n3'] } },
      { index: 3, term: 2, kind: 'normal', data: frame.subarray(100, 110) },
    ];
    await storage.write(write({ hardState: hs(2, 'n1', 0), entries }));
    await storage.close();
    const record = await rawStore(tracked.inner, 'readonly', (s) => request(s.get(idbLayout.logKey(1))));
    expect(record).toMatchObject({ start: 1, count: 3 });
    expect(record.bytes).toBeInstanceOf(Uint8Array);
    // Only the 10 bytes of the entry's view are stored, not the frame around them.
    expect(record.bytes.byteLength).toBeLessThan(100);
    expect((await openIdb(tracked.factory).boot()).entries).toEqual(entries);
  });

  it('reopens after the browser force-closes the connection', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1)] }));
    const closed = new Promise((resolve) => tracked.connections[0]?.addEventListener('close', resolve));
    forceCloseDatabase(tracked.connections[0] as never);
    await closed;
    await storage.write(write({ hardState: hs(1, 'n1', 1), entries: [entry(2, 1)] }));
    expect(tracked.connections).toHaveLength(2);
    expect((await storage.boot()).entries).toEqual([entry(1, 1), entry(2, 1)]);
    await storage.close();
  });

  it('replaces a connection closed under it without a close event', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    await storage.write(write({ hardState: hs(1, 'n1', 0) }));
    tracked.connections[0]?.close();
    await storage.write(write({ hardState: hs(2, 'n2', 0) }));
    expect(tracked.connections).toHaveLength(2);
    expect((await storage.boot()).hardState).toEqual(hs(2, 'n2', 0));
    await storage.close();
  });

  it('does not recreate a database deleted while in use', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    await storage.write(write({ hardState: hs(1, 'n1', 0), entries: [entry(1, 1)] }));
    // Another context deletes it (clearing site data does the same): we close so as not to block.
    await request(tracked.inner.deleteDatabase(databaseName('c1', 'n1')));
    await expect(storage.write(write({ entries: [entry(2, 1)] }))).rejects.toThrow(/deleted while in use/);
    await expect(storage.write(write({ entries: [entry(2, 1)] }))).rejects.toBeInstanceOf(StorageError);
    expect(await tracked.inner.databases()).toEqual([]);
    await storage.close();
  });

  it('leaves nothing behind when a transaction aborts after its requests are issued; the write can then succeed', async () => {
    const tracked = trackedFactory();
    const storage = openIdb(tracked.factory);
    await storage.write(write({ hardState: hs(1, 'n1', 2), entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }));
    const leaderSnapshot = write({
      hardState: hs(2, null, 9),
      snapshot: { meta: { index: 9, term: 2, config }, data: new Uint8Array(300 * 1024).fill(1) },
      clearLog: true,
      entries: [entry(10, 2)],
    });
    tracked.abortNextWrite();
    await expect(storage.write(leaderSnapshot)).rejects.toBeInstanceOf(StorageError);
    const before = { hardState: hs(1, 'n1', 2), snapshot: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1)] };
    expect(await openIdb(tracked.factory).boot()).toEqual(before);
    await storage.write(leaderSnapshot);
    expect((await storage.boot()).entries).toEqual([entry(10, 2)]);
    await storage.close();
  });

  describe('fails the boot with StorageError on a corrupt store', () => {
    type Tamper = (store: IDBObjectStore) => Promise<unknown>;
    const put = (value: unknown, key: IDBValidKey): Tamper => (s) => request(s.put(value, key));
    const del = (key: IDBValidKey): Tamper => (s) => request(s.delete(key));
    const withRecord = (key: IDBValidKey, change: (record: Record<string, unknown>) => Record<string, unknown>): Tamper => async (s) => {
      const record = (await request(s.get(key))) as Record<string, unknown>;
      return request(s.put(change(record), key));
    };
    const cases: { readonly name: string; readonly tamper: Tamper; readonly message: RegExp }[] = [
      {
        name: 'segment bytes that fail the checksum',
        tamper: withRecord(idbLayout.logKey(7), (r) => ({ ...r, bytes: (r.bytes as Uint8Array).map((b, i) => (i === 20 ? b ^ 1 : b)) })),
        message: /log segment 7 fails its checksum/,
      },
      { name: 'the first log segment missing', tamper: del(idbLayout.logKey(5)), message: /start at 7, not at 5/ },
      { name: 'the last log segment missing', tamper: del(idbLayout.logKey(7)), message: /ends at 6, where 8 belongs/ },
      { name: 'a term lower than the entry before it', tamper: put(toSegmentRecord([entry(7, 3), entry(8, 1)]), idbLayout.logKey(7)), message: /term 1, below 3/ },
      { name: 'a segment counting more entries than it holds', tamper: withRecord(idbLayout.logKey(7), (r) => ({ ...r, count: 3 })), message: /entry 9 is cut short/ },
      { name: 'a segment holding more than it counts', tamper: withRecord(idbLayout.logKey(7), (r) => ({ ...r, count: 1 })), message: /bytes follow the last entry/ },
      { name: 'a segment that is not an object', tamper: put('garbage', idbLayout.logKey(7)), message: /not an object/ },
      { name: 'an empty segment', tamper: put({ start: 7, count: 0, bytes: new Uint8Array(0), crc32: 0 }, idbLayout.logKey(7)), message: /segment 7 is malformed/ },
      { name: 'a segment beyond the log', tamper: put(toSegmentRecord([entry(9, 3)]), idbLayout.logKey(9)), message: /outside the log/ },
      { name: 'a meta record of an unknown format', tamper: withRecord(idbLayout.metaKey(), (r) => ({ ...r, format: 3 })), message: /unknown format 3/ },
      { name: 'a missing meta record', tamper: del(idbLayout.metaKey()), message: /without a meta record/ },
      {
        name: 'a commit index beyond the log',
        tamper: withRecord(idbLayout.metaKey(), (r) => ({ ...r, hardState: hs(3, 'n1', 99) })),
        message: /commit 99 is beyond/,
      },
      { name: 'a missing snapshot chunk', tamper: del(idbLayout.snapshotChunkKey(1)), message: /chunks/ },
      { name: 'snapshot bytes that fail the checksum', tamper: put(new Uint8Array(256 * 1024), idbLayout.snapshotChunkKey(0)), message: /snapshot fails its checksum/ },
      { name: 'a record under an unknown key', tamper: put(1, ['junk']), message: /unexpected key/ },
    ];

    it.each(cases)('$name', async ({ tamper, message }) => {
      const tracked = trackedFactory();
      const storage = openIdb(tracked.factory);
      const snapData = Uint8Array.from({ length: 300 * 1024 }, (_, i) => i & 0xff);
      await storage.write(write({ hardState: hs(3, 'n1', 4), snapshot: { meta: { index: 4, term: 2, config }, data: snapData }, clearLog: true }));
      // Two writes: log segments 5..6 and 7..8.
      await storage.write(write({ hardState: hs(3, 'n1', 5), entries: [entry(5, 2), entry(6, 3)] }));
      await storage.write(write({ hardState: hs(3, 'n1', 6), entries: [entry(7, 3), entry(8, 3)] }));
      await storage.close();
      expect((await openIdb(tracked.factory).boot()).entries).toHaveLength(4);
      await rawStore(tracked.inner, 'readwrite', tamper);
      const boot = openIdb(tracked.factory).boot();
      await expect(boot).rejects.toBeInstanceOf(StorageError);
      await expect(boot).rejects.toThrow(message);
    });
  });

  it('computes the CRC-32 zlib does', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('refuses to start without IndexedDB', () => {
    expect(() => new IndexedDbRaftStorage({ cluster: 'c1', node: 'n1' })).toThrow(StorageError);
    expect(() => new IndexedDbRaftStorage({ cluster: '', node: 'n1', indexedDB: new IDBFactory(), IDBKeyRange })).toThrow(StorageError);
  });

  describe('requestPersistence', () => {
    it('answers unavailable without navigator, without navigator.storage, or when persist() fails', async () => {
      vi.stubGlobal('navigator', undefined);
      expect(await requestPersistence()).toBe('unavailable');
      vi.stubGlobal('navigator', {});
      expect(await requestPersistence()).toBe('unavailable');
      vi.stubGlobal('navigator', { storage: {} });
      expect(await requestPersistence()).toBe('unavailable');
      vi.stubGlobal('navigator', { storage: { persist: () => Promise.reject(new Error('no')) } });
      expect(await requestPersistence()).toBe('unavailable');
    });

    it('reports what persist() answers, and does not ask again once persisted', async () => {
      const persist = vi.fn(() => Promise.resolve(true));
      vi.stubGlobal('navigator', { storage: { persisted: () => Promise.resolve(false), persist } });
      expect(await requestPersistence()).toBe('granted');
      expect(persist).toHaveBeenCalledTimes(1);
      vi.stubGlobal('navigator', { storage: { persisted: () => Promise.resolve(false), persist: () => Promise.resolve(false) } });
      expect(await requestPersistence()).toBe('denied');
      const notAsked = vi.fn(() => Promise.resolve(false));
      vi.stubGlobal('navigator', { storage: { persisted: () => Promise.resolve(true), persist: notAsked } });
      expect(await requestPersistence()).toBe('granted');
      expect(notAsked).not.toHaveBeenCalled();
    });

    it('is asked by open(), which does not wait for the answer', async () => {
      let answer: (granted: boolean) => void = () => undefined;
      vi.stubGlobal('navigator', { storage: { persist: () => new Promise<boolean>((r) => (answer = r)) } });
      const storage = await IndexedDbRaftStorage.open({ cluster: 'c1', node: 'n1', indexedDB: new IDBFactory(), IDBKeyRange });
      expect(await promiseState(storage.persistence as Promise<unknown>)).toBe('pending');
      answer(true);
      expect(await storage.persistence).toBe('granted');
      vi.stubGlobal('navigator', undefined);
      const elsewhere = await IndexedDbRaftStorage.open({ cluster: 'c1', node: 'n2', indexedDB: new IDBFactory(), IDBKeyRange });
      expect(await elsewhere.persistence).toBe('unavailable');
      await storage.close();
      await elsewhere.close();
    });
  });
});
