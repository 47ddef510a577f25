/**
 * A pair of fake RTCDataChannels for Node, so that DataChannelTransport runs the transport
 * compliance suite (and its bound on links) without a browser: what one end sends, the other
 * receives as an ArrayBuffer on a later task, in order; closing either end closes both, each
 * with a `close` event, as a real channel pair does when one side goes. The channels open on a
 * later task (as a negotiated channel does once SCTP is up). Only what DataChannelTransport
 * touches is here; the real thing runs in Chromium (e2e/webrtc-compliance.spec.ts).
 * `lateOpeningChannelPair` makes a pair whose second end hears the first before its own `open`
 * event, as Chromium's channels may (see there).
 */
import type { DataChannelTransport } from '../../src/io/transport/data-channel-transport.ts';

class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  binaryType: BinaryType = 'blob';
  readonly bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  partner: FakeChannel | null = null;
  /** Whether messages reach this end while it is still `connecting` (see lateOpeningChannelPair). */
  hearsWhileConnecting = false;

  send(data: ArrayBufferView | ArrayBuffer): void {
    if (this.readyState !== 'open') throw new DOMException('the channel is not open', 'InvalidStateError');
    const view = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const copy = view.slice().buffer;
    const to = this.partner;
    setTimeout(() => {
      if (to !== null && (to.readyState === 'open' || (to.readyState === 'connecting' && to.hearsWhileConnecting))) {
        to.dispatchEvent(new MessageEvent('message', { data: copy }));
      }
    }, 0);
  }

  close(): void {
    for (const end of [this, this.partner]) {
      if (end === null || end.readyState === 'closed' || end.readyState === 'closing') continue;
      end.readyState = 'closing';
      setTimeout(() => {
        end.readyState = 'closed';
        end.dispatchEvent(new Event('close'));
      }, 0);
    }
  }

  open(): void {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
}

/** Two ends of one channel, typed as what DataChannelTransport takes; they open on a later task. */
export function fakeChannelPair(): [RTCDataChannel, RTCDataChannel] {
  const x = new FakeChannel();
  const y = new FakeChannel();
  x.partner = y;
  y.partner = x;
  setTimeout(() => {
    x.open();
    y.open();
  }, 0);
  return [x as unknown as RTCDataChannel, y as unknown as RTCDataChannel];
}

/**
 * Two ends of one channel where the second hears the first before its own `open` event: the first
 * opens on a later task, and what it sends reaches the second while the second is still
 * `connecting` (its `send` throws InvalidStateError, as a real channel's does); the second opens
 * when `openSecond` is called. Chromium 156 does this with negotiated channels, on the main
 * thread and in a worker alike (e2e/webrtc-links.spec.ts, "a frame sent from within a link's open
 * event"): the peer's first message is dispatched before the channel's own `open` event.
 */
export function lateOpeningChannelPair(): { first: RTCDataChannel; second: RTCDataChannel; openSecond: () => void } {
  const x = new FakeChannel();
  const y = new FakeChannel();
  x.partner = y;
  y.partner = x;
  y.hearsWhileConnecting = true;
  setTimeout(() => x.open(), 0);
  return { first: x as unknown as RTCDataChannel, second: y as unknown as RTCDataChannel, openSecond: () => y.open() };
}

/**
 * A mesh of DataChannelTransports: each node joining a network gets a channel pair to every
 * node already in it (each end offered to its transport, which may refuse it: then both close).
 */
export class FakeChannelMesh {
  private readonly networks = new Map<string, Map<string, DataChannelTransport>>();

  join(network: string, transport: DataChannelTransport): void {
    let members = this.networks.get(network);
    if (members === undefined) {
      members = new Map();
      this.networks.set(network, members);
    }
    for (const [id, other] of members) {
      const [mine, theirs] = fakeChannelPair();
      transport.addChannel(id, mine);
      other.addChannel(transport.self, theirs);
    }
    members.set(transport.self, transport);
  }

  /** The node is gone: later nodes get no channel to it. */
  leave(network: string, id: string): void {
    this.networks.get(network)?.delete(id);
  }
}
