/**
 * One compliance suite for every BFT crypto provider (src/io/crypto/bft-crypto.ts), run against
 * the node:crypto Ed25519 keyring (the simulator's) and the Web Crypto provider over persistent
 * P-256 identity keys (a browser node's; Node 20 has globalThis.crypto.subtle). It proves, for
 * each: a member's signature over every payload kind checks with its key at another member; a
 * changed field, another kind over the same fields, another signer, an unknown signer and
 * malformed signatures (empty, short, long, random, 256 bytes) are false, never a throw; answers
 * come once, one per item, in order, through `performBftCrypto` too. Then what is Web Crypto's
 * own: a client alias checks with its node's key, a signer whose key arrives while the check
 * waits is checked, and repeated checks are memoized.
 */
import { describe, expect, it } from 'vitest';
import type { SignedPayload, VerifyItem } from '../../../src/core/bft/proof-requests.ts';
import { bftClientIdOf } from '../../../src/io/bft-client-id.ts';
import { performBftCrypto, type BftCryptoProvider } from '../../../src/io/crypto/bft-crypto.ts';
import { NodeBftKeyring } from '../../../src/io/crypto/bft-crypto-node.ts';
import { WebCryptoBftProvider } from '../../../src/io/crypto/bft-crypto-webcrypto.ts';
import { loadOrCreateIdentity, type NodeIdentity } from '../../../src/io/crypto/identity.ts';
import { memoryIdentityStore } from '../../../src/io/crypto/identity-store.ts';

interface Members {
  /** Providers of members `a` and `b`, each signing as itself. */
  readonly a: BftCryptoProvider;
  readonly b: BftCryptoProvider;
}

const digest = 'cd'.repeat(32);
const payloads: SignedPayload[] = [
  { kind: 'request', client: 'a', timestamp: 3, op: new Uint8Array([1, 2]), readOnly: false },
  { kind: 'pre-prepare', view: 1, seq: 5, digest },
  { kind: 'prepare', view: 1, seq: 5, digest, replica: 'a' },
  { kind: 'checkpoint', seq: 8, stateDigest: digest, replica: 'a' },
  { kind: 'view-change', body: { newView: 2, replica: 'a', checkpoint: null, prepared: [] } },
];

const sign = (p: BftCryptoProvider, ps: readonly SignedPayload[]): Promise<readonly Uint8Array[]> => new Promise((resolve) => p.sign(ps, resolve));
const verify = (p: BftCryptoProvider, items: readonly VerifyItem[]): Promise<readonly boolean[]> => new Promise((resolve) => p.verify(items, resolve));

async function webCryptoMembers(): Promise<Members & { ids: Map<string, NodeIdentity> }> {
  const ids = new Map<string, NodeIdentity>();
  for (const id of ['a', 'b']) ids.set(id, await loadOrCreateIdentity(memoryIdentityStore()));
  const make = (self: string): BftCryptoProvider =>
    new WebCryptoBftProvider({ sign: (d) => (ids.get(self) as NodeIdentity).sign(d), publicKey: (n) => ids.get(n)?.publicKeyRaw }, { keyWaitMs: 30, keyPollMs: 5 });
  return { a: make('a'), b: make('b'), ids };
}

const providers: [string, () => Promise<Members>][] = [
  ['node:crypto Ed25519', () => Promise.resolve({ a: new NodeBftKeyring(7).for('a'), b: new NodeBftKeyring(7).for('b') })],
  ['Web Crypto P-256 identity keys', webCryptoMembers],
];

