/**
 * The data-channel wire format of `DataChannelTransport`: pure encode, parse and reassembly, no
 * timers and no I/O (the caller passes the time in), so that it is tested by tables in Node.
 *
 * Why chunk at all: a transport frame may be megabytes (an append batch, a snapshot chunk), but
 * one SCTP message should stay at or below 16 KiB to be safe across browsers (larger messages
 * work in Chromium but are not interoperable, and a large message monopolises the association
 * while it is in flight). So a frame that does not fit in one message is cut into chunks and
 * put together again on the other side.
 *
 * Every data-channel message is binary and starts with one kind byte (all integers big-endian):
 *
 * ```
 *   whole      0x01 | frame bytes                                      (a frame that fits)
 *   chunk      0x02 | messageId u32 | index u16 | count u16 | bytes     (9-byte header)
 *   hello      0x10 | version u8                                       (link handshake)
 *   hello-ack  0x11 | version u8
 * ```
 *
 * A chunked frame's chunks are sent back to back, in index order, with the same `messageId`
 * (a per-link counter that wraps at 2^32). The channel is reliable and ordered, so a well-behaved
 * peer never interleaves or loses chunks; the reassembler still bounds everything a broken or
 * hostile peer could make it hold: at most `incompleteFramesMax` frames in progress per link,
 * each at most `frameBytesMax` bytes, each evicted once older than `incompleteAgeMsMax`.
 */
import { assert } from '../../core/assert.ts';

export const messageKind = {
  whole: 0x01,
  chunk: 0x02,
  hello: 0x10,
  helloAck: 0x11,
} as const;

/** The version byte carried by `hello` and `hello-ack`. */
export const wireVersion = 1;
export const chunkHeaderBytes = 9;
/** One data-channel message at most, header included: the interoperable SCTP message size. */
export const messageBytesMaxDefault = 16 * 1024;
const chunkCountMax = 0xffff;
const messageIdModulus = 2 ** 32;

export type ParsedMessage =
  | { readonly kind: 'whole'; readonly frame: Uint8Array }
  | {
      readonly kind: 'chunk';
      readonly messageId: number;
      readonly index: number;
      readonly count: number;
      readonly bytes: Uint8Array;
    }
  | { readonly kind: 'hello' | 'hello-ack'; readonly version: number };

/** Bytes of payload one chunk carries when messages are at most `messageBytesMax`. */
export function chunkPayloadBytes(messageBytesMax: number): number {
  assert(Number.isSafeInteger(messageBytesMax), 'messageBytesMax must be a safe integer');
  assert(messageBytesMax > chunkHeaderBytes, 'messageBytesMax must exceed the chunk header');
  return messageBytesMax - chunkHeaderBytes;
}

/** The number of messages `encodeFrame` makes for a frame of `frameBytes`. */
export function messageCount(frameBytes: number, messageBytesMax: number): number {
  if (frameBytes + 1 <= messageBytesMax) return 1;
  return Math.ceil(frameBytes / chunkPayloadBytes(messageBytesMax));
}

/** Bytes on the wire (headers included) for a frame of `frameBytes`. */
export function encodedBytes(frameBytes: number, messageBytesMax: number): number {
  const count = messageCount(frameBytes, messageBytesMax);
  return count === 1 ? frameBytes + 1 : frameBytes + count * chunkHeaderBytes;
}

/** The largest frame that can be chunked at all with this message size (65,535 chunks). */
export function frameBytesMaxFor(messageBytesMax: number): number {
  return chunkCountMax * chunkPayloadBytes(messageBytesMax);
}

/**
 * Cut `frame` into data-channel messages of at most `messageBytesMax` bytes each. Copies the
 * bytes once (a message needs its header in front); the caller may reuse `frame` afterwards.
 */
