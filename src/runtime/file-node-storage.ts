/**
 * Storage `{ dir }` (worker-protocol.ts `StorageSpec`): a Node node's durable state under one
 * data directory, laid out by `nodeDataDirs` (src/io/storage/file-dir.ts):
 *
 *   <dir>/raft/           the Raft file log (segments, snapshots; hard state rides in the log)
 *   <dir>/gossip/         the gossip incarnation and CRDTs
 *   <dir>/bft/            the BFT replica's view, certificates, checkpoints
 *   <dir>/identity.json   the node's identity key pair (src/io/crypto/identity-file.ts)
 *
 * This module pulls in `node:fs`; node-host.ts, gossip-part.ts and bft-part.ts import it
 * dynamically, and only for a `{ dir }` storage, so a browser worker's bundle never loads it.
 *
 * Every failure to open is a `StorageError` (code STORAGE) naming the directory and its cause:
 * the node does not start, and says why (a log locked by another process, a checksum failure
 * in the middle, a directory it cannot create).
 */
import type { NodeId } from '../core/raft/types.ts';
import type { NodeIdentity } from '../io/crypto/identity.ts';
import { loadOrCreateFileIdentity } from '../io/crypto/identity-file.ts';
import type { BftStorage } from '../io/storage/bft-storage.ts';
import { nodeDataDirs } from '../io/storage/file-dir.ts';
import { fileBftStorage } from '../io/storage/file-bft-storage.ts';
import { fileGossipStorage } from '../io/storage/file-gossip-storage.ts';
import { fileStorage } from '../io/storage/file-storage.ts';
import type { GossipStorage } from '../io/storage/gossip-storage.ts';
import { StorageError, type RaftStorage } from '../io/storage/storage.ts';

async function opened<T>(what: string, dir: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (e) {
    // Keep a StorageError's own message (a corrupt or locked log says so itself).
    if (e instanceof StorageError) throw e;
    throw new StorageError(`cannot open the ${what} in ${dir} (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

export function openFileRaftStorage(dataDir: string): Promise<RaftStorage> {
  const dir = nodeDataDirs(dataDir).raft;
  return opened('Raft log', dir, () => fileStorage({ dir }));
}

export function openFileGossipStorage(dataDir: string): Promise<GossipStorage> {
  const dir = nodeDataDirs(dataDir).gossip;
  return opened('gossip storage', dir, () => fileGossipStorage({ dir }));
}

export function openFileBftStorage(dataDir: string): Promise<BftStorage> {
  const dir = nodeDataDirs(dataDir).bft;
  return opened('BFT log', dir, () => fileBftStorage({ dir }));
}

/** The node's identity in `<dataDir>/identity.json`; `cluster` and `node` only name it in errors. */
export function loadFileIdentity(dataDir: string, cluster: string, node: NodeId): Promise<NodeIdentity> {
  return opened(`identity of ${cluster}/${node}`, dataDir, () => loadOrCreateFileIdentity(dataDir));
}
