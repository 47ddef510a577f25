/**
 * WebRTC for Node nodes: the node's links to browser tabs (and to other Node nodes) over data
 * channels, signaled through the same PeerServer the browsers use. It is the browsers'
 * `DataChannelTransport` (framing, handshake, bounded queues, counters: data-channel-transport.ts)
 * fed with channels by `NodeWebRtcLinks` (node-webrtc-links.ts: the PeerJS protocol and werift)
 * instead of by the page's PeerJS, both in one thread: Node has no main-thread/worker split to
 * bridge.
 *
 * ```ts
 * const factory = nodeWebRtcTransport({ signaling: { host: '127.0.0.1', port: 9000, path: '/peerjs', secure: false } });
 * await NodeHost.start(options, { transportFactory: factory });
 * ```
 *
 * Authentication is the node's, above this transport, exactly as for the browsers' links: with a
 * cluster secret every frame carries the pair's MAC, so a node that took our peer's PeerJS id at
 * the server gets nothing through.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { DataChannelTransport, type DataChannelTransportOptions, type DataChannelTransportStats } from './data-channel-transport.ts';
import type { TransportFactory } from './factory.ts';
import { NodeWebRtcLinks, type NodeWebRtcLinksOptions, type NodeWebRtcLinksStats } from './node-webrtc-links.ts';
import type { LinkState, Transport } from './transport.ts';

export interface NodeWebRtcTransportOptions
  extends Omit<NodeWebRtcLinksOptions, 'onChannel' | 'onLinkState'>,
    Omit<DataChannelTransportOptions, 'self'> {}

export class NodeWebRtcTransport implements Transport {
  readonly self: NodeId;
  private readonly channels: DataChannelTransport;
  /** PeerServer and peer connections: how the channels are made. */
  readonly signaling: NodeWebRtcLinks;

  constructor(options: NodeWebRtcTransportOptions) {
    this.self = options.self;
    this.channels = new DataChannelTransport(options);
    this.signaling = new NodeWebRtcLinks({
      ...options,
      onChannel: (peer, channel) => {
        // Refused (closed, or linksMax peers held): the transport closed the channel and counted it.
        this.channels.addChannel(peer, channel.asDataChannel());
      },
    });
  }

  get stats(): Readonly<DataChannelTransportStats> {
    return this.channels.stats;
  }

  get linksStats(): Readonly<NodeWebRtcLinksStats> {
    return this.signaling.stats;
  }

  send(to: NodeId, frame: Uint8Array): void {
    this.channels.send(to, frame);
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.channels.onFrame(handler);
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.channels.onLinkState(handler);
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return this.channels.links();
  }

  /** Change the set of peers (a membership change): new ones are linked, gone ones closed. */
  setPeers(peers: readonly NodeId[]): void {
    const wanted = new Set(peers);
    for (const peer of this.channels.links().keys()) if (!wanted.has(peer)) this.channels.removeChannel(peer);
    this.signaling.setPeers(peers);
  }

  async close(): Promise<void> {
    // The transport first: the channels closing under the links then emit nothing.
    await this.channels.close();
    this.signaling.close();
  }
}

/**
 * The factory the host takes (`NodeHostParts.transportFactory`): a `NodeWebRtcTransport` for the
 * node the context names, linked to the context's peers.
 */
export function nodeWebRtcTransport(options: Omit<NodeWebRtcTransportOptions, 'self' | 'cluster' | 'peers'>): TransportFactory {
  return (context) => new NodeWebRtcTransport({ ...options, self: context.self, cluster: context.cluster, peers: context.peers });
}
