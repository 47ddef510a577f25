/**
 * The resumable anti-entropy walk stays bounded against a hostile or slow peer (anti-entropy.ts,
 * driven directly with a context, a store of one CRDT and a hand-made peer `b`):
 * - a peer that claims every node of a depth-8 tree differs (16^8 leaves) never makes the walk
 *   hold more than `stackRequestsMax` + in-flight requests: the walk is cut short and finishes;
 * - a peer that answers one request per interval keeps an exchange at most `roundsMax` rounds,
 *   then the exchange ends and the next starts;
 * - an answer that matches no request in flight (a repeat, or nodes never asked) is counted as
 *   unexpected and adds nothing to the walk;
 * - a peer that answers nothing is a timeout, as before the walk was resumable.
 */
import { describe, expect, it } from 'vitest';
import { crdtTypes } from '../../../src/core/crdt/crdt-types.ts';
import { gCounterEmpty, gCounterIncrement } from '../../../src/core/crdt/g-counter.ts';
import { decodeMerkleMessage, encodeMerkleMessage, type MerkleMessage, type MerkleRequest } from '../../../src/core/crdt/merkle-messages.ts';
import { AntiEntropy, roundsMax, stackRequestsMax } from '../../../src/core/gossip/anti-entropy.ts';
import { resolveGossipConfig, type GossipConfig } from '../../../src/core/gossip/config.ts';
import { GossipContext } from '../../../src/core/gossip/context.ts';
import { CrdtStore } from '../../../src/core/gossip/crdt-store.ts';
import type { GossipMessage } from '../../../src/core/gossip/messages.ts';
import { createPrng } from '../../../src/core/prng.ts';

interface Rig {
  readonly ctx: GossipContext;
  readonly ae: AntiEntropy;
  /** Run one tick; returns the Merkle requests `a` sent to `b` in it. */
  tick(): MerkleRequest[];
  /** Deliver a Merkle message from `b`; returns the requests `a` sent in answer. */
  answer(exchange: number, message: MerkleMessage): MerkleRequest[];
}

function rig(config: Partial<GossipConfig> = {}): Rig {
  const prng = createPrng(7);
  const ctx = new GossipContext(resolveGossipConfig({ id: 'a', prng, deltaFanout: 0, ...config }), prng);
  const store = new CrdtStore(ctx.cfg.crdtsMax, ctx.cfg.crdtBytesMax, ctx.cfg.antiEntropyTreeDepth);
  const r = gCounterIncrement(gCounterEmpty(), 'a', 3);
  if (!r.ok) throw new Error(r.error.message);
  const entry = store.create('c', 'g-counter');
  store.put(entry, r.value, crdtTypes['g-counter'].encode(r.value));
  const ae = new AntiEntropy(ctx, store, { mesh: () => ['b'], merge: () => {} });
  const take = (): MerkleRequest[] => {
    const out: MerkleRequest[] = [];
    for (const m of ctx.outbox.splice(0)) if (m.type === 'crdt-merkle' && m.to === 'b') out.push(request(m));
    return out;
  };
  return {
    ctx,
    ae,
    tick: () => {
      ctx.now++;
      ae.tick();
      return take();
    },
    answer: (exchange, message) => {
      ae.handleMerkle({ type: 'crdt-merkle', from: 'b', to: 'a', exchange, message: encodeMerkleMessage(message) });
      return take();
    },
  };
}

function request(m: GossipMessage & { type: 'crdt-merkle' }): MerkleRequest & { exchange: number } {
  const d = decodeMerkleMessage(m.message);
  if (!d.ok || (d.value.type !== 'hashes-request' && d.value.type !== 'leaves-request')) throw new Error('a sent something other than a request');
  return { ...d.value, exchange: m.exchange };
}

/** The hostile answer: every child hash 1 (ours are 0 or a sum: they differ), every leaf empty. */
function claimAllDiffer(r: MerkleRequest): MerkleMessage {
  if (r.type === 'hashes-request') return { type: 'hashes', level: r.level, nodes: r.nodes, hashes: r.nodes.flatMap(() => new Array<number>(16).fill(1)) };
  return { type: 'leaves', leaves: r.leaves, entries: [], unanswered: [] };
}

const exchangeOf = (r: MerkleRequest): number => (r as MerkleRequest & { exchange: number }).exchange;

