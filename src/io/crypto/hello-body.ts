/**
 * The body of a hello, the control frame of the `link` family (link-guard.ts): what a node tells
 * a peer about itself on an authenticated link.
 *
 *   body = u64 epoch || u64 peerEpoch || publicKey                     81 bytes exactly
 *
 * - `epoch`: the sender's boot epoch, 1 to 2^53 - 1;
 * - `peerEpoch`: the receiver's epoch as the sender knows it, 0 when it knows none yet;
 * - `publicKey`: the sender's identity key (identity.ts), the uncompressed P-256 point,
 *   65 bytes, the first of which is 0x04.
 *
 * A hello's tag covers its body like any frame's, under the pair's link key: a peer learns the
 * key over the link the cluster secret authenticates, and from no one else. The parser checks
 * the layout only (length, ranges, the point's prefix); whether the 64 bytes after the prefix are
 * a point on the curve takes curve arithmetic, which Web Crypto does when it imports the key to
 * verify a signature: a key that is no point verifies nothing (identity.ts).
 *
 * Synchronous and free of Web Crypto, so the simulator runs it on every hello.
 */
import { writeUint64 } from './bytes.ts';
import { identityPublicKeyBytes } from './identity.ts';

/** The two epochs at the front of a hello's body. */
export const helloEpochsBytes = 16;
/** The whole body: the two epochs and the identity key. */
export const helloBodyBytes = helloEpochsBytes + identityPublicKeyBytes;
/** The first byte of an uncompressed SEC1 point (the only form a hello carries). */
export const uncompressedPointPrefix = 0x04;

export interface HelloBody {
  readonly epoch: number;
  readonly peerEpoch: number;
  readonly publicKey: Uint8Array;
}

/** Whether `key` has the layout of an identity key: 65 bytes starting with 0x04. */
export function isIdentityPublicKey(key: Uint8Array): boolean {
  return key.byteLength === identityPublicKeyBytes && key[0] === uncompressedPointPrefix;
}

/** The body of a hello; the caller's values are its own (the guard asserts them once). */
export function encodeHelloBody(hello: HelloBody): Uint8Array {
  const body = new Uint8Array(helloBodyBytes);
  writeUint64(body, 0, hello.epoch);
  writeUint64(body, 8, hello.peerEpoch);
  body.set(hello.publicKey, helloEpochsBytes);
  return body;
}

/**
 * The hello a peer sent, or null when `body` is not one: not exactly `helloBodyBytes` long, an
 * epoch of 0 or beyond 2^53 - 1, a peer epoch beyond it, or a key that does not start with 0x04.
 * The key is a copy (the body is a view of the frame's buffer).
 */
export function parseHelloBody(body: Uint8Array): HelloBody | null {
  if (body.byteLength !== helloBodyBytes) return null;
  const epoch = readSafeU64(body, 0);
  const peerEpoch = readSafeU64(body, 8);
  if (epoch === null || epoch === 0 || peerEpoch === null) return null;
  const publicKey = body.slice(helloEpochsBytes);
  if (!isIdentityPublicKey(publicKey)) return null;
  return { epoch, peerEpoch, publicKey };
}

/** A u64 that fits a safe integer, else null. */
function readSafeU64(bytes: Uint8Array, at: number): number | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = v.getUint32(at);
  if (high > 0x1f_ffff) return null;
  return high * 0x1_0000_0000 + v.getUint32(at + 4);
}
