/**
 * The page side of the IndexedDB e2e tests (e2e/indexeddb-*.spec.ts), exposed as
 * `window.pqStorage` for `page.evaluate`, so that `IndexedDbRaftStorage` runs against the real
 * IndexedDB of Chromium rather than fake-indexeddb:
 * - `runCompliance` runs the storage compliance suite (test/io/storage-compliance.ts, transpiled
 *   by the spec) in this page with the Vitest shim; the suite's `StorageError` and `emptyWrite`
 *   are this page's own (the classes the adapter throws). Every test gets a database of its own.
 * - `write` / `boot` / `databases` drive the adapter on a named database with plain data
 *   (bytes as base64), for the browser restart test.
 *
 * The crash the suite is given: every connection the old handle opened is marked dead, and
 * every transaction on a dead connection, running or yet to be created, is aborted with the
 * real `IDBTransaction.abort()` in a microtask after it was created, that is after the adapter
 * has issued its requests and before the transaction can commit (it commits only once its
 * request events have been delivered, in later tasks). That is the state a page dying before
 * the commit leaves behind: an uncommitted transaction, which IndexedDB rolls back whole. It
 * is the same crash test/io/indexeddb-storage.test.ts gives the adapter under fake-indexeddb,
 * here with Chromium's rollback. It does not cover a process killed after the commit was
 * requested (e2e/indexeddb-restart.spec.ts kills the browser after acknowledged writes instead).
 */
import type { BootState, Entry, HardState, Snapshot, SnapshotMeta } from '../../src/core/raft/types.ts';
import { IndexedDbRaftStorage, databaseName } from '../../src/io/storage/indexeddb-storage.ts';
import * as storageModule from '../../src/io/storage/storage.ts';
import type { RaftStorage, StorageWrite } from '../../src/io/storage/storage.ts';
import { ShimSkipped, loadSuite } from './webrtc-vitest-shim.ts';

export interface StorageComplianceResult {
  /** The test's path in the suite (describes and name, joined by ' > '). */
  readonly name: string;
  readonly ok: boolean;
  /** The test skipped itself (`ctx.skip()`): neither passed nor failed. */
  readonly skipped: boolean;
  readonly error?: string;
  readonly ms: number;
}

/** A unique prefix per page load: databases of different tests and runs never meet. */
const runId = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
let nextDatabase = 0;

/**
 * The global IndexedDB behind a wrapper that can kill every connection opened so far: each
 * transaction on a killed connection, live or created later, is aborted once its requests are
 * issued (see the header).
 */
function crashableFactory(): { factory: IDBFactory; killAll(): void } {
  const live = new Set<IDBTransaction>();
  const dead = new Set<IDBDatabase>();
  const connections: IDBDatabase[] = [];
  const abortQuietly = (tx: IDBTransaction): void => {
    try {
      tx.abort();
    } catch {
      // already committed or aborted: it was durable (or gone) before the crash
    }
  };
  const watch = (db: IDBDatabase): void => {
    connections.push(db);
    const original = db.transaction.bind(db);
    db.transaction = (storeNames: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions): IDBTransaction => {
      const tx = original(storeNames, mode, options);
      live.add(tx);
      tx.addEventListener('complete', () => live.delete(tx));
      tx.addEventListener('abort', () => live.delete(tx));
      if (dead.has(db)) queueMicrotask(() => abortQuietly(tx));
      return tx;
    };
  };
  const factory = {
    open(name: string, version?: number): IDBOpenDBRequest {
      const request = indexedDB.open(name, version);
      request.addEventListener('success', () => watch(request.result));
      return request;
    },
    deleteDatabase: (name: string) => indexedDB.deleteDatabase(name),
    cmp: (a: unknown, b: unknown) => indexedDB.cmp(a, b),
    databases: () => indexedDB.databases(),
  } as IDBFactory;
  return {
    factory,
    killAll: () => {
      for (const db of connections) dead.add(db);
      for (const tx of live) abortQuietly(tx);
    },
  };
}

