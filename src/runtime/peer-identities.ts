/**
 * A node's identity (src/io/crypto/identity.ts: an ECDSA P-256 pair whose private key never
 * leaves Web Crypto) and the identity keys its peers published, for the protocols that must
 * sign what others forward (the gossip and BFT engines to come): `sign` with this node's key,
 * `verifyFromPeer` with the key a peer published.
 *
 * Where the keys come from: each node sends its public key in its hellos (hello-body.ts), whose
 * tag the pair's link key makes, so a key is learned only over a link the cluster secret
 * authenticates; the link guard keeps the first key each peer published for the life of this
 * node (trust on first use, within the cluster secret: there is no certificate chain). Without a
 * secret no hello is sent, so no key is learned and every `verifyFromPeer` answers false.
 *
 * Where the node's own pair lives: in IndexedDB (a database of its own per cluster and node id,
 * `peerquorum-identity/<cluster>/<id>`) when the node keeps its log there, so the node has the
 * same key in every life, as its peers expect; in `<dir>/identity.json` when a Node node keeps
 * its files in `dir` (src/io/crypto/identity-file.ts); in memory otherwise (memory storage,
 * storage Node code supplies), a new key each life, as its log is new each life.
 */
import type { NodeId } from '../core/raft/types.ts';
import { identityFingerprintOf, loadOrCreateIdentity, verifyIdentitySignature, type NodeIdentity } from '../io/crypto/identity.ts';
import { indexedDbIdentityStore, memoryIdentityStore } from '../io/crypto/identity-store.ts';
import { describeError } from '../io/storage/indexeddb-storage.ts';
import { StorageError } from '../io/storage/storage.ts';
import { NodeError } from './errors.ts';
import { storageDirOf, type StorageSpec } from './worker-protocol.ts';

/** Where the peers' published keys are kept (the frame router, over its link guard). */
export interface PeerKeySource {
  /** The key `peer` published, undefined when none was learned. */
  peerKey(peer: NodeId): Uint8Array | undefined;
  peerKeys(): ReadonlyMap<NodeId, Uint8Array>;
}

/** What status says of identities: fingerprints (identity-fingerprint.ts), this node's and its peers'. */
export interface IdentityStatus {
  /** Hex of the first 16 bytes of SHA-256 of this node's public key. */
  readonly fingerprint: string;
  /** The fingerprint of each key learned from a peer's hello; empty without a secret. */
  readonly peers: Readonly<Record<NodeId, string>>;
}

export class PeerIdentities {
  constructor(
    private readonly identity: NodeIdentity,
    private readonly keys: PeerKeySource,
  ) {}

  get fingerprint(): string {
    return this.identity.fingerprint;
  }

  /** This node's public key as its hellos publish it (a copy). */
  get publicKey(): Uint8Array {
    return this.identity.publicKeyRaw.slice();
  }

  /** The identity signature of `data` with this node's private key (64 bytes, r || s). */
  sign(data: Uint8Array): Promise<Uint8Array> {
    return this.identity.sign(data);
  }

  /** The key `peer` published, undefined when none was learned. */
  peerKey(peer: NodeId): Uint8Array | undefined {
    return this.keys.peerKey(peer);
  }

  /**
   * Whether `signature` is `peer`'s signature of `data`, checked with the key `peer` published.
   * False when no key is known for it (no authenticated hello yet, or no secret), and for a
   * signature or key that is malformed: never a throw, everything here may come from the network.
   */
  async verifyFromPeer(peer: NodeId, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const key = this.keys.peerKey(peer);
    if (key === undefined) return false;
    return verifyIdentitySignature(key, data, signature);
  }

  status(): IdentityStatus {
    const peers: Record<NodeId, string> = {};
    for (const [peer, key] of this.keys.peerKeys()) peers[peer] = identityFingerprintOf(key);
    return { fingerprint: this.identity.fingerprint, peers };
  }
}

/** The IndexedDB database of a node's identity (not its log's: idb-keyval needs one of its own). */
export function identityDatabaseName(cluster: string, node: NodeId): string {
  return `peerquorum-identity/${encodeURIComponent(cluster)}/${encodeURIComponent(node)}`;
}

/**
 * The node's identity: loaded from IndexedDB, or made and stored there (`indexeddb`), or made
 * for this life (`memory`). Without Web Crypto (an insecure context) there is no identity to
 * make: CONFIG. With IndexedDB, a failure to read or store the pair, or a stored pair that is
 * unusable (identity.ts refuses to replace it), is STORAGE, naming its cause.
 */
export async function loadNodeIdentity(where: StorageSpec, cluster: string, node: NodeId): Promise<NodeIdentity> {
  if (globalThis.crypto?.subtle === undefined) throw new NodeError('CONFIG', 'Web Crypto is not available here (an insecure context?): a node needs it for its identity key');
  if (where === 'memory') return loadOrCreateIdentity(memoryIdentityStore());
  // Node: a key file in the data directory (loaded here only, so a browser bundle never loads fs).
  const dir = storageDirOf(where);
  if (dir !== null) return (await import('./file-node-storage.ts')).loadFileIdentity(dir, cluster, node);
  const name = identityDatabaseName(cluster, node);
  try {
    return await loadOrCreateIdentity(indexedDbIdentityStore(name));
  } catch (e) {
    throw new StorageError(`cannot load or store the node's identity in ${name} (${describeError(e)})`, { cause: e });
  }
}
