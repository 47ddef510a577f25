/**
 * A transport between tabs (and workers) of one origin over BroadcastChannel: no server at all.
 *
 * Each node reads its own inbox channel, `peerquorum/<cluster>/node/<id>`, so a frame is
 * delivered to its addressee only (a shared channel would wake every tab for every frame). A
 * presence channel, `peerquorum/<cluster>/presence`, carries `hello` and `bye` so that link
 * states mean something: a peer is `open` once we heard its hello (a newcomer's hello is
 * answered with ours), `closed` after its bye. A tab that crashes sends no bye; the Web Locks
 * oracle in the runtime covers that case.
 *
 * Whatever arrives is checked before it goes anywhere (shape, sender id, frame size): the
 * channel is shared with every script of the origin, so any of them can claim to be any number
 * of peers. The link table (link-table.ts) bounds what that costs: at most `linksMax` peers
 * (hellos beyond it are refused, counted and not answered; their frames are dropped), and as
 * many outgoing channels.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { LinkTable, type LinkStats } from './link-table.ts';
import { frameBytesMaxDefault, type LinkState, type Transport } from './transport.ts';

export interface BroadcastChannelTransportOptions {
  readonly cluster: string;
  readonly self: NodeId;
  readonly frameBytesMax?: number;
  /** Peers held at once, and outgoing channels kept open at once (one per peer); default 256. */
  readonly linksMax?: number;
}

const idCharsMax = 128;

interface FramePost {
  readonly from: string;
  readonly frame: Uint8Array;
}

interface PresencePost {
  readonly kind: 'hello' | 'bye' | 'hello-reply';
  readonly from: string;
}

export function inboxChannelName(cluster: string, node: NodeId): string {
  return `peerquorum/${encodeURIComponent(cluster)}/node/${encodeURIComponent(node)}`;
}

export class BroadcastChannelTransport implements Transport {
  readonly self: NodeId;
  readonly stats: Readonly<LinkStats>;
  private readonly table: LinkTable;
  private readonly cluster: string;
  private readonly frameBytesMax: number;
  private readonly inbox: BroadcastChannel;
  private readonly presence: BroadcastChannel;
  private readonly outboxes = new Map<NodeId, BroadcastChannel>();
  /** Test hook: peers whose frames are dropped both ways (a partition). */
  private readonly blocked = new Set<NodeId>();

  constructor(options: BroadcastChannelTransportOptions) {
    this.cluster = options.cluster;
    this.self = options.self;
    this.table = new LinkTable({ self: options.self, linksMax: options.linksMax });
    this.stats = this.table.stats;
    this.frameBytesMax = options.frameBytesMax ?? frameBytesMaxDefault;
    this.inbox = new BroadcastChannel(inboxChannelName(this.cluster, this.self));
    this.inbox.onmessage = (e: MessageEvent<unknown>) => this.onInbox(e.data);
    this.presence = new BroadcastChannel(`peerquorum/${encodeURIComponent(this.cluster)}/presence`);
    this.presence.onmessage = (e: MessageEvent<unknown>) => this.onPresence(e.data);
    this.post({ kind: 'hello', from: this.self });
  }

  /**
   * A frame may go to a peer before its hello was heard (a node starting sends at once), so
   * sending needs room for the peer in the table, not an open link.
   */
  send(to: NodeId, frame: Uint8Array): void {
    if (this.table.closed || to === this.self || this.blocked.has(to) || frame.byteLength > this.frameBytesMax || !this.table.hasRoomFor(to)) {
      this.table.countDropped();
      return;
    }
    let out = this.outboxes.get(to);
    if (out === undefined) {
      if (this.outboxes.size >= this.table.linksMax) {
        this.table.countDropped();
        return;
      }
      out = new BroadcastChannel(inboxChannelName(this.cluster, to));
      this.outboxes.set(to, out);
    }
    try {
      out.postMessage({ from: this.self, frame } satisfies FramePost);
      this.table.countSent();
    } catch {
      this.table.countDropped();
    }
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

  /** Test hook: drop every frame to and from `peer` until `unblock`. */
  block(peer: NodeId): void {
    this.blocked.add(peer);
  }

  unblock(peer: NodeId): void {
    this.blocked.delete(peer);
  }

  unblockAll(): void {
    this.blocked.clear();
  }

  async close(): Promise<void> {
    if (this.table.closed) return;
    this.post({ kind: 'bye', from: this.self });
    this.table.close();
    this.inbox.close();
    this.presence.close();
    for (const out of this.outboxes.values()) out.close();
    this.outboxes.clear();
  }

  private post(p: PresencePost): void {
    try {
      this.presence.postMessage(p);
    } catch {
      // A closed or broken channel: presence is a hint, frames still flow or not on their own.
    }
  }

  private onInbox(data: unknown): void {
    if (this.table.closed) return;
    if (!isFramePost(data) || data.frame.byteLength > this.frameBytesMax || this.blocked.has(data.from) || data.from === this.self) {
      this.table.countDropped();
      return;
    }
    // A frame proves its sender is there; beyond the bound the table refuses it and drops the frame.
    this.table.setState(data.from, 'open');
    this.table.deliver(data.from, data.frame);
  }

  private onPresence(data: unknown): void {
    if (this.table.closed || !isPresencePost(data) || data.from === this.self) return;
    if (data.kind === 'bye') {
      this.table.setState(data.from, 'closed');
      this.outboxes.get(data.from)?.close();
      this.outboxes.delete(data.from);
      return;
    }
    // A hello beyond the bound is refused (counted) and not answered.
    if (this.table.setState(data.from, 'open') && data.kind === 'hello') this.post({ kind: 'hello-reply', from: this.self });
  }
}
function isId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= idCharsMax;
}

function isFramePost(x: unknown): x is FramePost {
  return typeof x === 'object' && x !== null && isId((x as FramePost).from) && (x as FramePost).frame instanceof Uint8Array;
}

function isPresencePost(x: unknown): x is PresencePost {
  if (typeof x !== 'object' || x === null) return false;
  const kind = (x as PresencePost).kind;
  return (kind === 'hello' || kind === 'bye' || kind === 'hello-reply') && isId((x as PresencePost).from);
}
