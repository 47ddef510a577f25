/**
 * SHA-256 digests for the BFT engine, synchronous (sha256.ts) so that every host, the simulator
 * and the browser alike, computes them inline: request digests, batch digests and state digests.
 *
 * `withRequestDigests` is the decoder's duty the engine relies on (src/core/bft/types.ts
 * `SignedRequest.digest`): every request in a message, alone or inside a pre-prepare, a prepared
 * certificate or a new-view, gets its digest recomputed from its body, whatever the sender put
 * there. A Byzantine sender therefore cannot pair a body with another body's digest; the
 * signature check the engine asks for does the rest.
 */
import type { BftMessage, SignedViewChange } from '../../core/bft/messages.ts';
import type { Digest, RequestBody, SignedRequest } from '../../core/bft/types.ts';
import { bftDigestBytes, bftRequestBytes } from './bft-canonical.ts';
import { toHex } from './bytes.ts';
import { sha256 } from './sha256.ts';

export function requestDigestOf(body: RequestBody): Digest {
  return toHex(sha256(bftRequestBytes(body)));
}

/** A batch's digest over its requests' digests, in order (crypto.ts `batch`; empty: the null request). */
export function batchDigestOf(requestDigests: readonly Digest[]): Digest {
  return toHex(sha256(bftDigestBytes({ kind: 'batch', requestDigests })));
}

/** The digest of a state machine's checkpointed state (the host's snapshot bytes). */
export function stateDigestOf(state: Uint8Array): Digest {
  return toHex(sha256(state));
}

function redigest(r: SignedRequest): SignedRequest {
  return { ...r, digest: requestDigestOf(r) };
}

function redigestViewChange(vc: SignedViewChange): SignedViewChange {
  return { ...vc, body: { ...vc.body, prepared: vc.body.prepared.map((c) => ({ ...c, requests: c.requests.map(redigest) })) } };
}

/** `m` with every request digest computed from its request (see the header). */
export function withRequestDigests<M extends BftMessage>(m: M): M {
  switch (m.type) {
    case 'request':
      return { ...m, request: redigest(m.request) };
    case 'pre-prepare':
      return { ...m, requests: m.requests.map(redigest) };
    case 'view-change':
      return { ...m, viewChange: redigestViewChange(m.viewChange) };
    case 'new-view':
      return { ...m, viewChanges: m.viewChanges.map(redigestViewChange), prePrepares: m.prePrepares.map((p) => ({ ...p, requests: p.requests.map(redigest) })) };
    default:
      return m;
  }
}
