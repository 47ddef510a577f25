/**
 * A transport over WebRTC data channels, one channel per peer, that works wherever the channels
 * live: in the node's dedicated worker (the default, DESIGN.md section 3) or on the main thread.
 *
 * It does not make channels. The main thread's `WebRtcLinks` (src/client/webrtc-links.ts) does
 * the signaling and ICE through PeerJS, creates one NEGOTIATED channel per peer connection and
 * hands it over before anything was sent on it, so that it can be transferred to the worker:
 *
 * ```ts
 * // main thread (src/client/webrtc-handoff.ts)
 * new WebRtcLinks({ ..., onChannel: (peer, channel) => transferChannel(worker, peer, channel) });
 * // worker (channel-handoff.ts)
 * const transport = new DataChannelTransport({ self });
 * onmessage = (e) => { if (acceptChannelHandoff(transport, e.data)) return; ... };
 * ```
 *
 * Fallback when a channel cannot be transferred (a browser without transferable data
 * channels): keep this transport on the main thread (`onChannel: (peer, ch) =>
 * transport.addChannel(peer, ch)`) and relay frames to the worker over a MessagePort with
 * `relayTransport` (main) and `PortTransport` (worker) from relay-transport.ts. Same wire format.
 *
 * What it adds on top of a raw channel:
 * - Framing (frame-chunker.ts): frames larger than one data-channel message are chunked and
 *   reassembled with bounded memory.
 * - A handshake: a negotiated channel is `open` locally as soon as the SCTP association is up,
 *   even if the other side has not created its half yet, and Chromium drops what arrives for a
 *   stream nobody opened. So each side sends `hello` (repeated every `helloIntervalMs`) and the
 *   link is `open` only once the peer's `hello` or `hello-ack` arrived AND our own half is open
 *   (the other way round happens too: see `heard`); frames sent before that are dropped and
 *   counted, like any frame to a link that is not open.
 * - Back-pressure: frames go straight into the channel while its `bufferedAmount` is below
 *   `bufferedAmountHighBytes`; above it they wait in a bounded per-link queue
 *   (`sendQueueBytesMax`, `sendQueueFramesMax`) drained on `bufferedamountlow`. A frame that does
 *   not fit in the queue is dropped whole and counted (Raft tolerates loss; memory must not grow
 *   with a slow or stalled peer). A frame already started is always finished, so the queue holds
 *   at most `sendQueueBytesMax` plus one frame.
 *
 * The bookkeeping every transport shares (link states, handlers, counters, the bound of
 * `linksMax` peers: a channel to one more peer is refused, closed and counted) is the link
 * table's (link-table.ts); what is per channel (the queue, the reassembler, the hello timer)
 * stays here, in `Link`.
 */
import type { NodeId } from '../../core/raft/types.ts';
import {
  chunkHeaderBytes,
  encodeFrame,
  encodeHello,
  frameBytesMaxFor,
  messageBytesMaxDefault,
  encodedBytes,
  nextMessageId,
  parseMessage,
  Reassembler,
  reassemblyLimitsDefault,
  wireVersion,
} from './frame-chunker.ts';
import { LinkTable, linksMaxDefault, type LinkStats } from './link-table.ts';
import { frameBytesMaxDefault, type LinkState, type Transport } from './transport.ts';

export interface DataChannelTransportOptions {
  readonly self: NodeId;
  /** Largest frame sent or accepted, in bytes (default 4 MiB, as every transport). */
  readonly frameBytesMax?: number;
  /** Largest data-channel message, header included (default 16 KiB). */
  readonly messageBytesMax?: number;
  /** Stop handing messages to the channel while its `bufferedAmount` is at or above this (1 MiB). */
  readonly bufferedAmountHighBytes?: number;
  /** `bufferedAmountLowThreshold`: the queue drains when the channel's buffer falls to this (256 KiB). */
  readonly bufferedAmountLowBytes?: number;
  /** Bytes of frames waiting per link beyond the channel's buffer (default 8 MiB). */
  readonly sendQueueBytesMax?: number;
  /** Frames waiting per link beyond the channel's buffer (default 4,096). */
  readonly sendQueueFramesMax?: number;
  /** Chunked frames in progress per link (default 2), and how long one may take (30 s). */
  readonly incompleteFramesMax?: number;
  readonly incompleteAgeMsMax?: number;
  /** How often `hello` is repeated until the peer answers (default 100 ms). */
  readonly helloIntervalMs?: number;
  /** Peers held at once, whatever the state of their link (default 256). */
  readonly linksMax?: number;
  /** Clock for reassembly timeouts (default `performance.now`). */
  readonly nowMs?: () => number;
}

