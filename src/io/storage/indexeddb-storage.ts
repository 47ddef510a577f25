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
 *   ['log', index]       { index, term, kind, data, config?, crc32 }    one record per entry
 *   ['snapshot', chunk]  Uint8Array                                     256 KiB chunks, 0..n-1
 *
 * Why one store rather than three (DESIGN.md §5 sketches `meta`, `log`, `snapshot`): idb-keyval
 * hands a `UseStore` callback ONE object store, so with one store every idb-keyval call and
 * every raw request of a write go through the same handle and the same transaction; array keys
 * still sort log records by index (['log', 2] < ['log', 10]) and let a key range delete a
 * suffix or a prefix of the log, or every chunk, in one request. The meta record repeats the
 * log's bounds, so a lost record at either end of the log is noticed, not taken for a shorter
 * log; it is rewritten by every write (one small put).
 *
 * Checks: every write passes `planWrite` (the rules shared with the memory adapter) before
 * anything is written. On boot every record is checked: keys, shapes, a CRC-32 of each entry's
 * data and of the snapshot, log indices exactly `firstIndex..lastIndex`, chunk count and size,
 * then `checkStoredState` (terms and indices monotonic, log reaching the snapshot and the commit
 * index). A corrupt store rejects with `StorageError`: the node stops (DESIGN.md §5).
 *
 * The connection: opened on first use, and again after the browser closed it (`close` event:
 * Safari does this, and so does clearing site data) or another context asked to upgrade or
 * delete the database (`versionchange`: we close at once so as not to block it). A reopen that
 * finds the database gone (it would have to be created again) fails instead of starting an
 * empty log under a node that has voted: that would be a node with amnesia. A transaction that
 * a forced close aborts rejects its write with `StorageError` and leaves nothing behind; the
 * node restarts from what is durable, like after any storage error.
 *
 * Writes and boots run one at a time, in call order.
 */
import { entries as readAll, promisifyRequest, type UseStore } from 'idb-keyval';
import type { BootState, Entry, HardState, Snapshot, SnapshotMeta } from '../../core/raft/types.ts';
import {
  applyPlanToLog,
  checkEntry,
  checkHardState,
  checkSnapshotMeta,
  checkStoredState,
  type StoredLogView,
  type WritePlan,
  planWrite,
} from './write-rules.ts';
import { StorageError, type RaftStorage, type StorageWrite } from './storage.ts';

/** The database layout, exported for tests and tools (DevTools, a migration). */
export const idbLayout = {
  version: 1,
  /** The meta record's `format`; a newer one is refused, not misread. */
  format: 1,
  storeName: 'raft',
  metaKey: (): IDBValidKey => ['meta'],
  logKey: (index: number): IDBValidKey => ['log', index],
  snapshotChunkKey: (chunk: number): IDBValidKey => ['snapshot', chunk],
  snapshotChunkBytes: 256 * 1024,
} as const;

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

// ---- records -------------------------------------------------------------------------------

interface SnapshotRecord extends SnapshotMeta {
  readonly bytes: number;
  readonly chunks: number;
  readonly crc32: number;
}

