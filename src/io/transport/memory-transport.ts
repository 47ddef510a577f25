/**
 * An in-process transport: a hub that delivers frames between transports attached to it, on a
 * later task (never synchronously, as a real network would not), with a test hook to cut links.
 * For tests, Node and single-process demos.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { frameBytesMaxDefault, type LinkState, type Transport, type TransportStats } from './transport.ts';

export class MemoryHub {
  private readonly members = new Map<NodeId, MemoryTransport>();
  /** Directed links that drop everything: "from->to". */
  private readonly blocked = new Set<string>();

  /** Attach a node; its transport talks to every other node attached to this hub. */
  connect(self: NodeId, options: { frameBytesMax?: number } = {}): MemoryTransport {
    if (this.members.has(self)) throw new Error(`node ${self} is already attached to this hub`);
    const t = new MemoryTransport(this, self, options.frameBytesMax ?? frameBytesMaxDefault);
    this.members.set(self, t);
    for (const other of this.members.values()) {
      if (other !== t) {
        other.linkChanged(self, 'open');
        t.linkChanged(other.self, 'open');
      }
    }
    return t;
  }

  /** Block frames from `from` to `to` (one way). */
  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}->${to}`);
  }

  unblock(from: NodeId, to: NodeId): void {
    this.blocked.delete(`${from}->${to}`);
  }

  /** Cut `node` off from everyone, both ways. */
  isolate(node: NodeId): void {
    for (const other of this.members.keys()) {
      if (other === node) continue;
      this.block(node, other);
      this.block(other, node);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** @internal */
  deliver(from: NodeId, to: NodeId, frame: Uint8Array): boolean {
    const target = this.members.get(to);
    if (target === undefined || this.blocked.has(`${from}->${to}`)) return false;
    // Copy: the sender may reuse its buffer, and a real network would not share memory.
    const copy = frame.slice();
    setTimeout(() => target.receive(from, copy), 0);
    return true;
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    if (this.members.get(t.self) !== t) return;
    this.members.delete(t.self);
    for (const other of this.members.values()) other.linkChanged(t.self, 'closed');
  }
}

export class MemoryTransport implements Transport {
  readonly stats: TransportStats = { framesSent: 0, framesReceived: 0, framesDropped: 0 };
  private frameHandler: ((from: NodeId, frame: Uint8Array) => void) | null = null;
  private readonly linkHandlers: ((peer: NodeId, state: LinkState) => void)[] = [];
  private readonly linkStates = new Map<NodeId, LinkState>();
  private closed = false;

  constructor(
    private readonly hub: MemoryHub,
    readonly self: NodeId,
    private readonly frameBytesMax: number,
  ) {}

  send(to: NodeId, frame: Uint8Array): void {
    if (this.closed || frame.byteLength > this.frameBytesMax || !this.hub.deliver(this.self, to, frame)) {
      this.stats.framesDropped++;
      return;
    }
    this.stats.framesSent++;
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.frameHandler = handler;
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.linkHandlers.push(handler);
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return this.linkStates;
  }

  /** @internal */
  receive(from: NodeId, frame: Uint8Array): void {
    if (this.closed || this.frameHandler === null) {
      this.stats.framesDropped++;
      return;
    }
    this.stats.framesReceived++;
    this.frameHandler(from, frame);
  }

  /** @internal */
  linkChanged(peer: NodeId, state: LinkState): void {
    this.linkStates.set(peer, state);
    for (const h of this.linkHandlers) h(peer, state);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.detach(this);
  }
}
