/**
 * A node's identity: a persistent ECDSA P-256 key pair made by Web Crypto, whose private key is
 * NOT extractable (script can sign with it, never read it) and whose public key the node
 * publishes to the cluster, so that later protocols can sign what must be forwarded and
 * attributed (the cluster secret of link-guard.ts cannot: every member knows it).
 *
 * Why ECDSA P-256 and not Ed25519: every browser has had P-256 in Web Crypto for a decade;
 * Ed25519 arrived in Web Crypto only recently (Node 20 has it, older Safari and Chromium do not).
 *
 * What is published and signed:
 * - `publicKeyRaw`: the public key as an uncompressed SEC1 point, 65 bytes (0x04 || X || Y),
 *   Web Crypto's 'raw' export.
 * - `fingerprint`: hex of the first 16 bytes of SHA-256(publicKeyRaw), 32 characters.
 * - signatures: ECDSA with SHA-256 in Web Crypto's format, r || s, 64 bytes (IEEE P1363, not
 *   DER).
 *
 * The public key of a generated pair is exportable even though the pair is generated with
 * `extractable: false`: Web Crypto's generateKey always makes the public key extractable and
 * applies the flag to the private key only (checked in Node 20 by test/io/crypto/identity.test.ts).
 *
 * A stored pair that is not a P-256 signing pair, or whose private key does not match its public
 * key, is refused with `IdentityError` rather than replaced: replacing it would silently give
 * the node a new identity that its peers do not know.
 */
import { identityFingerprintOf } from './identity-fingerprint.ts';
import type { IdentityStore } from './identity-store.ts';

export { identityFingerprintOf, identityFingerprintBytes } from './identity-fingerprint.ts';

/** Bytes in a published public key (uncompressed P-256 point). */
export const identityPublicKeyBytes = 65;
/** Bytes in a signature (r || s). */
export const identitySignatureBytes = 64;

const keyAlgorithm: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };
const signAlgorithm: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly code = 'IDENTITY';
}

export interface NodeIdentity {
  /** The uncompressed public key, 65 bytes: what the node publishes. */
  readonly publicKeyRaw: Uint8Array;
  /** Hex of the first 16 bytes of SHA-256(publicKeyRaw). */
  readonly fingerprint: string;
  /** The pair itself (the private key is not extractable). */
  readonly keyPair: CryptoKeyPair;
  /** An ECDSA P-256 / SHA-256 signature of `data`, 64 bytes. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A fresh pair: private key non-extractable, public key extractable (Web Crypto's rule). */
export async function generateIdentityKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(keyAlgorithm, false, ['sign', 'verify']);
}

/**
 * The identity in `store`, or a new one stored there. Throws `IdentityError` if what the store
 * holds is not a usable identity pair (see the header).
 */
export async function loadOrCreateIdentity(store: IdentityStore): Promise<NodeIdentity> {
  let pair: unknown = await store.get();
  if (pair === undefined) pair = await store.setIfAbsent(await generateIdentityKeyPair());
  const problem = keyPairProblem(pair);
  if (problem !== null) throw new IdentityError(`the stored identity is unusable: ${problem}`);
  return identityOf(pair as CryptoKeyPair);
}

async function identityOf(keyPair: CryptoKeyPair): Promise<NodeIdentity> {
  const publicKeyRaw = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
  const sign = async (data: Uint8Array): Promise<Uint8Array> =>
    new Uint8Array(await crypto.subtle.sign(signAlgorithm, keyPair.privateKey, new Uint8Array(data)));
  // The two halves must belong together: a corrupted store must not yield signatures that the
  // published key does not verify.
  const probe = new TextEncoder().encode('peerquorum identity self-check');
  if (!(await verifyIdentitySignature(publicKeyRaw, probe, await sign(probe)))) {
    throw new IdentityError('the stored identity is unusable: its private key does not match its public key');
  }
  return { publicKeyRaw, fingerprint: identityFingerprintOf(publicKeyRaw), keyPair, sign };
}

/**
 * True when `signature` is the identity signature of `data` by the holder of `publicKeyRaw`.
 * Everything here may come from the network: a key that is not a P-256 point or a signature of
 * the wrong length gives false, never a throw.
 */
export async function verifyIdentitySignature(publicKeyRaw: Uint8Array, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!(publicKeyRaw instanceof Uint8Array) || publicKeyRaw.length !== identityPublicKeyBytes || publicKeyRaw[0] !== 0x04) {
    return false;
  }
  if (!(signature instanceof Uint8Array) || signature.length !== identitySignatureBytes || !(data instanceof Uint8Array)) {
    return false;
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('raw', new Uint8Array(publicKeyRaw), keyAlgorithm, false, ['verify']);
  } catch {
    return false; // not a point on the curve
  }
  return crypto.subtle.verify(signAlgorithm, key, new Uint8Array(signature), new Uint8Array(data));
}

/** Why `value` is not an identity pair (ECDSA P-256, private for signing, public for verifying), or null. */
function keyPairProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not a key pair';
  const { privateKey, publicKey } = value as Partial<CryptoKeyPair>;
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) return 'not a pair of CryptoKeys';
  for (const key of [privateKey, publicKey]) {
    const algorithm = key.algorithm as Partial<EcKeyAlgorithm>;
    if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') return `a ${String(algorithm.name)} key, not ECDSA P-256`;
  }
  if (privateKey.type !== 'private' || !privateKey.usages.includes('sign')) return 'the private key cannot sign';
  if (publicKey.type !== 'public' || !publicKey.usages.includes('verify')) return 'the public key cannot verify';
  if (privateKey.extractable) return 'the private key is extractable';
  return null;
}
