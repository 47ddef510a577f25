/**
 * Raft storage in IndexedDB (DESIGN.md §5), through idb-keyval: one database per node and
 * cluster, `peerquorum/<cluster>/<node>`, and ONE transaction with `durability: 'strict'` per
 * `StorageWrite`, so that a write is atomic and its promise resolves only once the browser has
 * flushed it ('relaxed', Chromium's default, may report success before the data is on disk, and a
 * power loss would then take back a vote the node already sent).
 *
 * Layout: one object store, `raft`, with array keys:
 *
 *   ['meta']             { format, hardState, snapshot: { index, term, config, bytes, chunks,
 *                          crc32 } | null, firstIndex, lastIndex }
 *   ['log', start]       { start, count, bytes, crc32 }        entries packed in one buffer
 *   ['snapshot', chunk]  Uint8Array                                     256 KiB chunks, 0..n-1
 *
 * The log is stored in segments, one record per write (indexeddb-log-segments.ts says why and
 * how truncation and compaction work on them); the records and their checks are in
 * indexeddb-records.ts.
 *
 * Why one store rather than three (DESIGN.md §5 sketches `meta`, `log`, `snapshot`): idb-keyval
 * hands a `UseStore` callback ONE object store, so with one store every idb-keyval call and
 * every raw request of a write go through the same handle and the same transaction; array keys
 * still sort log segments by start (['log', 2] < ['log', 10]) and let a key range delete a
 * suffix or a prefix of the log, or every chunk, in one request. The meta record repeats the
 * log's bounds, so a lost record at either end of the log is noticed, not taken for a shorter
 * log; it is rewritten by every write (one small put).
 *
 * Checks: every write passes `planWrite` (the rules shared with the memory adapter) before
 * anything is written. On boot every record is checked: keys, shapes, a CRC-32 of each entry's
 * data and of the snapshot, segments holding the log `firstIndex..lastIndex` exactly, chunk count and size,
 * then `checkStoredState` (terms and indices monotonic, log reaching the snapshot and the commit
 * index). A corrupt store rejects with `StorageError`: the node stops (DESIGN.md §5).
 *
 * The connection: opened on first use, and again after the browser closed it (`close` event:
 * Safari does this, and so does clearing site data) or another context asked to upgrade or
 * delete the database (`versionchange`: we close at once so as not to block it). A reopen that
 * finds the database gone (it would have to be created again) fails instead of starting an
 * empty log under a node that has voted: that would be a node with amnesia. A transaction that
 * a forced close aborts rejects its write with `StorageError` and leaves nothing behind; the
 * node restarts from what is durable, like after any storage error. Every `StorageError` names
 * its cause in its message (a DOMException's name and message: `QuotaExceededError: ...`) and
 * keeps it as `cause`, so that the page learns why its node stopped (`describeError`).
 *
 * Writes and boots run one at a time, in call order.
 */
import { entries as readAll, type UseStore } from 'idb-keyval';
import type { BootState } from '../../core/raft/types.ts';
export { crc32, idbLayout } from './indexeddb-records.ts';
import { decodeStore, idbLayout, toSegmentRecord, toSnapshotRecord, viewOf, type MetaRecord, type Mirror, type StoredData } from './indexeddb-records.ts';
import { planSegments, type SegmentChanges } from './indexeddb-log-segments.ts';
import { applyPlanToLog, planWrite, type WritePlan } from './write-rules.ts';
import { StorageError, type RaftStorage, type StorageWrite } from './storage.ts';

/** The database of one node of one cluster: `peerquorum/<cluster>/<node>`, each part URI-encoded. */
export function databaseName(cluster: string, node: string): string {
  return `peerquorum/${encodeURIComponent(cluster)}/${encodeURIComponent(node)}`;
}