describe.each(providers)('BFT crypto provider compliance: %s', (_name, members) => {
  it("a member's signatures over every kind check at another member", async () => {
    const { a, b } = await members();
    const sigs = await sign(a, payloads);
    expect(sigs).toHaveLength(payloads.length);
    const valid = await verify(b, payloads.map((payload, i) => ({ signer: 'a', payload, signature: sigs[i] as Uint8Array })));
    expect(valid).toEqual(payloads.map(() => true));
  });

  it('a changed field, another kind, another or unknown signer, malformed signatures: false, in order', async () => {
    const { a, b } = await members();
    const prepare = payloads[2] as SignedPayload & { kind: 'prepare' };
    const [sig] = (await sign(a, [prepare])) as [Uint8Array];
    const flipped = sig.slice();
    flipped[10] = (flipped[10] as number) ^ 1;
    const items: VerifyItem[] = [
      { signer: 'a', payload: prepare, signature: sig },
      { signer: 'a', payload: { ...prepare, seq: 6 }, signature: sig },
      { signer: 'a', payload: { kind: 'pre-prepare', view: 1, seq: 5, digest }, signature: sig },
      { signer: 'b', payload: prepare, signature: sig },
      { signer: 'stranger', payload: prepare, signature: sig },
      { signer: 'a', payload: prepare, signature: flipped },
      { signer: 'a', payload: prepare, signature: new Uint8Array(0) },
      { signer: 'a', payload: prepare, signature: sig.subarray(0, 63) },
      { signer: 'a', payload: prepare, signature: new Uint8Array(256).fill(1) },
      { signer: 'a', payload: prepare, signature: new Uint8Array(64) },
    ];
    expect(await verify(b, items)).toEqual([true, false, false, false, false, false, false, false, false, false]);
  });

  it('answers once, through performBftCrypto too; empty requests answer empty', async () => {
    const { a, b } = await members();
    let calls = 0;
    const result = await new Promise<unknown>((resolve) =>
      performBftCrypto(a, { id: 4, op: 'sign', payloads: [payloads[1] as SignedPayload] }, (r) => {
        calls++;
        resolve(r);
      }),
    );
    expect(calls).toBe(1);
    const signed = result as { id: number; op: 'sign'; signatures: Uint8Array[] };
    expect(signed.id).toBe(4);
    const checked = await new Promise((resolve) => performBftCrypto(b, { id: 5, op: 'verify', items: [{ signer: 'a', payload: payloads[1] as SignedPayload, signature: signed.signatures[0] as Uint8Array }] }, resolve));
    expect(checked).toEqual({ id: 5, op: 'verify', valid: [true] });
    expect(await verify(b, [])).toEqual([]);
    expect(await sign(a, [])).toEqual([]);
  });
});

describe('Web Crypto provider: its own', () => {
  it("a client alias checks with its node's key; a key published while the check waits is used; repeats are memoized", async () => {
    const { a, ids } = await webCryptoMembers();
    const request = { kind: 'request', client: bftClientIdOf('a'), timestamp: 1, op: new Uint8Array([7]), readOnly: true } as const;
    const [sig] = (await sign(a, [request])) as [Uint8Array];
    let published = false;
    const late = new WebCryptoBftProvider({ sign: () => Promise.reject(new Error('not used')), publicKey: (n) => (published ? ids.get(n)?.publicKeyRaw : undefined) }, { keyWaitMs: 2_000, keyPollMs: 5 });
    const pending = verify(late, [{ signer: bftClientIdOf('a'), payload: request, signature: sig }]);
    setTimeout(() => (published = true), 20);
    expect(await pending).toEqual([true]);
    expect(await verify(late, [{ signer: bftClientIdOf('a'), payload: request, signature: sig }])).toEqual([true]);
    expect(late.metrics.verifiesMemoized).toBe(1);
    expect(await verify(late, [{ signer: bftClientIdOf('b'), payload: request, signature: sig }])).toEqual([false]);
  });

  it('a signing failure is reported, never answered', async () => {
    const errors: unknown[] = [];
    const p = new WebCryptoBftProvider({ sign: () => Promise.reject(new Error('key store gone')), publicKey: () => undefined }, { onError: (e) => errors.push(e) });
    let answered = false;
    p.sign([payloads[1] as SignedPayload], () => (answered = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(answered).toBe(false);
    expect(errors).toHaveLength(1);
  });
});
