/**
 * Hostile input to a replica (TESTING.md "Hostile peers"): the validator refuses every
 * malformed message with a typed code (absurd views and seqs, oversize batches and ops, bad
 * digests and ids, missing and extra fields), and the engine answers `dropped`, counts it and
 * never throws. Well-formed but hostile messages are counted too (a pre-prepare from a backup,
 * a seq beyond the watermarks, a checkpoint in another's name, a message for someone else), and a
 * flood from one peer fills only its own share of the crypto budget (Aardvark §4.4). A seeded
 * fuzzer of mutated messages leaves the replica within its bounds and still live.
 */
import { describe, expect, it } from 'vitest';
import { BftReplica } from '../../../src/core/bft/replica.ts';
import type { BftRefusalCode } from '../../../src/core/bft/counters.ts';
import type { BftInput } from '../../../src/core/bft/local-input.ts';
import { readBftMessage } from '../../../src/core/bft/validate-bft.ts';
import { seqMax, viewMax } from '../../../src/core/bft/limits.ts';
import { createPrng } from '../../../src/core/prng.ts';
import { BftNetwork } from './bft-network.ts';
import { batchDigest, makeRequest, performCrypto, signAs } from './test-crypto.ts';

const d = 'a'.repeat(64);
const sig = new Uint8Array(64);
const prepare = { type: 'prepare', from: 'r2', to: 'r1', view: 0, seq: 1, digest: d, signature: sig };
const req = makeRequest('c', 1, 'x');
const pp = { type: 'pre-prepare', from: 'r0', to: 'r1', header: { view: 0, seq: 1, digest: d, signature: sig }, requests: [req] };

const cases: [string, unknown, BftRefusalCode][] = [
  ['null', null, 'NOT_A_MAP'],
  ['an array', [prepare], 'NOT_A_MAP'],
  ['a class instance', new Date(0), 'NOT_A_MAP'],
  ['no type', { from: 'r2', to: 'r1' }, 'BAD_FIELDS'],
  ['an unknown type', { ...prepare, type: 'hello' }, 'UNKNOWN_TYPE'],
  ['a reply sent to a replica', { ...prepare, type: 'reply' }, 'UNKNOWN_TYPE'],
  ['a missing field', { type: 'commit', from: 'r2', to: 'r1', view: 0, seq: 1 }, 'BAD_FIELDS'],
  ['an extra field', { ...prepare, admin: true }, 'BAD_FIELDS'],
  ['view 2^53 - 1', { ...prepare, view: Number.MAX_SAFE_INTEGER }, 'OUT_OF_RANGE'],
  ['view above viewMax', { ...prepare, view: viewMax + 1 }, 'OUT_OF_RANGE'],
  ['seq 0', { ...prepare, seq: 0 }, 'OUT_OF_RANGE'],
  ['seq above seqMax', { ...prepare, seq: seqMax + 1 }, 'OUT_OF_RANGE'],
  ['a float seq', { ...prepare, seq: 1.5 }, 'BAD_VALUE'],
  ['NaN', { ...prepare, view: Number.NaN }, 'BAD_VALUE'],
  ['a string view', { ...prepare, view: '0' }, 'BAD_VALUE'],
  ['a short digest', { ...prepare, digest: 'abc' }, 'BAD_DIGEST'],
  ['an uppercase digest', { ...prepare, digest: 'A'.repeat(64) }, 'BAD_DIGEST'],
  ['a signature of 1 KiB', { ...prepare, signature: new Uint8Array(1024) }, 'TOO_LARGE'],
  ['a signature that is not bytes', { ...prepare, signature: [1, 2] }, 'BAD_VALUE'],
  ['257 requests in a pre-prepare', { ...pp, requests: Array.from({ length: 257 }, () => req) }, 'TOO_MANY_ITEMS'],
  ['a million requests', { ...pp, requests: new Array(1_000_000) }, 'TOO_MANY_ITEMS'],
  ['an op of 65 KiB', { type: 'request', from: 'c', to: 'r0', request: { ...req, op: new Uint8Array(65 * 1024) } }, 'TOO_LARGE'],
  ['a timestamp of 0', { type: 'request', from: 'c', to: 'r0', request: { ...req, timestamp: 0 } }, 'OUT_OF_RANGE'],
  ['an empty id', { ...prepare, from: '' }, 'BAD_ID'],
  ['an id of 129 units', { ...prepare, from: 'x'.repeat(129) }, 'BAD_ID'],
  ['a control character in an id', { ...prepare, from: 'r2\n' }, 'BAD_ID'],
  ['a bidi override in a client id', { type: 'request', from: 'c', to: 'r0', request: { ...req, client: 'c\u202e' } }, 'BAD_ID'],
  ['a new-view with seqs out of order', { type: 'new-view', from: 'r1', to: 'r2', view: 1, viewChanges: [], prePrepares: [2, 1].map((seq) => ({ header: { view: 1, seq, digest: d, signature: sig }, requests: [] })) }, 'INCONSISTENT'],
  ['a view-change with 300 prepared certificates', { type: 'view-change', from: 'r3', to: 'r1', viewChange: { signature: sig, body: { newView: 1, replica: 'r3', checkpoint: null, prepared: new Array(300).fill(null) } } }, 'TOO_MANY_ITEMS'],
  ['a vote proposal of 65 KiB', { type: 'vote-request', from: 'r2', to: 'r1', voteId: 'r2/1', proposal: new Uint8Array(65 * 1024) }, 'TOO_LARGE'],
];

const solo = (): BftReplica => new BftReplica({ id: 'r1', replicas: ['r0', 'r1', 'r2', 'r3'] });

