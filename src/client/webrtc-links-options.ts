/**
 * The caller's side of `WebRtcLinks` (webrtc-links.ts): where the PeerServer is, which nodes to
 * link, the callbacks through which channels, link and signaling states and errors come out, the
 * retry settings, and the counters it keeps. Apart from the links themselves so that the
 * contract reads as one list, and the links file is only how links are made and kept.
 */
import type { NodeId } from '../core/raft/types.ts';
import type { LinkState } from '../io/transport/transport.ts';
import type { BackoffOptions } from './webrtc-backoff.ts';

export interface WebRtcSignaling {
  readonly host: string;
  readonly port: number;
  /** Where the PeerServer is mounted, e.g. `/` or `/peerjs` (the PeerServer's `path` option). */
  readonly path: string;
  readonly secure: boolean;
  /** The PeerServer's key (default `peerjs`, the server's default). */
  readonly key?: string;
}

export type SignalingState = 'connecting' | 'open' | 'disconnected' | 'closed';

export interface WebRtcLinksError {
  readonly code: string;
  readonly message: string;
}

export interface WebRtcLinksOptions {
  readonly cluster: string;
  readonly self: NodeId;
  /** The other nodes to link to (self is ignored). `setPeers` changes the set later. */
  readonly peers: readonly NodeId[];
  readonly signaling: WebRtcSignaling;
  /** STUN/TURN servers. None by default: host candidates only, nothing leaves the LAN. */
  readonly iceServers?: readonly RTCIceServer[];
  /**
   * A new channel to `peer`, created this instant and not used yet: transfer it to the worker
   * now (in this call), or give it to a DataChannelTransport on this thread. It supersedes any
   * earlier channel to the same peer.
   */
  readonly onChannel: (peer: NodeId, channel: RTCDataChannel) => void;
  /** The PeerJS connection to `peer` (not the channel handshake, which the transport tracks). */
  readonly onLinkState?: (peer: NodeId, state: LinkState) => void;
  readonly onSignalingState?: (state: SignalingState) => void;
  /** Errors that retrying cannot fix (invalid id or key, no WebRTC), and callback failures. */
  readonly onError?: (error: WebRtcLinksError) => void;
  readonly backoff?: BackoffOptions;
  /** A peer connection that has not opened by then is closed and redialed (default 10 s). */
  readonly dialTimeoutMs?: number;
  /** For the backoff jitter; returns [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** PeerJS log level, 0 (none) to 3 (all). Default 0. */
  readonly debugLevel?: 0 | 1 | 2 | 3;
}

export interface WebRtcLinksStats {
  /** Dials started (first tries and retries). */
  dials: number;
  /** Incoming connections accepted, and refused (unknown node or wrong direction, knocks included). */
  accepted: number;
  refused: number;
  /** Knocks sent (as acceptor), and knocks heard (as dialer) from a known peer. */
  knocks: number;
  knocksHeard: number;
  /** Connections dropped as stale: their peer knocked while they looked open, or they failed. */
  staleDropped: number;
  /** Channels handed to `onChannel`. */
  channels: number;
  /** Times the PeerServer connection was lost, and times it was (re)opened. */
  signalingLost: number;
  signalingOpened: number;
}

/** All counters at zero. */
export function emptyWebRtcLinksStats(): WebRtcLinksStats {
  return {
    dials: 0,
    accepted: 0,
    refused: 0,
    knocks: 0,
    knocksHeard: 0,
    staleDropped: 0,
    channels: 0,
    signalingLost: 0,
    signalingOpened: 0,
  };
}
