/**
 * What this proves about the frame router (src/runtime/frame-router.ts), with real routers over
 * the in-memory transport and real link guards, and an outsider on the same hub:
 *
 * - Without a secret, messages flow both ways; anyone attached is heard (the unauthenticated
 *   mode), but a tagged frame, which this node could not check, is refused (`unexpected-tag`).
 * - With a secret (synchronous MAC and Web Crypto alike), the first frames to a peer whose epoch
 *   is unknown are held back and counted while one hello goes instead, and sent, in order, once
 *   the peer's hello is taken; messages then flow both ways and nothing is refused. A router of another secret gets nothing through: its
 *   hellos are refused (`hello-bad-tag`), it never learns an epoch, so its frames stay held.
 * - A frame whose envelope `from` is not the peer the transport names is `wrong-sender`, with or
 *   without a secret; an untagged frame (seq 0) to an authenticated router is `unauthenticated`.
 * - Web Crypto: a burst of 200 frames on one link reaches the handler in send order although a
 *   spy on `crypto.subtle.verify` makes their verifications finish out of order.
 * - A data frame arriving behind a restarted peer's new hello is checked after it, under the new
 *   epoch (it used to be checked at once, under the old one, and refused as a bad tag).
 * - The inbound queue of a link is bounded, in bytes too: of 100 frames arriving at once with 8 allowed to
 *   wait, 92 are refused as `overloaded` BEFORE any verification starts (a spy counts the guard's
 *   checks: no work and no copy of the frame kept for a refused one), the 8 are delivered in
 *   order, and the refused frames' sequence numbers stay unused (they pass when they come again).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HeartbeatMessage, Message } from '../../src/core/raft/messages.ts';
import { encodeRaftBody } from '../../src/io/codec-raft.ts';
import { LinkGuard, type LinkGuardOptions } from '../../src/io/crypto/link-guard.ts';
import { encodeEnvelope, sealEnvelope, type EnvelopeHeader } from '../../src/io/envelope.ts';
import { MemoryHub, type MemoryTransport } from '../../src/io/transport/memory-transport.ts';
import { FrameRouter } from '../../src/runtime/frame-router.ts';
import { simIdentityKey } from '../../src/sim/sim-identity.ts';
import { TapTransport } from './tap-transport.ts';

const cluster = 'test';
const secret = 'the cluster secret, 32 bytes....';
const otherSecret = 'not the cluster secret, 32 bytes';

interface Node {
  readonly id: string;
  readonly router: FrameRouter;
  readonly guard: LinkGuard | null;
  readonly tap: TapTransport;
  /** Messages that reached the handler, in order. */
  readonly got: Message[];
}

interface NodeOptions {
  readonly secret?: string;
  readonly mac?: LinkGuardOptions['mac'];
  readonly inboundPerLinkMax?: number;
}

let epoch = 1_000;
let open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.map((o) => o.close()));
  open = [];
});

function node(hub: MemoryHub, id: string, options: NodeOptions = {}): Node {
  const tap = new TapTransport(hub.connect(id));
  const guard = options.secret === undefined ? null : new LinkGuard({ secret: options.secret, cluster, self: id, epoch: epoch++, mac: options.mac ?? 'sync', identityKey: simIdentityKey(id) });
  const router = new FrameRouter({
    transport: tap,
    cluster,
    self: id,
    guard,
    now: () => performance.now(),
    ...(options.inboundPerLinkMax === undefined ? {} : { inboundPerLinkMax: options.inboundPerLinkMax }),
  });
  const got: Message[] = [];
  router.onMessage((m) => got.push(m));
  open.push(router);
  return { id, router, guard, tap, got };
}

/** An outsider attached to the hub with no router: it sends whatever bytes it likes. */
function outsider(hub: MemoryHub, id: string): MemoryTransport {
  const t = hub.connect(id);
  open.push(t);
  return t;
}

const beat = (from: string, to: string, round: number): HeartbeatMessage => ({ type: 'heartbeat', from, to, term: 1, commit: 0, round });
const rounds = (ms: readonly Message[]): number[] => ms.map((m) => (m.type === 'heartbeat' ? m.round : -1));

