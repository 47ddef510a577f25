/**
 * The link MAC (mac.ts) on Node's own crypto, when the code runs in Node: HMAC-SHA256 from
 * `node:crypto`, synchronous. Why: Web Crypto in Node runs each HMAC as a job on libuv's thread
 * pool behind a promise; measured here (bench/edge.ts's setting, 2 loaded cores), an 8 KiB tag
 * took 600-700 us through `crypto.subtle.sign` against 25 us through `createHmac`, and the pure
 * TypeScript HMAC 135 us. A node tags and checks every frame, so on a busy Node node the MAC was
 * a main cost of each Ready, and the main thread sat idle waiting for the pool.
 *
 * Nothing is lost by leaving Web Crypto in Node: its point in browsers is the non-extractable
 * key, and here the link keys are derived in JavaScript anyway (link-keys.ts).
 *
 * `node:crypto` is reached through `process.getBuiltinModule` (Node 20.16 and later), never a
 * static import, so that browser bundles that include the link guard load nothing of Node; in a
 * browser `nativeMacFactory()` answers null and the guard keeps Web Crypto.
 */
import { assert } from '../../core/assert.ts';
import { linkMacKeyBytes, linkTagBytes, type SyncLinkMac } from './mac.ts';

/** Makes the MAC of one link from its 32-byte key. */
export type SyncMacFactory = (keyBytes: Uint8Array) => SyncLinkMac;

interface NodeCrypto {
  createHmac(algorithm: string, key: Uint8Array): { update(data: Uint8Array): unknown; digest(): Uint8Array };
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}

function nodeCrypto(): NodeCrypto | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule !== 'function') return null;
  const c = p.getBuiltinModule('node:crypto') as Partial<NodeCrypto> | undefined;
  return typeof c?.createHmac === 'function' && typeof c.timingSafeEqual === 'function' ? (c as NodeCrypto) : null;
}

/** A factory of Node-native link MACs, or null where `node:crypto` is not available (browsers). */
export function nativeMacFactory(): SyncMacFactory | null {
  const c = nodeCrypto();
  if (c === null) return null;
  return (keyBytes) => {
    assert(keyBytes.length === linkMacKeyBytes, 'a link key is 32 bytes');
    const key = keyBytes.slice();
    const compute = (head: Uint8Array, body: Uint8Array | undefined): Uint8Array => {
      const h = c.createHmac('sha256', key);
      h.update(head);
      if (body !== undefined) h.update(body);
      return h.digest();
    };
    return {
      backend: 'sync',
      tag: (head, body) => new Uint8Array(compute(head, body)),
      verify(tag, head, body) {
        if (tag.length !== linkTagBytes) return false;
        return c.timingSafeEqual(compute(head, body), tag);
      },
    };
  };
}
