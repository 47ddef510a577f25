/**
 * The page side of links that need the main thread. WebRTC is the one case (DESIGN.md §3):
 * `RTCPeerConnection` does not exist in workers, so the page runs the signaling (PeerJS) and
 * ICE, creates negotiated data channels, and transfers each one, fresh, to the worker, which
 * owns it from then on.
 *
 * The WebRTC side registers itself here under `'webrtc'` (`registerLinks`); `createNode` starts
 * it when the node's transport is `webrtc`, with a context whose `attachChannel` transfers a
 * channel to the node's worker. A custom transport may bring its own page side the same way.
 */
import type { NodeId } from '../core/raft/types.ts';

/** Where the PeerJS signaling server is (PeerJS `PeerOptions` subset). */
export interface SignalingOptions {
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly secure?: boolean;
  readonly key?: string;
}

export interface LinkContext {
  readonly cluster: string;
  readonly self: NodeId;
  /** The cluster's members to connect to (the initial voters, without `self`). */
  readonly peers: readonly NodeId[];
  readonly signaling?: SignalingOptions;
  /** None by default (loopback needs none). */
  readonly iceServers?: readonly RTCIceServer[];
  /** Transfer a freshly created, not yet used, negotiated data channel to the node's worker. */
  attachChannel(peer: NodeId, channel: RTCDataChannel): Promise<void>;
  /** The link to `peer` is gone for good (the worker closes its side). */
  detachChannel(peer: NodeId): Promise<void>;
}

export interface Links {
  close(): Promise<void> | void;
  /**
   * Hold links to these peers from now on (the node's own `peers` always among them): a gossip
   * mesh asks for members beyond them (`links-wanted` events). Optional: a page side that cannot
   * open links on demand leaves it out.
   */
  setPeers?(peers: readonly NodeId[]): void;
}

export type LinksFactory = (context: LinkContext) => Promise<Links>;

const factories = new Map<string, LinksFactory>();

export function registerLinks(name: string, factory: LinksFactory): void {
  factories.set(name, factory);
}

export function linksFactory(name: string): LinksFactory | undefined {
  return factories.get(name);
}