/** An untagged frame (seq 0) of a heartbeat, with the envelope's `from` as given. */
function plainFrame(from: string, to: string, round: number, bodyFrom = from): Uint8Array {
  const header: EnvelopeHeader = { family: 'raft', cluster, from, to, seq: 0 };
  return encodeEnvelope(header, encodeRaftBody(beat(bodyFrom, to, round)));
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Let every frame in flight on the hub arrive (it delivers on later timer tasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
}

/**
 * `a` sends `b` one frame (held back) and so a hello; `b` answers: both know each other's epoch,
 * and the held frame reaches `b`; then the messages so far are forgotten.
 */
async function handshake(a: Node, b: Node): Promise<void> {
  a.router.send(beat(a.id, b.id, 0));
  await until('the hellos', () => (a.guard?.peerEpoch(b.id) ?? 0) > 0 && (b.guard?.peerEpoch(a.id) ?? 0) > 0);
  await until('the held frame', () => b.got.length === 1);
  await settle();
  a.got.length = 0;
  b.got.length = 0;
}

describe('FrameRouter without a secret', () => {
  it('passes messages both ways, hears anyone attached, and refuses a tagged frame it cannot check', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a');
    const b = node(hub, 'b');
    expect(a.router.authenticated).toBe(false);
    a.router.send(beat('a', 'b', 1));
    b.router.send(beat('b', 'a', 2));
    await until('both messages', () => a.got.length === 1 && b.got.length === 1);
    expect(rounds(b.got)).toEqual([1]);
    expect(rounds(a.got)).toEqual([2]);

    // The unauthenticated mode: an outsider's frame is taken like a member's.
    const m = outsider(hub, 'm');
    m.send('b', plainFrame('m', 'b', 7));
    await until("the outsider's message", () => b.got.length === 2);
    expect(b.got[1]?.from).toBe('m');

    // A tagged frame: this node has no key to check it, so it is not taken on trust.
    const tagged = sealEnvelope({ family: 'raft', cluster, from: 'm', to: 'b', seq: 1 }, encodeRaftBody(beat('m', 'b', 8)), () => new Uint8Array(32).fill(7));
    m.send('b', tagged);
    // A hello means nothing without a secret.
    m.send('b', encodeEnvelope({ family: 'link', cluster, from: 'm', to: 'b', seq: 0 }, new Uint8Array(16)));
    await until('the refusals', () => b.router.metrics.framesDropped === 2);
    expect(b.router.metrics.dropped).toEqual({ 'unexpected-tag': 1, 'link-without-secret': 1 });
    expect(b.got).toHaveLength(2);
  });

  it('refuses a frame whose envelope speaks for another node than the link it came on (wrong-sender)', async () => {
    const hub = new MemoryHub();
    const b = node(hub, 'b');
    node(hub, 'a');
    const m = outsider(hub, 'm');
    m.send('b', plainFrame('a', 'b', 1));
    // And a body that speaks for another node than its envelope: the codec refuses it.
    m.send('b', plainFrame('m', 'b', 2, 'a'));
    await until('the refusals', () => b.router.metrics.framesDropped === 2);
    expect(b.router.metrics.dropped).toEqual({ 'wrong-sender': 1, INVALID_MESSAGE: 1 });
    expect(b.got).toEqual([]);
  });
});

