/**
 * Identity keys for the simulator's nodes: stand-ins for the P-256 points production nodes
 * publish in their hellos (src/io/crypto/hello-body.ts). Nothing in the simulator signs or
 * verifies, so a stand-in only needs the layout of a key (65 bytes, 0x04 first), to be the same
 * in every life of a node (keys are persistent: a node that came back with another would be
 * refused by its peers as `identity-changed`), and to differ from node to node. It is made from
 * the id with the synchronous SHA-256, once per boot: a run stays deterministic and no Web
 * Crypto enters it.
 */
import type { NodeId } from '../core/raft/types.ts';
import { utf8 } from '../io/crypto/bytes.ts';
import { identityPublicKeyBytes } from '../io/crypto/identity.ts';
import { sha256 } from '../io/crypto/sha256.ts';

export function simIdentityKey(id: NodeId): Uint8Array {
  const key = new Uint8Array(identityPublicKeyBytes);
  key[0] = 0x04;
  key.set(sha256(utf8(`peerquorum sim identity x ${id}`)), 1);
  key.set(sha256(utf8(`peerquorum sim identity y ${id}`)), 33);
  return key;
}
