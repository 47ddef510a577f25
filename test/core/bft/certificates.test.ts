/**
 * Forged certificates are refused (PBFT §4.4: third parties check view-change and new-view
 * content by its signatures). A Byzantine replica's view-change is refused and counted, and
 * changes nothing at the receiver, when it carries prepares signed by someone other than who
 * they name, a checkpoint certificate short of 2F + 1 proofs or with forged ones, a genuine
 * certificate whose requests were swapped (the batch digest no longer matches what the primary
 * signed), or a body naming another replica. A Byzantine new primary's new-view whose O is not
 * the one its view-changes give is refused.
 */
import { describe, expect, it } from 'vitest';
import type { SignedViewChange, ViewChangeBody } from '../../../src/core/bft/messages.ts';
import type { PreparedCertificate } from '../../../src/core/bft/types.ts';
import { BftNetwork } from './bft-network.ts';
import { batchDigest, makeRequest, signAs } from './test-crypto.ts';

function signedVc(signer: string, body: ViewChangeBody): SignedViewChange {
  return { body, signature: signAs(signer, { kind: 'view-change', body }) };
}

/** A genuine prepared certificate for `requests` at (view 0, seq), signed by r0 (primary) and r1, r2. */
function genuineCert(seq: number, requests = [makeRequest('alice', 1, 'pay bob')]): PreparedCertificate {
  const digest = batchDigest(requests.map((r) => r.digest));
  return {
    prePrepare: { view: 0, seq, digest, signature: signAs('r0', { kind: 'pre-prepare', view: 0, seq, digest }) },
    requests,
    prepares: ['r1', 'r2'].map((replica) => ({ replica, signature: signAs(replica, { kind: 'prepare', view: 0, seq, digest, replica }) })),
  };
}

function sendVc(net: BftNetwork, from: string, to: string, vc: SignedViewChange): void {
  net.deliverNow({ type: 'view-change', from, to, viewChange: vc });
}

