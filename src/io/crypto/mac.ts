/**
 * The MAC of a link, HMAC-SHA256 with the full 32-byte tag (no truncation), in two backends
 * that produce the SAME bytes:
 *
 * - `createSyncMac`: pure TypeScript (sha256.ts), synchronous. The simulator and the fuzzer run
 *   it, because they cannot await; a runtime may too.
 * - `createWebCryptoMac`: Web Crypto (`crypto.subtle`, async), for browsers, workers and Node.
 *   The key is imported non-extractable, for `sign` and `verify` only.
 *
 * Both take the message as one byte array or as two parts (`head`, `body`), meaning their
 * concatenation: the link authenticator prepends a small header to a frame without copying the
 * frame (the sync backend hashes the parts in turn; Web Crypto needs one buffer and copies).
 *
 * `verify` compares in constant time (sync: an OR of XORs over all 32 bytes; Web Crypto: its
 * own `verify`). A tag of the wrong length is false at once: the length is public.
 * test/io/crypto/mac.test.ts proves the two backends agree.
 */
import { assert } from '../../core/assert.ts';
import { concatBytes } from './bytes.ts';
import { HmacKey, sha256DigestBytes } from './sha256.ts';

/** Bytes in a link tag: the whole HMAC-SHA256 output. */
export const linkTagBytes = sha256DigestBytes;
/** Bytes in a link key (see link-keys.ts). */
export const linkMacKeyBytes = 32;

/** The synchronous backend. */
export interface SyncLinkMac {
  readonly backend: 'sync';
  /** The 32-byte tag of `head || body` (`body` empty when absent). */
  tag(head: Uint8Array, body?: Uint8Array): Uint8Array;
  /** True when `tag` is the tag of `head || body`; never throws. */
  verify(tag: Uint8Array, head: Uint8Array, body?: Uint8Array): boolean;
}

/** The Web Crypto backend: the same contract, async. */
export interface AsyncLinkMac {
  readonly backend: 'web-crypto';
  tag(head: Uint8Array, body?: Uint8Array): Promise<Uint8Array>;
  /** Resolves true when `tag` is the tag of `head || body`; never rejects on a bad tag. */
  verify(tag: Uint8Array, head: Uint8Array, body?: Uint8Array): Promise<boolean>;
}

export type LinkMac = SyncLinkMac | AsyncLinkMac;

/** True when `a` and `b` hold the same bytes; the time depends on the lengths only. */
export function equalBytesConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function createSyncMac(keyBytes: Uint8Array): SyncLinkMac {
  assert(keyBytes.length === linkMacKeyBytes, 'a link key is 32 bytes');
  const key = new HmacKey(keyBytes);
  const expected = new Uint8Array(linkTagBytes);
  const compute = (out: Uint8Array, head: Uint8Array, body: Uint8Array | undefined): void => {
    key.start().update(head);
    if (body !== undefined) key.update(body);
    key.finishInto(out);
  };
  return {
    backend: 'sync',
    tag(head, body) {
      const out = new Uint8Array(linkTagBytes);
      compute(out, head, body);
      return out;
    },
    verify(tag, head, body) {
      if (tag.length !== linkTagBytes) return false;
      compute(expected, head, body);
      return equalBytesConstantTime(expected, tag);
    },
  };
}

/** Web Crypto wants an ArrayBuffer-backed view; a copy also detaches us from the caller's buffer. */
function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function message(head: Uint8Array, body: Uint8Array | undefined): Uint8Array<ArrayBuffer> {
  return body === undefined ? ownBytes(head) : concatBytes(head, body);
}

export async function createWebCryptoMac(keyBytes: Uint8Array): Promise<AsyncLinkMac> {
  assert(keyBytes.length === linkMacKeyBytes, 'a link key is 32 bytes');
  const key = await crypto.subtle.importKey('raw', ownBytes(keyBytes), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
  return {
    backend: 'web-crypto',
    async tag(head, body) {
      return new Uint8Array(await crypto.subtle.sign('HMAC', key, message(head, body)));
    },
    async verify(tag, head, body) {
      if (tag.length !== linkTagBytes) return false;
      return crypto.subtle.verify('HMAC', key, ownBytes(tag), message(head, body));
    },
  };
}
