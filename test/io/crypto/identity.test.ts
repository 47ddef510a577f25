/**
 * What this proves about node identities (src/io/crypto/identity.ts, identity-store.ts), in
 * Node 20's Web Crypto:
 *
 * - A new identity is an ECDSA P-256 pair whose private key is NOT extractable (exportKey
 *   rejects, in every format) while its public key IS, even though the pair was generated with
 *   `extractable: false`: Web Crypto applies the flag to the private key only. The published key
 *   is the 65-byte uncompressed point; the fingerprint is hex of SHA-256 of it, first 16 bytes.
 * - Persistence, in the memory store and in IndexedDB (fake-indexeddb, which structured-clones
 *   the CryptoKeys as a browser does): loading again gives the same public key and fingerprint,
 *   and the reloaded private key signs what the published key verifies.
 * - Two loads racing on an empty IndexedDB store end with ONE identity for both
 *   (`setIfAbsent` is one transaction).
 * - Signatures: 64 bytes, verified by `verifyIdentitySignature`; tampered data, a tampered
 *   signature, another node's key, and malformed keys or signatures give false, never a throw.
 * - A store holding something that is not a usable pair (not keys, another algorithm, an
 *   extractable private key, halves of two different pairs) fails with IdentityError instead
 *   of being replaced by a new identity.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateIdentityKeyPair,
  IdentityError,
  loadOrCreateIdentity,
  verifyIdentitySignature,
} from '../../../src/io/crypto/identity.ts';
import { indexedDbIdentityStore, memoryIdentityStore, type IdentityStore } from '../../../src/io/crypto/identity-store.ts';
import { utf8 } from './test-bytes.ts';

let dbCounter = 0;
const freshDbName = (): string => `identity-test-${++dbCounter}`;

describe('loadOrCreateIdentity', () => {
  it('creates a P-256 pair: private key not extractable, public key extractable', async () => {
    const identity = await loadOrCreateIdentity(memoryIdentityStore());
    const { privateKey, publicKey } = identity.keyPair;
    expect(privateKey.algorithm).toEqual({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(privateKey.extractable).toBe(false);
    expect(publicKey.extractable).toBe(true);
    for (const format of ['pkcs8', 'jwk', 'raw'] as const) {
      await expect(crypto.subtle.exportKey(format, privateKey), format).rejects.toThrow();
    }
    expect(identity.publicKeyRaw.length).toBe(65);
    expect(identity.publicKeyRaw[0]).toBe(0x04);
    expect(new Uint8Array(await crypto.subtle.exportKey('raw', publicKey))).toEqual(identity.publicKeyRaw);
    expect(identity.fingerprint).toBe(createHash('sha256').update(identity.publicKeyRaw).digest('hex').slice(0, 32));
  });

  it.each([
    ['memory', () => memoryIdentityStore()],
    ['IndexedDB', () => indexedDbIdentityStore(freshDbName())],
  ] as const)('persists in the %s store: a reload is the same identity', async (_name, makeStore) => {
    const store = makeStore();
    const first = await loadOrCreateIdentity(store);
    const again = await loadOrCreateIdentity(store);
    expect(again.publicKeyRaw).toEqual(first.publicKeyRaw);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.keyPair.privateKey.extractable).toBe(false);
    const data = utf8('a message to forward');
    expect(await verifyIdentitySignature(first.publicKeyRaw, data, await again.sign(data))).toBe(true);
  });

  it('reopens the same IndexedDB database from a new store object (a restart)', async () => {
    const dbName = freshDbName();
    const first = await loadOrCreateIdentity(indexedDbIdentityStore(dbName));
    const reloaded = await loadOrCreateIdentity(indexedDbIdentityStore(dbName));
    expect(reloaded.publicKeyRaw).toEqual(first.publicKeyRaw);
    expect(reloaded.keyPair.privateKey).toBeInstanceOf(CryptoKey);
    const other = await loadOrCreateIdentity(indexedDbIdentityStore(freshDbName()));
    expect(other.fingerprint).not.toBe(first.fingerprint);
  });

  it('gives racing first loads one identity', async () => {
    const dbName = freshDbName();
    const identities = await Promise.all([0, 1, 2, 3].map(() => loadOrCreateIdentity(indexedDbIdentityStore(dbName))));
    for (const identity of identities) expect(identity.fingerprint).toBe(identities[0]!.fingerprint);
    const memory = memoryIdentityStore();
    const fromMemory = await Promise.all([0, 1, 2].map(() => loadOrCreateIdentity(memory)));
    for (const identity of fromMemory) expect(identity.fingerprint).toBe(fromMemory[0]!.fingerprint);
  });

  it('refuses a stored value that is not a usable identity, rather than replacing it', async () => {
    const pair = await generateIdentityKeyPair();
    const otherPair = await generateIdentityKeyPair();
    const extractable = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const hmacKey = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    const p384 = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
    const stored: unknown[] = [
      'a string',
      { privateKey: 1, publicKey: 2 },
      { privateKey: hmacKey, publicKey: pair.publicKey },
      p384,
      extractable,
      { privateKey: pair.publicKey, publicKey: pair.publicKey },
      { privateKey: pair.privateKey, publicKey: otherPair.publicKey },
    ];
    for (const [i, value] of stored.entries()) {
      const store: IdentityStore = {
        get: () => Promise.resolve(value as CryptoKeyPair),
        setIfAbsent: () => Promise.reject(new Error('must not replace a stored identity')),
      };
      await expect(loadOrCreateIdentity(store), `case ${i}`).rejects.toThrow(IdentityError);
    }
  });
});

describe('verifyIdentitySignature', () => {
  it('accepts the signer, refuses tampering, other keys and malformed input without throwing', async () => {
    const identity = await loadOrCreateIdentity(memoryIdentityStore());
    const other = await loadOrCreateIdentity(memoryIdentityStore());
    const data = utf8('term 7: n1 is leader');
    const signature = await identity.sign(data);
    expect(signature.length).toBe(64);
    expect(await verifyIdentitySignature(identity.publicKeyRaw, data, signature)).toBe(true);

    const tamperedData = utf8('term 7: n2 is leader');
    const tamperedSignature = new Uint8Array(signature);
    tamperedSignature[10]! ^= 0x01;
    const notOnCurve = new Uint8Array(65).fill(0x11);
    notOnCurve[0] = 0x04;
    const compressed = identity.publicKeyRaw.subarray(0, 33);
    const refusals: readonly [Uint8Array, Uint8Array, Uint8Array][] = [
      [identity.publicKeyRaw, tamperedData, signature],
      [identity.publicKeyRaw, data, tamperedSignature],
      [other.publicKeyRaw, data, signature],
      [notOnCurve, data, signature],
      [compressed, data, signature],
      [new Uint8Array(0), data, signature],
      [identity.publicKeyRaw, data, signature.subarray(0, 63)],
      [identity.publicKeyRaw, data, new Uint8Array(64)],
      ['not bytes' as unknown as Uint8Array, data, signature],
      [identity.publicKeyRaw, data, null as unknown as Uint8Array],
    ];
    for (const [i, [key, d, sig]] of refusals.entries()) {
      expect(await verifyIdentitySignature(key, d, sig), `case ${i}`).toBe(false);
    }
  });
});
