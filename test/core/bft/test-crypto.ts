/**
 * The crypto a BFT host performs for its engine (src/core/bft/proof-requests.ts), done here with
 * node:crypto for the tests only (core computes none): Ed25519 identity keys derived from the
 * member's id (deterministic: the same run signs the same bytes), SHA-256 digests over a
 * canonical JSON encoding (keys sorted, bytes as hex), and the decoder's duty of computing every
 * request digest from the request itself (`decode`), so that a digest on the wire is never
 * believed.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { CryptoRequest, CryptoResult, SignedPayload } from '../../../src/core/bft/proof-requests.ts';
import type { BftMessage, SignedViewChange } from '../../../src/core/bft/messages.ts';
import type { RequestBody, SignedRequest } from '../../../src/core/bft/types.ts';

function canonicalValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(canonicalValue);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, canonicalValue(o[k])]));
  }
  return v;
}

export function canonical(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(canonicalValue(v)));
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const keys = new Map<string, { priv: KeyObject; pub: KeyObject }>();

/** An Ed25519 key pair derived from `id` (PKCS#8 prefix + a 32-byte seed). */
export function keyOf(id: string): { priv: KeyObject; pub: KeyObject } {
  let k = keys.get(id);
  if (k === undefined) {
    const seed = createHash('sha256').update(`bft-test-key/${id}`).digest();
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    k = { priv, pub: createPublicKey(priv) };
    keys.set(id, k);
  }
  return k;
}

export function signAs(id: string, payload: SignedPayload): Uint8Array {
  return new Uint8Array(sign(null, canonical(payload), keyOf(id).priv));
}

export function verifyBy(id: string, payload: SignedPayload, signature: Uint8Array): boolean {
  try {
    return verify(null, canonical(payload), keyOf(id).pub, signature);
  } catch {
    return false;
  }
}

export function requestDigest(r: RequestBody): string {
  return sha256Hex(canonical({ kind: 'request', client: r.client, timestamp: r.timestamp, op: r.op, readOnly: r.readOnly }));
}

export function batchDigest(requestDigests: readonly string[]): string {
  return sha256Hex(canonical({ kind: 'batch', requestDigests }));
}

/** A request signed by `client` (its digest as a decoder computes it). */
export function makeRequest(client: string, timestamp: number, op: string, readOnly = false): SignedRequest {
  const body = { client, timestamp, op: new TextEncoder().encode(op), readOnly };
  return { ...body, signature: signAs(client, { kind: 'request', ...body }), digest: requestDigest(body) };
}

/** What the host of `self` answers to one crypto request. */
export function performCrypto(self: string, r: CryptoRequest): CryptoResult {
  switch (r.op) {
    case 'sign':
      return { id: r.id, op: 'sign', signatures: r.payloads.map((p) => signAs(self, p)) };
    case 'verify':
      return { id: r.id, op: 'verify', valid: r.items.map((i) => verifyBy(i.signer, i.payload, i.signature)) };
    case 'digest':
      return { id: r.id, op: 'digest', digests: r.payloads.map((p) => batchDigest(p.requestDigests)) };
  }
}

function redigest(r: SignedRequest): SignedRequest {
  return { ...r, digest: requestDigest(r) };
}

function redigestVc(vc: SignedViewChange): SignedViewChange {
  return { ...vc, body: { ...vc.body, prepared: vc.body.prepared.map((c) => ({ ...c, requests: c.requests.map(redigest) })) } };
}

/** The decoder's part: every request digest recomputed from the request (a forged one is overwritten). */
export function decode(m: BftMessage): BftMessage {
  switch (m.type) {
    case 'request':
      return { ...m, request: redigest(m.request) };
    case 'pre-prepare':
      return { ...m, requests: m.requests.map(redigest) };
    case 'view-change':
      return { ...m, viewChange: redigestVc(m.viewChange) };
    case 'new-view':
      return { ...m, viewChanges: m.viewChanges.map(redigestVc), prePrepares: m.prePrepares.map((p) => ({ ...p, requests: p.requests.map(redigest) })) };
    default:
      return m;
  }
}