export interface IndexedDbRaftStorageOptions {
  readonly cluster: string;
  readonly node: string;
  /** Defaults to the global `indexedDB` (tests pass fake-indexeddb's `new IDBFactory()`). */
  readonly indexedDB?: IDBFactory;
  /** Defaults to the global `IDBKeyRange`; must belong to the same implementation as `indexedDB`. */
  readonly IDBKeyRange?: typeof IDBKeyRange;
}

/** What `navigator.storage.persist()` answered; `unavailable` where there is no such API. */
export type PersistenceResult = 'granted' | 'denied' | 'unavailable';

/**
 * Ask the browser not to evict this origin's storage under pressure (a node whose log is evicted
 * forgets its votes). `persist()` exists on the main thread only, not in workers: there the
 * answer is `unavailable`, and the page should ask. Never rejects.
 */
export async function requestPersistence(): Promise<PersistenceResult> {
  const nav = (globalThis as { navigator?: { storage?: Partial<StorageManager> } }).navigator;
  const manager = nav?.storage;
  if (manager === undefined || typeof manager.persist !== 'function') return 'unavailable';
  try {
    if (typeof manager.persisted === 'function' && (await manager.persisted())) return 'granted';
    return (await manager.persist()) ? 'granted' : 'denied';
  } catch {
    return 'unavailable';
  }
}

// ---- the adapter -----------------------------------------------------------------------------

function asStorageError(e: unknown, message: string): StorageError {
  return e instanceof StorageError ? e : new StorageError(`${message} (${describeError(e)})`, { cause: e });
}

/**
 * What went wrong, for a message the page will read: a DOMException's name and message
 * (`QuotaExceededError: ...`), which `StorageError.cause` also keeps; `aborted` for none.
 */
export function describeError(e: unknown): string {
  if (e === null || e === undefined) return 'aborted';
  if (typeof e === 'object' && 'name' in e && typeof e.name === 'string') {
    const message = 'message' in e && typeof e.message === 'string' ? e.message : '';
    return message.length > 0 ? `${e.name}: ${message}` : e.name;
  }
  return String(e);
}

/**
 * Resolves when `tx` commits; rejects, when it aborts, with what made it abort. Not idb-keyval's
 * `promisifyRequest`: a failed request's `error` event bubbles to the transaction BEFORE the
 * transaction aborts and sets its `error`, so that rejected with null, and a write refused for
 * quota (`QuotaExceededError` on a `put`) reached the page as "aborted". The cause is the first
 * request's own failure (not the AbortError every pending request gets once the transaction
 * aborts), else the transaction's error (a quota or I/O failure at commit), else that AbortError.
 */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: DOMException | null = null;
    tx.addEventListener('error', (event) => {
      const error = (event.target as Partial<IDBRequest> | null)?.error ?? null;
      if (failed === null || (failed.name === 'AbortError' && error !== null && error.name !== 'AbortError')) failed = error;
    });
    tx.addEventListener('complete', () => resolve());
    tx.addEventListener('abort', () => reject(failed !== null && failed.name !== 'AbortError' ? failed : (tx.error ?? failed)));
  });
}

export class IndexedDbRaftStorage implements RaftStorage {
  /** Open the node's database now (so that an unusable IndexedDB fails here) and ask for persistence. */
  static async open(options: IndexedDbRaftStorageOptions): Promise<IndexedDbRaftStorage> {
    const storage = new IndexedDbRaftStorage(options);
    await storage.connect();
    // Not awaited: Firefox asks the user, and a node must not wait for an answer to boot.
    storage.persistenceRequest = storage.requestPersistence();
    return storage;
  }

  readonly name: string;
  private readonly factory: IDBFactory;
  private readonly keyRange: typeof IDBKeyRange;
  private db: IDBDatabase | null = null;
  private opening: Promise<IDBDatabase> | null = null;
  /** Set once a connection was made: a database missing after that was deleted under us. */
  private hasOpened = false;
  private mirror: Mirror | null = null;
  /** The last operation issued; the next one starts after it settles. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Set by `close()`: no new operation is accepted. */
  private closed: Promise<void> | null = null;
  /** Every operation issued before `close()` is done: the connection is gone for good. */
  private disposed = false;
  private persistenceRequest: Promise<PersistenceResult> | null = null;

