/**
 * What this proves about the link table every transport keeps its bookkeeping in
 * (src/io/transport/link-table.ts), driven directly with no transport around it: link states
 * are recorded and emitted only when they change; it holds at most `linksMax` peers, so a link
 * to one more is refused, counted in `linksRefused` and emits nothing, and a frame from a peer
 * beyond the bound is dropped and counted; a closed link keeps its place only until a new peer
 * needs it (the one closed longest ago goes first), so peers that left never lock newcomers
 * out; our own id never gets a place; there is one frame handler and one link-state handler,
 * a later one replacing the earlier; nothing reaches them after `close()`; a transport's own
 * counters live in the same stats object; a bad bound is a RangeError.
 */
import { describe, expect, it } from 'vitest';
import { LinkTable, linksMaxDefault } from '../../src/io/transport/link-table.ts';

function table(linksMax?: number): { t: LinkTable; events: string[]; frames: string[] } {
  const t = new LinkTable({ self: 'me', linksMax });
  const events: string[] = [];
  const frames: string[] = [];
  t.onLinkState((peer, state) => events.push(`${peer}:${state}`));
  t.onFrame((from, frame) => frames.push(`${from}:${frame[0] as number}`));
  return { t, events, frames };
}

describe('LinkTable', () => {
  it('records link states and emits only changes', () => {
    const { t, events } = table();
    expect(t.setState('a', 'connecting')).toBe(true);
    expect(t.setState('a', 'connecting')).toBe(true);
    expect(t.setState('a', 'open')).toBe(true);
    expect(t.setState('b', 'open')).toBe(true);
    expect(events).toEqual(['a:connecting', 'a:open', 'b:open']);
    expect(Object.fromEntries(t.links())).toEqual({ a: 'open', b: 'open' });
    expect(t.isOpen('a')).toBe(true);
    expect(t.state('c')).toBeUndefined();
  });

  it('records nothing for the close of a link it does not hold', () => {
    const { t, events } = table();
    expect(t.setState('ghost', 'closed')).toBe(true);
    expect(t.links().size).toBe(0);
    expect(events).toEqual([]);
  });

  it('refuses and counts a link to one more peer than linksMax, and emits nothing for it', () => {
    const { t, events } = table(2);
    t.setState('a', 'open');
    t.setState('b', 'connecting');
    expect(t.admit('c')).toBe(false);
    expect(t.setState('c', 'open')).toBe(false);
    expect(t.stats.linksRefused).toBe(2);
    expect([...t.links().keys()]).toEqual(['a', 'b']);
    expect(events).toEqual(['a:open', 'b:connecting']);
    // Peers it holds still change state at the bound.
    expect(t.setState('b', 'open')).toBe(true);
    expect(t.admit('a')).toBe(true);
    expect(t.stats.linksRefused).toBe(2);
  });

  it('admits without holding: only setState takes a place', () => {
    const { t } = table(1);
    expect(t.admit('a')).toBe(true);
    expect(t.admit('b')).toBe(true);
    expect(t.links().size).toBe(0);
    expect(t.stats.linksRefused).toBe(0);
  });

  it('gives the place of the link closed longest ago to a new peer', () => {
    const { t, events } = table(3);
    for (const p of ['a', 'b', 'c']) t.setState(p, 'open');
    t.setState('b', 'closed');
    t.setState('a', 'closed');
    expect(t.setState('d', 'open')).toBe(true);
    expect(Object.fromEntries(t.links())).toEqual({ a: 'closed', c: 'open', d: 'open' });
    // a reopened holds its place again; with no closed link left, the next newcomer is refused.
    t.setState('a', 'open');
    expect(t.setState('e', 'open')).toBe(false);
    expect(t.stats.linksRefused).toBe(1);
    expect(events).toEqual(['a:open', 'b:open', 'c:open', 'b:closed', 'a:closed', 'd:open', 'a:open']);
  });

  it('never gives our own id a place, and counts the attempt', () => {
    const { t } = table();
    expect(t.setState('me', 'open')).toBe(false);
    expect(t.stats.linksRefused).toBe(1);
    expect(t.links().size).toBe(0);
  });

  it('delivers frames and counts them; drops and counts those before onFrame or from beyond the bound', () => {
    const early = new LinkTable({ self: 'me' });
    expect(early.deliver('a', Uint8Array.of(1))).toBe(false);
    expect(early.stats).toEqual({ framesSent: 0, framesReceived: 0, framesDropped: 1, linksRefused: 0 });

    const { t, frames } = table(1);
    // A peer not held yet, while there is room: delivered (the transport decides whether a frame opens a link).
    expect(t.deliver('x', Uint8Array.of(9))).toBe(true);
    t.setState('a', 'open');
    expect(t.deliver('a', Uint8Array.of(1))).toBe(true);
    expect(t.deliver('z', Uint8Array.of(2))).toBe(false);
    expect(frames).toEqual(['x:9', 'a:1']);
    expect(t.stats).toEqual({ framesSent: 0, framesReceived: 2, framesDropped: 1, linksRefused: 0 });
  });

  it('has one frame handler and one link-state handler: a later one replaces the earlier', () => {
    const t = new LinkTable({ self: 'me' });
    const seen: string[] = [];
    t.onFrame(() => seen.push('first frame handler'));
    t.onFrame(() => seen.push('second frame handler'));
    t.onLinkState(() => seen.push('first link handler'));
    t.onLinkState(() => seen.push('second link handler'));
    t.setState('a', 'open');
    t.deliver('a', Uint8Array.of(1));
    expect(seen).toEqual(['second link handler', 'second frame handler']);
  });

  it('after close: frames dropped and counted, states frozen and readable, nothing emitted or admitted', () => {
    const { t, events, frames } = table();
    t.setState('a', 'open');
    t.close();
    expect(t.closed).toBe(true);
    expect(t.deliver('a', Uint8Array.of(1))).toBe(false);
    expect(t.setState('a', 'closed')).toBe(false);
    expect(t.setState('b', 'open')).toBe(false);
    expect(t.admit('b')).toBe(false);
    expect(frames).toEqual([]);
    expect(events).toEqual(['a:open']);
    expect(Object.fromEntries(t.links())).toEqual({ a: 'open' });
    expect(t.stats.framesDropped).toBe(1);
    expect(t.stats.linksRefused).toBe(0);
  });

  it("keeps a transport's own counters in the same stats object, and counts sends and drops", () => {
    const t = new LinkTable({ self: 'me' }, { messagesSent: 0 });
    t.stats.messagesSent += 3;
    t.countSent();
    t.countDropped();
    t.countDropped(4);
    expect(t.stats).toEqual({ messagesSent: 3, framesSent: 1, framesReceived: 0, framesDropped: 5, linksRefused: 0 });
    expect(() => t.countDropped(-1)).toThrow(RangeError);
  });

  it('takes a positive integer bound, 256 by default', () => {
    expect(new LinkTable({ self: 'me' }).linksMax).toBe(linksMaxDefault);
    expect(linksMaxDefault).toBe(256);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new LinkTable({ self: 'me', linksMax: bad })).toThrow(RangeError);
    }
  });
});
