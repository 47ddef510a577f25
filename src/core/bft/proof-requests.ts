/**
 * The crypto the engine asks of its host (DESIGN.md §2 item 4: core computes no SHA-256, no
 * signature). Three operations, as Ready items (`cryptoRequests`) whose answers come back as
 * the local input `crypto-result`, matched by `id`:
 *
 *   - `sign`: sign each payload with this node's identity key (a client: its key); one
 *     signature per payload, in order (a new primary signs the pre-prepares of a new view at once).
 *   - `verify`: check each item's signature by its `signer`'s public key; one answer per item.
 *     The items of one request all serve one decision (a request batch, a view-change and its
 *     certificates), so the host may check them in one go.
 *   - `digest`: SHA-256 of each payload's canonical encoding (a batch digest over its requests'
 *     digests); one digest per payload, in order.
 *
 * The host encodes a payload canonically (its codec: the same bytes on every host) before it
 * signs, verifies or hashes; a signature is bound to its `kind`, so a prepare's signature never
 * passes as a checkpoint's. Request digests need no round trip: the decoder computes them
 * (types.ts `SignedRequest.digest`).
 *
 * Why this design, and not messages checked by the runtime alone: link MACs (the runtime's
 * pairwise HMAC) prove who SENT a frame, which is all a replica needs for what it uses itself;
 * what it forwards and what others must check (requests inside pre-prepares, certificates of a
 * view change) must be checkable by parties who do not share the link key, so it is signed.
 *
 * Bounded: at most `cryptoRequestsPendingMax` requests outstanding (config.ts); an input that
 * would need one more is dropped and counted (`counters.cryptoBusy`); peers retransmit.
 */
import type { ViewChangeBody } from './messages.ts';
import type { ClientId, Digest, ReplicaId, RequestBody, Signature } from './types.ts';

/** What a signature covers. */
export type SignedPayload =
  | ({ readonly kind: 'request' } & RequestBody)
  | { readonly kind: 'pre-prepare'; readonly view: number; readonly seq: number; readonly digest: Digest }
  | { readonly kind: 'prepare'; readonly view: number; readonly seq: number; readonly digest: Digest; readonly replica: ReplicaId }
  | { readonly kind: 'checkpoint'; readonly seq: number; readonly stateDigest: Digest; readonly replica: ReplicaId }
  | { readonly kind: 'view-change'; readonly body: ViewChangeBody };

/** What a digest is taken of. */
export type DigestPayload =
  /** A batch (PBFT §4.2 `d` with TOCS §5.1.4 batching): its requests' digests in order; empty for the null request. */
  { readonly kind: 'batch'; readonly requestDigests: readonly Digest[] };

export interface VerifyItem {
  /** The replica or client whose public key checks the signature. */
  readonly signer: ReplicaId | ClientId;
  readonly payload: SignedPayload;
  readonly signature: Signature;
}

export type CryptoRequest =
  | { readonly id: number; readonly op: 'sign'; readonly payloads: readonly SignedPayload[] }
  | { readonly id: number; readonly op: 'verify'; readonly items: readonly VerifyItem[] }
  | { readonly id: number; readonly op: 'digest'; readonly payloads: readonly DigestPayload[] };

export type CryptoResult =
  | { readonly id: number; readonly op: 'sign'; readonly signatures: readonly Signature[] }
  /** One flag per item, in order; a signer without a known key is `false`. */
  | { readonly id: number; readonly op: 'verify'; readonly valid: readonly boolean[] }
  | { readonly id: number; readonly op: 'digest'; readonly digests: readonly Digest[] };
