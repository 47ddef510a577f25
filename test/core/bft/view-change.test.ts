/**
 * View changes (PBFT §4.4, §4.5.2) and Aardvark's defences (NSDI'09 §4.1, §4.3): a crashed
 * primary, a silent one and a slow one are replaced and the requests complete in the new view,
 * none executed twice or at different sequence numbers; a primary crashing with batches
 * half-way through the protocol leaves them to the new primary, which re-proposes what prepared;
 * an equivocating primary (different pre-prepares to different backups) cannot make honest
 * replicas execute different batches at one seq; a pre-prepare carrying a request whose client
 * signature fails is evidence that makes backups vote the primary out; a replica that changes
 * view alone runs no new-view timer until 2F + 1 are at its view (PBFT §4.5.2), so it waits for
 * the others there instead of running ahead of them.
 */
import { describe, expect, it } from 'vitest';
import type { BftMessage } from '../../../src/core/bft/messages.ts';
import { BftNetwork } from './bft-network.ts';
import { batchDigest, makeRequest, signAs } from './test-crypto.ts';

const honest = (net: BftNetwork, bad: string[]): string[] => net.ids.filter((id) => !bad.includes(id));

function load(net: BftNetwork, clients: string[], perClient: number): void {
  for (const c of clients) net.addClient(c);
  for (let i = 0; i < perClient; i++) for (const c of clients) net.submit(c, `${c}-${i}`);
}

const allDone = (net: BftNetwork, clients: string[], n: number) => (): boolean => clients.every((c) => net.completed(c).length === n);

describe('view change', () => {
  it.each([4, 7])('a crashed primary (of %i) is replaced and every request completes once', (n) => {
    const net = new BftNetwork({ replicas: n, seed: 11, delayMax: 2 });
    const clients = ['a', 'b', 'c'];
    load(net, clients, 2);
    net.run(3);
    net.crashed.add('r0');
    for (const c of clients) net.submit(c, `${c}-late`);
    expect(net.runUntil(allDone(net, clients, 3), 5000)).toBeGreaterThanOrEqual(0);
    const live = honest(net, ['r0']);
    net.run(30);
    expect(net.disagreements(live)).toEqual([]);
    expect(net.duplicates()).toEqual([]);
    for (const id of live) {
      const st = net.replica(id).status();
      expect(st.view).toBeGreaterThanOrEqual(1);
      expect(st.viewChanging).toBe(false);
      expect(st.suspected).toContain('r0');
    }
    const counts = live.map((id) => net.machines.get(id)?.count);
    expect(counts.every((c) => c === 9)).toBe(true);
  });

  it('batches prepared under the old primary are carried into the new view, not lost or doubled', () => {
    const net = new BftNetwork({ seed: 4 });
    // r0 crashes as soon as it has sent its first commit: its batches are prepared somewhere, maybe not committed.
    net.tamper.set('r0', (m) => {
      if (m.type === 'commit') net.crashed.add('r0');
      return [m];
    });
    const clients = ['a', 'b', 'c', 'd'];
    load(net, clients, 3);
    expect(net.runUntil(allDone(net, clients, 3), 5000)).toBeGreaterThanOrEqual(0);
    net.run(30);
    const live = honest(net, ['r0']);
    expect(net.disagreements(live)).toEqual([]);
    expect(net.duplicates()).toEqual([]);
    for (const id of live) expect(net.machines.get(id)?.count).toBe(12);
  });

  it('a replica that changes view alone waits there (no new-view timer short of 2F + 1), and the others meet it', () => {
    // Simulator seed 243 (4 replicas, one silent): with the timer running from the start of each
    // view change, a replica alone climbed views on its own timeouts out of phase with the others
    // and no view ever held a quorum again within the liveness bound.
    const net = new BftNetwork({ seed: 21 });
    const others = ['r0', 'r1', 'r2'];
    for (const id of others) net.tamper.set(id, (m) => (m.to === 'r3' ? [] : [m]));
    // A request only r3 holds as pending (its pre-prepare never reaches r3): r3's request timer fires.
    net.deliverNow({ type: 'request', from: 'a', to: 'r3', request: makeRequest('a', 1, 'alone') });
    const { viewChangeTimeoutTicks, requestTimeoutTicks } = net.replica('r3').config();
    net.run(requestTimeoutTicks + 15 * viewChangeTimeoutTicks);
    expect(net.replica('r3').status()).toMatchObject({ view: 1, viewChanging: true });
    for (const id of others) expect(net.replica(id).status()).toMatchObject({ view: 0, viewChanging: false });
    // Heal and silence the primary: the others move to view 1 by their own timers and r3 is there.
    for (const id of others) net.tamper.delete(id);
    net.tamper.set('r0', (m) => (m.type === 'pre-prepare' ? [] : [m]));
    load(net, ['b'], 1);
    expect(net.runUntil(allDone(net, ['b'], 1), 5000)).toBeGreaterThanOrEqual(0);
    net.run(50);
    for (const id of net.ids) expect(net.replica(id).status()).toMatchObject({ view: 1, viewChanging: false });
    expect(net.disagreements()).toEqual([]);
  });

  it('a silent primary is replaced (slow-primary or request timer)', () => {
    const net = new BftNetwork({ seed: 6 });
    net.tamper.set('r0', (m) => (m.type === 'pre-prepare' ? [] : [m]));
    load(net, ['a', 'b'], 2);
    expect(net.runUntil(allDone(net, ['a', 'b'], 2), 5000)).toBeGreaterThanOrEqual(0);
    const reasons = honest(net, ['r0']).flatMap((id) => (net.events.get(id) ?? []).flatMap((e) => (e.kind === 'view-change-started' ? [e.reason] : [])));
    expect(reasons.some((r) => r === 'slow-primary' || r === 'request-timeout')).toBe(true);
    expect(net.disagreements(honest(net, ['r0']))).toEqual([]);
    expect(net.duplicates()).toEqual([]);
  });

  it('a primary that only delays its pre-prepares past the Aardvark bound is voted out as slow', () => {
    const net = new BftNetwork({ seed: 8, config: { prePrepareIntervalTicksMax: 20, requestTimeoutTicks: 500 } });
    const delayed: BftMessage[] = [];
    net.tamper.set('r0', (m) => {
      if (m.type === 'pre-prepare' || m.type === 'reply') {
        delayed.push(m);
        return [];
      }
      return [m];
    });
    net.addClient('a', 5);
    net.submit('a', 'x');
    expect(net.runUntil(() => net.completed('a').length === 1, 3000)).toBeGreaterThanOrEqual(0);
    const reasons = net.ids.slice(1).flatMap((id) => (net.events.get(id) ?? []).flatMap((e) => (e.kind === 'view-change-started' ? [e.reason] : [])));
    expect(reasons).toContain('slow-primary');
  });

  it('an equivocating primary cannot make honest replicas execute different batches at one seq', () => {
    let viewsEntered = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const net = new BftNetwork({ seed, delayMax: 3 });
      let n = 0;
      // r0 sends its genuine batch to r1 and, to r2 and r3, another batch of validly signed requests under its own signature.
      net.tamper.set('r0', (m) => {
        if (m.type !== 'pre-prepare' || m.to === 'r1') return [m];
        const other = [makeRequest('mallory', 1000 + n++, `forked-${m.header.seq}`)];
        const digest = batchDigest(other.map((r) => r.digest));
        const header = { ...m.header, digest, signature: signAs('r0', { kind: 'pre-prepare', view: m.header.view, seq: m.header.seq, digest }) };
        return [{ ...m, header, requests: other }];
      });
      load(net, ['a', 'b'], 3);
      net.run(3000);
      const good = honest(net, ['r0']);
      expect(net.disagreements(good)).toEqual([]);
      expect(net.duplicates()).toEqual([]);
      expect(net.completed('a').length + net.completed('b').length).toBe(6);
      viewsEntered += net.replica('r1').status().counters.viewsEntered;
    }
    // The fork was not merely ignored: it stalled view 0 and honest replicas changed view (the
    // forked batch, prepared at two backups, may be carried into the new view, then everywhere alike).
    expect(viewsEntered).toBeGreaterThan(0);
  });

  it('a request whose signature fails inside a pre-prepare is evidence against the primary (Aardvark §4.1)', () => {
    const net = new BftNetwork({ seed: 12 });
    net.tamper.set('r0', (m) => {
      if (m.type !== 'pre-prepare' || m.header.view !== 0) return [m];
      const bad = { ...makeRequest('eve', 1, 'unsigned'), signature: new Uint8Array(64) };
      const requests = [...m.requests, bad];
      const digest = batchDigest(requests.map((r) => r.digest));
      return [{ ...m, requests, header: { ...m.header, digest, signature: signAs('r0', { kind: 'pre-prepare', view: 0, seq: m.header.seq, digest }) } }];
    });
    load(net, ['a'], 2);
    expect(net.runUntil(allDone(net, ['a'], 2), 3000)).toBeGreaterThanOrEqual(0);
    for (const id of ['r1', 'r2', 'r3']) {
      const st = net.replica(id).status();
      expect(st.counters.requestsInvalid).toBeGreaterThan(0);
      expect((net.events.get(id) ?? []).some((e) => e.kind === 'view-change-started' && e.reason === 'bad-pre-prepare')).toBe(true);
      expect(st.view).toBeGreaterThanOrEqual(1);
    }
    expect(net.machines.get('r1')?.count).toBe(2);
  });
});

