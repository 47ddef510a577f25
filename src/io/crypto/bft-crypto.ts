/**
 * What a BFT host needs of crypto (src/core/bft/proof-requests.ts: the engine asks, the host performs):
 * a provider that signs with this member's identity key and verifies others' signatures. The
 * interface answers through a callback so that one host runs a synchronous provider (the
 * simulator's, bft-crypto-node.ts: node:crypto Ed25519, deterministic keys) and an asynchronous
 * one (Web Crypto in a browser worker) alike; digests are SHA-256 and synchronous everywhere
 * (bft-digests.ts), so `performBftCrypto` computes them itself.
 */
import type { CryptoRequest, CryptoResult, SignedPayload, VerifyItem } from '../../core/bft/proof-requests.ts';
import type { Signature } from '../../core/bft/types.ts';
import { batchDigestOf } from './bft-digests.ts';

export interface BftCryptoProvider {
  /** Sign each payload with this member's key (canonical bytes: bft-canonical.ts `bftSignedBytes`); answer once, in order. */
  sign(payloads: readonly SignedPayload[], done: (signatures: readonly Signature[]) => void): void;
  /** One flag per item, in order; an unknown signer or a malformed signature is `false`, never a throw. */
  verify(items: readonly VerifyItem[], done: (valid: readonly boolean[]) => void): void;
}

/** Perform one of the engine's crypto requests with `provider`; `done` gets the result to step back. */
export function performBftCrypto(provider: BftCryptoProvider, request: CryptoRequest, done: (result: CryptoResult) => void): void {
  switch (request.op) {
    case 'sign':
      provider.sign(request.payloads, (signatures) => done({ id: request.id, op: 'sign', signatures }));
      return;
    case 'verify':
      provider.verify(request.items, (valid) => done({ id: request.id, op: 'verify', valid }));
      return;
    case 'digest':
      done({ id: request.id, op: 'digest', digests: request.payloads.map((p) => batchDigestOf(p.requestDigests)) });
      return;
    default: {
      const never: never = request;
      return never;
    }
  }
}