describe.each(['sync', 'webcrypto'] as const)('FrameRouter with a secret (%s MAC)', (mac) => {
  it('holds back the first frames to a peer of unknown epoch, sends one hello instead, and sends them after the hellos', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac });
    const b = node(hub, 'b', { secret, mac });
    expect(a.router.authenticated).toBe(true);
    a.router.send(beat('a', 'b', 1));
    a.router.send(beat('a', 'b', 2));
    // Both held; one hello (paced) went instead.
    expect(a.router.metrics.framesHeldForEpoch).toBe(2);
    expect(a.router.metrics.hellosSent).toBe(1);
    await until('the hellos', () => a.guard?.peerEpoch('b') === b.guard?.epoch && b.guard?.peerEpoch('a') === a.guard?.epoch);
    // B took A's hello and answered it (A's named no epoch of B's); A took the answer.
    expect(b.router.metrics.hellosTaken).toBe(1);
    expect(b.router.metrics.hellosSent).toBe(1);
    expect(a.router.metrics.hellosTaken).toBe(1);

    a.router.send(beat('a', 'b', 3));
    b.router.send(beat('b', 'a', 4));
    await until('both messages', () => a.got.length === 1 && b.got.length === 3);
    await settle();
    // The held frames left once B's hello was taken, before the later one.
    expect(a.router.metrics.framesSentAfterHello).toBe(2);
    expect(rounds(b.got)).toEqual([1, 2, 3]);
    expect(rounds(a.got)).toEqual([4]);
    expect(a.router.metrics.dropped).toEqual({});
    expect(b.router.metrics.dropped).toEqual({});
    expect(b.router.metrics.framesHeldForEpoch).toBe(0);
  });

  it('gets nothing through from a router of another secret: its hellos are refused and its frames stay held', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac });
    const b = node(hub, 'b', { secret, mac });
    await handshake(a, b);
    const m = node(hub, 'm', { secret: otherSecret, mac });
    m.router.send(beat('m', 'b', 1));
    b.router.send(beat('b', 'm', 2));
    // Refused both ways: M's hello for its held frame, B's for its own.
    await until('the hellos to be refused', () => (b.router.metrics.dropped['hello-bad-tag'] ?? 0) >= 1 && (m.router.metrics.dropped['hello-bad-tag'] ?? 0) >= 1);
    for (let i = 0; i < 5; i++) {
      m.router.send(beat('m', 'b', 10 + i));
      await new Promise((r) => setTimeout(r, 5));
    }
    await settle();
    expect(m.guard?.peerEpoch('b')).toBe(0);
    expect(b.guard?.peerEpoch('m')).toBe(0);
    expect(m.router.metrics.framesHeldForEpoch).toBe(6);
    expect(b.got).toEqual([]);
    expect(m.got).toEqual([]);
    // Nothing else of M's reached B's checks: only hellos (at most one per hello interval).
    expect(Object.keys(b.router.metrics.dropped)).toEqual(['hello-bad-tag']);
    // A and B still talk.
    a.router.send(beat('a', 'b', 20));
    await until("A's message", () => b.got.length === 1);
  });

  it('refuses an untagged frame (unauthenticated) and a frame speaking for another node (wrong-sender)', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac });
    const b = node(hub, 'b', { secret, mac });
    await handshake(a, b);
    const m = outsider(hub, 'm');
    m.send('b', plainFrame('m', 'b', 1));
    m.send('b', plainFrame('a', 'b', 2));
    // Even a member's own link cannot carry an untagged frame.
    a.tap.inner.send('b', plainFrame('a', 'b', 3));
    await until('the refusals', () => b.router.metrics.framesDropped === 3);
    expect(b.router.metrics.dropped).toEqual({ unauthenticated: 2, 'wrong-sender': 1 });
    expect(b.got).toEqual([]);
  });
});

