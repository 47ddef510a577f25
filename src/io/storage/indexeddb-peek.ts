/**
 * A look at what a node's IndexedDB database holds, WITHOUT running the node and without
 * creating the database: the page asks before it starts a node under an id this tab ran before
 * (src/client/create-node.ts). If the browser evicted the database, the node must not run as its
 * old self even for a moment: booted empty, it would grant a vote in a term it already voted in
 * (Raft's one vote per term rests on the vote being durable). Starting the worker first and
 * reading its boot summary would leave exactly that moment open; this look does not.
 *
 * It reads the meta record only (indexeddb-records.ts: hard state, log bounds, snapshot), in
 * one read-only transaction, and closes its connection at once. A database that does not exist
 * is NOT created: the open asks for the current version, and an upgrade from version 0 (a new
 * database) is aborted, which deletes what the open had begun. Answers null when it cannot tell
 * (no IndexedDB, an unreadable record): the caller then relies on the node's own boot.
 */
import { databaseName } from './indexeddb-storage.ts';
import { decodeMeta, idbLayout } from './indexeddb-records.ts';

/** What a node's database holds, in the terms of the worker's boot summary. */
export interface StoredStateSummary {
  readonly term: number;
  readonly vote: string | null;
  readonly commit: number;
  /** The last stored log index (the snapshot's index when the log after it is empty). */
  readonly lastIndex: number;
  readonly snapshotIndex: number;
}

/** What an absent (or never written) database holds. */
export const nothingStored: StoredStateSummary = { term: 0, vote: null, commit: 0, lastIndex: 0, snapshotIndex: 0 };

export interface PeekOptions {
  readonly cluster: string;
  readonly node: string;
  /** Defaults to the global `indexedDB`. */
  readonly indexedDB?: IDBFactory;
}

export async function peekStoredState(options: PeekOptions): Promise<StoredStateSummary | null> {
  const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (factory === undefined) return null;
  const db = await openExisting(factory, databaseName(options.cluster, options.node));
  if (db === 'absent') return nothingStored;
  if (db === null) return null;
  try {
    if (!db.objectStoreNames.contains(idbLayout.storeName)) return null;
    const meta = await readMeta(db);
    if (meta === undefined) return nothingStored;
    const m = decodeMeta(meta, `peek at ${db.name}`);
    const snapshotIndex = m.snapshot?.index ?? 0;
    return { term: m.hardState.term, vote: m.hardState.vote, commit: m.hardState.commit, lastIndex: Math.max(m.lastIndex, snapshotIndex), snapshotIndex };
  } catch {
    return null;
  } finally {
    db.close();
  }
}

/** The database if it exists, `absent` if it does not (and it is not created), null on an error. */
function openExisting(factory: IDBFactory, name: string): Promise<IDBDatabase | 'absent' | null> {
  return new Promise((settle) => {
    let settled = false;
    const resolve = (value: IDBDatabase | 'absent' | null): void => {
      if (settled) {
        if (value !== null && value !== 'absent') value.close();
        return;
      }
      settled = true;
      settle(value);
    };
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(name, idbLayout.version);
    } catch {
      resolve(null);
      return;
    }
    let absent = false;
    request.onupgradeneeded = (event) => {
      // Version 0: the open is creating the database. Abort: it then does not exist.
      if (event.oldVersion === 0) absent = true;
      request.transaction?.abort();
    };
    request.onsuccess = () => {
      const db = request.result;
      // Never stand in the way of the node's own connection (an upgrade, a delete).
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = (event) => {
      event.preventDefault();
      resolve(absent ? 'absent' : null);
    };
    request.onblocked = () => resolve(null);
  });
}

function readMeta(db: IDBDatabase): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = db.transaction(idbLayout.storeName, 'readonly').objectStore(idbLayout.storeName).get(idbLayout.metaKey());
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('meta record read failed'));
  });
}
