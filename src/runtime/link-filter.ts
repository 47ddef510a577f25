/**
 * A transport wrapper with the partition test hook of the end-to-end tests: frames to and from
 * a blocked peer are dropped, both ways, whatever the transport underneath (BroadcastChannel,
 * WebRTC, a custom one). Blocking is local to this node; a partition blocks on both sides.
 */
import type { NodeId } from '../core/raft/types.ts';
import type { LinkState, Transport, TransportStats } from '../io/transport/transport.ts';

export class LinkFilter implements Transport {
  readonly self: NodeId;
  /** Frames dropped because their peer was blocked (sent and received). */
  blockedFramesDropped = 0;
  private readonly blocked = new Set<NodeId>();

  constructor(readonly inner: Transport) {
    this.self = inner.self;
  }

  get stats(): Readonly<TransportStats> {
    return this.inner.stats;
  }

  send(to: NodeId, frame: Uint8Array): void {
    if (this.blocked.has(to)) {
      this.blockedFramesDropped++;
      return;
    }
    this.inner.send(to, frame);
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.inner.onFrame((from, frame) => {
      if (this.blocked.has(from)) {
        this.blockedFramesDropped++;
        return;
      }
      handler(from, frame);
    });
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.inner.onLinkState(handler);
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return this.inner.links();
  }

  block(peers: readonly NodeId[]): void {
    for (const p of peers) if (p !== this.self) this.blocked.add(p);
  }

  unblock(peers?: readonly NodeId[]): void {
    if (peers === undefined) this.blocked.clear();
    else for (const p of peers) this.blocked.delete(p);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
