/**
 * A simulated node's transport (the runtime's `Transport`, src/io/transport/transport.ts) over
 * the simulator's network of frames: what the driver sends goes through the seeded network
 * (loss, duplication, delay, partitions); what arrives for the node is handed to the driver's
 * frame handler, or held while the node is paused (its CPU does not run) and handed over at
 * `resume`, in arrival order, at most `inboxFramesMax` of them (more are dropped and counted,
 * as a real inbound queue's bound would).
 */
import type { NodeId } from '../core/raft/types.ts';
import type { LinkState, Transport, TransportStats } from '../io/transport/transport.ts';
import type { Network } from './network.ts';

export class SimTransport implements Transport {
  readonly stats: TransportStats = { framesSent: 0, framesReceived: 0, framesDropped: 0 };
  private handler: ((from: NodeId, frame: Uint8Array) => void) | null = null;
  private held: { readonly from: NodeId; readonly frame: Uint8Array }[] | null = null;
  private closed = false;

  constructor(
    readonly self: NodeId,
    private readonly network: Network<Uint8Array>,
    private readonly inboxFramesMax: number,
    /** Sees every frame this transport sends (the intruder marks its stranger's frames). */
    private readonly onSend?: (frame: Uint8Array) => void,
    /** Sees each frame as it is handed to the node, and null once the node is done with it. */
    private readonly onDeliver?: (frame: Uint8Array | null) => void,
  ) {}

  send(to: NodeId, frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesSent++;
    this.onSend?.(frame);
    this.network.send(this.self, to, frame);
  }

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  onLinkState(): void {
    // The simulated network has no links to open or close.
  }

  links(): ReadonlyMap<NodeId, LinkState> {
    return new Map();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** A frame arrived from the network. */
  deliver(from: NodeId, frame: Uint8Array): void {
    if (this.closed || this.handler === null) {
      this.stats.framesDropped++;
      return;
    }
    if (this.held !== null) {
      if (this.held.length >= this.inboxFramesMax) this.stats.framesDropped++;
      else this.held.push({ from, frame });
      return;
    }
    this.stats.framesReceived++;
    this.onDeliver?.(frame);
    try {
      this.handler(from, frame);
    } finally {
      this.onDeliver?.(null);
    }
  }

  /** Hold arriving frames (the node is paused). */
  hold(): void {
    this.held ??= [];
  }

  /** Hand the held frames over, in arrival order, and deliver at once again. */
  release(): void {
    const held = this.held;
    this.held = null;
    for (const f of held ?? []) this.deliver(f.from, f.frame);
  }
}
