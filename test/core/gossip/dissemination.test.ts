/**
 * Dissemination (SWIM §4.1): the broadcast queue sends fewest-sent and then newest items first,
 * replaces an item by a newer one of the same key, respects the per-message count and byte
 * bounds, drops the most-sent item when full, and gives up each item after λ·⌈log10(n + 1)⌉
 * transmits. On the deterministic network: a leave reaches every member of 64 within about
 * log2(n) periods by piggybacking alone (pushFanout 0), and within two periods with the eager
 * mesh push; and no node sends any one update more often than the retransmit limit.
 */
import { describe, expect, it } from 'vitest';
import { BroadcastQueue, retransmitLimit } from '../../../src/core/gossip/broadcast-queue.ts';
import type { Piggyback } from '../../../src/core/gossip/messages.ts';
import { GossipNetwork } from './gossip-network.ts';

const take = (q: BroadcastQueue<string>, transmitsMax = 3, countMax = 10, bytesMax = 1000): string[] => q.take({ transmitsMax, countMax, bytesMax });

describe('broadcast queue', () => {
  it('retransmit limit is λ·⌈log10(n + 1)⌉', () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(1, 0)).toBe(1);
  });

  it('sends each item exactly transmitsMax times, then forgets it', () => {
    const q = new BroadcastQueue<string>(10);
    q.enqueue('a', 'A', 10);
    q.enqueue('b', 'B', 10);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10; i++) for (const x of take(q, 3)) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect(counts).toEqual(new Map([['A', 3], ['B', 3]]));
    expect(q.size).toBe(0);
  });

  it('fewest transmits first, newest first among equals', () => {
    const q = new BroadcastQueue<string>(10);
    q.enqueue('a', 'A', 10);
    q.enqueue('b', 'B', 10);
    expect(take(q, 5, 1)).toEqual(['B']);
    expect(take(q, 5, 1)).toEqual(['A']);
    q.enqueue('c', 'C', 10);
    expect(take(q, 5, 3)).toEqual(['C', 'B', 'A']);
  });

  it('a newer item of the same key replaces the old one and starts over', () => {
    const q = new BroadcastQueue<string>(10);
    q.enqueue('m:x', 'suspect x', 10);
    take(q, 5);
    take(q, 5);
    expect(q.transmitsOf('m:x')).toBe(2);
    q.enqueue('m:x', 'alive x', 10);
    expect(q.size).toBe(1);
    expect(q.transmitsOf('m:x')).toBe(0);
    expect(take(q, 5)).toEqual(['alive x']);
  });

  it('packs within the count and byte bounds, skipping what does not fit for smaller items', () => {
    const q = new BroadcastQueue<string>(10);
    q.enqueue('small1', 's1', 10);
    q.enqueue('big', 'BIG', 100);
    q.enqueue('small2', 's2', 10);
    expect(take(q, 5, 10, 30)).toEqual(['s2', 's1']);
    expect(take(q, 5, 1, 1000)).toEqual(['BIG']);
  });

  it('when full, drops the most-sent (oldest among equals) item', () => {
    const q = new BroadcastQueue<string>(2);
    q.enqueue('a', 'A', 10);
    q.enqueue('b', 'B', 10);
    take(q, 5, 1); // B sent once
    expect(q.enqueue('c', 'C', 10)).toBe(true);
    expect(q.peek('b')).toBeUndefined();
    expect(q.size).toBe(2);
  });
});

/** The number of times each node sent each distinct update about `member`, from `fromIndex` on. */
function sendsPerUpdate(net: GossipNetwork, member: string, fromIndex: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const { m } of net.sent.slice(fromIndex)) {
    const updates: readonly Piggyback[] = 'updates' in m ? m.updates : [];
    for (const u of updates) {
      if (u.member !== member) continue;
      const key = `${m.from} ${JSON.stringify(u)}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
}

describe('dissemination across a swarm', () => {
  it.each([
    [0, 2 * 6], // piggyback only: about log2(64) = 6 periods, with room
    [6, 2], // eager push on the mesh
  ])('a leave reaches all 64 members (pushFanout %i) within %i periods, each update sent at most λ·⌈log10(n + 1)⌉ times per node', (pushFanout, periods) => {
    const net = GossipNetwork.bootstrap(64, { seed: 3, config: { pushFanout } }, (i) => [`n${Math.floor(i / 2)}`]);
    expect(net.runUntil(() => net.allAlive(), 2000)).toBeGreaterThanOrEqual(0);
    net.run(200);
    const from = net.sent.length;
    net.leave('n5');
    const live = net.running().filter((v) => v !== 'n5');
    const ticks = net.runUntil(() => live.every((v) => net.stateOf(v, 'n5') === 'left'), 1000);
    expect(ticks).toBeGreaterThanOrEqual(0);
    expect(ticks).toBeLessThanOrEqual(periods * 10);
    net.run(300);
    const limit = retransmitLimit(net.node('n0').config().retransmitMult, 64);
    const sends = sendsPerUpdate(net, 'n5', from);
    expect(sends.size).toBeGreaterThan(0);
    expect(Math.max(...sends.values())).toBeLessThanOrEqual(limit);
  });
});
