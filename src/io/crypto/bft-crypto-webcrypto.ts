/**
 * The BFT crypto provider of a browser (or Node) node (bft-crypto.ts): Web Crypto, with the
 * node's PERSISTENT identity key (identity.ts: ECDSA P-256 / SHA-256, private key not
 * extractable, r || s signatures of 64 bytes) and the identity keys its peers published in their
 * authenticated hellos (src/runtime/peer-identities.ts). What a member signs (requests as a
 * client, pre-prepares, prepares, checkpoints, view-changes) is the canonical encoding of the
 * payload (bft-canonical.ts `bftSignedBytes`, labelled with its kind), so every host checks the
 * same bytes. A client alias (`<node>/client`, src/io/bft-client-id.ts) is checked with its
 * node's key.
 *
 * Where keys come from, and the wait: a peer's key is learned from its first hello, which goes
 * out with the first frame to it; a replica may be handed a request or a certificate signed by a
 * member it has not exchanged hellos with yet (a pre-prepare relays a third node's request). An
 * unknown signer's check therefore waits for its key, polling, for at most `keyWaitMs`, and only
 * then answers false (the engine's peers retransmit, PBFT §4.1 / TOCS §5.2). Without a cluster
 * secret no hello is sent, so no key is ever known: the node refuses 'bft' without a secret.
 *
 * Checks are pure functions of (signer's key, bytes, signature), and the engine checks one
 * prepare several times (alone, then inside certificates), so answers are memoized: bounded by
 * `verifyMemoEntriesMax`, cleared whole when full. Imported public keys are cached per signer
 * (at most `importedKeysMax`). Never throws on a peer's input: a malformed key or signature is
 * false. A failure to SIGN is this node's own (its key store is broken): reported to `onError`,
 * and the node stops (the engine's request is never answered).
 */
import type { SignedPayload, VerifyItem } from '../../core/bft/proof-requests.ts';
import type { Signature } from '../../core/bft/types.ts';
import { bftSignerNode } from '../bft-client-id.ts';
import { bftSignedBytes } from './bft-canonical.ts';
import type { BftCryptoProvider } from './bft-crypto.ts';
import { toHex } from './bytes.ts';
import { identitySignatureBytes } from './identity.ts';
import { sha256 } from './sha256.ts';

export interface WebCryptoBftKeys {
  /** Sign `data` with this node's identity key (identity.ts `NodeIdentity.sign`). */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** The raw P-256 public key of `node` (this node's own included), or undefined while none is known. */
  publicKey(node: string): Uint8Array | undefined;
}

export interface WebCryptoBftOptions {
  /** How long a check waits for an unknown signer's key before it answers false; default 2,000 ms. */
  readonly keyWaitMs?: number;
  /** How often it looks meanwhile; default 25 ms. */
  readonly keyPollMs?: number;
  readonly verifyMemoEntriesMax?: number;
  /** Our own signing failed: the node cannot take part any more. */
  readonly onError?: (error: unknown) => void;
}

export const importedKeysMax = 256;
export const verifyMemoEntriesMaxDefault = 20_000;
const keyAlgorithm: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };
const signAlgorithm: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export class WebCryptoBftProvider implements BftCryptoProvider {
  /** Checks made, answered from the memo, and answered false for want of a key. */
  readonly metrics = { verifies: 0, verifiesMemoized: 0, keysMissing: 0, signs: 0 };
  private readonly imported = new Map<string, { readonly raw: string; readonly key: Promise<CryptoKey | null> }>();
  private readonly memo = new Map<string, boolean>();
  private readonly keyWaitMs: number;
  private readonly keyPollMs: number;
  private readonly memoMax: number;

  constructor(
    private readonly keys: WebCryptoBftKeys,
    private readonly options: WebCryptoBftOptions = {},
  ) {
    this.keyWaitMs = options.keyWaitMs ?? 2_000;
    this.keyPollMs = Math.max(1, options.keyPollMs ?? 25);
    this.memoMax = options.verifyMemoEntriesMax ?? verifyMemoEntriesMaxDefault;
  }

  sign(payloads: readonly SignedPayload[], done: (signatures: readonly Signature[]) => void): void {
    this.metrics.signs += payloads.length;
    Promise.all(payloads.map((p) => this.keys.sign(bftSignedBytes(p)))).then(done, (error: unknown) => this.options.onError?.(error));
  }

  verify(items: readonly VerifyItem[], done: (valid: readonly boolean[]) => void): void {
    Promise.all(items.map((item) => this.verifyItem(item).catch(() => false))).then(done, () => done(items.map(() => false)));
  }

  private async verifyItem(item: VerifyItem): Promise<boolean> {
    this.metrics.verifies++;
    if (!(item.signature instanceof Uint8Array) || item.signature.length !== identitySignatureBytes) return false;
    const bytes = bftSignedBytes(item.payload);
    const node = bftSignerNode(item.signer);
    const memoKey = `${node}\u0000${toHex(sha256(bytes))}\u0000${toHex(item.signature)}`;
    const memo = this.memo.get(memoKey);
    if (memo !== undefined) {
      this.metrics.verifiesMemoized++;
      return memo;
    }
    const key = await this.keyOf(node);
    if (key === null) {
      this.metrics.keysMissing++;
      return false;
    }
    const valid = await crypto.subtle.verify(signAlgorithm, key, new Uint8Array(item.signature), bytes as Uint8Array<ArrayBuffer>);
    if (this.memo.size >= this.memoMax) this.memo.clear();
    this.memo.set(memoKey, valid);
    return valid;
  }

  /** `node`'s imported key, waiting up to `keyWaitMs` for it to be published; null when none comes or it is no P-256 point. */
  private async keyOf(node: string): Promise<CryptoKey | null> {
    let raw = this.keys.publicKey(node);
    for (let waited = 0; raw === undefined && waited < this.keyWaitMs; waited += this.keyPollMs) {
      await new Promise((resolve) => setTimeout(resolve, this.keyPollMs));
      raw = this.keys.publicKey(node);
    }
    if (raw === undefined) return null;
    const rawHex = toHex(raw);
    const held = this.imported.get(node);
    if (held !== undefined && held.raw === rawHex) return held.key;
    if (this.imported.size >= importedKeysMax) this.imported.clear();
    const key = crypto.subtle.importKey('raw', new Uint8Array(raw), keyAlgorithm, false, ['verify']).catch(() => null);
    this.imported.set(node, { raw: rawHex, key });
    return key;
  }
}