describe('forged certificates', () => {
  const cases: [string, (base: ViewChangeBody) => { from: string; vc: SignedViewChange }][] = [
    ['prepares signed by the sender in others\' names', (b) => {
      const c = genuineCert(1);
      const forged = { ...c, prepares: c.prepares.map((p) => ({ ...p, signature: signAs('r3', { kind: 'prepare', view: 0, seq: 1, digest: c.prePrepare.digest, replica: p.replica }) })) };
      return { from: 'r3', vc: signedVc('r3', { ...b, prepared: [forged] }) };
    }],
    ['a pre-prepare not signed by the primary of its view', (b) => {
      const c = genuineCert(1);
      return { from: 'r3', vc: signedVc('r3', { ...b, prepared: [{ ...c, prePrepare: { ...c.prePrepare, signature: signAs('r3', { kind: 'pre-prepare', view: 0, seq: 1, digest: c.prePrepare.digest }) } }] }) };
    }],
    ['a genuine certificate with its requests swapped', (b) => {
      const c = genuineCert(1);
      return { from: 'r3', vc: signedVc('r3', { ...b, prepared: [{ ...c, requests: [makeRequest('alice', 1, 'pay mallory')] }] }) };
    }],
    ['a checkpoint certificate of 2 proofs', (b) => {
      const proofs = ['r2', 'r3'].map((replica) => ({ replica, seq: 16, stateDigest: 'a'.repeat(64), signature: signAs(replica, { kind: 'checkpoint', seq: 16, stateDigest: 'a'.repeat(64), replica }) }));
      return { from: 'r3', vc: signedVc('r3', { ...b, checkpoint: { seq: 16, stateDigest: 'a'.repeat(64), proofs } }) };
    }],
    ['a checkpoint certificate with forged proofs', (b) => {
      const proofs = ['r1', 'r2', 'r3'].map((replica) => ({ replica, seq: 16, stateDigest: 'a'.repeat(64), signature: signAs('r3', { kind: 'checkpoint', seq: 16, stateDigest: 'a'.repeat(64), replica }) }));
      return { from: 'r3', vc: signedVc('r3', { ...b, checkpoint: { seq: 16, stateDigest: 'a'.repeat(64), proofs } }) };
    }],
    ['a view-change signed by another key', (b) => ({ from: 'r3', vc: { body: b, signature: signAs('r2', { kind: 'view-change', body: b }) } })],
  ];

  it.each(cases)('%s is refused and changes nothing', (_name, make) => {
    const net = new BftNetwork({ seed: 1 });
    const base: ViewChangeBody = { newView: 1, replica: 'r3', checkpoint: null, prepared: [] };
    const { from, vc } = make(base);
    sendVc(net, from, 'r1', vc);
    const st = net.replica('r1').status();
    expect(st.counters.viewChangesRefused).toBe(1);
    expect(st.view).toBe(0);
    expect(st.viewChanging).toBe(false);
    // The same view-change, honest, is taken: the refusal was about the forgery.
    sendVc(net, 'r3', 'r1', signedVc('r3', base));
    expect(net.replica('r1').status().counters.viewChangesRefused).toBe(1);
  });

  it('a view-change whose body names another replica than its sender is refused', () => {
    const net = new BftNetwork({ seed: 1 });
    sendVc(net, 'r3', 'r1', signedVc('r2', { newView: 1, replica: 'r2', checkpoint: null, prepared: [] }));
    expect(net.replica('r1').status().counters.wrongSender).toBe(1);
  });

  it('a new-view whose pre-prepares are not those its view-changes give is refused', () => {
    const net = new BftNetwork({ seed: 1 });
    // r2 and r3 move to view 1 honestly (their view-changes carry nothing prepared); r1 is the new primary, and Byzantine.
    const vcs = ['r1', 'r2', 'r3'].map((r) => signedVc(r, { newView: 1, replica: r, checkpoint: null, prepared: [] }));
    const extra = [makeRequest('mallory', 7, 'steal')];
    const digest = batchDigest(extra.map((r) => r.digest));
    const prePrepares = [{ header: { view: 1, seq: 1, digest, signature: signAs('r1', { kind: 'pre-prepare', view: 1, seq: 1, digest }) }, requests: extra }];
    net.deliverNow({ type: 'new-view', from: 'r1', to: 'r2', view: 1, viewChanges: vcs, prePrepares });
    const st = net.replica('r2').status();
    expect(st.counters.newViewsRefused).toBe(1);
    expect(st.view).toBe(0);
    // The honest new-view (empty O) is taken.
    net.deliverNow({ type: 'new-view', from: 'r1', to: 'r2', view: 1, viewChanges: vcs, prePrepares: [] });
    expect(net.replica('r2').status().view).toBe(1);
    expect(net.replica('r2').status().viewChanging).toBe(false);
  });

  it('a new-view with a view-change that carries a genuine prepared certificate must re-propose it', () => {
    const net = new BftNetwork({ seed: 1 });
    const cert = genuineCert(1);
    const vcs = ['r1', 'r2', 'r3'].map((r) => signedVc(r, { newView: 1, replica: r, checkpoint: null, prepared: r === 'r3' ? [cert] : [] }));
    // Dropping the prepared batch (an empty O) is refused; carrying it is taken.
    net.deliverNow({ type: 'new-view', from: 'r1', to: 'r2', view: 1, viewChanges: vcs, prePrepares: [] });
    expect(net.replica('r2').status().counters.newViewsRefused).toBe(1);
    const digest = cert.prePrepare.digest;
    const prePrepares = [{ header: { view: 1, seq: 1, digest, signature: signAs('r1', { kind: 'pre-prepare', view: 1, seq: 1, digest }) }, requests: cert.requests }];
    net.deliverNow({ type: 'new-view', from: 'r1', to: 'r2', view: 1, viewChanges: vcs, prePrepares });
    expect(net.replica('r2').status().view).toBe(1);
    expect(net.replica('r2').status().counters.newViewsRefused).toBe(1);
  });
});
