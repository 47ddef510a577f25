/**
 * The Node-native link MAC (src/io/crypto/mac-native.ts) is the same HMAC-SHA256 as the pure
 * TypeScript one and Web Crypto's: equal tags for equal keys and bytes (so a Node node and a
 * browser tab, one on each, check each other's frames), a changed byte or a short tag fails, and
 * a link guard asked for `native` in Node uses it synchronously.
 */
import { describe, expect, it } from 'vitest';
import { nativeMacFactory } from '../../../src/io/crypto/mac-native.ts';
import { createSyncMac, createWebCryptoMac } from '../../../src/io/crypto/mac.ts';
import { LinkGuard } from '../../../src/io/crypto/link-guard.ts';

const key = new Uint8Array(32).map((_, i) => i * 7);
const head = new TextEncoder().encode('peerquorum link v2 head');
const body = new Uint8Array(5000).map((_, i) => i % 251);

describe('native link MAC', () => {
  const factory = nativeMacFactory();

  it('exists in Node and tags as the TypeScript and Web Crypto MACs do', async () => {
    expect(factory).not.toBeNull();
    const native = factory!(key);
    const tag = native.tag(head, body);
    expect(tag).toEqual(createSyncMac(key).tag(head, body));
    expect(tag).toEqual(await (await createWebCryptoMac(key)).tag(head, body));
    expect(native.tag(head)).toEqual(createSyncMac(key).tag(head));
  });

  it('verifies its tags and refuses a changed byte or a short tag', () => {
    const native = factory!(key);
    const tag = native.tag(head, body);
    expect(native.verify(tag, head, body)).toBe(true);
    const changed = body.slice();
    changed[100] = (changed[100] as number) ^ 1;
    expect(native.verify(tag, head, changed)).toBe(false);
    expect(native.verify(tag.subarray(0, 31), head, body)).toBe(false);
  });

  it('makes a native link guard synchronous in Node', () => {
    const guard = new LinkGuard({ secret: 'sixteen bytes or more', cluster: 'c', self: 'n1', epoch: 1, mac: 'native', identityKey: new Uint8Array(65).fill(4) });
    expect(guard.sync).toBe(true);
  });
});
