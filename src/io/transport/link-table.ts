/**
 * The link bookkeeping every transport shares, in one place: the state of the link to each peer
 * (`connecting`, `open`, `closed`), the one frame handler and the one link-state handler of the
 * `Transport` contract, `links()`, the `TransportStats` counters, and the bound on peers.
 *
 * Why one table: the memory, BroadcastChannel, relay and WebRTC transports each kept their own
 * copy of this (a map, a handler list, counters, an emit loop), and the copies had drifted (one
 * bounded its peers, one did not, one emitted a state it already had). What a transport adds on
 * top (a hub, channels, a port, chunking and back-pressure) stays in the transport.
 *
 * The bound (TigerBeetle: a limit on everything a peer can make us hold): the table holds at
 * most `linksMax` peers, whatever their state. A link to one more peer is REFUSED and counted
 * (`linksRefused`), and a frame from a peer the table does not hold, while it is full, is
 * dropped and counted (`framesDropped`). A `closed` link keeps its place (status displays show
 * it) until a new peer needs the room: then the link closed longest ago gives its place up, so
 * peers that leave never lock newcomers out; only live links (`connecting` or `open`) can fill
 * the table.
 *
 * After `close()` nothing reaches the handlers: frames are dropped and counted, link states no
 * longer change (a transport emits nothing for its own close; its peers see the link close).
 */
import type { NodeId } from '../../core/raft/types.ts';
import type { LinkState, TransportStats } from './transport.ts';

/** Peers a transport holds at once unless told otherwise. */
export const linksMaxDefault = 256;

export interface LinkTableOptions {
  readonly self: NodeId;
  /** Peers held at once, whatever the state of their link (default 256 when absent or undefined). */
  readonly linksMax?: number | undefined;
}

/** `TransportStats` as every transport with a link table keeps them (`linksRefused` always there). */
export interface LinkStats extends TransportStats {
  linksRefused: number;
}

export type FrameHandler = (from: NodeId, frame: Uint8Array) => void;
export type LinkStateHandler = (peer: NodeId, state: LinkState) => void;

export class LinkTable<Extra extends object = Record<never, never>> {
  readonly self: NodeId;
  readonly linksMax: number;
  /** The transport's stats: the shared counters, and the transport's own (`Extra`). */
  readonly stats: LinkStats & Extra;
  private readonly states = new Map<NodeId, LinkState>();
  /** Peers whose link is closed, the longest closed first: who gives its place up when full. */
  private readonly closedPeers = new Set<NodeId>();
  private frameHandler: FrameHandler | null = null;
  private linkHandler: LinkStateHandler | null = null;
  private isClosed = false;

  /** `extraStats`: the transport's own counters, kept in the same `stats` object. */
  constructor(options: LinkTableOptions, extraStats?: Extra) {
    const linksMax = options.linksMax ?? linksMaxDefault;
    if (!Number.isSafeInteger(linksMax) || linksMax < 1) throw new RangeError(`linksMax must be a positive integer, got ${String(linksMax)}`);
    this.self = options.self;
    this.linksMax = linksMax;
    this.stats = { ...(extraStats as Extra), framesSent: 0, framesReceived: 0, framesDropped: 0, linksRefused: 0 };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The one receiver of frames (replacing any earlier one); frames before it are dropped. */
  onFrame(handler: FrameHandler): void {
    if (!this.isClosed) this.frameHandler = handler;
  }

  /** The one listener of link-state changes (replacing any earlier one). */
  onLinkState(handler: LinkStateHandler): void {
    if (!this.isClosed) this.linkHandler = handler;
  }

  /** The state of the link to each peer held (a live view; at most `linksMax` entries). */
  links(): ReadonlyMap<NodeId, LinkState> {
    return this.states;
  }

  state(peer: NodeId): LinkState | undefined {
    return this.states.get(peer);
  }

  isOpen(peer: NodeId): boolean {
    return this.states.get(peer) === 'open';
  }

  /** Whether `peer` has a place: it is held already, or there is room (a free or a closed place). */
  hasRoomFor(peer: NodeId): boolean {
    if (this.states.has(peer)) return true;
    return peer !== this.self && (this.states.size < this.linksMax || this.closedPeers.size > 0);
  }

  /**
   * Whether a link to `peer` may be made (a channel offered, a hello heard); a refusal for want
   * of room (or to a peer claiming our own id) is counted. Holds nothing yet: `setState` adds
   * the peer. After `close()`, nothing is admitted (and nothing counted).
   */
  admit(peer: NodeId): boolean {
    if (this.isClosed) return false;
    if (this.hasRoomFor(peer)) return true;
    this.stats.linksRefused++;
    return false;
  }

  /**
   * The link to `peer` is now `state`; emitted if that is a change. A peer not held yet is added
   * (a place given up by a closed link if need be), or refused and counted when there is no
   * room. Closing a link the table does not hold is nothing to record. Answers false only when
   * refused (or after `close()`).
   */
  setState(peer: NodeId, state: LinkState): boolean {
    if (this.isClosed) return false;
    const previous = this.states.get(peer);
    if (previous === state) return true;
    if (previous === undefined) {
      if (state === 'closed') return true;
      if (!this.admit(peer)) return false;
      this.makeRoom();
    }
    this.states.set(peer, state);
    this.closedPeers.delete(peer);
    if (state === 'closed') this.closedPeers.add(peer);
    this.linkHandler?.(peer, state);
    return true;
  }

  /**
   * Hand a frame from `from` to the frame handler, counted as received. Dropped and counted
   * instead after `close()`, before `onFrame`, or from a peer the table does not hold while it
   * is full. Answers whether it was delivered.
   */
  deliver(from: NodeId, frame: Uint8Array): boolean {
    const handler = this.frameHandler;
    if (this.isClosed || handler === null || !this.hasRoomFor(from)) {
      this.stats.framesDropped++;
      return false;
    }
    this.stats.framesReceived++;
    handler(from, frame);
    return true;
  }

  countSent(): void {
    this.stats.framesSent++;
  }

  /** Count `frames` dropped (one unless told: a relay reports drops in bulk). */
  countDropped(frames = 1): void {
    if (!Number.isSafeInteger(frames) || frames < 0) throw new RangeError(`a count of dropped frames must be a non-negative integer, got ${String(frames)}`);
    this.stats.framesDropped += frames;
  }

  /** No more frames or link states reach the handlers; the last states stay readable. */
  close(): void {
    this.isClosed = true;
    this.frameHandler = null;
    this.linkHandler = null;
  }

  /** At the bound, the link closed longest ago gives its place up. */
  private makeRoom(): void {
    if (this.states.size < this.linksMax) return;
    const oldest = this.closedPeers.values().next();
    if (oldest.done === true) return;
    this.closedPeers.delete(oldest.value);
    this.states.delete(oldest.value);
  }
}