export interface DataChannelTransportStats extends LinkStats {
  /** Of `framesDropped`: sent while no link to the peer was open (or after close). */
  framesDroppedNoLink: number;
  /** Of `framesDropped`: larger than `frameBytesMax`. */
  framesDroppedTooLarge: number;
  /** Of `framesDropped`: the send queue was full (back-pressure). */
  framesDroppedQueueFull: number;
  /** Of `framesDropped`: still queued when their link closed, or the channel refused them. */
  framesDroppedLinkClosed: number;
  /** Of `framesDropped`: received, before `onFrame`, malformed, failed reassembly, or beyond the bound on links. */
  framesDroppedIncoming: number;
  messagesSent: number;
  messagesReceived: number;
  /** The most bytes ever waiting in one link's send queue (proves the bound holds). */
  sendQueueBytesPeak: number;
}

/** A snapshot of one link's send side, for tests and status displays. */
export interface SendQueueInfo {
  readonly frames: number;
  readonly bytes: number;
  readonly bufferedAmount: number;
}

interface PendingFrame {
  readonly messages: Uint8Array<ArrayBuffer>[];
  readonly bytes: number;
  next: number;
}

interface Link {
  readonly peer: NodeId;
  readonly channel: RTCDataChannel;
  state: LinkState;
  readonly queue: PendingFrame[];
  queuedBytes: number;
  nextMessageId: number;
  readonly reassembler: Reassembler;
  helloTimer: ReturnType<typeof setInterval> | undefined;
  /** A message from the peer came (its half exists); the link opens once our channel is open too. */
  peerHeard: boolean;
  readonly detach: () => void;
}

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

export class DataChannelTransport implements Transport {
  readonly self: NodeId;
  readonly stats: Readonly<DataChannelTransportStats>;
  /** Link states (what `links()` reports: live links, and closed ones while there is room), handlers, counters. */
  private readonly table: LinkTable<Omit<DataChannelTransportStats, keyof LinkStats>>;
  private readonly limits: DataChannelLimits;
  private readonly nowMs: () => number;
  /** The live links (their channel is connecting or open): at most `linksMax`. */
  private readonly linkMap = new Map<NodeId, Link>();

  constructor(options: DataChannelTransportOptions) {
    this.self = options.self;
    this.limits = resolveLimits(options);
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.table = new LinkTable(
      { self: options.self, linksMax: this.limits.linksMax },
      {
        framesDroppedNoLink: 0,
        framesDroppedTooLarge: 0,
        framesDroppedQueueFull: 0,
        framesDroppedLinkClosed: 0,
        framesDroppedIncoming: 0,
        messagesSent: 0,
        messagesReceived: 0,
        sendQueueBytesPeak: 0,
      },
    );
    this.stats = this.table.stats;
  }

