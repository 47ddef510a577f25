/**
 * What `WebRtcLinks` (webrtc-links.ts) knows about one peer: which side dials (the lower PeerJS
 * id, so that a pair never ends up with two connections), the connection and its state, the
 * retry attempt for the backoff, the knock in flight (acceptor side), and the timers that go
 * with them. One record per peer, so that everything a dial, a knock or a loss touches is in one
 * place, and so that removing a peer is one `clearSlotTimers` away from leaving nothing behind.
 */
import type { DataConnection } from 'peerjs';
import type { NodeId } from '../core/raft/types.ts';
import type { LinkState } from '../io/transport/transport.ts';

export interface PeerSlot {
  readonly node: NodeId;
  readonly remoteId: string;
  /** True if we dial this peer (our PeerJS id is the lower). */
  readonly dialer: boolean;
  conn: DataConnection | undefined;
  state: LinkState;
  attempt: number;
  /** The next dial (dialer) or knock (acceptor). */
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  openTimer: ReturnType<typeof setTimeout> | undefined;
  /** Acceptor only: the knock in flight, and when it is given up. */
  knock: DataConnection | undefined;
  /** When the current connection opened (`performance.now()`); 0 while none is open. */
  openedAtMs: number;
  knockTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The slot of `node` (PeerJS id `remoteId`) as seen by the node whose PeerJS id is `selfPeerId`. */
export function newPeerSlot(node: NodeId, remoteId: string, selfPeerId: string): PeerSlot {
  return {
    node,
    remoteId,
    dialer: selfPeerId < remoteId,
    conn: undefined,
    state: 'connecting',
    attempt: 0,
    retryTimer: undefined,
    openTimer: undefined,
    knock: undefined,
    openedAtMs: 0,
    knockTimer: undefined,
  };
}

/** Stop the slot's retry, open and knock timers (the peer is removed, or the links closed). */
export function clearSlotTimers(slot: PeerSlot): void {
  clearTimeout(slot.retryTimer);
  clearTimeout(slot.openTimer);
  clearTimeout(slot.knockTimer);
  slot.retryTimer = undefined;
  slot.openTimer = undefined;
  slot.knockTimer = undefined;
}
