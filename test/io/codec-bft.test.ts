/**
 * The `bft` body codec (src/io/codec-bft.ts): every message type of the BFT engine (replies
 * included) round-trips through msgpack unchanged, as fresh objects sharing no memory with the
 * frame; every request digest is computed at decode from the request's body, whatever the
 * sender wrote (alone, in a pre-prepare, in a view-change's certificates, in a new-view); a body
 * speaks only for the envelope's sender (its own client alias for requests, the receiver's
 * client alias for replies, nobody else's); hostile bodies (unknown types, missing and extra
 * fields, unsafe and out-of-range integers, oversize batches, ops and signatures, bad digests and
 * ids, 4 MiB of empty maps) are refused with their codes; and 5,000 mutated or random bodies
 * never throw, while whatever they decode to passes the core's validator again. Registered for
 * the router: `decodeFamilyBody` reads `bft` bodies.
 */
import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import type { BftMessage, SignedViewChange } from '../../src/core/bft/messages.ts';
import type { BftWireMessage } from '../../src/io/codec-bft.ts';
import { readBftMessage, readReplyMessage } from '../../src/core/bft/validate-bft.ts';
import { opBytesMax, requestsPerBatchMax, viewMax } from '../../src/core/bft/limits.ts';
import type { PreparedCertificate, SignedRequest } from '../../src/core/bft/types.ts';
import { createPrng } from '../../src/core/prng.ts';
import { bftClientIdOf } from '../../src/io/bft-client-id.ts';
import { decodeBftBody, encodeBftBody, tryEncodeBftBody } from '../../src/io/codec-bft.ts';
import { createFamilyCodecs, decodeFamilyBody } from '../../src/io/family-codecs.ts';
import { batchDigestOf, requestDigestOf } from '../../src/io/crypto/bft-digests.ts';
import { makeRequest, signAs } from '../core/bft/test-crypto.ts';
import { stateBytesMax, stateChunkBytes, stateReplies, type BftStateReply } from '../../src/io/bft-state-messages.ts';

const ctx = { from: 'b', to: 'a' };
const digest = 'ab'.repeat(32);
const sig = new Uint8Array(64).fill(7);
/** A signed request with its digest as the decoder computes it. */
function request(client: string, timestamp: number, op: string): SignedRequest {
  const r = makeRequest(client, timestamp, op);
  return { ...r, digest: requestDigestOf(r) };
}
const r1 = request(bftClientIdOf('c'), 1, 'write x');
const r2 = request(bftClientIdOf('d'), 4, 'write y');
const header = { view: 2, seq: 9, digest: batchDigestOf([r1.digest, r2.digest]), signature: sig };
const cert: PreparedCertificate = { prePrepare: header, requests: [r1, r2], prepares: [{ replica: 'c', signature: sig }, { replica: 'd', signature: sig }] };
const vc: SignedViewChange = {
  body: { newView: 3, replica: 'b', checkpoint: { seq: 8, stateDigest: digest, proofs: [{ replica: 'a', seq: 8, stateDigest: digest, signature: sig }] }, prepared: [cert] },
  signature: signAs('b', { kind: 'view-change', body: { newView: 3, replica: 'b', checkpoint: null, prepared: [] } }),
};

const samples: BftMessage[] = [
  { type: 'request', from: 'b', to: 'a', request: r1 },
  { type: 'pre-prepare', from: 'b', to: 'a', header, requests: [r1, r2] },
  { type: 'prepare', from: 'b', to: 'a', view: 2, seq: 9, digest, signature: sig },
  { type: 'commit', from: 'b', to: 'a', view: 2, seq: 9, digest },
  { type: 'reply', from: 'b', to: 'a', view: 2, timestamp: 4, readOnly: false, outcome: 'ok', result: new Uint8Array([1, 2, 3]) },
  { type: 'checkpoint', from: 'b', to: 'a', checkpoint: { replica: 'b', seq: 8, stateDigest: digest, signature: sig } },
  { type: 'view-change', from: 'b', to: 'a', viewChange: vc },
  { type: 'new-view', from: 'b', to: 'a', view: 3, viewChanges: [vc], prePrepares: [{ header: { ...header, view: 3 }, requests: [r1, r2] }] },
  { type: 'vote-request', from: 'b', to: 'a', voteId: 'b/1', proposal: new Uint8Array([9]) },
  { type: 'vote-answer', from: 'b', to: 'a', voteId: 'a/1', value: new Uint8Array([9]) },
  { type: 'status', from: 'b', to: 'a', view: 2, viewChanging: false, lastExecutedSeq: 9, stableSeq: 8 },
];

const forged = (r: SignedRequest): SignedRequest => ({ ...r, digest: 'f'.repeat(64) });

