/**
 * A tap on a node's transport, for the runtime's hostile-peer tests: what an attacker on the
 * wire has. It records every frame the node sends (to replay them later) and can hand the node a
 * frame at once, as if any peer had sent it on its link: on a BroadcastChannel every page of the
 * origin can post under any name, and a page that registers a member's id at the PeerServer
 * receives and sends on that member's links. Otherwise it passes everything through unchanged.
 */
import type { NodeId } from '../../src/core/raft/types.ts';
import type { LinkState, Transport, TransportStats } from '../../src/io/transport/transport.ts';

export interface TappedFrame {
  readonly to: NodeId;
  readonly frame: Uint8Array;
}

export class TapTransport implements Transport {
  /** What the node sent, oldest first (copies), while `recording`. */
  readonly sent: TappedFrame[] = [];
  recording = true;
  private handler: ((from: NodeId, frame: Uint8Array) => void) | null = null;

  constructor(readonly inner: Transport) {
    inner.onFrame((from, frame) => this.handler?.(from, frame));
  }

  get self(): NodeId {
    return this.inner.self;
  }

  get stats(): Readonly<TransportStats> {
    return this.inner.stats;
  }

  send(to: NodeId, frame: Uint8Array): void {
    if (this.recording) this.sent.push({ to, frame: frame.slice() });
    this.inner.send(to, frame);
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.inner.onLinkState(handler);
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return this.inner.links();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Hand `frame` to the node now, as arriving on its link from `from`. */
  inject(from: NodeId, frame: Uint8Array): void {
    this.handler?.(from, frame);
  }
}