describe('validator and engine refuse malformed messages', () => {
  it.each(cases)('%s -> %s', (_name, input, code) => {
    const read = readBftMessage(input);
    expect(read.ok ? 'accepted' : read.error.code).toBe(code);
    const r = solo();
    expect(r.step(input as BftInput)).toEqual({ ok: true, value: { kind: 'dropped', code } });
    expect(r.status().counters.refused[code]).toBe(1);
    expect(r.hasReady()).toBe(false);
  });
});

describe('well-formed hostile messages are counted and change nothing', () => {
  it('a pre-prepare from a backup, beyond the watermarks, of a future view; a checkpoint of a non-replica; a message for another', () => {
    const r = solo();
    r.step({ ...pp, from: 'r2' } as BftInput);
    r.step({ ...pp, header: { ...pp.header, seq: 33 } } as BftInput);
    r.step({ type: 'commit', from: 'r2', to: 'r1', view: 0, seq: 1000, digest: d });
    r.step({ type: 'checkpoint', from: 'r2', to: 'r1', checkpoint: { replica: 'mallory', seq: 16, stateDigest: d, signature: sig } });
    r.step({ ...prepare, to: 'r3' } as BftInput);
    r.step({ ...prepare, from: 'r0' } as BftInput);
    const c = r.status().counters;
    expect(c.notPrimary).toBe(2);
    expect(c.outsideWatermarks).toBe(2);
    expect(c.wrongSender).toBe(1);
    expect(c.messagesMisrouted).toBe(1);
    expect(r.status().view).toBe(0);
    expect(r.hasReady()).toBe(false);
  });

  it('a flood of prepares from one peer fills only its own crypto share; another peer still gets checked', () => {
    const r = new BftReplica({ id: 'r1', replicas: ['r0', 'r1', 'r2', 'r3'], perSenderPendingMax: 8 });
    for (let i = 0; i < 10_000; i++) r.step({ ...prepare, from: 'r3', seq: 1 + (i % 32), signature: new Uint8Array([i & 255, i >> 8]) } as BftInput);
    expect(r.status().cryptoPending).toBe(8);
    expect(r.status().counters.perSenderDropped).toBe(10_000 - 8);
    r.step({ ...prepare, from: 'r2', signature: signAs('r2', { kind: 'prepare', view: 0, seq: 1, digest: d, replica: 'r2' }) } as BftInput);
    expect(r.status().cryptoPending).toBe(9);
  });

  it('a seeded fuzzer of mutated messages never throws, stays bounded, and the cluster still commits', () => {
    const net = new BftNetwork({ seed: 21 });
    net.addClient('a');
    net.submit('a', 'warm-up');
    expect(net.runUntil(() => net.completed('a').length === 1, 500)).toBeGreaterThanOrEqual(0);
    const prng = createPrng(77);
    const seeds: unknown[] = [prepare, pp, { type: 'commit', from: 'r2', to: 'r1', view: 0, seq: 2, digest: d }, { type: 'checkpoint', from: 'r2', to: 'r1', checkpoint: { replica: 'r2', seq: 16, stateDigest: d, signature: sig } }, { type: 'view-change', from: 'r3', to: 'r1', viewChange: { signature: sig, body: { newView: 1, replica: 'r3', checkpoint: null, prepared: [] } } }, { type: 'vote-answer', from: 'r2', to: 'r1', voteId: 'r1/1', value: sig }];
    const junk: unknown[] = [null, -1, 0, 2 ** 53, 'x', '', new Uint8Array(3), [], {}, viewMax, true, d, 'r3', 1.5];
    const r1 = net.replica('r1');
    for (let i = 0; i < 5000; i++) {
      const base = seeds[prng.nextInt(seeds.length)] as Record<string, unknown>;
      const keys = Object.keys(base);
      const m = { ...base, [keys[prng.nextInt(keys.length)] as string]: junk[prng.nextInt(junk.length)] };
      expect(() => r1.step(m as BftInput)).not.toThrow();
      net.flush('r1');
    }
    const st = r1.status();
    expect(st.view).toBe(0);
    expect(st.pendingRequests).toBeLessThanOrEqual(r1.config().pendingRequestsMax);
    net.submit('a', 'after');
    expect(net.runUntil(() => net.completed('a').length === 2, 500)).toBeGreaterThanOrEqual(0);
    expect(net.disagreements()).toEqual([]);
  });
});

describe('crypto budget under a client flood', () => {
  it('requests from many clients fill only the clients\' budget: the primary\'s pre-prepare is still checked and prepared', () => {
    const r = new BftReplica({ id: 'r1', replicas: ['r0', 'r1', 'r2', 'r3'], cryptoRequestsPendingMax: 16 });
    for (let i = 0; i < 100; i++) r.step({ type: 'request', from: `c${i}`, to: 'r1', request: makeRequest(`c${i}`, 1, 'x') });
    expect(r.status().cryptoPending).toBe(16);
    expect(r.status().counters.cryptoBusy).toBe(84);
    const batch = [makeRequest('z', 1, 'y')];
    const digest = batchDigest(batch.map((x) => x.digest));
    r.step({ type: 'pre-prepare', from: 'r0', to: 'r1', header: { view: 0, seq: 1, digest, signature: signAs('r0', { kind: 'pre-prepare', view: 0, seq: 1, digest }) }, requests: batch });
    expect(r.status().cryptoPending).toBe(17);
    // Play the host: answer every crypto request until the signed prepare goes out.
    let prepared = false;
    for (let round = 0; round < 5 && !prepared; round++) {
      const rd = r.ready();
      prepared = [...rd.messagesBeforeWrite, ...rd.messagesAfterWrite].some((m) => m.type === 'prepare');
      r.advance();
      for (const c of rd.cryptoRequests) r.step({ local: 'crypto-result', result: performCrypto('r1', c) });
    }
    expect(prepared).toBe(true);
  });
});
