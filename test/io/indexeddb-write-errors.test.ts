/**
 * An IndexedDB write that fails (quota, I/O) stops the node cleanly AND says why (audit: "an
 * IndexedDB write that fails on quota stops the node cleanly, but the message drops the cause").
 *
 * How: IndexedDbRaftStorage over fake-indexeddb, behind a factory that can make the next
 * read-write transaction fail as a full disk does, in the two ways a browser reports it:
 *   - a `put` request fails with a QuotaExceededError DOMException: its `error` event reaches the
 *     transaction before the transaction aborts (and before `transaction.error` is set);
 *   - the transaction aborts at commit with `transaction.error` a QuotaExceededError.
 * It proves that the write rejects with StorageError whose message holds the DOMException's
 * name and message and whose `cause` is the DOMException, that nothing of the write was stored
 * (a new handle boots the old state, and the next write succeeds), and, through the worker API
 * the page talks to, that a node whose write fails so stops with an `error` event (code STORAGE)
 * and answers its pending proposal STOPPED, both naming QuotaExceededError.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../src/core/raft/types.ts';
import { IndexedDbRaftStorage } from '../../src/io/storage/indexeddb-storage.ts';
import { StorageError, emptyWrite, type StorageWrite } from '../../src/io/storage/storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { encodeKvCommand } from '../../src/machines/kv.ts';
import { toTaggedError } from '../../src/runtime/errors.ts';
import { createWorkerApi } from '../../src/runtime/worker-api.ts';
import type { NodeEvent } from '../../src/runtime/worker-protocol.ts';

const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });
const entry = (index: number, term: number): Entry => ({ index, term, kind: 'normal', data: Uint8Array.of(index, term) });
const write = (parts: Partial<StorageWrite>): StorageWrite => ({ ...emptyWrite, ...parts });

type Failure = 'put-request' | 'commit';

/** fake-indexeddb's internals this file reaches into (to fail a request as a full disk would). */
interface FakeTransaction extends IDBTransaction {
  _execRequestAsync(request: { operation: () => unknown; source: IDBObjectStore }): IDBRequest;
}

/** A fresh fake-indexeddb factory whose next read-write transactions can be made to fail for quota. */
function quotaFactory() {
  const inner = new IDBFactory();
  let failNext: Failure | null = null;
  const quota = (message: string) => new DOMException(message, 'QuotaExceededError');
  const watch = (db: IDBDatabase) => {
    const original = db.transaction.bind(db);
    db.transaction = (names: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) => {
      const tx = original(names, mode, options) as FakeTransaction;
      const failure = tx.mode === 'readwrite' ? failNext : null;
      if (failure === null) return tx;
      failNext = null;
      if (failure === 'commit') {
        // After the caller has issued its requests, before the transaction commits.
        queueMicrotask(() => {
          tx.abort();
          Object.defineProperty(tx, 'error', { value: quota('the disk is full at commit'), configurable: true });
        });
        return tx;
      }
      const objectStore = tx.objectStore.bind(tx);
      tx.objectStore = (name: string) => {
        const store = objectStore(name);
        store.put = () =>
          tx._execRequestAsync({
            operation: () => {
              throw quota('The quota has been exceeded.');
            },
            source: store,
          });
        return store;
      };
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
    factory,
    failNextWrite: (how: Failure) => {
      failNext = how;
    },
  };
}

const open = (factory: IDBFactory, node = 'n1') => new IndexedDbRaftStorage({ cluster: 'c1', node, indexedDB: factory, IDBKeyRange });

describe('an IndexedDB write refused for quota', () => {
  it.each([
    ['a put request fails', 'put-request', /QuotaExceededError: The quota has been exceeded\./],
    ['the transaction aborts at commit', 'commit', /QuotaExceededError: the disk is full at commit/],
  ] as const)('rejects with StorageError naming the cause when %s, and stores nothing', async (_, how, named) => {
    const q = quotaFactory();
    const storage = open(q.factory);
    await storage.write(write({ hardState: hs(1, 'n1', 1), entries: [entry(1, 1)] }));
    q.failNextWrite(how);
    const error = await storage.write(write({ hardState: hs(1, 'n1', 2), entries: [entry(2, 1), entry(3, 1)] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toMatch(named);
    expect((error as StorageError).message).toMatch(/nothing of it was stored/);
    expect((error as StorageError).cause).toBeInstanceOf(DOMException);
    expect(((error as StorageError).cause as DOMException).name).toBe('QuotaExceededError');
    // What crosses to the page keeps it.
    expect(toTaggedError(error)).toEqual({ code: 'STORAGE', message: expect.stringMatching(named) as unknown });
    // Nothing of it was stored, and the adapter goes on.
    expect(await open(q.factory).boot()).toEqual({ hardState: hs(1, 'n1', 1), snapshot: null, entries: [entry(1, 1)] });
    await storage.write(write({ hardState: hs(1, 'n1', 2), entries: [entry(2, 1)] }));
    expect((await storage.boot()).entries).toEqual([entry(1, 1), entry(2, 1)]);
    await storage.close();
  });

  it('stops the node with an error event, and answers its callers, naming QuotaExceededError (through the worker API)', async () => {
    const q = quotaFactory();
    const api = createWorkerApi({ transport: new MemoryHub().connect('solo'), storage: open(q.factory, 'solo') });
    const channel = new MessageChannel();
    const events: NodeEvent[] = [];
    channel.port2.onmessage = (e: MessageEvent<NodeEvent>) => events.push(e.data);
    try {
      const started = await api.start({ cluster: 'c1', id: 'solo', voters: ['solo'], transport: { kind: 'broadcast' }, storage: 'indexeddb', machine: { kind: 'kv' }, tickMs: 5, seed: 1 }, channel.port1);
      expect(started.ok).toBe(true);
      const put = (key: string) => api.propose(encodeKvCommand({ op: 'write', key, value: 'v' }));
      expect((await put('first')).ok).toBe(true);
      q.failNextWrite('put-request');
      const doomed = await put('second');
      expect(doomed).toMatchObject({ ok: false, error: { code: 'STOPPED', message: expect.stringMatching(/QuotaExceededError/) as unknown } });
      const deadline = Date.now() + 5_000;
      while (!events.some((e) => e.type === 'error') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const error = events.find((e) => e.type === 'error');
      expect(error).toMatchObject({ type: 'error', error: { code: 'STORAGE', message: expect.stringMatching(/QuotaExceededError: The quota has been exceeded\./) as unknown } });
    } finally {
      await api.stop();
      channel.port2.close();
    }
  });
});