  constructor(options: IndexedDbRaftStorageOptions) {
    const { cluster, node } = options;
    if (typeof cluster !== 'string' || cluster.length === 0) throw new StorageError('cluster must be a non-empty string');
    if (typeof node !== 'string' || node.length === 0) throw new StorageError('node must be a non-empty string');
    const g = globalThis as { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };
    const factory = options.indexedDB ?? g.indexedDB;
    const keyRange = options.IDBKeyRange ?? g.IDBKeyRange;
    if (factory === undefined || keyRange === undefined) throw new StorageError('IndexedDB is not available here');
    this.name = databaseName(cluster, node);
    this.factory = factory;
    this.keyRange = keyRange;
  }

  /** What the persistence request made by `open` answered; null when made with `new`. */
  get persistence(): Promise<PersistenceResult> | null {
    return this.persistenceRequest;
  }

  /** See `requestPersistence` (a page should call it; in a worker it is `unavailable`). */
  requestPersistence(): Promise<PersistenceResult> {
    return requestPersistence();
  }

  boot(): Promise<BootState> {
    return this.serialize('boot', async () => {
      const stored = await this.read();
      this.mirror = { meta: stored.meta, terms: stored.entries.map((e) => e.term), starts: stored.starts };
      const snapIndex = stored.snapshot?.meta.index ?? 0;
      return {
        hardState: { ...stored.meta.hardState },
        snapshot: stored.snapshot,
        entries: stored.entries.filter((e) => e.index > snapIndex),
      };
    });
  }

  write(write: StorageWrite): Promise<void> {
    return this.serialize('write', async () => {
      const mirror = await this.loadMirror();
      const plan = planWrite(viewOf(mirror), write);
      const meta: MetaRecord = {
        format: idbLayout.format,
        hardState: plan.hardState,
        snapshot: plan.snapshot === null ? mirror.meta.snapshot : toSnapshotRecord(plan.snapshot),
        firstIndex: plan.firstIndex,
        lastIndex: plan.lastIndex,
      };
      const segments = planSegments(mirror.starts, plan);
      await this.useStore('readwrite', (store) => {
        try {
          this.putWrite(store, plan, segments, meta);
        } catch (e) {
          store.transaction.abort();
          throw e;
        }
        return committed(store.transaction).catch((e: unknown) => {
          // An aborted transaction commits nothing: the write is wholly absent, as after a crash.
          throw new StorageError(`write to ${this.name} was not committed (${describeError(e)}); nothing of it was stored`, { cause: e });
        });
      });
      // Durable: only now does the mirror move on (a failed write changed nothing).
      applyPlanToLog(mirror.terms, mirror.meta.firstIndex, plan, plan.entries.map((e) => e.term));
      mirror.meta = meta;
      mirror.starts = segments.starts;
    });
  }

  /** Waits for the operations already issued, then closes the connection for good. */
  close(): Promise<void> {
    this.closed ??= this.tail.then(() => {
      this.disposed = true;
      this.db?.close();
      this.db = null;
    });
    return this.closed;
  }

  /**
   * The requests of one write, in `WritePlan` order, all issued synchronously in the same
   * transaction (IndexedDB commits a transaction once it has no request left to wait for).
   */
  private putWrite(store: IDBObjectStore, plan: WritePlan, segments: SegmentChanges, meta: MetaRecord): void {
    const range = this.keyRange;
    if (plan.snapshot !== null) {
      store.delete(range.bound(['snapshot', -Infinity], ['snapshot', Infinity]));
      const data = plan.snapshot.data;
      const size = idbLayout.snapshotChunkBytes;
      for (let chunk = 0; chunk * size < data.byteLength; chunk++) {
        store.put(data.slice(chunk * size, (chunk + 1) * size), idbLayout.snapshotChunkKey(chunk));
      }
    }
    if (segments.deleteAll) store.delete(range.bound(['log', -Infinity], ['log', Infinity]));
    if (segments.deleteThrough !== null) store.delete(range.bound(['log', -Infinity], ['log', segments.deleteThrough]));
    if (segments.deleteFrom !== null) store.delete(range.bound(['log', segments.deleteFrom], ['log', Infinity]));
    for (const run of segments.puts) {
      const record = toSegmentRecord(run);
      store.put(record, idbLayout.logKey(record.start));
    }
    store.put(meta, idbLayout.metaKey());
  }