function refused(body: Uint8Array, code: string, c: { from: string; to: string } = ctx): void {
  const r = decodeBftBody(body, c);
  expect(r.ok, `expected ${code}`).toBe(false);
  if (!r.ok) expect(r.error.code).toBe(code);
}

/** `m` as plain msgpack, bypassing our encoder's checks (a hostile sender's bytes). */
const raw = (m: unknown): Uint8Array => new Uint8Array(pack(m));

describe('bft codec: round trips', () => {
  it('every message type comes back equal, with no memory shared with the frame', () => {
    expect(new Set(samples.map((m) => m.type)).size).toBe(11);
    for (const m of samples) {
      const body = encodeBftBody(m);
      const r = decodeBftBody(body, ctx);
      expect(r.ok, m.type).toBe(true);
      if (!r.ok) continue;
      expect(r.value).toEqual(m);
      body.fill(0);
      expect(r.value, `${m.type} after the frame was overwritten`).toEqual(m);
    }
  });

  it('request digests are computed at decode, never read from the wire', () => {
    const bad: BftMessage[] = [
      { type: 'request', from: 'b', to: 'a', request: forged(r1) },
      { type: 'pre-prepare', from: 'b', to: 'a', header, requests: [forged(r1), forged(r2)] },
      { type: 'view-change', from: 'b', to: 'a', viewChange: { ...vc, body: { ...vc.body, prepared: [{ ...cert, requests: [forged(r1), r2] }] } } },
      { type: 'new-view', from: 'b', to: 'a', view: 3, viewChanges: [vc], prePrepares: [{ header: { ...header, view: 3 }, requests: [forged(r2)] }] },
    ];
    const digests = (m: BftWireMessage): string[] => JSON.stringify(m).match(/"digest":"[0-9a-f]{64}"/g) ?? [];
    for (const m of bad) {
      const r = decodeBftBody(encodeBftBody(m), ctx);
      expect(r.ok).toBe(true);
      if (r.ok) expect(digests(r.value).some((d) => d.includes('f'.repeat(64))), m.type).toBe(false);
    }
    const r = decodeBftBody(encodeBftBody(bad[0] as BftMessage), ctx);
    if (r.ok && r.value.type === 'request') expect(r.value.request.digest).toBe(r1.digest);
  });

  it('the router reads bft bodies through decodeFamilyBody', () => {
    const r = decodeFamilyBody(createFamilyCodecs(), { family: 'bft', cluster: 'c', from: 'b', to: 'a', body: encodeBftBody(samples[3] as BftMessage) });
    expect(r.ok && r.value.family === 'bft' && r.value.message.type).toBe('commit');
  });
});

describe('bft codec: a body speaks only for its envelope', () => {
  it('from and to must be the envelope`s; client aliases only where a client speaks or is spoken to', () => {
    refused(encodeBftBody(samples[3] as BftMessage), 'INVALID_MESSAGE', { from: 'c', to: 'a' });
    refused(encodeBftBody(samples[3] as BftMessage), 'INVALID_MESSAGE', { from: 'b', to: 'c' });
    // b's client may send a request in b's frames; not c's client, and not a commit.
    expect(decodeBftBody(encodeBftBody({ type: 'request', from: bftClientIdOf('b'), to: 'a', request: r1 }), ctx).ok).toBe(true);
    refused(encodeBftBody({ type: 'request', from: bftClientIdOf('c'), to: 'a', request: r1 }), 'INVALID_MESSAGE');
    refused(encodeBftBody({ type: 'commit', from: bftClientIdOf('b'), to: 'a', view: 1, seq: 1, digest }), 'INVALID_MESSAGE');
    // A reply may go to a's client in a frame to a; a request may not be addressed to it.
    const reply = samples[4] as BftMessage;
    expect(decodeBftBody(encodeBftBody({ ...reply, to: bftClientIdOf('a') } as BftMessage), ctx).ok).toBe(true);
    refused(encodeBftBody({ ...reply, to: bftClientIdOf('e') } as BftMessage), 'INVALID_MESSAGE');
    refused(encodeBftBody({ type: 'request', from: 'b', to: bftClientIdOf('a'), request: r1 }), 'INVALID_MESSAGE');
  });
});