function settle(request: IDBRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

async function runCompliance(code: string, only: string | null): Promise<StorageComplianceResult[]> {
  const { exports, shim } = loadSuite(code, { '../../src/io/storage/storage.ts': storageModule });
  const describeSuite = exports.describeStorageCompliance as (name: string, make: () => Promise<unknown>) => void;
  const used: string[] = [];
  describeSuite('IndexedDB (Chromium)', async () => {
    const cluster = `suite-${runId}-${nextDatabase++}`;
    const node = 'n1';
    used.push(databaseName(cluster, node));
    const { factory, killAll } = crashableFactory();
    const open = (): Promise<IndexedDbRaftStorage> => IndexedDbRaftStorage.open({ cluster, node, indexedDB: factory, IDBKeyRange });
    let current = await open();
    return {
      storage: current,
      reopen: async (): Promise<RaftStorage> => {
        await current.close();
        current = await open();
        return current;
      },
      crash: async (): Promise<RaftStorage> => {
        killAll();
        current = await open();
        return current;
      },
    };
  });
  const results: StorageComplianceResult[] = [];
  for (const t of shim.tests) {
    if (only !== null && t.path !== only) continue;
    const startMs = performance.now();
    try {
      await t.fn();
      results.push({ name: t.path, ok: true, skipped: false, ms: performance.now() - startMs });
    } catch (e) {
      const skipped = e instanceof ShimSkipped;
      const error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
      results.push({ name: t.path, ok: false, skipped, error, ms: performance.now() - startMs });
    }
  }
  // Delete what the tests made (a crashed handle's connection closes on the versionchange).
  for (const name of used) await settle(indexedDB.deleteDatabase(name));
  return results;
}

// ---- plain data for the restart test ---------------------------------------------------------

/** Bytes as base64, so that `page.evaluate` carries them both ways. */
export type Base64 = string;
export interface WireEntry extends Omit<Entry, 'data'> {
  readonly data: Base64;
}
export interface WireSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Base64;
}
export interface WireWrite extends Omit<StorageWrite, 'entries' | 'snapshot'> {
  readonly snapshot: WireSnapshot | null;
  readonly entries: readonly WireEntry[];
}
export interface WireBoot {
  readonly hardState: HardState;
  readonly snapshot: WireSnapshot | null;
  readonly entries: readonly WireEntry[];
  /** Every byte array boot returned is exactly a Uint8Array (not a subclass, not another view). */
  readonly bytesAreUint8Arrays: boolean;
}

function fromBase64(s: Base64): Uint8Array {
  const binary = atob(s);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function toBase64(bytes: Uint8Array): Base64 {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const fromWireEntry = (e: WireEntry): Entry => ({ ...e, data: fromBase64(e.data) });
const toWireEntry = (e: Entry): WireEntry => ({ ...e, data: toBase64(e.data) });
const fromWireSnapshot = (s: WireSnapshot | null): Snapshot | null => (s === null ? null : { meta: s.meta, data: fromBase64(s.data) });
const toWireSnapshot = (s: Snapshot | null | undefined): WireSnapshot | null => (s == null ? null : { meta: s.meta, data: toBase64(s.data) });

function toWireBoot(b: BootState): WireBoot {
  const arrays = [...b.entries.map((e) => e.data), ...(b.snapshot ? [b.snapshot.data] : [])];
  return {
    hardState: b.hardState,
    snapshot: toWireSnapshot(b.snapshot),
    entries: b.entries.map(toWireEntry),
    bytesAreUint8Arrays: arrays.every((a) => Object.getPrototypeOf(a) === Uint8Array.prototype),
  };
}

/** Handles left open on purpose (`write` with `close: false`), referenced so that they stay open. */
const held: IndexedDbRaftStorage[] = [];

/**
 * Open the node's storage on the real IndexedDB and make `writes` in order, each acknowledged
 * (durable) before the next; then close it, or with `close: false` leave it open, as a running
 * node would be when its browser is killed.
 */
async function write(cluster: string, node: string, writes: readonly WireWrite[], close = true): Promise<void> {
  const storage = await IndexedDbRaftStorage.open({ cluster, node });
  try {
    for (const w of writes) {
      await storage.write({ ...w, snapshot: fromWireSnapshot(w.snapshot), entries: w.entries.map(fromWireEntry) });
    }
  } finally {
    if (close) await storage.close();
    else held.push(storage);
  }
}

/** Open the node's storage on the real IndexedDB, boot it, close it. */
async function boot(cluster: string, node: string): Promise<WireBoot> {
  const storage = await IndexedDbRaftStorage.open({ cluster, node });
  try {
    return toWireBoot(await storage.boot());
  } finally {
    await storage.close();
  }
}

/** The names of this origin's databases. */
async function databases(): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name ?? '').sort();
}

const api = { runCompliance, write, boot, databases, databaseName };
export type StorageHarnessApi = typeof api;
declare global {
  interface Window {
    pqStorage: StorageHarnessApi;
  }
}
(window as unknown as { pqStorage: StorageHarnessApi }).pqStorage = api;
document.body.dataset.ready = 'true';
