/**
 * Durable storage for a Raft node: the interface, the in-memory adapter (tests, edge and Node),
 * the IndexedDB adapter (browsers and their workers) and the file log (Node.js), with the file
 * log's gossip and BFT variants.
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
// The file log (Node.js only: it imports node:fs; a browser bundle must not import this index).
export { FileRaftStorage, fileStorage, segmentBytesMaxDefault, type FileStorageOptions } from './file-storage.ts';
export { FileLogCorruptError, FileLogLockedError } from './file-errors.ts';
export { nodeDataDirs } from './file-dir.ts';
export { crc32c } from './crc32c.ts';
export { FileGossipStorage, fileGossipStorage, type FileGossipStorageOptions } from './file-gossip-storage.ts';
export { FileBftStorage, fileBftStorage, type FileBftStorageOptions } from './file-bft-storage.ts';
