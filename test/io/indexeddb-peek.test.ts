/**
 * The look a page takes at a node's IndexedDB database before it runs that node
 * (src/io/storage/indexeddb-peek.ts), under fake-indexeddb with a fresh factory per test. It
 * proves that a database that does not exist reads as nothing stored AND is not created by the
 * look (the node's own open must find it new, and an evicted node must not come back as an
 * empty database under its name); that what IndexedDbRaftStorage wrote (hard state, log bounds,
 * snapshot) reads back as the worker's boot summary would state it; that a database opened but
 * never written reads as nothing stored; that the look does not stand in the way of a running
 * adapter; and that an unreadable meta record answers null (cannot tell), not "nothing".
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { nothingStored, peekStoredState } from '../../src/io/storage/indexeddb-peek.ts';
import { IndexedDbRaftStorage, databaseName, idbLayout } from '../../src/io/storage/indexeddb-storage.ts';
import { emptyWrite } from '../../src/io/storage/storage.ts';

const config = { voters: ['n1', 'n2', 'n3'], learners: [] };
const open = (factory: IDBFactory) => new IndexedDbRaftStorage({ cluster: 'c1', node: 'n1', indexedDB: factory, IDBKeyRange });
const peek = (factory: IDBFactory) => peekStoredState({ cluster: 'c1', node: 'n1', indexedDB: factory });

describe('peekStoredState', () => {
  it('reads a database that does not exist as nothing stored, and does not create it', async () => {
    const factory = new IDBFactory();
    expect(await peek(factory)).toEqual(nothingStored);
    expect(await factory.databases()).toEqual([]);
    // The adapter then opens it as a new database, as if no one had looked.
    const storage = open(factory);
    expect(await storage.boot()).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
    await storage.close();
  });

  it('reads back what the adapter stored, as a boot summary states it', async () => {
    const factory = new IDBFactory();
    const storage = open(factory);
    await storage.write({
      ...emptyWrite,
      hardState: { term: 3, vote: 'n2', commit: 5 },
      entries: [1, 2, 3, 4, 5, 6].map((index) => ({ index, term: index < 4 ? 1 : 3, kind: 'normal' as const, data: Uint8Array.of(index) })),
    });
    // Looked at while the adapter's connection is open, and in its way neither then nor after.
    expect(await peek(factory)).toEqual({ term: 3, vote: 'n2', commit: 5, lastIndex: 6, snapshotIndex: 0 });
    await storage.write({ ...emptyWrite, hardState: { term: 3, vote: 'n2', commit: 6 }, snapshot: { meta: { index: 6, term: 3, config }, data: Uint8Array.of(1, 2) }, compactTo: 6 });
    expect(await peek(factory)).toEqual({ term: 3, vote: 'n2', commit: 6, lastIndex: 6, snapshotIndex: 6 });
    await storage.close();
  });

  it('reads a database opened but never written as nothing stored', async () => {
    const factory = new IDBFactory();
    const storage = await IndexedDbRaftStorage.open({ cluster: 'c1', node: 'n1', indexedDB: factory, IDBKeyRange });
    await storage.close();
    expect(await factory.databases()).toHaveLength(1);
    expect(await peek(factory)).toEqual(nothingStored);
  });

  it('answers null (cannot tell) for an unreadable meta record', async () => {
    const factory = new IDBFactory();
    const storage = open(factory);
    await storage.write({ ...emptyWrite, hardState: { term: 1, vote: 'n1', commit: 0 } });
    await storage.close();
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = factory.open(databaseName('c1', 'n1'));
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(idbLayout.storeName, 'readwrite');
      tx.objectStore(idbLayout.storeName).put({ format: 99 }, idbLayout.metaKey());
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    expect(await peek(factory)).toBeNull();
  });

  it('answers null where there is no IndexedDB', async () => {
    expect(await peekStoredState({ cluster: 'c1', node: 'n1' })).toBeNull();
  });
});
