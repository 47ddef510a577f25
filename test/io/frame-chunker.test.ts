/**
 * The data-channel wire format of DataChannelTransport (src/io/transport/frame-chunker.ts), in
 * Node, without a browser. It proves: a frame of any size round-trips through encode, parse and
 * reassembly, byte for byte, with no message above the size limit; the exact header layout;
 * malformed messages parse to null instead of throwing; and the reassembler holds bounded memory
 * whatever a peer sends (too many chunks, too many bytes, repeated or inconsistent chunks, too
 * many frames in progress, frames that never finish).
 */
import { describe, expect, it } from 'vitest';
import {
  chunkHeaderBytes,
  encodedBytes,
  encodeFrame,
  encodeHello,
  frameBytesMaxFor,
  messageCount,
  nextMessageId,
  parseMessage,
  Reassembler,
  type ParsedMessage,
} from '../../src/io/transport/frame-chunker.ts';

function patterned(bytes: number, seed = 1): Uint8Array {
  const frame = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) frame[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return frame;
}

function chunkOf(message: Uint8Array): Extract<ParsedMessage, { kind: 'chunk' }> {
  const parsed = parseMessage(message);
  if (parsed === null || parsed.kind !== 'chunk') throw new Error(`not a chunk: ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Push every message of an encoded frame; return the reassembled frame (or null). */
function roundTrip(frame: Uint8Array, messageBytesMax: number, frameBytesMax = 8 * 1024 * 1024): Uint8Array | null {
  const r = new Reassembler({ frameBytesMax, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
  let out: Uint8Array | null = null;
  for (const message of encodeFrame(frame, 7, messageBytesMax)) {
    expect(message.byteLength).toBeLessThanOrEqual(messageBytesMax);
    const parsed = parseMessage(message);
    if (parsed === null) throw new Error('encoded message failed to parse');
    if (parsed.kind === 'whole') out = parsed.frame;
    else if (parsed.kind === 'chunk') {
      const result = r.push(parsed, 0);
      if (result.type === 'frame') out = result.frame;
      if (result.type === 'dropped') throw new Error(`dropped: ${result.reason}`);
    }
  }
  expect(r.pendingFrames).toBe(0);
  return out;
}

describe('frame chunker: encode and parse', () => {
  const messageBytesMax = 16 * 1024;
  const payload = messageBytesMax - chunkHeaderBytes;

  it.each([
    { name: 'empty', bytes: 0, messages: 1 },
    { name: 'one byte', bytes: 1, messages: 1 },
    { name: 'fills one message exactly', bytes: messageBytesMax - 1, messages: 1 },
    { name: 'one byte over one message', bytes: messageBytesMax, messages: 2 },
    { name: 'exactly two chunks', bytes: 2 * payload, messages: 2 },
    { name: 'two chunks and a byte', bytes: 2 * payload + 1, messages: 3 },
    { name: '1 MiB', bytes: 1024 * 1024, messages: Math.ceil((1024 * 1024) / payload) },
    { name: '4 MiB', bytes: 4 * 1024 * 1024, messages: Math.ceil((4 * 1024 * 1024) / payload) },
  ])('round-trips a frame: $name ($bytes bytes in $messages messages)', ({ bytes, messages }) => {
    const frame = patterned(bytes);
    expect(messageCount(bytes, messageBytesMax)).toBe(messages);
    const encoded = encodeFrame(frame, 7, messageBytesMax);
    expect(encoded.length).toBe(messages);
    expect(encoded.reduce((n, m) => n + m.byteLength, 0)).toBe(encodedBytes(bytes, messageBytesMax));
    const out = roundTrip(frame, messageBytesMax);
    expect(out).not.toBeNull();
    expect(Buffer.from(out as Uint8Array).equals(Buffer.from(frame))).toBe(true);
  });

  it('round-trips with a tiny message size (many chunks)', () => {
    const frame = patterned(1000, 3);
    const out = roundTrip(frame, chunkHeaderBytes + 1);
    expect([...(out as Uint8Array)]).toEqual([...frame]);
  });

  it('lays out the header exactly: kind, messageId u32, index u16, count u16 (big-endian)', () => {
    const [first, second] = encodeFrame(patterned(30), 0x01020304, chunkHeaderBytes + 16);
    expect([...(first as Uint8Array).subarray(0, chunkHeaderBytes)]).toEqual([0x02, 1, 2, 3, 4, 0, 0, 0, 2]);
    expect([...(second as Uint8Array).subarray(0, chunkHeaderBytes)]).toEqual([0x02, 1, 2, 3, 4, 0, 1, 0, 2]);
    expect([...encodeFrame(Uint8Array.of(9, 8), 0, 100)[0]!]).toEqual([0x01, 9, 8]);
    expect([...encodeHello('hello')]).toEqual([0x10, 1]);
    expect([...encodeHello('hello-ack')]).toEqual([0x11, 1]);
  });

  it('copies the frame: changing it after encoding changes nothing sent', () => {
    const frame = Uint8Array.of(1, 2, 3);
    const [message] = encodeFrame(frame, 0, 100);
    frame[0] = 99;
    expect([...message!]).toEqual([1, 1, 2, 3]);
  });

  it('wraps message ids at 2^32', () => {
    expect(nextMessageId(0)).toBe(1);
    expect(nextMessageId(2 ** 32 - 1)).toBe(0);
  });

  it('knows the largest frame a message size can chunk', () => {
    expect(frameBytesMaxFor(16 * 1024)).toBe(0xffff * (16 * 1024 - chunkHeaderBytes));
    expect(() => encodeFrame(new Uint8Array(0xffff * 2 + 1), 0, chunkHeaderBytes + 2)).toThrow(/too large/);
  });

  it.each([
    { name: 'empty message', bytes: [] },
    { name: 'unknown kind', bytes: [0x7f, 1, 2] },
    { name: 'chunk with a short header', bytes: [0x02, 0, 0, 0, 1, 0, 0, 0] },
    { name: 'chunk with no payload', bytes: [0x02, 0, 0, 0, 1, 0, 0, 0, 2] },
    { name: 'chunk with count 0', bytes: [0x02, 0, 0, 0, 1, 0, 0, 0, 0, 5] },
    { name: 'chunk index beyond count', bytes: [0x02, 0, 0, 0, 1, 0, 2, 0, 2, 5] },
    { name: 'hello without version', bytes: [0x10] },
    { name: 'hello with trailing bytes', bytes: [0x10, 1, 0] },
  ])('parses a malformed message to null: $name', ({ bytes }) => {
    expect(parseMessage(Uint8Array.from(bytes))).toBeNull();
  });

  it('parses from a view with an offset (a message inside a larger buffer)', () => {
    const backing = new Uint8Array(20);
    backing.set([0x02, 0, 0, 0, 9, 0, 1, 0, 3, 42], 5);
    const parsed = parseMessage(backing.subarray(5, 15));
    expect(parsed).toMatchObject({ kind: 'chunk', messageId: 9, index: 1, count: 3 });
    expect([...(parsed as { bytes: Uint8Array }).bytes]).toEqual([42]);
  });
});

describe('frame chunker: reassembly bounds', () => {
  const messageBytesMax = chunkHeaderBytes + 10;

  it('reassembles chunks that arrive out of order', () => {
    const frame = patterned(35);
    const r = new Reassembler({ frameBytesMax: 100, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
    const chunks = encodeFrame(frame, 1, messageBytesMax).map(chunkOf).reverse();
    const results = chunks.map((c) => r.push(c, 0));
    expect(results.slice(0, -1).every((x) => x.type === 'pending')).toBe(true);
    const last = results.at(-1);
    expect(last?.type).toBe('frame');
    expect([...(last as { frame: Uint8Array }).frame]).toEqual([...frame]);
  });

  it('drops a frame whose bytes exceed frameBytesMax, holding no more than the limit', () => {
    const r = new Reassembler({ frameBytesMax: 25, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
    const chunks = encodeFrame(patterned(30), 1, messageBytesMax).map(chunkOf);
    expect(r.push(chunks[0]!, 0).type).toBe('pending');
    expect(r.push(chunks[1]!, 0).type).toBe('pending');
    expect(r.pendingBytes).toBe(20);
    expect(r.push(chunks[2]!, 0)).toEqual({ type: 'dropped', reason: 'too-large' });
    expect(r.pendingFrames).toBe(0);
    expect(r.drops['too-large']).toBe(1);
  });

  it('drops a frame announcing more chunks than its byte limit allows, before holding anything', () => {
    const r = new Reassembler({ frameBytesMax: 3, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
    expect(r.push({ messageId: 1, index: 0, count: 4, bytes: Uint8Array.of(1) }, 0)).toEqual({ type: 'dropped', reason: 'too-large' });
    expect(r.pendingFrames).toBe(0);
  });

  it('drops a frame whose chunks disagree on the count or repeat an index', () => {
    const r = new Reassembler({ frameBytesMax: 100, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
    r.push({ messageId: 1, index: 0, count: 3, bytes: Uint8Array.of(1) }, 0);
    expect(r.push({ messageId: 1, index: 1, count: 4, bytes: Uint8Array.of(2) }, 0)).toEqual({ type: 'dropped', reason: 'inconsistent' });
    r.push({ messageId: 2, index: 0, count: 3, bytes: Uint8Array.of(1) }, 0);
    expect(r.push({ messageId: 2, index: 0, count: 3, bytes: Uint8Array.of(1) }, 0)).toEqual({ type: 'dropped', reason: 'inconsistent' });
    expect(r.pendingFrames).toBe(0);
    expect(r.drops.inconsistent).toBe(2);
  });

  it('keeps at most incompleteFramesMax frames in progress, evicting the oldest', () => {
    const r = new Reassembler({ frameBytesMax: 100, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
    for (let id = 1; id <= 5; id++) r.push({ messageId: id, index: 0, count: 2, bytes: Uint8Array.of(id) }, id);
    expect(r.pendingFrames).toBe(2);
    expect(r.drops.evicted).toBe(3);
    // The two newest survive and can still complete.
    expect(r.push({ messageId: 5, index: 1, count: 2, bytes: Uint8Array.of(55) }, 6).type).toBe('frame');
    expect(r.push({ messageId: 1, index: 1, count: 2, bytes: Uint8Array.of(11) }, 6).type).toBe('pending');
  });

  it('expires frames older than incompleteAgeMsMax, on the next chunk or on sweep', () => {
    const r = new Reassembler({ frameBytesMax: 100, incompleteFramesMax: 4, incompleteAgeMsMax: 1000 });
    r.push({ messageId: 1, index: 0, count: 2, bytes: Uint8Array.of(1) }, 0);
    r.push({ messageId: 2, index: 0, count: 2, bytes: Uint8Array.of(2) }, 500);
    expect(r.sweep(1000)).toBe(0);
    expect(r.sweep(1001)).toBe(1);
    // Message 2 expires when a chunk arrives late; that chunk starts a fresh frame in progress.
    expect(r.push({ messageId: 2, index: 1, count: 2, bytes: Uint8Array.of(3) }, 2000).type).toBe('pending');
    expect(r.drops.expired).toBe(2);
    expect(r.pendingFrames).toBe(1);
  });

  it('forgets frames in progress on clear, without counting drops', () => {
    const r = new Reassembler({ frameBytesMax: 100, incompleteFramesMax: 2, incompleteAgeMsMax: 1000 });
    r.push({ messageId: 1, index: 0, count: 2, bytes: Uint8Array.of(1) }, 0);
    r.clear();
    expect(r.pendingFrames).toBe(0);
    expect(Object.values(r.drops).reduce((a, b) => a + b, 0)).toBe(0);
  });
});
