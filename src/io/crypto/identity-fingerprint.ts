/**
 * The fingerprint of a node's identity key: short, printable, and computable synchronously by
 * anyone holding the published public key (a log line, a UI, a config file pinning a peer).
 *
 *   fingerprint = hex(SHA-256(publicKeyRaw)[0..16])      32 lowercase hex characters
 *
 * 128 bits: finding a second key with a given fingerprint costs about 2^128 hashes.
 */
import { toHex } from './bytes.ts';
import { sha256 } from './sha256.ts';

/** Bytes of SHA-256 kept in a fingerprint. */
export const identityFingerprintBytes = 16;

export function identityFingerprintOf(publicKeyRaw: Uint8Array): string {
  return toHex(sha256(publicKeyRaw).subarray(0, identityFingerprintBytes));
}
