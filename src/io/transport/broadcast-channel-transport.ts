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
 * channel is shared with every script of the origin.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { frameBytesMaxDefault, type LinkState, type Transport, type TransportStats } from './transport.ts';

export interface BroadcastChannelTransportOptions {
  readonly cluster: string;
  readonly self: NodeId;
  readonly frameBytesMax?: number;
  /** Outgoing channels kept open at once (one per peer). */
  readonly peersMax?: number;
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
  readonly stats: TransportStats = { framesSent: 0, framesReceived: 0, framesDropped: 0 };
  private readonly cluster: string;
  private readonly frameBytesMax: number;
  private readonly peersMax: number;
  private readonly inbox: BroadcastChannel;
  private readonly presence: BroadcastChannel;
  private readonly outboxes = new Map<NodeId, BroadcastChannel>();
  private readonly linkStates = new Map<NodeId, LinkState>();
  private readonly linkHandlers: ((peer: NodeId, state: LinkState) => void)[] = [];
  private frameHandler: ((from: NodeId, frame: Uint8Array) => void) | null = null;
  /** Test hook: peers whose frames are dropped both ways (a partition). */
  private readonly blocked = new Set<NodeId>();
  private closed = false;

  constructor(options: BroadcastChannelTransportOptions) {
    this.cluster = options.cluster;
    this.self = options.self;
    this.frameBytesMax = options.frameBytesMax ?? frameBytesMaxDefault;
    this.peersMax = options.peersMax ?? 64;
    this.inbox = new BroadcastChannel(inboxChannelName(this.cluster, this.self));
    this.inbox.onmessage = (e: MessageEvent<unknown>) => this.onInbox(e.data);
    this.presence = new BroadcastChannel(`peerquorum/${encodeURIComponent(this.cluster)}/presence`);
    this.presence.onmessage = (e: MessageEvent<unknown>) => this.onPresence(e.data);
    this.post({ kind: 'hello', from: this.self });
  }

  send(to: NodeId, frame: Uint8Array): void {
    if (this.closed || to === this.self || this.blocked.has(to) || frame.byteLength > this.frameBytesMax) {
      this.stats.framesDropped++;
      return;
    }
    let out = this.outboxes.get(to);
    if (out === undefined) {
      if (this.outboxes.size >= this.peersMax) {
        this.stats.framesDropped++;
        return;
      }
      out = new BroadcastChannel(inboxChannelName(this.cluster, to));
      this.outboxes.set(to, out);
    }
    try {
      out.postMessage({ from: this.self, frame } satisfies FramePost);
      this.stats.framesSent++;
    } catch {
      this.stats.framesDropped++;
    }
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
    if (this.closed) return;
    this.post({ kind: 'bye', from: this.self });
    this.closed = true;
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
    if (this.closed) return;
    if (!isFramePost(data) || data.frame.byteLength > this.frameBytesMax || this.blocked.has(data.from)) {
      this.stats.framesDropped++;
      return;
    }
    if (this.frameHandler === null) {
      this.stats.framesDropped++;
      return;
    }
    this.stats.framesReceived++;
    this.setLink(data.from, 'open');
    this.frameHandler(data.from, data.frame);
  }

  private onPresence(data: unknown): void {
    if (this.closed || !isPresencePost(data) || data.from === this.self) return;
    if (data.kind === 'bye') {
      this.setLink(data.from, 'closed');
      return;
    }
    if (data.kind === 'hello') this.post({ kind: 'hello-reply', from: this.self });
    this.setLink(data.from, 'open');
  }

  private setLink(peer: NodeId, state: LinkState): void {
    if (this.linkStates.get(peer) === state) return;
    if (!this.linkStates.has(peer) && this.linkStates.size >= this.peersMax) return;
    this.linkStates.set(peer, state);
    for (const h of this.linkHandlers) h(peer, state);
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
