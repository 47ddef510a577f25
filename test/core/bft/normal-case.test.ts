/**
 * PBFT's normal case through the real Ready processor: with 4 and 7 replicas, requests from
 * several clients are ordered, executed at the same sequence numbers with the same batches on
 * every replica, and answered (F + 1 matching replies complete a request); batching puts many
 * requests in one pre-prepare within `batchRequestsMax`; a request the machine rejects gets the
 * same `rejected` outcome everywhere.
 */
import { describe, expect, it } from 'vitest';
import { BftNetwork } from './bft-network.ts';

describe('normal case', () => {
  it.each([4, 7])('commits identically on all %i replicas and answers the clients', (n) => {
    const net = new BftNetwork({ replicas: n, seed: 3, delayMax: 3 });
    const clients = ['c1', 'c2', 'c3'];
    for (const c of clients) net.addClient(c);
    for (let i = 0; i < 5; i++) for (const c of clients) net.submit(c, `${c}-op${i}`);
    const took = net.runUntil(() => clients.every((c) => net.completed(c).length === 5), 2000);
    expect(took).toBeGreaterThanOrEqual(0);
    net.run(20);
    expect(net.disagreements()).toEqual([]);
    expect(net.duplicates()).toEqual([]);
    const digests = net.ids.map((id) => net.machines.get(id)?.digest());
    expect(new Set(digests).size).toBe(1);
    expect(net.machines.get('r0')?.count).toBe(15);
    for (const c of clients) expect(net.completed(c).map((e) => new TextDecoder().decode(e.result).split('#')[0])).toEqual([0, 1, 2, 3, 4].map((i) => `${c}-op${i}`));
    for (const id of net.ids) expect(net.replica(id).status().view).toBe(0);
  });

  it('batches the requests that arrive while batches are in flight', () => {
    const net = new BftNetwork({ seed: 5, config: { batchesInFlightMax: 1, batchRequestsMax: 8 } });
    const clients = Array.from({ length: 20 }, (_, i) => `c${i}`);
    for (const c of clients) net.addClient(c);
    for (const c of clients) net.submit(c, `${c}-x`);
    expect(net.runUntil(() => clients.every((c) => net.completed(c).length === 1), 1000)).toBeGreaterThanOrEqual(0);
    const batches = [...(net.executed.get('r1')?.values() ?? [])];
    expect(batches.length).toBeLessThan(20);
    expect(Math.max(...batches.map((b) => b.length))).toBe(8);
    expect(batches.flat().length).toBe(20);
    expect(net.disagreements()).toEqual([]);
  });

  it('gives a command the machine rejects the same rejected outcome on every replica', () => {
    const net = new BftNetwork({ seed: 2 });
    net.addClient('c');
    net.submit('c', 'throw-me');
    expect(net.runUntil(() => net.completed('c').length === 1, 500)).toBeGreaterThanOrEqual(0);
    expect(net.completed('c')[0]?.outcome).toBe('rejected');
    for (const id of net.ids) expect(net.machines.get(id)?.count).toBe(0);
  });
});
