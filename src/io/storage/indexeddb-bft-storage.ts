/**
 * BFT storage in IndexedDB (bft-storage.ts): a database of its own, `peerquorum-bft/<cluster>/
 * <node>` (as gossip's, indexeddb-gossip-storage.ts: a BFT node has no Raft log, and the engines'
 * writes never share a transaction), with one object store `bft`:
 *
 *   'view'                 the highest view entered (a number)
 *   ['pp', seq, view]      an accepted pre-prepare { view, seq, digest }
 *   ['prepared', seq]      the prepared certificate of the highest view at seq
 *   ['committed', seq]     the batch committed and executed at seq (ready.ts `CommittedBatch`)
 *   'stable'               the stable checkpoint: { certificate, clients, state } (state: the
 *                          execution state it certifies, bft-execution.ts)
 *   'client-timestamp'     the highest timestamp this node's client handed out
 *
 * Sequence numbers lead the keys so that garbage collection below a stable checkpoint (PBFT
 * §4.3) is two range deletes. What to write is decided by folding each write into a mirror
 * (src/runtime/bft-durable.ts), so that this adapter and the memory one keep the same thing.
 * One transaction per write, `durability: 'strict'` (a prepare promises what it wrote); writes
 * in call order; a failure is a StorageError and the node stops (DESIGN.md §5).
 */
import type { CommittedBatch } from '../../core/bft/ready.ts';
import type { CheckpointCertificate, ClientId, PreparedCertificate } from '../../core/bft/types.ts';
import { BftDurable, type BftWrite } from '../../runtime/bft-durable.ts';
import type { BftBootRecord, BftStorage } from './bft-storage.ts';
import { StorageError } from './storage.ts';

const storeName = 'bft';

export function bftDatabaseName(cluster: string, node: string): string {
  return `peerquorum-bft/${encodeURIComponent(cluster)}/${encodeURIComponent(node)}`;
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

interface StoredStable {
  readonly certificate: CheckpointCertificate;
  readonly clients: readonly (readonly [ClientId, number])[];
  readonly state: Uint8Array;
}

const count = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new StorageError(`the stored ${what} is not a count: ${String(v)}`);
  return v;
};

export class IndexedDbBftStorage implements BftStorage {
  private readonly mirror = new BftDurable();
  private queue: Promise<void> = Promise.resolve();

  private constructor(private readonly db: IDBDatabase) {}

  static async open(options: { readonly cluster: string; readonly node: string; readonly indexedDB?: IDBFactory }): Promise<IndexedDbBftStorage> {
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (factory === undefined) throw new StorageError('IndexedDB is not available here');
    try {
      const open = factory.open(bftDatabaseName(options.cluster, options.node), 1);
      open.onupgradeneeded = () => {
        if (!open.result.objectStoreNames.contains(storeName)) open.result.createObjectStore(storeName);
      };
      const db = await request(open);
      db.onversionchange = () => db.close();
      return new IndexedDbBftStorage(db);
    } catch (e) {
      throw new StorageError(`cannot open the BFT database: ${describe(e)}`, { cause: e });
    }
  }

  async boot(): Promise<BftBootRecord> {
    try {
      const store = this.db.transaction(storeName, 'readonly').objectStore(storeName);
      const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
      let view = 0;
      let clientTimestamp = 0;
      let stable: StoredStable | null = null;
      const prePrepared: { view: number; seq: number; digest: string }[] = [];
      const prepared: PreparedCertificate[] = [];
      const committed: CommittedBatch[] = [];
      keys.forEach((key, i) => {
        const value: unknown = values[i];
        if (key === 'view') view = count(value, 'view');
        else if (key === 'client-timestamp') clientTimestamp = count(value, 'client timestamp');
        else if (key === 'stable') stable = value as StoredStable;
        else if (Array.isArray(key) && key[0] === 'pp') prePrepared.push(value as { view: number; seq: number; digest: string });
        else if (Array.isArray(key) && key[0] === 'prepared') prepared.push(value as PreparedCertificate);
        else if (Array.isArray(key) && key[0] === 'committed') committed.push(value as CommittedBatch);
      });
      const s = stable as StoredStable | null;
      this.mirror.apply({
        persist: { view, prePrepared, prepared, committed, stableCheckpoint: s?.certificate ?? null, stableClients: s?.clients ?? null, discardBelowSeq: null },
        checkpointState: s?.state ?? null,
      });
      return { durable: this.mirror.clone(), clientTimestamp };
    } catch (e) {
      throw e instanceof StorageError ? e : new StorageError(`cannot read the BFT database: ${describe(e)}`, { cause: e });
    }
  }

  write(write: BftWrite): Promise<void> {
    return this.enqueue((store) => {
      const stableBefore = this.mirror.stable;
      this.mirror.apply(write);
      const p = write.persist;
      store.put(this.mirror.view, 'view');
      for (const pp of p.prePrepared) store.put(pp, ['pp', pp.seq, pp.view]);
      const held = new Map(this.mirror.boot().prepared.map((c) => [c.prePrepare.seq, c]));
      for (const c of p.prepared) if (held.get(c.prePrepare.seq) === c) store.put(c, ['prepared', c.prePrepare.seq]);
      for (const c of p.committed) store.put(c, ['committed', c.header.seq]);
      const stable = this.mirror.stable;
      if (stable !== stableBefore && stable !== null && this.mirror.state !== null) {
        store.put({ certificate: stable, clients: this.mirror.stableClients, state: this.mirror.state } satisfies StoredStable, 'stable');
      }
      const below = Math.min(p.discardBelowSeq ?? 0, stable?.seq ?? 0);
      if (below > 0) {
        store.delete(IDBKeyRange.bound(['pp'], ['pp', below, Infinity]));
        store.delete(IDBKeyRange.bound(['prepared'], ['prepared', below]));
        store.delete(IDBKeyRange.bound(['committed'], ['committed', below]));
      }
    });
  }

  writeClientTimestamp(timestamp: number): Promise<void> {
    return this.enqueue((store) => store.put(timestamp, 'client-timestamp'));
  }

  private enqueue(fill: (store: IDBObjectStore) => void): Promise<void> {
    const done = this.queue.then(
      () =>
        new Promise<void>((resolve, reject) => {
          let tx: IDBTransaction;
          try {
            tx = this.db.transaction(storeName, 'readwrite', { durability: 'strict' });
            fill(tx.objectStore(storeName));
          } catch (e) {
            reject(new StorageError(`cannot write the BFT database: ${describe(e)}`, { cause: e }));
            return;
          }
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(new StorageError(`cannot write the BFT database: ${describe(tx.error)}`, { cause: tx.error }));
          tx.onabort = () => reject(new StorageError(`the BFT write was aborted: ${describe(tx.error)}`, { cause: tx.error }));
        }),
    );
    this.queue = done.catch(() => undefined);
    return done;
  }

  close(): Promise<void> {
    return this.queue.then(() => this.db.close());
  }
}