  private async loadMirror(): Promise<Mirror> {
    if (this.mirror === null) {
      const stored = await this.read();
      this.mirror = { meta: stored.meta, terms: stored.entries.map((e) => e.term), starts: stored.starts };
    }
    return this.mirror;
  }

  /** Every record, in one read-only transaction (idb-keyval's `entries`: getAllKeys + getAll). */
  private async read(): Promise<StoredData> {
    const rows = await readAll<IDBValidKey, unknown>(this.useStore);
    return decodeStore(rows, `corrupt store ${this.name}`);
  }

  /** Run `op` after every operation issued before it; any failure becomes a `StorageError`. */
  private serialize<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.closed !== null) return Promise.reject(new StorageError(`${this.name} is closed`));
    const result = this.tail.then(op).catch((e: unknown) => {
      throw asStorageError(e, `${what} on ${this.name} failed`);
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * idb-keyval's `UseStore`, with what its `createStore` lacks: strict durability, our own
   * factory, and a reopen when the connection was closed under us. The callback runs in the
   * same task as the transaction is created, as IndexedDB requires.
   */
  private readonly useStore: UseStore = async (txMode, callback) => {
    const options: IDBTransactionOptions = { durability: 'strict' };
    let db = await this.connect();
    let tx: IDBTransaction;
    try {
      tx = db.transaction(idbLayout.storeName, txMode, options);
    } catch (e) {
      // InvalidStateError: the connection is closing (closed by other code, or forced closed
      // and its `close` event not yet delivered). Nothing happened yet: reopen and go on.
      if (!(e instanceof Error) || e.name !== 'InvalidStateError') throw e;
      if (this.db === db) this.db = null;
      db = await this.connect();
      tx = db.transaction(idbLayout.storeName, txMode, options);
    }
    return callback(tx.objectStore(idbLayout.storeName));
  };

  private connect(): Promise<IDBDatabase> {
    if (this.disposed) return Promise.reject(new StorageError(`${this.name} is closed`));
    if (this.db !== null) return Promise.resolve(this.db);
    this.opening ??= this.openDatabase().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private openDatabase(): Promise<IDBDatabase> {
    const reopening = this.hasOpened;
    return new Promise<IDBDatabase>((resolve, reject) => {
      let request: IDBOpenDBRequest;
      try {
        request = this.factory.open(this.name, idbLayout.version);
      } catch (e) {
        reject(new StorageError(`cannot open ${this.name} (${describeError(e)})`, { cause: e }));
        return;
      }
      let vanished = false;
      request.onupgradeneeded = (event) => {
        if (event.oldVersion === 0 && reopening) {
          vanished = true;
          request.transaction?.abort();
          return;
        }
        // Version 1 is the first: later versions migrate here, from `event.oldVersion`.
        if (event.oldVersion === 0) request.result.createObjectStore(idbLayout.storeName);
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onclose = () => this.forget(db);
        db.onversionchange = () => {
          db.close();
          this.forget(db);
        };
        this.db = db;
        this.hasOpened = true;
        resolve(db);
      };
      request.onerror = () => {
        const message = vanished
          ? `${this.name} was deleted while in use (site data cleared?); it is not created again under a running node`
          : `cannot open ${this.name} (${describeError(request.error)})`;
        reject(new StorageError(message, { cause: request.error }));
      };
    });
  }

  private forget(db: IDBDatabase): void {
    if (this.db === db) this.db = null;
  }
}