describe('censorship', () => {
  it('a primary that keeps ordering others but never one client\'s request is voted out by the request timer', () => {
    // The slow-primary bound is out of reach: only the request timer can catch this primary.
    const net = new BftNetwork({ seed: 17, config: { requestTimeoutTicks: 80, prePrepareIntervalTicksMax: 10_000, batchesInFlightMax: 200 } });
    // r0 drops the victim's requests from every batch it sends, re-signing the rest.
    net.tamper.set('r0', (m) => {
      if (m.type !== 'pre-prepare' || m.header.view !== 0) return [m];
      const requests = m.requests.filter((r) => r.client !== 'victim');
      const digest = batchDigest(requests.map((r) => r.digest));
      return [{ ...m, requests, header: { ...m.header, digest, signature: signAs('r0', { kind: 'pre-prepare', view: 0, seq: m.header.seq, digest }) } }];
    });
    net.addClient('victim', 10);
    net.addClient('busy', 10);
    net.submit('victim', 'please');
    let i = 0;
    const done = net.runUntil(() => {
      if (net.clients.get('busy')?.pending === null) net.submit('busy', `busy-${i++}`);
      return net.completed('victim').length === 1;
    }, 3000);
    expect(done).toBeGreaterThanOrEqual(0);
    expect(net.completed('busy').length).toBeGreaterThan(10);
    const reasons = ['r1', 'r2', 'r3'].flatMap((id) => (net.events.get(id) ?? []).flatMap((e) => (e.kind === 'view-change-started' ? [e.reason] : [])));
    expect(reasons).toContain('request-timeout');
    expect(net.disagreements(['r1', 'r2', 'r3'])).toEqual([]);
    expect(net.duplicates()).toEqual([]);
  });
});
