/**
 * Gossip storage in IndexedDB (gossip-storage.ts): a database of its own beside the Raft log's,
 * `peerquorum-gossip/<cluster>/<node>`, with one object store `gossip`:
 *
 *   'incarnation'        the highest incarnation announced (a number)
 *   ['crdt', type, name] a CRDT whole: { name, crdt, state } (its canonical encoding, plain
 *                        arrays and scalars, stored by structured clone)
 *
 * Why a database of its own rather than a store in the Raft log's: a gossip-only node has no log,
 * the Raft adapter's database has its own layout checks and versioning, and the two engines'
 * writes then never share a transaction or wait on each other.
 *
 * One transaction per write with `durability: 'strict'` (as the Raft log's, indexeddb-storage.ts:
 * an incarnation reported durable must survive a power loss). Writes run in call order. A
 * failure is a `StorageError` naming its cause; the node stops and boots again from what is
 * durable. Reads and writes touch IndexedDB only here (DESIGN.md §1).
 */
import { checkStoredCrdt, emptyGossipDurable, nextIncarnation, type GossipDurable, type GossipStorage, type GossipWrite } from './gossip-storage.ts';
import type { PersistedCrdt } from '../../core/gossip/crdt-store.ts';
import { StorageError } from './storage.ts';

const storeName = 'gossip';
const incarnationKey = 'incarnation';

/** `peerquorum-gossip/<cluster>/<node>`, each part URI-encoded. */
export function gossipDatabaseName(cluster: string, node: string): string {
  return `peerquorum-gossip/${encodeURIComponent(cluster)}/${encodeURIComponent(node)}`;
}

export interface IndexedDbGossipStorageOptions {
  readonly cluster: string;
  readonly node: string;
  /** Defaults to the global `indexedDB`. */
  readonly indexedDB?: IDBFactory;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class IndexedDbGossipStorage implements GossipStorage {
  private incarnation = 0;
  /** Writes run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(private readonly db: IDBDatabase) {}

  static async open(options: IndexedDbGossipStorageOptions): Promise<IndexedDbGossipStorage> {
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (factory === undefined) throw new StorageError('IndexedDB is not available here');
    try {
      const open = factory.open(gossipDatabaseName(options.cluster, options.node), 1);
      open.onupgradeneeded = () => {
        if (!open.result.objectStoreNames.contains(storeName)) open.result.createObjectStore(storeName);
      };
      const db = await request(open);
      // Another context upgrading or deleting the database: let it (the next write fails, the node restarts).
      db.onversionchange = () => db.close();
      return new IndexedDbGossipStorage(db);
    } catch (e) {
      throw new StorageError(`cannot open the gossip database: ${describe(e)}`, { cause: e });
    }
  }

  async boot(): Promise<GossipDurable> {
    try {
      const tx = this.db.transaction(storeName, 'readonly');
      const store = tx.objectStore(storeName);
      const [incarnation, keys, values] = await Promise.all([request(store.get(incarnationKey)), request(store.getAllKeys()), request(store.getAll())]);
      const crdts: PersistedCrdt[] = [];
      keys.forEach((key, i) => {
        if (Array.isArray(key) && key[0] === 'crdt') crdts.push(checkStoredCrdt(values[i]));
      });
      if (incarnation === undefined) return { ...emptyGossipDurable, crdts };
      if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0) throw new StorageError(`the stored gossip incarnation is not a count: ${String(incarnation)}`);
      this.incarnation = incarnation;
      return { incarnation, crdts };
    } catch (e) {
      throw e instanceof StorageError ? e : new StorageError(`cannot read the gossip database: ${describe(e)}`, { cause: e });
    }
  }

  write(write: GossipWrite): Promise<void> {
    const done = this.queue.then(() => this.writeNow(write));
    this.queue = done.catch(() => undefined);
    return done;
  }

  private writeNow(write: GossipWrite): Promise<void> {
    const incarnation = nextIncarnation(this.incarnation, write);
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = this.db.transaction(storeName, 'readwrite', { durability: 'strict' });
        const store = tx.objectStore(storeName);
        if (write.incarnation !== null) store.put(incarnation, incarnationKey);
        for (const c of write.crdts) store.put({ name: c.name, crdt: c.crdt, state: c.state }, ['crdt', c.crdt, c.name]);
      } catch (e) {
        reject(new StorageError(`cannot write the gossip database: ${describe(e)}`, { cause: e }));
        return;
      }
      tx.oncomplete = () => {
        this.incarnation = incarnation;
        resolve();
      };
      tx.onerror = () => reject(new StorageError(`cannot write the gossip database: ${describe(tx.error)}`, { cause: tx.error }));
      tx.onabort = () => reject(new StorageError(`the gossip write was aborted: ${describe(tx.error)}`, { cause: tx.error }));
    });
  }

  close(): Promise<void> {
    return this.queue.then(() => this.db.close());
  }
}
