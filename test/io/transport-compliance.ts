/**
 * The transport compliance suite, written once and run against every adapter (in Node: memory,
 * BroadcastChannel, WebRTC data channels over fake channels, the MessagePort relay; in the
 * browser: PeerJS WebRTC, direct and relayed). It proves the `Transport` contract: once
 * a link is open, a frame reaches its addressee only, with its bytes intact and its true sender,
 * and frames from one sender to one receiver keep flowing in volume (a link opens after a
 * handshake on WebRTC; before that, frames may be dropped, which Raft tolerates); a frame larger than the limit or to nobody is
 * dropped and counted, never thrown; links open when peers appear and close when they leave;
 * nothing is delivered after `close()`. Where the harness can set a transport's bound on links
 * (`connectBounded`), it also proves the bound: a node that holds `linksMax` peers refuses a
 * link to one more and counts it (`linksRefused`), frames between it and the refused peer are
 * dropped and counted both ways, and the links it holds keep working. Only Vitest and our
 * sources are imported (types only), so the suite can run in a browser too.
 */
import { describe, expect, it } from 'vitest';
import type { Transport } from '../../src/io/transport/transport.ts';

/** How the suite makes the transports it checks (a test harness, not a `TransportFactory`). */
export interface TransportHarness {
  /** Connect node `id` to a fresh or shared network (per `network` key). */
  connect(network: string, id: string): Promise<Transport>;
  /**
   * Connect node `id` with a bound of `linksMax` peers. Optional: without it the bound's test is
   * not registered (the in-page WebRTC harness of e2e/pages/webrtc-harness.ts has none yet).
   */
  connectBounded?(network: string, id: string, linksMax: number): Promise<Transport>;
  /** The frame size limit the adapter was configured with. */
  readonly frameBytesMax: number;
  /**
   * How long a wait for a condition may take before the test fails (default 3 s). Only stops a
   * hang: werift's WebRTC (the Node transport) needs a DTLS handshake in JavaScript per link and
   * recovers lost SCTP packets only on its retransmission timer, so it may take longer.
   */
  readonly waitTimeoutMs?: number;
  /** How many frames the volume test sends (default 1,000). */
  readonly volumeFrames?: number;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let networkCounter = 0;

export function describeTransportCompliance(name: string, factory: TransportHarness): void {
  describe(`transport compliance: ${name}`, () => {
    const wait = (what: string, predicate: () => boolean): Promise<void> => until(what, predicate, factory.waitTimeoutMs ?? 3000);
    const volume = factory.volumeFrames ?? 1000;
    const fresh = (): string => `net${++networkCounter}-${Math.floor(Math.random() * 1e9)}`;

    it('delivers a frame to its addressee only, intact, with the true sender', async () => {
      const net = fresh();
      const [a, b, c] = await Promise.all([factory.connect(net, 'a'), factory.connect(net, 'b'), factory.connect(net, 'c')]);
      const got: { at: string; from: string; bytes: number[] }[] = [];
      for (const t of [a, b, c]) t.onFrame((from, frame) => got.push({ at: t.self, from, bytes: [...frame] }));
      // Delivery is promised only over an open link (WebRTC opens after a handshake).
      await wait('the link a->b to open', () => a.links().get('b') === 'open');
      a.send('b', Uint8Array.of(1, 2, 3, 255));
      await wait('delivery', () => got.length >= 1);
      await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([{ at: 'b', from: 'a', bytes: [1, 2, 3, 255] }]);
      expect(a.stats.framesSent).toBe(1);
      expect(b.stats.framesReceived).toBe(1);
      await Promise.all([a.close(), b.close(), c.close()]);
    });

    it('carries a thousand frames between two nodes', async () => {
      const net = fresh();
      const [a, b] = await Promise.all([factory.connect(net, 'a'), factory.connect(net, 'b')]);
      const seen = new Set<number>();
      b.onFrame((_from, frame) => seen.add(((frame[0] as number) << 8) | (frame[1] as number)));
      a.onFrame(() => undefined);
      await wait('the link a->b to open', () => a.links().get('b') === 'open');
      for (let i = 0; i < volume; i++) a.send('b', Uint8Array.of(i >> 8, i & 0xff, 7, 7, 7));
      await wait(`${volume} frames`, () => seen.size === volume);
      await Promise.all([a.close(), b.close()]);
    });

    it('drops, counts and never throws on an oversized frame or an unknown addressee', async () => {
      const net = fresh();
      const [a, b] = await Promise.all([factory.connect(net, 'a'), factory.connect(net, 'b')]);
      let received = 0;
      b.onFrame(() => received++);
      await new Promise((r) => setTimeout(r, 20));
      expect(() => a.send('b', new Uint8Array(factory.frameBytesMax + 1))).not.toThrow();
      expect(a.stats.framesDropped).toBe(1);
      expect(() => a.send('nobody-here', Uint8Array.of(1))).not.toThrow();
      await new Promise((r) => setTimeout(r, 30));
      expect(received).toBe(0);
      await Promise.all([a.close(), b.close()]);
    });

    it('opens links to peers that appear and closes them when they leave', async () => {
      const net = fresh();
      const a = await factory.connect(net, 'a');
      const states: string[] = [];
      a.onLinkState((peer, state) => states.push(`${peer}:${state}`));
      const b = await factory.connect(net, 'b');
      await wait('b to be open', () => a.links().get('b') === 'open');
      await b.close();
      await wait('b to be closed', () => a.links().get('b') === 'closed');
      expect(states).toContain('b:open');
      expect(states).toContain('b:closed');
      await a.close();
    });

    it('delivers nothing after close, and send after close is a counted drop', async () => {
      const net = fresh();
      const [a, b] = await Promise.all([factory.connect(net, 'a'), factory.connect(net, 'b')]);
      let received = 0;
      b.onFrame(() => received++);
      await b.close();
      a.send('b', Uint8Array.of(1));
      await a.close();
      a.send('b', Uint8Array.of(2));
      await new Promise((r) => setTimeout(r, 30));
      expect(received).toBe(0);
      expect(a.stats.framesDropped).toBeGreaterThanOrEqual(1);
    });

    const connectBounded = factory.connectBounded?.bind(factory);
    if (connectBounded !== undefined) {
      it('refuses and counts a link beyond linksMax, drops frames both ways, keeps the links it holds', async () => {
        const net = fresh();
        const a = await connectBounded(net, 'a', 1);
        const atA: string[] = [];
        a.onFrame((from, frame) => atA.push(`${from}:${frame[0] as number}`));
        const b = await factory.connect(net, 'b');
        b.onFrame(() => undefined);
        await wait('the link a->b to open', () => a.links().get('b') === 'open');
        expect(a.stats.linksRefused).toBe(0);
        const c = await factory.connect(net, 'c');
        let atC = 0;
        c.onFrame(() => atC++);
        await wait('a to refuse c', () => (a.stats.linksRefused ?? 0) >= 1);
        expect([...a.links().keys()]).toEqual(['b']);
        const droppedBefore = a.stats.framesDropped;
        expect(() => a.send('c', Uint8Array.of(4))).not.toThrow();
        expect(a.stats.framesDropped).toBe(droppedBefore + 1);
        // c may still think it has a link to a (memory, BroadcastChannel) or not (WebRTC): either way nothing arrives.
        c.send('a', Uint8Array.of(3));
        b.send('a', Uint8Array.of(2));
        await wait('b to reach a', () => atA.length >= 1);
        await new Promise((r) => setTimeout(r, 30));
        expect(atA).toEqual(['b:2']);
        expect(atC).toBe(0);
        expect([...a.links().keys()]).toEqual(['b']);
        await Promise.all([a.close(), b.close(), c.close()]);
      });
    }
  });
}
