/**
 * A werift data channel (Node WebRTC in TypeScript) seen through the part of the browser's
 * `RTCDataChannel` that `DataChannelTransport` (data-channel-transport.ts) uses, so that the
 * Node side of WebRTC runs the very same transport as the browsers: framing and chunking, the
 * hello handshake, back-pressure and bounded queues, counters. Only what that transport touches
 * is here: `readyState`, `bufferedAmount`, `bufferedAmountLowThreshold`, `binaryType`, `send`,
 * `close`, and the `open`, `close`, `error`, `message` and `bufferedamountlow` events.
 *
 * Three differences are bridged:
 * - Pacing. werift 0.24's SCTP loses messages handed to it in a burst: of 1,000 five-byte
 *   messages sent in one go between two werift peers on loopback, 256 arrived and the rest never
 *   did (5 s; no UDP receive-buffer errors in /proc/net/snmp, werift's queue empty), while the
 *   same 1,000 handed over 10 at a time, each batch once werift had sent the previous one, all
 *   arrived. So at most `handOverMessagesMax` messages are in werift's hands at once; the rest
 *   wait here, in a queue whose bytes count in `bufferedAmount`, which is what the transport's
 *   back-pressure reads (it stops at its high-water mark), so this queue stays bounded by it.
 * - werift hands a binary message over as a Node `Buffer` (a view into a larger pool buffer);
 *   the transport takes an `ArrayBuffer` (what a browser gives with `binaryType` `arraybuffer`),
 *   so the message's bytes are copied out into one of their own. A text message is passed on as
 *   the string it is, and the transport drops and counts it like any malformed message.
 * - werift's events are its own (`stateChanged`, `onMessage`, `bufferedAmountLow`, `error`),
 *   so listeners are kept here per event name and fed from them.
 */
import type { RTCDataChannel as WeriftDataChannel } from 'werift';

/** Messages handed to werift before it reports them sent (see the module comment). */
export const handOverMessagesMax = 10;

type ChannelEventName = 'open' | 'close' | 'error' | 'message' | 'bufferedamountlow';
type Listener = (event: { readonly data?: unknown }) => void;

export class WeriftChannel {
  /** Ignored: binary messages always arrive as `ArrayBuffer` (see the module comment). */
  binaryType: BinaryType = 'arraybuffer';
  private readonly listeners = new Map<ChannelEventName, Set<Listener>>();
  private readonly unsubscribes: (() => void)[] = [];
  private closeEmitted = false;
  /** Messages waiting to be handed to werift, and their bytes. */
  private readonly waiting: Buffer[] = [];
  private waitingBytes = 0;
  private lowThresholdBytes = 0;
  /** The buffer went above `bufferedAmountLowThreshold`: its fall to it is announced. */
  private aboveLow = false;

  constructor(readonly inner: WeriftDataChannel) {
    const state = inner.stateChanged.subscribe((s) => {
      if (s === 'open') this.emit('open', {});
      else if (s === 'closed') this.emitClose();
    });
    const message = inner.onMessage.subscribe((data) => this.emit('message', { data: typeof data === 'string' ? data : toArrayBuffer(data) }));
    // werift's own threshold stays 0: its low event says everything handed over was sent.
    inner.bufferedAmountLowThreshold = 0;
    const low = inner.bufferedAmountLow.subscribe(() => this.handOver());
    const error = inner.error.subscribe(() => this.emit('error', {}));
    for (const s of [state, message, low, error]) this.unsubscribes.push(() => s.unSubscribe());
  }

  get readyState(): RTCDataChannelState {
    return this.inner.readyState;
  }

  /** Bytes werift has not sent yet plus bytes waiting here. */
  get bufferedAmount(): number {
    return this.inner.bufferedAmount + this.waitingBytes;
  }

  get bufferedAmountLowThreshold(): number {
    return this.lowThresholdBytes;
  }

  set bufferedAmountLowThreshold(bytes: number) {
    this.lowThresholdBytes = bytes;
  }

  get label(): string {
    return this.inner.label;
  }

  /** Throws when the channel is not open, as a browser's does (the transport catches it). */
  send(data: Uint8Array): void {
    if (this.inner.readyState !== 'open') throw new Error(`data channel is ${this.inner.readyState}`);
    // A copy: the caller may reuse its buffer once `send` returns, as a browser allows.
    const message = Buffer.from(data);
    this.waiting.push(message);
    this.waitingBytes += message.byteLength;
    if (this.bufferedAmount > this.lowThresholdBytes) this.aboveLow = true;
    if (this.inner.bufferedAmount === 0) this.handOver();
  }

  close(): void {
    this.waiting.length = 0;
    this.waitingBytes = 0;
    this.inner.close();
  }

  addEventListener(type: ChannelEventName, listener: Listener): void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: ChannelEventName, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  /**
   * Stop listening to the werift channel (its peer connection is given up). The listeners hear
   * `close` first if they have not yet: werift reports the channel's end only after the peer
   * connection's close finished, and by then nobody listens here.
   */
  dispose(): void {
    for (const u of this.unsubscribes.splice(0)) u();
    this.emitClose();
    this.listeners.clear();
  }

  /** This object where a browser `RTCDataChannel` is expected: only the members above are used. */
  asDataChannel(): RTCDataChannel {
    return this as unknown as RTCDataChannel;
  }

  /** werift sent all it held: hand it the next batch, and tell the transport if the buffer ran low. */
  private handOver(): void {
    for (let i = 0; i < handOverMessagesMax && this.waiting.length > 0 && this.inner.readyState === 'open'; i++) {
      const message = this.waiting.shift() as Buffer;
      this.waitingBytes -= message.byteLength;
      this.inner.send(message);
    }
    if (!this.aboveLow || this.bufferedAmount > this.lowThresholdBytes) return;
    this.aboveLow = false;
    this.emit('bufferedamountlow', {});
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close', {});
  }

  private emit(type: ChannelEventName, event: { readonly data?: unknown }): void {
    const set = this.listeners.get(type);
    if (set === undefined) return;
    for (const listener of [...set]) listener(event);
  }
}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(data.byteLength);
  new Uint8Array(out).set(data);
  return out;
}
