/**
 * Crypto for authenticated links and node identities. This folder is the ONLY place that calls
 * Web Crypto (a rule of the design); the rest of the library goes through these pieces:
 *
 * - sha256.ts            SHA-256, HMAC-SHA256, HKDF-SHA256 in synchronous TypeScript
 * - link-keys.ts         the key of a link, HKDF from the cluster secret and both ids
 * - mac.ts               the link MAC, sync and Web Crypto backends with identical tags
 * - replay-window.ts     per-link anti-replay bitmap
 * - link-guard.ts        a node's link authentication: tags over frames and both boot epochs,
 *                        replay windows, hellos (the frame router, src/runtime, drives it)
 * - identity.ts          the persistent ECDSA P-256 identity key pair, its stores in identity-store.ts
 * - hello-body.ts        what a hello carries: both boot epochs and the sender's identity key
 */
export { sha256, hmacSha256, hkdfSha256, hkdfSha256Extract, hkdfSha256Expand, HmacKey, Sha256 } from './sha256.ts';
export { sha256DigestBytes, sha256BlockBytes, hkdfSha256OutputBytesMax } from './sha256.ts';
export {
  linkKeyBytes,
  linkKeyInfo,
  linkKeyLabel,
  linkKeyBytesCount,
  LinkKeyDeriver,
  secretBytes,
  secretBytesMin,
  type ClusterSecret,
} from './link-keys.ts';
export {
  createSyncMac,
  createWebCryptoMac,
  equalBytesConstantTime,
  linkTagBytes,
  linkMacKeyBytes,
  type AsyncLinkMac,
  type LinkMac,
  type SyncLinkMac,
} from './mac.ts';
export { ReplayWindow, replayWindowMaxDefault, replayWindowMaxCeiling, type ReplayCheck } from './replay-window.ts';
export { LinkGuard, linkGuardLabel, type GuardVerdict, type LinkGuardOptions } from './link-guard.ts';
export {
  generateIdentityKeyPair,
  identityFingerprintBytes,
  identityFingerprintOf,
  identityPublicKeyBytes,
  identitySignatureBytes,
  IdentityError,
  loadOrCreateIdentity,
  verifyIdentitySignature,
  type NodeIdentity,
} from './identity.ts';
export {
  identityRecordKey,
  identityStoreNameDefault,
  indexedDbIdentityStore,
  memoryIdentityStore,
  type IdentityStore,
} from './identity-store.ts';
export { encodeHelloBody, helloBodyBytes, helloEpochsBytes, isIdentityPublicKey, parseHelloBody, type HelloBody } from './hello-body.ts';
