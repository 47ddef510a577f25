/**
 * A link layer between the nodes of one cluster: best-effort delivery of opaque frames (the
 * codec's bytes) to a node by id. Raft tolerates loss, duplication and reordering, so a
 * transport promises none of those away; it only never delivers a frame to the wrong node, and
 * never throws from `send` (a frame it cannot send is dropped and counted).
 *
 * Adapters: memory (tests, Node), BroadcastChannel (tabs of one origin), PeerJS WebRTC data
 * channels (browsers), and a relay of any of them over a MessagePort. They share one link table
 * (link-table.ts: link states, handlers, counters, the bound on peers) and are made by factories
 * (factory.ts), which is also how a user brings a transport of their own. One compliance suite
 * (`test/io/transport-compliance.ts`) checks them all.
 */
import type { NodeId } from '../../core/raft/types.ts';

export type LinkState = 'connecting' | 'open' | 'closed';

export interface TransportStats {
  framesSent: number;
  framesReceived: number;
  /**
   * Frames dropped, sent or received: no link to the node was open, a queue was full, they were
   * too large, malformed, arrived before `onFrame` or after `close`, or came from a peer beyond
   * the bound on links.
   */
  framesDropped: number;
  /**
   * Links refused because the transport already held as many peers as it may (`linksMax`). Every
   * built-in transport counts it; optional so that a transport of one's own need not.
   */
  linksRefused?: number;
}

export interface Transport {
  readonly self: NodeId;
  /** Send one frame to `to`. Never throws; never blocks. */
  send(to: NodeId, frame: Uint8Array): void;
  /** Register the one receiver of incoming frames, replacing any earlier one (frames before it are dropped). */
  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void;
  /** Register the one listener of link state changes (status displays, failure hints), replacing any earlier one. */
  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void;
  /** The state of the link to each peer this transport knows of. */
  links(): ReadonlyMap<NodeId, LinkState>;
  readonly stats: Readonly<TransportStats>;
  /** Stop sending and receiving; release every resource. */
  close(): Promise<void>;
}

/** Ids and frames crossing a transport are bounded, so that a peer cannot exhaust memory. */
export const frameBytesMaxDefault = 4 * 1024 * 1024;
