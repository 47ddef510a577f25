/**
 * Stable PeerJS ids for peerquorum nodes. PeerJS (and the PeerServer) accept ids matching
 * `^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$`, while cluster names and node ids are any strings. So
 * each part is escaped into letters and digits: every ASCII letter or digit except `Z` stands for
 * itself, and any other UTF-16 code unit (`Z` included) becomes `Z` and four hex digits. The
 * escape is injective, so two different (cluster, node) pairs never share a PeerJS id, and the
 * same pair always maps to the same id: a node keeps its id across reconnects and reloads.
 *
 *   peerJsId('demo', 'node-1')  ->  'pq-demo-nodeZ002d1'
 */
import type { NodeId } from '../../core/raft/types.ts';

const prefix = 'pq';

export function encodeIdPart(part: string): string {
  let out = '';
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    const isDigit = c >= 0x30 && c <= 0x39;
    const isUpper = c >= 0x41 && c < 0x5a; // A to Y: Z is the escape
    const isLower = c >= 0x61 && c <= 0x7a;
    out += isDigit || isUpper || isLower ? part[i] : `Z${c.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** The PeerJS id of `node` in `cluster`. Both must be non-empty. */
export function peerJsId(cluster: string, node: NodeId): string {
  if (cluster.length === 0 || node.length === 0) throw new RangeError('cluster and node id must be non-empty');
  return `${prefix}-${encodeIdPart(cluster)}-${encodeIdPart(node)}`;
}