describe('the resumable walk against a hostile or slow peer', () => {
  it('a peer claiming all of a depth-8 tree differs: the walk never holds more than its bound, and ends', () => {
    const { ctx, ae, tick, answer } = rig({ antiEntropyTreeDepth: 8 });
    const bound = stackRequestsMax(ctx.cfg.antiEntropyRequestsInFlightMax, 8) + ctx.cfg.antiEntropyRequestsInFlightMax;
    let most = 0;
    let asked = 0;
    const pending: MerkleRequest[] = [];
    for (let t = 0; t < 3 * ctx.cfg.antiEntropyIntervalTicks; t++) {
      pending.push(...tick());
      // Answer everything at once, as fast as a peer can.
      while (pending.length > 0) {
        const r = pending.shift() as MerkleRequest;
        asked++;
        pending.push(...answer(exchangeOf(r), claimAllDiffer(r)));
        most = Math.max(most, ae.requestsHeld);
      }
    }
    console.log(JSON.stringify({ case: 'all-differ depth 8', most, bound, asked, started: ctx.counters.antiEntropyStarted, completed: ctx.counters.antiEntropyCompleted }));
    expect(most).toBeGreaterThan(16);
    expect(most).toBeLessThanOrEqual(bound);
    expect(ctx.counters.antiEntropyStarted).toBeGreaterThanOrEqual(2);
    expect(ctx.counters.antiEntropyCompleted).toBeGreaterThanOrEqual(2);
  });

  it('a peer answering one request per interval holds an exchange at most roundsMax rounds', () => {
    const { ctx, ae, tick, answer } = rig();
    const interval = ctx.cfg.antiEntropyIntervalTicks;
    let answeredAt = -interval;
    let mostRounds = 0;
    const pending: MerkleRequest[] = [];
    for (let t = 0; t < (roundsMax + 3) * interval; t++) {
      pending.push(...tick());
      mostRounds = Math.max(mostRounds, ae.rounds);
      if (pending.length > 0 && ctx.now - answeredAt >= interval) {
        const r = pending.shift() as MerkleRequest;
        answeredAt = ctx.now;
        pending.push(...answer(exchangeOf(r), claimAllDiffer(r)));
      }
      // The rest are dropped, as by a responder whose budget is spent.
      if (pending.length > 0 && ctx.now - answeredAt > 1) pending.length = 0;
    }
    expect(mostRounds).toBe(roundsMax);
    expect(ctx.counters.antiEntropyStarted).toBeGreaterThanOrEqual(2);
    expect(ctx.counters.antiEntropyTimeouts).toBe(0);
  });

  it('answers matching no request in flight are unexpected and add nothing', () => {
    const { ctx, ae, tick, answer } = rig();
    let first: MerkleRequest[] = [];
    for (let t = 0; t < 2 * ctx.cfg.antiEntropyIntervalTicks && first.length === 0; t++) first = tick();
    expect(first).toHaveLength(1);
    const root = first[0] as MerkleRequest;
    const children = answer(exchangeOf(root), claimAllDiffer(root));
    expect(children.length).toBeGreaterThan(0);
    const held = ae.requestsHeld;
    // The same answer again, and hashes of nodes never asked for.
    expect(answer(exchangeOf(root), claimAllDiffer(root))).toEqual([]);
    expect(answer(exchangeOf(root), { type: 'hashes', level: 2, nodes: [5], hashes: new Array<number>(16).fill(1) })).toEqual([]);
    expect(answer(exchangeOf(root), { type: 'leaves', leaves: [3], entries: [], unanswered: [] })).toEqual([]);
    expect(ctx.counters.antiEntropyUnexpected).toBe(3);
    expect(ae.requestsHeld).toBe(held);
  });

  it('a peer that answers nothing is a timeout, and the exchange is given up', () => {
    const { ctx, ae, tick } = rig();
    let sent = 0;
    for (let t = 0; t < 2 * ctx.cfg.antiEntropyIntervalTicks + ctx.cfg.antiEntropyTimeoutTicks; t++) sent += tick().length;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(ctx.counters.antiEntropyTimeouts).toBeGreaterThanOrEqual(1);
    expect(ctx.counters.antiEntropyCompleted).toBe(0);
    expect(ae.rounds).toBeLessThanOrEqual(1);
  });
});
