/**
 * Where a node keeps its identity key pair (identity.ts): a two-method interface and two
 * adapters, memory (tests, Node, anything short-lived) and IndexedDB (browsers and workers).
 *
 * Why `setIfAbsent` rather than `set`: two tabs (or a tab and its worker) that boot the same
 * node at once would both find no key, both generate one, and the last `set` would silently
 * replace the key the first already published. `setIfAbsent` is one IndexedDB readwrite
 * transaction (idb-keyval's `update`), so exactly one pair wins and both callers get THAT pair.
 *
 * CryptoKey objects are structured-cloneable, so IndexedDB stores the non-extractable private
 * key itself: the browser keeps the key material and never shows it to script.
 */
import { createStore, get, update, type UseStore } from 'idb-keyval';

export interface IdentityStore {
  /** The stored pair, or undefined when none is stored. (The caller validates what it gets.) */
  get(): Promise<CryptoKeyPair | undefined>;
  /** Store `pair` unless a pair is already stored, atomically; resolves to the pair stored now. */
  setIfAbsent(pair: CryptoKeyPair): Promise<CryptoKeyPair>;
}

/** The key of the pair's record. A later format gets another key, never a different value here. */
export const identityRecordKey = 'identity-key-pair-v1';
/** The object store that `indexedDbIdentityStore` uses by default. */
export const identityStoreNameDefault = 'identity';

export function memoryIdentityStore(): IdentityStore {
  let stored: CryptoKeyPair | undefined;
  return {
    get: () => Promise.resolve(stored),
    setIfAbsent(pair) {
      stored ??= pair;
      return Promise.resolve(stored);
    },
  };
}

/**
 * The pair in IndexedDB database `dbName`. Give it a database of its own: idb-keyval creates its
 * object store only when it creates the database, so a database that exists without that store
 * (the node's Raft storage, say) fails.
 */
export function indexedDbIdentityStore(dbName: string, storeName: string = identityStoreNameDefault): IdentityStore {
  const store: UseStore = createStore(dbName, storeName);
  return {
    get: () => get<CryptoKeyPair>(identityRecordKey, store),
    async setIfAbsent(pair) {
      let winner: CryptoKeyPair = pair;
      await update<CryptoKeyPair>(
        identityRecordKey,
        (old) => {
          winner = old ?? pair;
          return winner;
        },
        store,
      );
      return winner;
    },
  };
}
