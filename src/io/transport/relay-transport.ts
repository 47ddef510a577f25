/**
 * The fallback of DESIGN.md section 3: when data channels cannot be transferred to the worker,
 * the transport stays on the main thread and frames are relayed to and from the worker over a
 * MessagePort. Two halves:
 *
 * ```ts
 * // main thread: the real transport (e.g. DataChannelTransport fed by WebRtcLinks.onChannel)
 * const { port1, port2 } = new MessageChannel();
 * relayTransport(transport, port1);
 * worker.postMessage({ relayPort: port2 }, [port2]);
 * // worker: a Transport like any other, for the driver
 * const transport = new PortTransport({ self, port: relayPort });
 * ```
 *
 * Frames cross the port as transferred ArrayBuffers (one copy when the frame is a view into a
 * larger buffer, none otherwise). The main thread's drops (no link, full queue) are reported
 * back and added to the worker side's `framesDropped`, a little later than they happen;
 * `framesSent` on the worker side counts frames handed to the relay. Every message crossing the
 * port is validated on arrival: the port is ours, but a bug must not crash the other side. The
 * worker side keeps its own link table (link-table.ts) of the states the main thread reports,
 * with its own bound (`linksMax`).
 */
import type { NodeId } from '../../core/raft/types.ts';
import { LinkTable, type LinkStats } from './link-table.ts';
import { frameBytesMaxDefault, type LinkState, type Transport } from './transport.ts';

type ToWorker =
  | { readonly t: 'frame'; readonly from: NodeId; readonly frame: Uint8Array }
  | { readonly t: 'link'; readonly peer: NodeId; readonly state: LinkState }
  | { readonly t: 'dropped'; readonly framesDropped: number };

type ToMain = { readonly t: 'send'; readonly to: NodeId; readonly frame: Uint8Array } | { readonly t: 'close' };

/** Copy a view into a buffer of its own, so that transferring it detaches nothing else. */
function ownBuffer(frame: Uint8Array): Uint8Array<ArrayBuffer> {
  if (frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength && frame.buffer instanceof ArrayBuffer) {
    return frame as Uint8Array<ArrayBuffer>;
  }
  return frame.slice();
}

function isLinkState(x: unknown): x is LinkState {
  return x === 'connecting' || x === 'open' || x === 'closed';
}

function isId(x: unknown): x is NodeId {
  return typeof x === 'string' && x.length > 0 && x.length <= 1024;
}

/**
 * Main-thread half: relay `transport`'s frames and link states to `port`, and sends from it.
 * Takes `transport`'s frame handler. When the worker side closes, `transport` is closed too.
 * Returns a function that stops the relay (and closes the port) without closing `transport`.
 */
export function relayTransport(transport: Transport, port: MessagePort): () => void {
  let stopped = false;
  // Drops are reported relative to the relay's start: the worker side counts from zero.
  const droppedBaseline = transport.stats.framesDropped;
  let droppedReported = 0;
  const post = (message: ToWorker, transfer: Transferable[] = []): void => {
    if (stopped) return;
    try {
      port.postMessage(message, transfer);
    } catch {
      // A closed port: the worker is gone.
    }
  };
  const reportDrops = (): void => {
    const dropped = transport.stats.framesDropped - droppedBaseline;
    if (dropped === droppedReported) return;
    droppedReported = dropped;
    post({ t: 'dropped', framesDropped: droppedReported });
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    port.onmessage = null;
    port.close();
  };
  transport.onFrame((from, frame) => {
    const own = ownBuffer(frame);
    post({ t: 'frame', from, frame: own }, [own.buffer]);
  });
  transport.onLinkState((peer, state) => post({ t: 'link', peer, state }));
  for (const [peer, state] of transport.links()) post({ t: 'link', peer, state });
  port.onmessage = (e: MessageEvent<unknown>) => {
    const m = e.data as Partial<ToMain> | null;
    if (typeof m !== 'object' || m === null) return;
    if (m.t === 'send' && isId(m.to) && m.frame instanceof Uint8Array) {
      transport.send(m.to, m.frame);
      reportDrops();
    } else if (m.t === 'close') {
      stop();
      void transport.close();
    }
  };
  return stop;
}

export interface PortTransportOptions {
  readonly self: NodeId;
  /** The worker's end of the port given to `relayTransport` on the main thread. */
  readonly port: MessagePort;
  readonly frameBytesMax?: number;
  /** Peers held at once (default 256). */
  readonly linksMax?: number;
}

/** Worker half: a Transport whose frames go through the main thread's `relayTransport`. */
export class PortTransport implements Transport {
  readonly self: NodeId;
  readonly stats: Readonly<LinkStats>;
  private readonly table: LinkTable;
  private readonly port: MessagePort;
  private readonly frameBytesMax: number;
  /** What the main thread last reported dropped (already added to `framesDropped`). */
  private remoteDropped = 0;

  constructor(options: PortTransportOptions) {
    this.self = options.self;
    this.table = new LinkTable({ self: options.self, linksMax: options.linksMax });
    this.stats = this.table.stats;
    this.port = options.port;
    this.frameBytesMax = options.frameBytesMax ?? frameBytesMaxDefault;
    this.port.onmessage = (e: MessageEvent<unknown>) => this.handle(e.data);
  }

  /** Needs room for `to` in this side's table (a peer refused here is refused both ways), not an open link. */
  send(to: NodeId, frame: Uint8Array): void {
    if (this.table.closed || to === this.self || frame.byteLength > this.frameBytesMax || !this.table.hasRoomFor(to)) {
      this.table.countDropped();
      return;
    }
    const own = frame.slice();
    try {
      this.port.postMessage({ t: 'send', to, frame: own } satisfies ToMain, [own.buffer]);
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

  async close(): Promise<void> {
    if (this.table.closed) return;
    this.table.close();
    try {
      this.port.postMessage({ t: 'close' } satisfies ToMain);
    } catch {
      // The main side is gone already.
    }
    this.port.onmessage = null;
    this.port.close();
  }

  private handle(data: unknown): void {
    if (this.table.closed || typeof data !== 'object' || data === null) return;
    const m = data as Partial<ToWorker>;
    switch (m.t) {
      case 'frame':
        if (!isId(m.from) || !(m.frame instanceof Uint8Array) || m.frame.byteLength > this.frameBytesMax) {
          this.table.countDropped();
          return;
        }
        this.table.deliver(m.from, m.frame);
        return;
      case 'link':
        if (isId(m.peer) && isLinkState(m.state)) this.table.setState(m.peer, m.state);
        return;
      case 'dropped':
        // Reported relative to the relay's start, so it only grows; add what is new.
        if (typeof m.framesDropped === 'number' && Number.isSafeInteger(m.framesDropped) && m.framesDropped >= this.remoteDropped) {
          this.table.countDropped(m.framesDropped - this.remoteDropped);
          this.remoteDropped = m.framesDropped;
        }
        return;
      default:
        return;
    }
  }
}
