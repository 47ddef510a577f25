/**
 * What the WebSocket transport says on a connection before frames: one HELLO from the dialer
 * (who it is and whom it meant to reach) and one HELLO-ACK from the acceptor (who it is). After
 * that, every binary WebSocket message is exactly one frame, untouched (a WebSocket message is
 * already delimited, so no chunking is needed, unlike a data channel's: frame-chunker.ts).
 *
 * Why so little: the ids here are CLAIMS, not proofs. The platform's authentication runs above
 * every transport (src/io/crypto/link-guard.ts: a MAC per frame under a key per pair of nodes,
 * epochs from its own hellos), so a liar here gains nothing but a link whose frames all fail
 * their tag. The transport's hello only tells it which peer a connection carries, so that frames
 * are handed up with the right `from` and sent down the right socket.
 *
 *   hello = "PQws" || u8 version || u8 kind (1 hello, 2 ack) || lp(from) || lp(to)
 *   lp(s) = u8 length || UTF-8 bytes (1..idBytesMax)
 *
 * An ack names the acceptor as `from` and the dialer as `to`. Parsing never throws: anything
 * else is `null`, and the connection that sent it is closed and counted.
 */
import type { NodeId } from '../../core/raft/types.ts';

export const wsWireVersion = 1;
/** An id on this wire is at most this many UTF-8 bytes (the codec's `nodeIdBytesMax` is 64). */
export const wsIdBytesMax = 255;
const magic = [0x50, 0x51, 0x77, 0x73] as const; // "PQws"
const headBytes = magic.length + 2;
/** The largest hello: head and two ids at their longest. */
export const wsHelloBytesMax = headBytes + 2 * (1 + wsIdBytesMax);

export type WsHelloKind = 'hello' | 'ack';

export interface WsHello {
  readonly kind: WsHelloKind;
  readonly from: NodeId;
  readonly to: NodeId;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Whether `id` can travel in a hello (our own ids and configured peers are checked with this). */
export function isWsId(id: string): boolean {
  const bytes = encoder.encode(id).byteLength;
  return bytes >= 1 && bytes <= wsIdBytesMax;
}

export function encodeWsHello(hello: WsHello): Uint8Array {
  const from = encoder.encode(hello.from);
  const to = encoder.encode(hello.to);
  if (from.byteLength < 1 || from.byteLength > wsIdBytesMax || to.byteLength < 1 || to.byteLength > wsIdBytesMax) {
    throw new RangeError(`ids in a hello must be 1..${wsIdBytesMax} UTF-8 bytes`);
  }
  const out = new Uint8Array(headBytes + 2 + from.byteLength + to.byteLength);
  out.set(magic, 0);
  out[4] = wsWireVersion;
  out[5] = hello.kind === 'hello' ? 1 : 2;
  out[6] = from.byteLength;
  out.set(from, 7);
  out[7 + from.byteLength] = to.byteLength;
  out.set(to, 8 + from.byteLength);
  return out;
}

/** The hello in `bytes`, or null when it is anything else (wrong magic, version, kind, lengths, UTF-8). */
export function parseWsHello(bytes: Uint8Array): WsHello | null {
  if (bytes.byteLength < headBytes + 4 || bytes.byteLength > wsHelloBytesMax) return null;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return null;
  if (bytes[4] !== wsWireVersion) return null;
  const kindByte = bytes[5];
  if (kindByte !== 1 && kindByte !== 2) return null;
  const fromBytes = bytes[6] as number;
  const toAt = 7 + fromBytes;
  if (fromBytes < 1 || toAt >= bytes.byteLength) return null;
  const toBytes = bytes[toAt] as number;
  if (toBytes < 1 || toAt + 1 + toBytes !== bytes.byteLength) return null;
  try {
    const from = decoder.decode(bytes.subarray(7, toAt));
    const to = decoder.decode(bytes.subarray(toAt + 1));
    return { kind: kindByte === 1 ? 'hello' : 'ack', from, to };
  } catch {
    return null;
  }
}