  /**
   * Take ownership of `channel` as the link to `peer` (replacing and closing any previous one).
   * Pass the channel before anything was sent on it; the transport sets its `binaryType` and
   * listeners, and closes it on `removeChannel` or `close`. Returns false (and closes the
   * channel) if the transport is closed or already holds `linksMax` peers (counted in
   * `linksRefused`).
   */
  addChannel(peer: NodeId, channel: RTCDataChannel): boolean {
    if (!this.table.admit(peer)) {
      safeClose(channel);
      return false;
    }
    this.detachLink(peer);
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = this.limits.bufferedAmountLowBytes;
    const onOpen = (): void => this.handleChannelOpen(link);
    const onClose = (): void => this.handleChannelClose(link);
    const onError = (): void => safeClose(channel);
    const onMessage = (e: MessageEvent<unknown>): void => this.handleMessage(link, e.data);
    const onLow = (): void => this.drain(link);
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
    channel.addEventListener('error', onError);
    channel.addEventListener('message', onMessage);
    channel.addEventListener('bufferedamountlow', onLow);
    const link: Link = {
      peer,
      channel,
      state: 'connecting',
      queue: [],
      queuedBytes: 0,
      nextMessageId: 0,
      reassembler: new Reassembler({
        frameBytesMax: this.limits.frameBytesMax,
        incompleteFramesMax: this.limits.incompleteFramesMax,
        incompleteAgeMsMax: this.limits.incompleteAgeMsMax,
      }),
      helloTimer: undefined,
      peerHeard: false,
      detach: () => {
        channel.removeEventListener('open', onOpen);
        channel.removeEventListener('close', onClose);
        channel.removeEventListener('error', onError);
        channel.removeEventListener('message', onMessage);
        channel.removeEventListener('bufferedamountlow', onLow);
      },
    };
    this.linkMap.set(peer, link);
    this.table.setState(peer, 'connecting');
    // A transferred channel may already be open when it reaches us (no `open` event then).
    if (channel.readyState === 'open') this.handleChannelOpen(link);
    else if (channel.readyState !== 'connecting') this.handleChannelClose(link);
    return true;
  }

  /** Close and forget the link to `peer` (its queued frames are dropped and counted). */
  removeChannel(peer: NodeId): void {
    if (!this.detachLink(peer)) return;
    this.table.setState(peer, 'closed');
  }

