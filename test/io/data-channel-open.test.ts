/**
 * What this proves about DataChannelTransport's handshake when a channel hears its peer before
 * its own `open` event (as Chromium 156's negotiated channels may: the peer's first message is
 * dispatched while the channel is still `connecting`, when `send` throws InvalidStateError):
 * - the link is not `open` until its own channel is, so a frame sent from within the link's
 *   `open` event is delivered, and the link stays open. It used to be called open on the peer's
 *   hello; the send then threw, the transport closed the channel (both ends), and over WebRTC
 *   nothing opened that link again;
 * - the hello that came early is answered as soon as the channel opens, so the peer's link opens
 *   then too, not at its next hello (`helloIntervalMs` later). It used to go unanswered (nothing
 *   can be sent on a `connecting` channel) and the channel's `open` sent nothing either.
 * The fake channels are transport-fake-channels.ts's `lateOpeningChannelPair`; the same in
 * Chromium is e2e/webrtc-links.spec.ts ("a frame sent from within a link's open event").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DataChannelTransport } from '../../src/io/transport/data-channel-transport.ts';
import type { LinkState } from '../../src/io/transport/transport.ts';
import { lateOpeningChannelPair } from './transport-fake-channels.ts';

const open: DataChannelTransport[] = [];

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function transport(self: string, helloIntervalMs: number): DataChannelTransport {
  const t = new DataChannelTransport({ self, helloIntervalMs });
  open.push(t);
  return t;
}

/** Let the fake channels' tasks run (each message and close is one `setTimeout(0)`). */
async function tasks(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
}

async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await tasks(1);
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

/** a holds the end that opens first, b the one that hears a's hello while still `connecting`. */
function pair(helloIntervalMs: number): { a: DataChannelTransport; b: DataChannelTransport; openB: () => void } {
  const a = transport('a', helloIntervalMs);
  const b = transport('b', helloIntervalMs);
  const { first, second, openSecond } = lateOpeningChannelPair();
  a.addChannel('b', first);
  b.addChannel('a', second);
  return { a, b, openB: openSecond };
}

describe('DataChannelTransport: a channel that hears its peer before its own open event', () => {
  it('is not open until its own channel is, and a frame sent from the open event arrives', async () => {
    const { a, b, openB } = pair(10);
    const received: string[] = [];
    a.onFrame((from, frame) => received.push(`${from}:${frame[0] as number}`));
    const events: string[] = [];
    b.onLinkState((peer, state: LinkState) => {
      events.push(`${peer}:${state}`);
      if (state === 'open') b.send(peer, Uint8Array.of(42));
    });

    await until("a's hello to reach b", () => b.stats.messagesReceived > 0);
    await tasks();
    // b heard a, but its own half cannot send yet: not open (it was, and the send closed it).
    expect(b.links().get('a')).toBe('connecting');
    expect(events).toEqual([]);

    openB();
    await until('the frame sent from the open event to arrive', () => received.length > 0 || events.includes('a:closed'));
    expect(received).toEqual(['b:42']);
    expect(events).toEqual(['a:open']);
    await tasks();
    expect(b.links().get('a')).toBe('open');
    expect(a.links().get('b')).toBe('open');
    expect(b.stats.framesDropped).toBe(0);
    expect(b.stats.framesDroppedLinkClosed).toBe(0);
  });

  it('answers the early hello as soon as its channel opens: the peer does not wait for its next hello', async () => {
    // No hello is repeated within this test: a's link can only open on b's answer.
    const { a, b, openB } = pair(60_000);
    await until("a's hello to reach b", () => b.stats.messagesReceived > 0);
    await tasks();
    expect(a.links().get('b')).toBe('connecting');

    openB();
    await until("a's link to open", () => a.links().get('b') === 'open');
    expect(b.links().get('a')).toBe('open');
    // Both ways, at once.
    const atA: number[] = [];
    const atB: number[] = [];
    a.onFrame((_, f) => atA.push(f[0] as number));
    b.onFrame((_, f) => atB.push(f[0] as number));
    a.send('b', Uint8Array.of(1));
    b.send('a', Uint8Array.of(2));
    await until('both frames', () => atA.length > 0 && atB.length > 0);
    expect([atA, atB]).toEqual([[2], [1]]);
    expect(a.stats.framesDropped + b.stats.framesDropped).toBe(0);
  });
});
