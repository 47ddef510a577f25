/**
 * What this proves about the link filter's slow-link hook (src/runtime/link-filter.ts, the demo's
 * "slow links" control), over the in-memory transport with fake timers: with a delay set, frames
 * this node sends and frames it receives each arrive that much later, in the order they were
 * sent; setting the delay back to 0 makes links immediate again; blocking still drops frames
 * whatever the delay; closing drops the frames still held; a negative delay is refused with a
 * CONFIG error (so is a non-finite one).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { LinkFilter } from '../../src/runtime/link-filter.ts';
import { NodeError } from '../../src/runtime/errors.ts';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

function pair(): { a: LinkFilter; b: LinkFilter; atA: string[]; atB: string[] } {
  const hub = new MemoryHub();
  const a = new LinkFilter(hub.connect('a'));
  const b = new LinkFilter(hub.connect('b'));
  const atA: string[] = [];
  const atB: string[] = [];
  a.onFrame((from, frame) => atA.push(`${from}:${frame[0]}`));
  b.onFrame((from, frame) => atB.push(`${from}:${frame[0]}`));
  return { a, b, atA, atB };
}

describe('LinkFilter slow links', () => {
  it('holds frames sent by a slowed node for the delay, in order', async () => {
    const { a, atB } = pair();
    a.slow(100);
    a.send('b', Uint8Array.of(1));
    a.send('b', Uint8Array.of(2));
    await vi.advanceTimersByTimeAsync(99);
    expect(atB).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(atB).toEqual(['a:1', 'a:2']);
  });

  it('holds frames received by a slowed node for the delay', async () => {
    const { b, a, atA } = pair();
    a.slow(50);
    b.send('a', Uint8Array.of(7));
    await vi.advanceTimersByTimeAsync(10);
    expect(atA).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(atA).toEqual(['b:7']);
  });

  it('is immediate again at 0, still drops blocked frames, and drops held frames on close', async () => {
    const { a, atB } = pair();
    a.slow(0);
    a.send('b', Uint8Array.of(1));
    await vi.advanceTimersByTimeAsync(1);
    expect(atB).toEqual(['a:1']);

    a.slow(100);
    a.block(['b']);
    a.send('b', Uint8Array.of(2));
    expect(a.blockedFramesDropped).toBe(1);
    a.unblock();
    a.send('b', Uint8Array.of(3));
    await a.close();
    await vi.advanceTimersByTimeAsync(200);
    expect(atB).toEqual(['a:1']);
  });

  it('refuses a negative or non-finite delay with a CONFIG error', () => {
    const { a } = pair();
    for (const delayMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let caught: unknown = null;
      try {
        a.slow(delayMs);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(NodeError);
      expect(caught).toMatchObject({ code: 'CONFIG' });
    }
  });
});