export function encodeFrame(frame: Uint8Array, messageId: number, messageBytesMax: number): Uint8Array<ArrayBuffer>[] {
  assert(Number.isSafeInteger(messageId) && messageId >= 0 && messageId < messageIdModulus, 'messageId must be a u32');
  if (frame.byteLength + 1 <= messageBytesMax) {
    const whole = new Uint8Array(frame.byteLength + 1);
    whole[0] = messageKind.whole;
    whole.set(frame, 1);
    return [whole];
  }
  const payloadBytes = chunkPayloadBytes(messageBytesMax);
  const count = Math.ceil(frame.byteLength / payloadBytes);
  assert(count <= chunkCountMax, 'frame too large to chunk: check frameBytesMax against frameBytesMaxFor()');
  const messages: Uint8Array<ArrayBuffer>[] = [];
  for (let index = 0; index < count; index++) {
    const bytes = frame.subarray(index * payloadBytes, Math.min(frame.byteLength, (index + 1) * payloadBytes));
    const message = new Uint8Array(chunkHeaderBytes + bytes.byteLength);
    const view = new DataView(message.buffer);
    view.setUint8(0, messageKind.chunk);
    view.setUint32(1, messageId);
    view.setUint16(5, index);
    view.setUint16(7, count);
    message.set(bytes, chunkHeaderBytes);
    messages.push(message);
  }
  return messages;
}

export function encodeHello(kind: 'hello' | 'hello-ack'): Uint8Array<ArrayBuffer> {
  return Uint8Array.of(kind === 'hello' ? messageKind.hello : messageKind.helloAck, wireVersion);
}

/** The message id after `messageId` (u32, wrapping). */
export function nextMessageId(messageId: number): number {
  return (messageId + 1) % messageIdModulus;
}

/**
 * Parse one received message, or `null` if it is malformed (unknown kind, short header, a chunk
 * index out of range, an empty chunk). Input from the network: never throws. The returned
 * bytes are views into `message`, not copies.
 */
export function parseMessage(message: Uint8Array): ParsedMessage | null {
  if (message.byteLength < 1) return null;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  switch (view.getUint8(0)) {
    case messageKind.whole:
      return { kind: 'whole', frame: message.subarray(1) };
    case messageKind.chunk: {
      if (message.byteLength <= chunkHeaderBytes) return null;
      const messageId = view.getUint32(1);
      const index = view.getUint16(5);
      const count = view.getUint16(7);
      if (count < 1 || index >= count) return null;
      return { kind: 'chunk', messageId, index, count, bytes: message.subarray(chunkHeaderBytes) };
    }
    case messageKind.hello:
    case messageKind.helloAck:
      if (message.byteLength !== 2) return null;
      return { kind: view.getUint8(0) === messageKind.hello ? 'hello' : 'hello-ack', version: view.getUint8(1) };
    default:
      return null;
  }
}

export interface ReassemblyLimits {
  /** Largest frame put together, in bytes; a chunked frame that would exceed it is dropped. */
  readonly frameBytesMax: number;
  /** Frames in progress at once (per link). A new one beyond this evicts the oldest. */
  readonly incompleteFramesMax: number;
  /** A frame in progress longer than this is evicted (checked on every chunk and `sweep`). */
  readonly incompleteAgeMsMax: number;
}

export const reassemblyLimitsDefault: Omit<ReassemblyLimits, 'frameBytesMax'> = Object.freeze({
  incompleteFramesMax: 2,
  incompleteAgeMsMax: 30_000,
});

/** Why a chunked frame was given up. */
export type ReassemblyDrop =
  | 'too-large' // its bytes would exceed frameBytesMax, or it announces more chunks than that allows
  | 'inconsistent' // a chunk disagrees with earlier ones (count) or repeats an index
  | 'evicted' // pushed out by a newer frame when incompleteFramesMax were in progress
  | 'expired'; // older than incompleteAgeMsMax

export type ReassemblyResult =
  | { readonly type: 'frame'; readonly frame: Uint8Array }
  | { readonly type: 'pending' }
  | { readonly type: 'dropped'; readonly reason: ReassemblyDrop };

interface Incomplete {
  readonly count: number;
  readonly parts: (Uint8Array | undefined)[];
  readonly startedAtMs: number;
  received: number;
  bytes: number;
}

