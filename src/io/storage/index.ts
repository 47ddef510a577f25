/**
 * Durable storage for a Raft node: the interface, the in-memory adapter (tests, edge and Node)
 * and the IndexedDB adapter (browsers and their workers).
 */
export type { RaftStorage, StorageWrite } from './storage.ts';
export { StorageError, emptyWrite, writeForReady } from './storage.ts';
export { MemoryRaftStorage, type MemoryRaftStorageOptions, type StoredState } from './memory-storage.ts';
export {
  IndexedDbRaftStorage,
  databaseName,
  requestPersistence,
  type IndexedDbRaftStorageOptions,
  type PersistenceResult,
} from './indexeddb-storage.ts';
