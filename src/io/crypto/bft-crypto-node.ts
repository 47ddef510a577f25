/**
 * A synchronous BFT crypto provider on node:crypto (bft-crypto.ts), for the simulator and Node
 * tests: real Ed25519 signatures over the canonical bytes (bft-canonical.ts), with every
 * member's key pair derived from the run's seed and its id, so one seed signs the same bytes in
 * every run. A browser host swaps in a Web Crypto provider behind the same interface.
 *
 * The keyring knows every member's and client's key (in the simulator the directory of public
 * keys is derived, not exchanged); a provider made `for(id)` signs only as `id`. What a
 * Byzantine member can forge is therefore decided by the simulator: it holds the providers of
 * the members it controls and nothing else.
 *
 * Verifying is the simulator's main cost (every prepare of every replica is checked by every
 * other), and a check is a pure function of (signer, bytes, signature), so the keyring memoizes
 * answers: bounded (`verifyCacheEntriesMax`, cleared whole when full), shared by the providers of
 * one run. A wrong answer could only come from a collision of the key below, which carries the
 * signer, the bytes' SHA-256 and the signature.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { SignedPayload, VerifyItem } from '../../core/bft/proof-requests.ts';
import type { Signature } from '../../core/bft/types.ts';
import { bftSignedBytes } from './bft-canonical.ts';
import type { BftCryptoProvider } from './bft-crypto.ts';

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Ed25519 signatures are 64 bytes; anything else fails without calling verify. */
const ed25519SignatureBytes = 64;
export const verifyCacheEntriesMax = 200_000;

interface KeyPair {
  readonly priv: KeyObject;
  readonly pub: KeyObject;
}

export class NodeBftKeyring {
  private readonly keys = new Map<string, KeyPair>();
  private readonly verified = new Map<string, boolean>();
  /** Signatures checked, and answered from the memo. */
  verifies = 0;
  verifiesMemoized = 0;

  constructor(private readonly seed: number) {}

  private keyOf(id: string): KeyPair {
    let k = this.keys.get(id);
    if (k === undefined) {
      const secret = createHash('sha256').update(`peerquorum bft node key/${this.seed}/${id}`).digest();
      const priv = createPrivateKey({ key: Buffer.concat([ed25519Pkcs8Prefix, secret]), format: 'der', type: 'pkcs8' });
      k = { priv, pub: createPublicKey(priv) };
      this.keys.set(id, k);
    }
    return k;
  }

  /** Sign `payload` as `id`. */
  signAs(id: string, payload: SignedPayload): Signature {
    return new Uint8Array(sign(null, bftSignedBytes(payload), this.keyOf(id).priv));
  }

  verifyItem(item: VerifyItem): boolean {
    this.verifies++;
    if (!(item.signature instanceof Uint8Array) || item.signature.length !== ed25519SignatureBytes) return false;
    const bytes = bftSignedBytes(item.payload);
    const key = `${item.signer}\u0000${createHash('sha256').update(bytes).digest('hex')}\u0000${Buffer.from(item.signature).toString('hex')}`;
    const memo = this.verified.get(key);
    if (memo !== undefined) {
      this.verifiesMemoized++;
      return memo;
    }
    let valid: boolean;
    try {
      valid = verify(null, bytes, this.keyOf(item.signer).pub, item.signature);
    } catch {
      valid = false;
    }
    if (this.verified.size >= verifyCacheEntriesMax) this.verified.clear();
    this.verified.set(key, valid);
    return valid;
  }

  /** A provider that signs as `id` (answers synchronously). */
  for(id: string): BftCryptoProvider {
    return {
      sign: (payloads, done) => done(payloads.map((p) => this.signAs(id, p))),
      verify: (items, done) => done(items.map((i) => this.verifyItem(i))),
    };
  }
}