interface MetaRecord {
  readonly format: number;
  readonly hardState: HardState;
  readonly snapshot: SnapshotRecord | null;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

type LogRecord = Entry & { readonly crc32: number };

const emptyMeta: MetaRecord = {
  format: idbLayout.format,
  hardState: { term: 0, vote: null, commit: 0 },
  snapshot: null,
  firstIndex: 1,
  lastIndex: 0,
};

const crcTable = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as zlib computes it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (crcTable[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function toLogRecord(e: Entry): LogRecord {
  return { ...e, crc32: crc32(e.data) };
}

function toSnapshotRecord(s: Snapshot): SnapshotRecord {
  const bytes = s.data.byteLength;
  return { ...s.meta, bytes, chunks: Math.ceil(bytes / idbLayout.snapshotChunkBytes), crc32: crc32(s.data) };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** Everything a boot read: the meta record, every stored entry, and the snapshot. */
interface StoredData {
  readonly meta: MetaRecord;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

/** What the adapter keeps in memory between writes to check them: the meta record and terms. */
interface Mirror {
  meta: MetaRecord;
  /** terms[i] is the term of the stored entry at meta.firstIndex + i. */
  readonly terms: number[];
}

function viewOf(m: Mirror): StoredLogView {
  const first = m.meta.firstIndex;
  return {
    hardState: m.meta.hardState,
    snapshot: m.meta.snapshot,
    firstIndex: first,
    lastIndex: m.meta.lastIndex,
    termAt: (index) => m.terms[index - first] as number,
  };
}

// ---- decoding what was read ------------------------------------------------------------------

function decodeMeta(value: unknown, what: string): MetaRecord {
  if (!isRecord(value)) throw new StorageError(`${what}: the meta record is not an object`);
  if (value.format !== idbLayout.format) throw new StorageError(`${what}: unknown format ${String(value.format)} (written by a newer version?)`);
  checkHardState(value.hardState, what);
  const snap = value.snapshot;
  if (snap !== null) {
    checkSnapshotMeta(snap, what);
    const { bytes, chunks, crc32: crc } = snap as unknown as Record<string, unknown>;
    if (!isCount(bytes) || !isCount(crc) || chunks !== Math.ceil(bytes / idbLayout.snapshotChunkBytes)) {
      throw new StorageError(`${what}: snapshot record sizes are wrong`);
    }
  }
  const { firstIndex, lastIndex } = value;
  if (!isCount(firstIndex) || !isCount(lastIndex) || firstIndex < 1 || firstIndex > lastIndex + 1) {
    throw new StorageError(`${what}: log bounds ${String(firstIndex)}..${String(lastIndex)} are wrong`);
  }
  return value as unknown as MetaRecord;
}

function decodeEntry(index: number, value: unknown, what: string): Entry {
  checkEntry(value, what);
  if (value.index !== index) throw new StorageError(`${what}: record ['log', ${index}] holds entry ${value.index}`);
  if ((value as Partial<LogRecord>).crc32 !== crc32(value.data)) throw new StorageError(`${what}: entry ${index} fails its checksum`);
  const { index: i, term, kind, data, config } = value;
  return config === undefined ? { index: i, term, kind, data } : { index: i, term, kind, data, config };
}

function decodeSnapshot(record: SnapshotRecord | null, chunks: readonly [number, unknown][], what: string): Snapshot | null {
  if (record === null) {
    if (chunks.length > 0) throw new StorageError(`${what}: snapshot chunks without a snapshot`);
    return null;
  }
  if (chunks.length !== record.chunks) throw new StorageError(`${what}: snapshot has ${chunks.length} chunks, expected ${record.chunks}`);
  const data = new Uint8Array(record.bytes);
  let offset = 0;
  for (const [i, [n, chunk]] of chunks.entries()) {
    if (n !== i || !(chunk instanceof Uint8Array)) throw new StorageError(`${what}: snapshot chunk ${n} is wrong`);
    if (offset + chunk.byteLength > data.byteLength) throw new StorageError(`${what}: snapshot chunks exceed ${record.bytes} bytes`);
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== record.bytes) throw new StorageError(`${what}: snapshot chunks hold ${offset} bytes, expected ${record.bytes}`);
  if (crc32(data) !== record.crc32) throw new StorageError(`${what}: snapshot fails its checksum`);
  const { index, term, config } = record;
  return { meta: { index, term, config }, data };
}

/** Sort the records of the store by key (they arrive in key order) and check them all. */
function decodeStore(rows: readonly [IDBValidKey, unknown][], what: string): StoredData {
  let metaValue: unknown;
  const log: [number, unknown][] = [];
  const chunks: [number, unknown][] = [];
  for (const [key, value] of rows) {
    const [kind, n] = Array.isArray(key) ? key : [];
    const length = Array.isArray(key) ? key.length : 0;
    if (kind === 'meta' && length === 1) metaValue = value;
    else if (kind === 'log' && length === 2 && isCount(n)) log.push([n, value]);
    else if (kind === 'snapshot' && length === 2 && isCount(n)) chunks.push([n, value]);
    else throw new StorageError(`${what}: unexpected key ${JSON.stringify(key)}`);
  }
  if (metaValue === undefined) {
    if (log.length > 0 || chunks.length > 0) throw new StorageError(`${what}: records without a meta record`);
    return { meta: emptyMeta, entries: [], snapshot: null };
  }
  const meta = decodeMeta(metaValue, what);
  const entries = log.map(([index, value], i) => {
    if (index !== meta.firstIndex + i) throw new StorageError(`${what}: log record ${index} where ${meta.firstIndex + i} belongs`);
    return decodeEntry(index, value, what);
  });
  if (entries.length !== meta.lastIndex - meta.firstIndex + 1) {
    throw new StorageError(`${what}: ${entries.length} log records for the log ${meta.firstIndex}..${meta.lastIndex}`);
  }
  // The bounds must be a `StoredLogView`'s even with no entry stored: the log reaches the snapshot.
  const snapIndex = meta.snapshot?.index ?? 0;
  if (meta.firstIndex > snapIndex + 1 || meta.lastIndex < snapIndex) {
    throw new StorageError(`${what}: the log ${meta.firstIndex}..${meta.lastIndex} does not reach the snapshot at ${snapIndex}`);
  }
  const snapshot = decodeSnapshot(meta.snapshot, chunks, what);
  checkStoredState(meta.hardState, snapshot?.meta ?? null, entries, what);
  return { meta, entries, snapshot };
}

// ---- the adapter -----------------------------------------------------------------------------

function asStorageError(e: unknown, message: string): StorageError {
  return e instanceof StorageError ? e : new StorageError(message, { cause: e });
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
      this.mirror = { meta: stored.meta, terms: stored.entries.map((e) => e.term) };
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
      await this.useStore('readwrite', (store) => {
        try {
          this.putWrite(store, plan, meta);
        } catch (e) {
          store.transaction.abort();
          throw e;
        }
        return promisifyRequest(store.transaction).catch((e: unknown) => {
          // An aborted transaction commits nothing: the write is wholly absent, as after a crash.
          const why = e instanceof Error ? e.name : 'aborted';
          throw new StorageError(`write to ${this.name} was not committed (${why}); nothing of it was stored`, { cause: e });
        });
      });
      // Durable: only now does the mirror move on (a failed write changed nothing).
      applyPlanToLog(mirror.terms, mirror.meta.firstIndex, plan, plan.entries.map((e) => e.term));
      mirror.meta = meta;
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
  private putWrite(store: IDBObjectStore, plan: WritePlan, meta: MetaRecord): void {
    const range = this.keyRange;
    if (plan.snapshot !== null) {
      store.delete(range.bound(['snapshot', -Infinity], ['snapshot', Infinity]));
      const data = plan.snapshot.data;
      const size = idbLayout.snapshotChunkBytes;
      for (let chunk = 0; chunk * size < data.byteLength; chunk++) {
        store.put(data.slice(chunk * size, (chunk + 1) * size), idbLayout.snapshotChunkKey(chunk));
      }
    }
    if (plan.clearLog) store.delete(range.bound(['log', -Infinity], ['log', Infinity]));
    else if (plan.dropThrough > 0) store.delete(range.bound(['log', -Infinity], ['log', plan.dropThrough]));
    const e0 = plan.entries[0];
    if (e0 !== undefined) {
      store.delete(range.bound(['log', e0.index], ['log', Infinity]));
      for (const e of plan.entries) store.put(toLogRecord(e), idbLayout.logKey(e.index));
    }
    store.put(meta, idbLayout.metaKey());
  }

  private async loadMirror(): Promise<Mirror> {
    if (this.mirror === null) {
      const stored = await this.read();
      this.mirror = { meta: stored.meta, terms: stored.entries.map((e) => e.term) };
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
        reject(new StorageError(`cannot open ${this.name}`, { cause: e }));
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
          : `cannot open ${this.name}`;
        reject(new StorageError(message, { cause: request.error }));
      };
    });
  }

  private forget(db: IDBDatabase): void {
    if (this.db === db) this.db = null;
  }
}