describe('FrameRouter with Web Crypto', () => {
  it('delivers a burst of 200 frames of one link in send order, though their verifications finish out of order', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac: 'webcrypto' });
    const b = node(hub, 'b', { secret, mac: 'webcrypto' });
    await handshake(a, b);
    const subtle = globalThis.crypto.subtle;
    const verify = subtle.verify.bind(subtle) as (...args: unknown[]) => Promise<boolean>;
    let calls = 0;
    const finished: number[] = [];
    vi.spyOn(subtle, 'verify').mockImplementation((async (...args: unknown[]) => {
      const call = calls++;
      // Every fourth verification is slow: later frames finish before it.
      if (call % 4 === 0) await new Promise((r) => setTimeout(r, 10));
      const result = await verify(...args);
      finished.push(call);
      return result;
    }) as typeof subtle.verify);

    for (let round = 1; round <= 200; round++) a.router.send(beat('a', 'b', round));
    await until('200 messages', () => b.got.length === 200);
    expect(rounds(b.got)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(b.router.metrics.dropped).toEqual({});
    // The spy did reorder the verifications (else this test would prove nothing).
    expect(finished).toHaveLength(200);
    expect(finished).not.toEqual([...finished].sort((x, y) => x - y));
  });

  it('bounds the inbound queue of a link: frames beyond it are refused as overloaded before any check, and their seqs stay unused', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac: 'webcrypto' });
    const b = node(hub, 'b', { secret, mac: 'webcrypto', inboundPerLinkMax: 8 });
    await handshake(a, b);
    // Record 100 of A's frames without delivering them, then hand them to B all at once.
    hub.block('a', 'b');
    a.tap.sent.length = 0;
    for (let round = 1; round <= 100; round++) a.router.send(beat('a', 'b', round));
    await until("A's 100 frames", () => a.tap.sent.length === 100);
    const frames = a.tap.sent.map((s) => s.frame);
    const bGuard = b.guard as LinkGuard;
    const checks = vi.spyOn(bGuard, 'openData');

    for (const f of frames) b.tap.inject('a', f);
    expect(b.router.metrics.dropped).toEqual({ overloaded: 92 });
    // Only the frames let in were checked: a refused frame costs no verification and keeps no copy.
    expect(checks).toHaveBeenCalledTimes(8);
    await until('the 8 frames let in', () => b.got.length === 8);
    expect(rounds(b.got)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // The queue drained: the next frames get in, and the refused ones were never counted as
    // seen (they pass now), while the delivered ones are replays.
    for (const f of frames.slice(6, 14)) b.tap.inject('a', f);
    await until('the next 6', () => b.got.length === 14);
    expect(rounds(b.got).slice(8)).toEqual([9, 10, 11, 12, 13, 14]);
    expect(b.router.metrics.dropped).toEqual({ overloaded: 92, replayed: 2 });
  });
  it('checks a data frame that arrives behind a peer\'s new hello under the epoch that hello brings', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac: 'webcrypto' });
    const b = node(hub, 'b', { secret, mac: 'webcrypto' });
    await handshake(a, b);
    // A restarts (a new router and guard under its id, with a later epoch) on a wire of its own,
    // whose frames we hand to B ourselves. It learns B's epoch from a hello B sent before.
    const bHello = b.tap.sent.find((f) => f.to === 'a' && f.frame[1] === 5)?.frame;
    expect(bHello).toBeDefined();
    const a2 = node(new MemoryHub(), 'a', { secret, mac: 'webcrypto' });
    a2.router.send(beat('a', 'b', 1)); // held; its hello goes nowhere, but is recorded
    a2.tap.inject('b', bHello as Uint8Array);
    await until("A's held frame to leave", () => a2.tap.sent.some((f) => f.frame[1] === 1));
    const hello = a2.tap.sent.find((f) => f.frame[1] === 5)?.frame as Uint8Array;
    const data = a2.tap.sent.find((f) => f.frame[1] === 1)?.frame as Uint8Array;
    // Both at once: the data frame's check must wait for the hello's (it covers the new epoch).
    b.tap.inject('a', hello);
    b.tap.inject('a', data);
    await until('the message of the new life', () => b.got.length === 1);
    expect(rounds(b.got)).toEqual([1]);
    expect(b.router.metrics.dropped).toEqual({});
  });

  it('bounds the bytes waiting on a link too (frames are up to 4 MiB each)', async () => {
    const hub = new MemoryHub();
    const a = node(hub, 'a', { secret, mac: 'webcrypto' });
    const tap = new TapTransport(hub.connect('b'));
    const guard = new LinkGuard({ secret, cluster, self: 'b', epoch: epoch++, mac: 'webcrypto', identityKey: simIdentityKey('b') });
    const router = new FrameRouter({ transport: tap, cluster, self: 'b', guard, now: () => performance.now(), inboundBytesPerLinkMax: 300 });
    const got: Message[] = [];
    router.onMessage((m) => got.push(m));
    open.push(router);
    const b: Node = { id: 'b', router, guard, tap, got };
    await handshake(a, b);
    hub.block('a', 'b');
    a.tap.sent.length = 0;
    for (let round = 1; round <= 20; round++) a.router.send(beat('a', 'b', round));
    await until("A's 20 frames", () => a.tap.sent.length === 20);
    const size = (a.tap.sent[0] as { frame: Uint8Array }).frame.byteLength;
    const fit = Math.floor(300 / size);
    for (const f of a.tap.sent) b.tap.inject('a', f.frame);
    expect(b.router.metrics.dropped).toEqual({ overloaded: 20 - fit });
    await until('the frames let in', () => b.got.length === fit);
  });
});
