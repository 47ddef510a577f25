/**
 * A transport wrapper with the partition test hook of the end-to-end tests: frames to and from
 * a blocked peer are dropped, both ways, whatever the transport underneath (BroadcastChannel,
 * WebRTC, a custom one). Blocking is local to this node; a partition blocks on both sides.
 *
 * And the slow-link hook of the demo's chaos controls: with a delay set, every frame this node
 * sends or receives is held that long first (a timer per frame; a test hook, so the one place
 * outside the driver that schedules timers). Frames held when the delay changes may overtake
 * each other, which Raft tolerates as any network reordering.
 */
import type { NodeId } from '../core/raft/types.ts';
import type { LinkState, Transport, TransportStats } from '../io/transport/transport.ts';
import { NodeError } from './errors.ts';

export class LinkFilter implements Transport {
  readonly self: NodeId;
  /** Frames dropped because their peer was blocked (sent and received). */
  blockedFramesDropped = 0;
  private readonly blocked = new Set<NodeId>();
  private delayMs = 0;
  private readonly held = new Set<ReturnType<typeof setTimeout>>();

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
    this.later(() => this.inner.send(to, frame));
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.inner.onFrame((from, frame) => {
      if (this.blocked.has(from)) {
        this.blockedFramesDropped++;
        return;
      }
      this.later(() => handler(from, frame));
    });
  }

  /** Run `f` now, or after the slow-link delay (dropped if the link is closed meanwhile). */
  private later(f: () => void): void {
    if (this.delayMs === 0) return f();
    const timer = setTimeout(() => {
      this.held.delete(timer);
      f();
    }, this.delayMs);
    this.held.add(timer);
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

  /** Hold every frame sent or received for `delayMs` (0: none). */
  slow(delayMs: number): void {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new NodeError('CONFIG', `delayMs must be a non-negative number, got ${delayMs}`);
    this.delayMs = delayMs;
  }

  close(): Promise<void> {
    for (const timer of this.held) clearTimeout(timer);
    this.held.clear();
    return this.inner.close();
  }
}
