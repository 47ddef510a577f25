/**
 * What `NodeWebRtcLinks` (node-webrtc-links.ts) knows about one peer, and about one werift peer
 * connection to it. The same record as the browsers' (src/client/webrtc-peer-slot.ts), with the
 * PeerJS `DataConnection` replaced by `PeerConn`: here we are our own PeerJS, so a connection
 * is a werift `RTCPeerConnection`, the PeerJS connection id it was offered under, the PeerJS
 * channel (created by the dialer, received by the acceptor: it only tells us the connection
 * opened, nothing is ever sent on it), and the signaling steps applied to it in order.
 */
import { RTCPeerConnection, type RTCDataChannel as WeriftDataChannel } from 'werift';
import type { NodeId } from '../../core/raft/types.ts';
import type { LinkState } from './transport.ts';

/** Signaling steps (remote description, candidates) waiting on one connection at most. */
export const pendingStepsMax = 64;

export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export interface PeerConn {
  readonly connectionId: string;
  readonly pc: RTCPeerConnection;
  /** The PeerJS channel: its `open` is the connection's. */
  peerJsChannel: WeriftDataChannel | undefined;
  open: boolean;
  /** The signaling steps run one after another (a candidate must not overtake its description). */
  steps: Promise<void>;
  pendingSteps: number;
  readonly unsubscribes: (() => void)[];
}

export interface NodePeerSlot {
  readonly node: NodeId;
  readonly remoteId: string;
  /** True if we dial this peer (our PeerJS id is the lower), as the browsers decide. */
  readonly dialer: boolean;
  conn: PeerConn | undefined;
  state: LinkState;
  attempt: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  openTimer: ReturnType<typeof setTimeout> | undefined;
  /** Acceptor only: the connection id of the knock in flight, and when it is given up. */
  knock: string | undefined;
  knockTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the current connection opened (`performance.now()`); 0 while none is open. */
  openedAtMs: number;
}

export function newNodePeerSlot(node: NodeId, remoteId: string, selfPeerId: string): NodePeerSlot {
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
    knockTimer: undefined,
    openedAtMs: 0,
  };
}

export function clearNodeSlotTimers(slot: NodePeerSlot): void {
  clearTimeout(slot.retryTimer);
  clearTimeout(slot.openTimer);
  clearTimeout(slot.knockTimer);
  slot.retryTimer = undefined;
  slot.openTimer = undefined;
  slot.knockTimer = undefined;
}

/**
 * A werift peer connection with only the ICE servers given: werift's default names a public
 * STUN server, and nothing may be sent to an address the caller did not configure.
 */
export function newPeerConn(connectionId: string, iceServers: readonly IceServer[]): PeerConn {
  const pc = new RTCPeerConnection({ iceServers: iceServers.map((s) => ({ ...s, urls: typeof s.urls === 'string' ? s.urls : [...s.urls] })) });
  return { connectionId, pc, peerJsChannel: undefined, open: false, steps: Promise.resolve(), pendingSteps: 0, unsubscribes: [] };
}

/**
 * Run `step` after the connection's earlier steps; false (nothing queued) when `pendingStepsMax`
 * are waiting already. A step that throws calls `onError`; later steps still run.
 */
export function queueStep(conn: PeerConn, step: () => Promise<void>, onError: (e: unknown) => void): boolean {
  if (conn.pendingSteps >= pendingStepsMax) return false;
  conn.pendingSteps++;
  conn.steps = conn.steps.then(step).catch(onError).finally(() => {
    conn.pendingSteps--;
  });
  return true;
}

/** Stop listening and close the peer connection (its channels close with it). */
export function closePeerConn(conn: PeerConn): void {
  for (const u of conn.unsubscribes.splice(0)) u();
  conn.pc.close().catch(() => undefined);
}
