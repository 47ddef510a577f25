/**
 * An in-process transport: a hub that delivers frames between transports attached to it, on a
 * later task (never synchronously, as a real network would not), with a test hook to cut links.
 * For tests, Node and single-process demos. Links follow the hub: open to every node attached,
 * closed when one detaches; each transport holds at most `linksMax` peers (link-table.ts).
 */
import type { NodeId } from '../../core/raft/types.ts';
import { LinkTable, type LinkStats } from './link-table.ts';
import { frameBytesMaxDefault, type LinkState, type Transport } from './transport.ts';

export interface MemoryTransportOptions {
  readonly frameBytesMax?: number;
  /** Peers held at once (default 256); a node attached beyond it gets no link here. */
  readonly linksMax?: number;
}

export class MemoryHub {
  private readonly members = new Map<NodeId, MemoryTransport>();
  /** Directed links that drop everything: "from->to". */
  private readonly blocked = new Set<string>();

  /** Attach a node; its transport talks to every other node attached to this hub. */
  connect(self: NodeId, options: MemoryTransportOptions = {}): MemoryTransport {
    if (this.members.has(self)) throw new Error(`node ${self} is already attached to this hub`);
    const t = new MemoryTransport(this, self, options);
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
  readonly stats: Readonly<LinkStats>;
  private readonly table: LinkTable;
  private readonly frameBytesMax: number;

  constructor(
    private readonly hub: MemoryHub,
    readonly self: NodeId,
    options: MemoryTransportOptions = {},
  ) {
    this.table = new LinkTable({ self, linksMax: options.linksMax });
    this.stats = this.table.stats;
    this.frameBytesMax = options.frameBytesMax ?? frameBytesMaxDefault;
  }

  send(to: NodeId, frame: Uint8Array): void {
    if (this.table.closed || frame.byteLength > this.frameBytesMax || !this.table.isOpen(to) || !this.hub.deliver(this.self, to, frame)) {
      this.table.countDropped();
      return;
    }
    this.table.countSent();
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.table.onFrame(handler);
  }

  onLinkState(handler: (peer: NodeId, state: LinkState) => void): void {
    this.table.onLinkState(handler);
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return this.table.links();
  }

  /** @internal */
  receive(from: NodeId, frame: Uint8Array): void {
    this.table.deliver(from, frame);
  }

  /** @internal */
  linkChanged(peer: NodeId, state: LinkState): void {
    this.table.setState(peer, state);
  }

  async close(): Promise<void> {
    if (this.table.closed) return;
    this.table.close();
    this.hub.detach(this);
  }
}