  send(to: NodeId, frame: Uint8Array): void {
    const link = this.linkMap.get(to);
    if (this.table.closed || link === undefined || link.state !== 'open') {
      this.countDrop('framesDroppedNoLink');
      return;
    }
    if (frame.byteLength > this.limits.frameBytesMax) {
      this.countDrop('framesDroppedTooLarge');
      return;
    }
    // Queue bounds are checked on the wire size BEFORE encoding: a dropped frame costs no copy.
    const wireBytes = encodedBytes(frame.byteLength, this.limits.messageBytesMax);
    if (link.queue.length > 0 && (link.queue.length >= this.limits.sendQueueFramesMax || link.queuedBytes + wireBytes > this.limits.sendQueueBytesMax)) {
      this.countDrop('framesDroppedQueueFull');
      return;
    }
    const messages = encodeFrame(frame, link.nextMessageId, this.limits.messageBytesMax);
    link.nextMessageId = nextMessageId(link.nextMessageId);
    link.queue.push({ messages, bytes: wireBytes, next: 0 });
    link.queuedBytes += wireBytes;
    this.drain(link);
    if (link.queuedBytes > this.table.stats.sendQueueBytesPeak) this.table.stats.sendQueueBytesPeak = link.queuedBytes;
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

  /** The send side of the link to `peer`, or undefined if there is none. */
  sendQueue(peer: NodeId): SendQueueInfo | undefined {
    const link = this.linkMap.get(peer);
    if (link === undefined) return undefined;
    return { frames: link.queue.length, bytes: link.queuedBytes, bufferedAmount: link.channel.bufferedAmount };
  }

  async close(): Promise<void> {
    if (this.table.closed) return;
    // The table first: detaching the links below then emits nothing.
    this.table.close();
    for (const peer of [...this.linkMap.keys()]) this.detachLink(peer);
  }

  /** Hand queued messages to the channel until its buffer reaches the high-water mark. */
  private drain(link: Link): void {
    if (link.state !== 'open' || this.linkMap.get(link.peer) !== link) return;
    const channel = link.channel;
    while (link.queue.length > 0 && channel.bufferedAmount < this.limits.bufferedAmountHighBytes) {
      const pending = link.queue[0] as PendingFrame;
      const message = pending.messages[pending.next] as Uint8Array<ArrayBuffer>;
      try {
        channel.send(message);
      } catch {
        // The channel is closing under us (its `close` event follows) or refused the message.
        this.handleChannelClose(link);
        return;
      }
      this.table.stats.messagesSent++;
      pending.next++;
      if (pending.next === pending.messages.length) {
        link.queue.shift();
        link.queuedBytes -= pending.bytes;
        this.table.countSent();
      }
    }
  }

  private handleChannelOpen(link: Link): void {
    if (this.table.closed || this.linkMap.get(link.peer) !== link || link.helloTimer !== undefined || link.state !== 'connecting') return;
    if (link.peerHeard) {
      // The peer's hello came before this `open` and could not be answered then (see `heard`):
      // answer now, so that its link opens at once rather than at its next hello.
      this.sendControl(link, encodeHello('hello-ack'));
      this.markOpen(link);
      return;
    }
    this.sendControl(link, encodeHello('hello'));
    link.helloTimer = setInterval(() => {
      if (link.state === 'connecting') this.sendControl(link, encodeHello('hello'));
      else this.stopHello(link);
    }, this.limits.helloIntervalMs);
  }

  private handleChannelClose(link: Link): void {
    if (this.linkMap.get(link.peer) !== link) return;
    this.detachLink(link.peer);
    this.table.setState(link.peer, 'closed');
  }

  private handleMessage(link: Link, data: unknown): void {
    if (this.table.closed || this.linkMap.get(link.peer) !== link) return;
    this.table.stats.messagesReceived++;
    const parsed = data instanceof ArrayBuffer ? parseMessage(new Uint8Array(data)) : null;
    if (parsed === null) {
      this.countIncomingDrop();
      return;
    }
    switch (parsed.kind) {
      case 'hello':
      case 'hello-ack':
        if (parsed.version !== wireVersion) {
          this.countIncomingDrop();
          return;
        }
        // Answer every hello: the peer repeats it until it hears from us. (Not before our half
        // is open: `handleChannelOpen` answers then.)
        if (parsed.kind === 'hello') this.sendControl(link, encodeHello('hello-ack'));
        this.heard(link);
        return;
      case 'whole':
        this.heard(link);
        this.deliver(link, parsed.frame);
        return;
      case 'chunk': {
        this.heard(link);
        const result = link.reassembler.push(parsed, this.nowMs());
        if (result.type === 'frame') this.deliver(link, result.frame);
        else if (result.type === 'dropped') this.countIncomingDrop();
        return;
      }
      default: {
        const unreachable: never = parsed;
        return unreachable;
      }
    }
  }

  private deliver(link: Link, frame: Uint8Array): void {
    if (frame.byteLength > this.limits.frameBytesMax) {
      this.countIncomingDrop();
      return;
    }
    // The table counts what it drops (no handler yet) in `framesDropped`; the cause is ours to add.
    if (!this.table.deliver(link.peer, frame)) this.table.stats.framesDroppedIncoming++;
  }

  /**
   * Data or a hello from the peer proves its half of the channel exists; the link is open once
   * ours is too, which is not always already the case. Chromium (156, on the main thread and in
   * a worker alike) may dispatch the peer's first message on a negotiated channel that is still
   * `connecting`; its own `open` event comes in a later task (a Web Crypto round trip started
   * from the message handler finished before it in every run; a `setTimeout(0)` never did), and
   * until then `send` throws InvalidStateError. A link called open on that message failed the
   * first frame sent from its `open` handler, or once an HMAC tag was computed for it; `drain`
   * then closed the channel, on both sides, and over WebRTC nothing opened that link again (the
   * page's PeerJS connection stays up). Seen as the link between the followers of a 3-node
   * cluster closed for good when the router sent a hello as a link opened; reproduced in
   * e2e/webrtc-links.spec.ts and test/io/data-channel-open.test.ts. `handleChannelOpen` opens
   * such a link, answering the hello then.
   */
  private heard(link: Link): void {
    link.peerHeard = true;
    if (link.channel.readyState === 'open') this.markOpen(link);
  }

  /** The peer is heard and our half is open: frames can flow. */
  private markOpen(link: Link): void {
    if (link.state === 'open') return;
    link.state = 'open';
    this.stopHello(link);
    this.table.setState(link.peer, 'open');
    this.drain(link);
  }

  /** Control messages bypass the queue: they are tiny and must not wait behind data. */
  private sendControl(link: Link, message: Uint8Array<ArrayBuffer>): void {
    if (link.channel.readyState !== 'open') return;
    try {
      link.channel.send(message);
      this.table.stats.messagesSent++;
    } catch {
      // Closing: the close event follows.
    }
  }

  private stopHello(link: Link): void {
    if (link.helloTimer === undefined) return;
    clearInterval(link.helloTimer);
    link.helloTimer = undefined;
  }

  /** Remove the link to `peer` (if any): listeners, timers, queue (counted), channel. */
  private detachLink(peer: NodeId): boolean {
    const link = this.linkMap.get(peer);
    if (link === undefined) return false;
    this.linkMap.delete(peer);
    link.detach();
    this.stopHello(link);
    link.state = 'closed';
    for (let i = 0; i < link.queue.length; i++) this.countDrop('framesDroppedLinkClosed');
    link.queue.length = 0;
    link.queuedBytes = 0;
    link.reassembler.clear();
    safeClose(link.channel);
    return true;
  }

  private countDrop(
    reason: 'framesDroppedNoLink' | 'framesDroppedTooLarge' | 'framesDroppedQueueFull' | 'framesDroppedLinkClosed',
  ): void {
    this.table.countDropped();
    this.table.stats[reason]++;
  }

  private countIncomingDrop(): void {
    this.table.countDropped();
    this.table.stats.framesDroppedIncoming++;
  }
}

function safeClose(channel: RTCDataChannel): void {
  try {
    channel.close();
  } catch {
    // Already closed.
  }
}

type DataChannelLimits = Required<Omit<DataChannelTransportOptions, 'self' | 'nowMs'>>;

/** Defaults applied and relations checked once: a bad limit is a configuration mistake. */
function resolveLimits(options: DataChannelTransportOptions): DataChannelLimits {
  const limits: DataChannelLimits = {
    frameBytesMax: options.frameBytesMax ?? frameBytesMaxDefault,
    messageBytesMax: options.messageBytesMax ?? messageBytesMaxDefault,
    bufferedAmountHighBytes: options.bufferedAmountHighBytes ?? 1 * mebibyte,
    bufferedAmountLowBytes: options.bufferedAmountLowBytes ?? 256 * kibibyte,
    sendQueueBytesMax: options.sendQueueBytesMax ?? 8 * mebibyte,
    sendQueueFramesMax: options.sendQueueFramesMax ?? 4096,
    incompleteFramesMax: options.incompleteFramesMax ?? reassemblyLimitsDefault.incompleteFramesMax,
    incompleteAgeMsMax: options.incompleteAgeMsMax ?? reassemblyLimitsDefault.incompleteAgeMsMax,
    helloIntervalMs: options.helloIntervalMs ?? 100,
    linksMax: options.linksMax ?? linksMaxDefault,
  };
  for (const [name, value] of Object.entries(limits)) {
    const zeroAllowed = name === 'bufferedAmountLowBytes';
    if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroAllowed)) {
      throw new RangeError(`DataChannelTransport: ${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer`);
    }
  }
  if (limits.bufferedAmountLowBytes >= limits.bufferedAmountHighBytes) {
    throw new RangeError('DataChannelTransport: bufferedAmountLowBytes must be below bufferedAmountHighBytes');
  }
  if (limits.messageBytesMax <= chunkHeaderBytes) {
    throw new RangeError(`DataChannelTransport: messageBytesMax must exceed the ${chunkHeaderBytes}-byte chunk header`);
  }
  if (limits.frameBytesMax > frameBytesMaxFor(limits.messageBytesMax)) {
    throw new RangeError('DataChannelTransport: frameBytesMax needs more than 65,535 chunks at this messageBytesMax');
  }
  return limits;
}
