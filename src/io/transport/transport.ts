/**
 * A link layer between the nodes of one cluster: best-effort delivery of opaque frames (the
 * codec's bytes) to a node by id. Raft tolerates loss, duplication and reordering, so a
 * transport promises none of those away; it only never delivers a frame to the wrong node, and
 * never throws from `send` (a frame it cannot send is dropped and counted).
 *
 * Adapters: memory (tests, Node), BroadcastChannel (tabs of one origin), PeerJS WebRTC data
 * channels (browsers). One compliance suite (`test/io/transport-compliance.ts`) checks them all.
 */
import type { NodeId } from '../../core/raft/types.ts';

export type LinkState = 'connecting' | 'open' | 'closed';

export interface TransportStats {
  framesSent: number;
  framesReceived: number;
  /** Frames dropped because no link to the node was open, a queue was full, or they were too large. */
  framesDropped: number;
}

export interface Transport {
  readonly self: NodeId;
  /** Send one frame to `to`. Never throws; never blocks. */
  send(to: NodeId, frame: Uint8Array): void;
  /** Register the one receiver of incoming frames (frames before it are dropped). */
  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void;
  /** Link state changes, for status displays and failure hints. */
  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void;
  /** The state of the link to each peer this transport knows of. */
  links(): ReadonlyMap<NodeId, LinkState>;
  readonly stats: Readonly<TransportStats>;
  /** Stop sending and receiving; release every resource. */
  close(): Promise<void>;
}

/** Ids and frames crossing a transport are bounded, so that a peer cannot exhaust memory. */
export const frameBytesMaxDefault = 4 * 1024 * 1024;