describe('bft codec: hostile bodies', () => {
  const prepare = { type: 'prepare', from: 'b', to: 'a', view: 2, seq: 9, digest, signature: sig };
  it('each refused with its code', () => {
    refused(raw({ ...prepare, type: 'heartbeat' }), 'UNKNOWN_TYPE');
    refused(raw({ ...prepare, extra: 1 }), 'INVALID_MESSAGE');
    refused(raw({ type: 'prepare', from: 'b', to: 'a', view: 2, seq: 9, digest }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, view: 2 ** 53 - 1 }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, view: viewMax + 1 }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, view: -1 }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, view: 1.5 }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, seq: 0 }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, digest: 'AB'.repeat(32) }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, signature: new Uint8Array(257) }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, signature: 'not bytes' }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, from: 'b\u0000' }), 'INVALID_MESSAGE');
    refused(raw({ ...prepare, from: 'x'.repeat(65) }), 'INVALID_MESSAGE', { from: 'x'.repeat(65), to: 'a' });
    refused(raw({ type: 'request', from: 'b', to: 'a', request: { ...r1, op: new Uint8Array(opBytesMax + 1) } }), 'INVALID_MESSAGE');
    refused(raw({ type: 'pre-prepare', from: 'b', to: 'a', header, requests: Array.from({ length: requestsPerBatchMax + 1 }, () => r1) }), 'INVALID_MESSAGE');
    refused(raw({ type: 'reply', from: 'b', to: 'a', view: 2, timestamp: 4, readOnly: false, outcome: 'maybe', result: new Uint8Array(0) }), 'INVALID_MESSAGE');
    refused(raw([1, 2, 3]), 'INVALID_MESSAGE');
    refused(raw('prepare'), 'INVALID_MESSAGE');
    refused(new Uint8Array([0xc1]), 'MALFORMED');
    refused(encodeBftBody(samples[1] as BftMessage).subarray(0, 40), 'MALFORMED');
    // 4 MiB of empty maps: refused by the pre-scan before a value is built.
    refused(raw(Array.from({ length: 4 * 1024 * 1024 }, () => ({}))), 'FRAME_TOO_LARGE');
    refused(raw(Array.from({ length: 100_000 }, () => ({}))), 'TOO_MANY_VALUES');
  });

  it('our encoder refuses what receivers would refuse', () => {
    expect(tryEncodeBftBody({ ...(samples[2] as BftMessage), view: viewMax + 1 } as BftMessage).ok).toBe(false);
  });

  it('5,000 mutated or random bodies never throw; what decodes passes the core validator again', () => {
    const prng = createPrng(13);
    const bodies = samples.map((m) => encodeBftBody(m));
    let accepted = 0;
    for (let i = 0; i < 5_000; i++) {
      const base = bodies[prng.nextInt(bodies.length)] as Uint8Array;
      let body: Uint8Array;
      const how = prng.nextInt(3);
      if (how === 0) {
        body = base.slice();
        for (let k = 0, n = 1 + prng.nextInt(4); k < n; k++) body[prng.nextInt(body.length)] = prng.nextInt(256);
      } else if (how === 1) body = base.slice(0, prng.nextInt(base.length));
      else body = Uint8Array.from({ length: prng.nextInt(200) }, () => prng.nextInt(256));
      const r = decodeBftBody(body, ctx);
      if (!r.ok) continue;
      accepted++;
      const again = r.value.type === 'reply' ? readReplyMessage(r.value) : readBftMessage(r.value);
      expect(again.ok).toBe(true);
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('bft codec: state transfer bodies (bft-state-messages.ts)', () => {
  it('round trip; refused when malformed, inconsistent, oversized or speaking for another', () => {
    const data = new Uint8Array(stateChunkBytes + 3).fill(7);
    const replies = stateReplies('b', 'a', 32, data);
    for (const m of [{ type: 'state-request', from: 'b', to: 'a', seq: 32 } as const, ...replies]) {
      const r = decodeBftBody(encodeBftBody(m), ctx);
      expect(r.ok && r.value).toEqual(m);
    }
    const last = replies[1] as BftStateReply;
    refused(raw({ type: 'state-request', from: 'b', to: 'a', seq: 0 }), 'INVALID_MESSAGE');
    refused(raw({ type: 'state-request', from: 'b', to: 'a', seq: 1, extra: 1 }), 'INVALID_MESSAGE');
    refused(raw({ type: 'state-request', from: 'c', to: 'a', seq: 1 }), 'INVALID_MESSAGE');
    refused(raw({ type: 'state-request', from: bftClientIdOf('b'), to: 'a', seq: 1 }), 'INVALID_MESSAGE');
    refused(raw({ ...last, chunks: 3 }), 'INVALID_MESSAGE');
    refused(raw({ ...last, chunk: 2 }), 'INVALID_MESSAGE');
    refused(raw({ ...last, data: new Uint8Array(4) }), 'INVALID_MESSAGE');
    refused(raw({ ...last, stateBytes: stateBytesMax + 1 }), 'INVALID_MESSAGE');
    refused(raw({ ...replies[0], data: new Uint8Array(stateChunkBytes + 1) }), 'INVALID_MESSAGE');
    refused(raw({ ...last, data: 'bytes' }), 'INVALID_MESSAGE');
    expect(tryEncodeBftBody({ ...last, chunk: -1 }).ok).toBe(false);
  });
});
