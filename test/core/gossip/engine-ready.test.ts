/**
 * The engine contract (src/core/engine.ts) as gossip keeps it: one Ready outstanding at a time;
 * the own incarnation is PERSISTED before any message that claims it leaves (a join, a sync, a
 * refutation's alive update: `messagesAfterWrite`), while probes and everything else leave at
 * once; a restart boots from the persisted incarnation and joins one above it, so no
 * incarnation is ever announced twice; `linksWanted` comes only when it changed; local requests
 * answer typed results; config relations are checked once.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/core/prng.ts';
import { resolveGossipConfig } from '../../../src/core/gossip/config.ts';
import { GossipNode } from '../../../src/core/gossip/gossip-node.ts';
import { incarnationMax } from '../../../src/core/gossip/limits.ts';
import { claimsIncarnationOf } from '../../../src/core/gossip/messages.ts';
import { Solo } from './solo.ts';

describe('gossip Ready', () => {
  it('a join persists the new incarnation before the join messages leave', () => {
    const node = new GossipNode({ id: 'a', prng: createPrng(1) }, { incarnation: 4 });
    expect(node.step({ local: 'join', seeds: ['s1', 's2'] })).toEqual({ ok: true, value: { kind: 'accepted' } });
    const rd = node.ready();
    expect(rd.mustPersist).toBe(true);
    expect(rd.incarnation).toBe(5);
    expect(rd.messagesBeforeWrite).toEqual([]);
    expect(rd.messagesAfterWrite.map((m) => [m.type, m.to])).toEqual([['join', 's1'], ['join', 's2']]);
    expect(rd.messagesAfterWrite.every((m) => m.type === 'join' && m.incarnation === 5)).toBe(true);
    expect(rd.linksWanted).toEqual(['s1', 's2']);
    expect(rd.events).toEqual([{ kind: 'member-changed', member: 'a', previous: 'joining', state: 'joining', incarnation: 5, phi: 0 }]);
    expect(node.hasReady()).toBe(false);
    expect(() => node.ready()).toThrow(/before advance/);
    node.advance();
    expect(() => node.advance()).toThrow(/without ready/);
    expect(node.step({ local: 'join', seeds: ['s1'] })).toEqual({ ok: true, value: { kind: 'unchanged' } });
  });

  it('a refutation persists the raised incarnation; the probe traffic around it leaves at once', () => {
    const solo = new Solo(['s', 'b', 'c']);
    solo.node.step({ type: 'ping', from: 'b', to: 'a', seq: 3, mesh: false, updates: [{ kind: 'suspect', member: 'a', incarnation: 1, by: 'c' }] });
    solo.node.step({ type: 'ping', from: 'c', to: 'a', seq: 4, mesh: false, updates: [] });
    const rd = solo.node.ready();
    expect(rd.incarnation).toBe(2);
    expect(rd.mustPersist).toBe(true);
    for (const m of rd.messagesAfterWrite) expect(claimsIncarnationOf(m, 'a')).toBe(true);
    for (const m of rd.messagesBeforeWrite) expect(claimsIncarnationOf(m, 'a')).toBe(false);
    const acks = rd.messages.filter((m) => m.type === 'ack');
    expect(acks).toHaveLength(2);
    // The refutation rides the first ack (the buddy answer to the accuser) AFTER the write.
    const first = acks[0];
    expect(first !== undefined && first.type === 'ack' && first.updates.some((u) => u.kind === 'alive' && u.member === 'a' && u.incarnation === 2)).toBe(true);
    expect(rd.messagesAfterWrite).toContain(first);
    solo.node.advance();
  });

  it('a restart never reuses an incarnation: it boots from the persisted one and joins above it', () => {
    const solo = new Solo(['s', 'b']);
    solo.push('b', [{ kind: 'suspect', member: 'a', incarnation: 1, by: 'b' }]);
    const persisted = solo.readies.map((r) => r.incarnation).filter((i): i is number => i !== null);
    const last = persisted[persisted.length - 1] as number;
    expect(last).toBe(2);
    const restarted = new GossipNode({ id: 'a', prng: createPrng(2) }, { incarnation: last });
    restarted.step({ local: 'join', seeds: ['s'] });
    expect(restarted.ready().incarnation).toBe(3);
  });

  it('links come only when they changed', () => {
    const solo = new Solo(['s', 'b', 'c', 'd', 'e', 'f']);
    const withLinks = solo.readies.filter((r) => r.linksWanted !== null);
    expect(withLinks.length).toBeGreaterThan(0);
    solo.tick(1);
    const again = solo.drain();
    for (const r of again) expect(r.linksWanted).toBeNull();
    expect(solo.node.mesh().length).toBeGreaterThan(0);
  });

  it('leave: left event, a leave message to each neighbour, then silence; join again above', () => {
    const solo = new Solo(['s', 'b', 'c', 'd', 'e']);
    solo.tick(1);
    const mesh = solo.node.mesh();
    expect(solo.node.step({ local: 'leave' })).toEqual({ ok: true, value: { kind: 'accepted' } });
    const [rd] = solo.drain();
    expect(rd?.events.some((e) => e.kind === 'member-changed' && e.member === 'a' && e.state === 'left')).toBe(true);
    expect(rd?.messages.filter((m) => m.type === 'leave').map((m) => m.to).sort()).toEqual(mesh);
    expect(rd?.linksWanted).toEqual([]);
    solo.tick(100);
    expect(solo.node.hasReady()).toBe(false);
    solo.node.step({ type: 'ping', from: 'b', to: 'a', seq: 1, mesh: false, updates: [] });
    expect(solo.node.status().counters.messagesWhileInactive).toBe(1);
    expect(solo.node.step({ local: 'leave' })).toEqual({ ok: true, value: { kind: 'unchanged' } });
    solo.node.step({ local: 'join', seeds: ['s'] });
    expect(solo.node.ready().incarnation).toBe(2);
  });

  it('refuses a seed that is not a member id, and a join once the incarnation is exhausted', () => {
    const node = new GossipNode({ id: 'a', prng: createPrng(1) }, { incarnation: incarnationMax });
    const bad = node.step({ local: 'join', seeds: ['ok', 'bad\n'] });
    expect(bad.ok ? null : bad.error.code).toBe('CONFIG');
    const done = node.step({ local: 'join', seeds: ['s'] });
    expect(done.ok ? null : [done.error.code, done.error.reason]).toEqual(['STOPPED', 'incarnation-exhausted']);
  });

  it('checks the relations of its configuration once', () => {
    const prng = createPrng(1);
    expect(() => resolveGossipConfig({ id: 'a', prng, probeTimeoutTicks: 100, probeIntervalTicks: 100 })).toThrow(/probeTimeoutTicks/);
    expect(() => resolveGossipConfig({ id: 'a', prng, suspicionMinTicks: 10, suspicionMaxTicks: 5 })).toThrow(/suspicionMinTicks/);
    expect(() => resolveGossipConfig({ id: 'a', prng, meshDegreeLow: 7 })).toThrow(/mesh degrees/);
    expect(() => resolveGossipConfig({ id: 'a', prng, piggybackPerMessageMax: 65 })).toThrow(/piggybackPerMessageMax/);
    expect(() => resolveGossipConfig({ id: 'a', prng, membersMax: 0 })).toThrow(/membersMax/);
    expect(() => resolveGossipConfig({ id: 'a', prng, phiThreshold: Number.NaN })).toThrow(/phiThreshold/);
    expect(() => resolveGossipConfig({ id: '', prng })).toThrow(/id/);
  });
});
