/**
 * One node of the WebRTC e2e tests: a DataChannelTransport plus what the tests observe of it
 * (frames received, summarised; link events; stats). The same class runs on the page's main
 * thread and inside the dedicated worker (webrtc-harness-worker.ts), so a test drives both the
 * same way. Large frames are patterned and summarised by length and FNV-1a hash, so a 1 MiB frame
 * is checked byte for byte without shipping it back to Playwright.
 */
import type { LinkState, Transport, TransportStats } from '../../src/io/transport/transport.ts';
import { DataChannelTransport, type DataChannelTransportOptions, type DataChannelTransportStats, type SendQueueInfo } from '../../src/io/transport/data-channel-transport.ts';

export interface ReceivedFrame {
  readonly from: string;
  readonly length: number;
  readonly hash: string;
  /** The first bytes (all of them for small frames). */
  readonly head: number[];
}

export interface NodeSnapshot {
  readonly stats: TransportStats & Partial<DataChannelTransportStats>;
  readonly links: Record<string, LinkState>;
  readonly linkEvents: string[];
  readonly receivedCount: number;
  readonly queues: Record<string, SendQueueInfo>;
  /** Where this node runs: 'window' or 'worker' (DedicatedWorkerGlobalScope). */
  readonly realm: string;
}

export type TransportTuning = Omit<DataChannelTransportOptions, 'self' | 'nowMs'>;

/** What a node does besides recording (see `HarnessNode`). */
export interface HarnessNodeOptions {
  /**
   * Send `[greetingByte]` to a peer from within the link's `open` event, as a node whose first
   * frame on a link follows its opening at once (a vote request right after a reconnect).
   */
  readonly greetOnOpen?: boolean;
}

/** The first byte of the frames `greetOnOpen` sends. */
export const greetingByte = 0xe7;

const receivedKeptMax = 20_000;
const headBytes = 16;

export function patterned(bytes: number, seed: number): Uint8Array {
  const frame = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) frame[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return frame;
}

export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** DataChannelTransport, or any Transport (the relay's PortTransport) without its extras. */
type AnyTransport = Transport & { addChannel?: DataChannelTransport['addChannel']; sendQueue?: DataChannelTransport['sendQueue'] };

export class HarnessNode {
  readonly transport: AnyTransport;
  private readonly received: ReceivedFrame[] = [];
  private receivedCount = 0;
  private readonly linkEvents: string[] = [];

  constructor(transport: AnyTransport, options: HarnessNodeOptions = {}) {
    this.transport = transport;
    this.transport.onFrame((from, frame) => {
      this.receivedCount++;
      if (this.received.length < receivedKeptMax) {
        this.received.push({ from, length: frame.byteLength, hash: fnv1a(frame), head: [...frame.subarray(0, headBytes)] });
      }
    });
    this.transport.onLinkState((peer, state) => {
      this.linkEvents.push(`${peer}:${state}`);
      if (options.greetOnOpen === true && state === 'open') this.transport.send(peer, Uint8Array.of(greetingByte));
    });
  }

  static overDataChannels(self: string, tuning: TransportTuning = {}, options: HarnessNodeOptions = {}): HarnessNode {
    return new HarnessNode(new DataChannelTransport({ self, ...tuning }), options);
  }

  send(to: string, bytes: number[]): void {
    this.transport.send(to, Uint8Array.from(bytes));
  }

  /** Send a patterned frame; returns its hash, for the receiver to compare. */
  sendPattern(to: string, length: number, seed: number): string {
    const frame = patterned(length, seed);
    this.transport.send(to, frame);
    return fnv1a(frame);
  }

  /** `count` frames numbered in their first two bytes, each `length` bytes long. */
  sendNumbered(to: string, count: number, length: number): void {
    for (let i = 0; i < count; i++) {
      const frame = new Uint8Array(Math.max(2, length));
      frame[0] = (i >> 8) & 0xff;
      frame[1] = i & 0xff;
      this.transport.send(to, frame);
    }
  }

  /**
   * Send `count` frames of `length` bytes as fast as possible, in one task (so nothing drains
   * meanwhile). Returns how many the transport accepted and dropped, and the queue right after.
   */
  flood(to: string, count: number, length: number): { accepted: number; dropped: number; queue: SendQueueInfo | undefined } {
    const frame = new Uint8Array(length);
    const droppedBefore = this.transport.stats.framesDropped;
    for (let i = 0; i < count; i++) {
      frame[0] = i & 0xff;
      this.transport.send(to, frame);
    }
    const dropped = this.transport.stats.framesDropped - droppedBefore;
    return { accepted: count - dropped, dropped, queue: this.transport.sendQueue?.(to) };
  }

  frames(): ReceivedFrame[] {
    return this.received;
  }

  /** Distinct numbers seen in frames from `from` (see `sendNumbered`). */
  numbersFrom(from: string): number {
    const seen = new Set<number>();
    for (const f of this.received) if (f.from === from) seen.add(((f.head[0] ?? 0) << 8) | (f.head[1] ?? 0));
    return seen.size;
  }

  clearReceived(): void {
    this.received.length = 0;
    this.receivedCount = 0;
  }

  snapshot(): NodeSnapshot {
    const queues: Record<string, SendQueueInfo> = {};
    for (const peer of this.transport.links().keys()) {
      const q = this.transport.sendQueue?.(peer);
      if (q !== undefined) queues[peer] = q;
    }
    return {
      stats: { ...this.transport.stats },
      links: Object.fromEntries(this.transport.links()),
      linkEvents: [...this.linkEvents],
      receivedCount: this.receivedCount,
      queues,
      realm: typeof window === 'undefined' ? (globalThis.constructor?.name ?? 'worker') : 'window',
    };
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** The methods a test may call on a node, by name, on either thread. */
export type HarnessNodeMethod = 'send' | 'sendPattern' | 'sendNumbered' | 'flood' | 'frames' | 'numbersFrom' | 'clearReceived' | 'snapshot' | 'close';

export function callNode(node: HarnessNode, method: HarnessNodeMethod, args: unknown[]): unknown {
  const fn = node[method] as (...a: unknown[]) => unknown;
  return fn.apply(node, args);
}