/**
 * Puts chunked frames together for one link. Memory held is at most
 * `incompleteFramesMax * frameBytesMax` plus one message, whatever arrives.
 */
export class Reassembler {
  private readonly incomplete = new Map<number, Incomplete>();
  /** Frames given up for each reason (drops reported by `push` and by `sweep`). */
  readonly drops: Record<ReassemblyDrop, number> = { 'too-large': 0, inconsistent: 0, evicted: 0, expired: 0 };
  private readonly chunkCountMax: number;

  constructor(private readonly limits: ReassemblyLimits) {
    assert(limits.incompleteFramesMax >= 1, 'incompleteFramesMax must be at least 1');
    assert(limits.incompleteAgeMsMax > 0, 'incompleteAgeMsMax must be positive');
    assert(limits.frameBytesMax >= 1, 'frameBytesMax must be positive');
    // Every chunk carries at least one byte, so no frame within the byte limit needs more chunks
    // than it has bytes. A sender with smaller messages than ours is still accepted: the real
    // bound is the byte count, checked as bytes arrive.
    this.chunkCountMax = Math.min(chunkCountMax, limits.frameBytesMax);
  }

  /** Frames currently in progress. */
  get pendingFrames(): number {
    return this.incomplete.size;
  }

  /** Bytes currently held by frames in progress. */
  get pendingBytes(): number {
    let bytes = 0;
    for (const f of this.incomplete.values()) bytes += f.bytes;
    return bytes;
  }

  push(chunk: { messageId: number; index: number; count: number; bytes: Uint8Array }, nowMs: number): ReassemblyResult {
    this.sweep(nowMs);
    if (chunk.count > this.chunkCountMax) return this.drop('too-large');
    let f = this.incomplete.get(chunk.messageId);
    if (f === undefined) {
      if (this.incomplete.size >= this.limits.incompleteFramesMax) this.evictOldest();
      f = { count: chunk.count, parts: new Array<Uint8Array | undefined>(chunk.count), startedAtMs: nowMs, received: 0, bytes: 0 };
      this.incomplete.set(chunk.messageId, f);
    }
    if (f.count !== chunk.count || f.parts[chunk.index] !== undefined) {
      this.incomplete.delete(chunk.messageId);
      return this.drop('inconsistent');
    }
    if (f.bytes + chunk.bytes.byteLength > this.limits.frameBytesMax) {
      this.incomplete.delete(chunk.messageId);
      return this.drop('too-large');
    }
    f.parts[chunk.index] = chunk.bytes;
    f.received++;
    f.bytes += chunk.bytes.byteLength;
    if (f.received < f.count) return { type: 'pending' };
    this.incomplete.delete(chunk.messageId);
    return { type: 'frame', frame: concat(f.parts, f.bytes) };
  }

  /** Evict frames in progress for longer than `incompleteAgeMsMax`; returns how many. */
  sweep(nowMs: number): number {
    let expired = 0;
    for (const [id, f] of this.incomplete) {
      if (nowMs - f.startedAtMs <= this.limits.incompleteAgeMsMax) continue;
      this.incomplete.delete(id);
      this.drops.expired++;
      expired++;
    }
    return expired;
  }

  /** Forget every frame in progress (the link was replaced or closed); not counted as drops. */
  clear(): void {
    this.incomplete.clear();
  }

  private evictOldest(): void {
    let oldestId: number | undefined;
    let oldestMs = Infinity;
    for (const [id, f] of this.incomplete) {
      if (f.startedAtMs < oldestMs) {
        oldestMs = f.startedAtMs;
        oldestId = id;
      }
    }
    if (oldestId === undefined) return;
    this.incomplete.delete(oldestId);
    this.drops.evicted++;
  }

  private drop(reason: ReassemblyDrop): ReassemblyResult {
    this.drops[reason]++;
    return { type: 'dropped', reason };
  }
}

function concat(parts: readonly (Uint8Array | undefined)[], bytes: number): Uint8Array {
  const frame = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    assert(part !== undefined, 'a complete frame has every part');
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}
