/**
 * What this proves about the link guard (src/io/crypto/link-guard.ts) on its own, with no
 * router and no transport: two guards A and B of one cluster exchange real v2 frames (built with
 * `prepareEnvelope` and read back with `decodeEnvelope`, as the router does), and the guard
 *
 * - takes hellos that teach it the peer's boot epoch and says when to answer one, then passes
 *   each data frame once (`replayed` a second time, `too-old` beyond the window), and a forged
 *   frame does not move the window;
 * - refuses (`bad-tag`) what a guard made from another secret tags, though it knows the epochs;
 * - refuses (`bad-tag`) a frame recorded before the receiver restarted, although the new
 *   receiver's replay window is empty, and the same frame PASSES a receiver that restarts
 *   without raising its epoch (so the epoch, not the window, is what stops it);
 * - refuses (`bad-tag`) a frame from the sender's previous life once its new hello was taken,
 *   and passes the new life's frames under sequence numbers the old life already used;
 * - refuses an old hello (`stale-hello`) without moving the known epoch back; takes a hello
 *   that names an old epoch of ours, with `answer: true`; refuses a malformed hello body (each
 *   cause apart; the identity key it carries is tested in hello-identity.test.ts);
 * - holds at most `linksMax` peers (`too-many-links`); a peer that no hello authenticated gives
 *   its place up to one that authenticates (ids that sent one forged frame each cannot hold
 *   every place); and paces hellos per peer.
 *
 * Every scenario runs with the synchronous MAC and with Web Crypto, and must give the same
 * verdicts (the expected values are written once, for both); the two backends also tag alike
 * and open each other's frames.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/core/assert.ts';
import { decodeEnvelope, prepareEnvelope, type ProtocolFamily } from '../../src/io/envelope.ts';
import { LinkGuard, helloBodyBytes, type GuardVerdict, type LinkGuardOptions } from '../../src/io/crypto/link-guard.ts';
import { encodeHelloBody } from '../../src/io/crypto/hello-body.ts';
import { simIdentityKey } from '../../src/sim/sim-identity.ts';

const cluster = 'c';
const secret = 'a cluster secret of 32 bytes....';
const otherSecret = 'another secret, also 32 bytes...';
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A frame as it crossed the wire (sealed), and the sender's guard that made it. */
interface Sent {
  readonly family: ProtocolFamily;
  readonly from: string;
  readonly to: string;
  readonly frame: Uint8Array;
}

type Mac = LinkGuardOptions['mac'];

function guard(mac: Mac, self: string, epoch: number, extra: Partial<LinkGuardOptions> = {}): LinkGuard {
  return new LinkGuard({ secret, cluster, self, epoch, mac, identityKey: simIdentityKey(self), ...extra });
}

/** Seal `body` from `g` to `to` as the router does: next seq, prepare, tag, seal. */
async function seal(g: LinkGuard, to: string, family: ProtocolFamily, body: Uint8Array): Promise<Sent> {
  const seq = g.takeSeq(to);
  if (seq === null) throw new Error(`no link from ${g.self} to ${to}`);
  const unsealed = prepareEnvelope({ family, cluster, from: g.self, to, seq }, body);
  const tag = family === 'link' ? g.tagHello(to, seq, unsealed.authenticated) : g.tagData(to, seq, unsealed.authenticated);
  return { family, from: g.self, to, frame: unsealed.seal(await tag) };
}

const hello = (g: LinkGuard, to: string): Promise<Sent> => seal(g, to, 'link', g.helloBody(to));
const data = (g: LinkGuard, to: string, s: string): Promise<Sent> => seal(g, to, 'raft', text(s));

/** What `g` says of a frame: a data frame's verdict, or a hello's `verdict` and `answer`. */
async function open(g: LinkGuard, sent: Sent): Promise<GuardVerdict | { verdict: GuardVerdict; answer: boolean }> {
  const decoded = decodeEnvelope(sent.frame, undefined, { cluster, self: g.self });
  if (!decoded.ok) throw decoded.error;
  const e = decoded.value;
  if (e.auth === null) throw new Error('an authenticated frame carries a tag');
  return e.family === 'link' ? g.openHello(e.from, e.seq, e.authenticated, e.auth, e.body) : g.openData(e.from, e.seq, e.authenticated, e.auth);
}

/** A copy of `sent` with one byte of its body flipped (a forgery on the wire). */
function tampered(sent: Sent): Sent {
  const frame = sent.frame.slice();
  const at = frame.byteLength - 34; // the last body byte: the auth length and the 32-byte tag follow
  frame[at] = (frame[at] as number) ^ 0x01;
  return { ...sent, frame };
}

/** Both directions of hellos: afterwards each guard knows the other's epoch. */
async function handshake(a: LinkGuard, b: LinkGuard): Promise<void> {
  expect(await open(b, await hello(a, b.self))).toEqual({ verdict: 'ok', answer: a.peerEpoch(b.self) !== b.epoch });
  expect(await open(a, await hello(b, a.self))).toEqual({ verdict: 'ok', answer: false });
  expect(a.peerEpoch(b.self)).toBe(b.epoch);
  expect(b.peerEpoch(a.self)).toBe(a.epoch);
}

describe.each(['sync', 'webcrypto'] as const)('LinkGuard (%s MAC)', (mac) => {
  it('learns epochs from hellos, then passes each data frame once; a forgery neither passes nor moves the window', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000, { replayWindowMax: 32 });
    expect(a.peerEpoch('b')).toBe(0);
    // No tag for a peer whose epoch is unknown: the router holds such a frame back.
    expect(() => a.tagData('b', 1, text('x'))).toThrow(AssertionError);
    // A data frame before any hello: the receiver cannot check it yet.
    const early = guard(mac, 'a', 1_000);
    const teacher = guard(mac, 'b', 2_000);
    await handshake(early, teacher);
    expect(await open(b, await data(early, 'b', 'too early'))).toBe('unknown-epoch');

    // A's hello names no epoch of B's yet: B takes it and must answer.
    expect(await open(b, await hello(a, 'b'))).toEqual({ verdict: 'ok', answer: true });
    expect(b.peerEpoch('a')).toBe(1_000);
    expect(await open(a, await hello(b, 'a'))).toEqual({ verdict: 'ok', answer: false });
    expect(a.peerEpoch('b')).toBe(2_000);

    const d1 = await data(a, 'b', 'one');
    const d2 = await data(a, 'b', 'two');
    expect(await open(b, d2)).toBe('ok');
    expect(await open(b, d1)).toBe('ok');
    expect(await open(b, d1)).toBe('replayed');
    expect(await open(b, d2)).toBe('replayed');
    expect(await open(a, await data(b, 'a', 'back'))).toBe('ok');

    // A forged copy of a frame not yet seen fails, and the genuine one still passes after it.
    const d3 = await data(a, 'b', 'three');
    expect(await open(b, tampered(d3))).toBe('bad-tag');
    expect(await open(b, d3)).toBe('ok');

    // Beyond the window (32 behind the highest), a frame is too old to tell: refused.
    const old = await data(a, 'b', 'old');
    for (let i = 0; i < 40; i++) expect(await open(b, await data(a, 'b', `n${i}`))).toBe('ok');
    expect(await open(b, old)).toBe('too-old');
  });

  it('refuses frames tagged under another secret, even with both epochs right', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    await handshake(a, b);
    // Mallory speaks as A with A's epoch, and knows B's epoch (from a B of her own secret).
    const mallory = new LinkGuard({ secret: otherSecret, cluster, self: 'a', epoch: 1_000, mac, identityKey: simIdentityKey('a') });
    await handshake(mallory, new LinkGuard({ secret: otherSecret, cluster, self: 'b', epoch: 2_000, mac, identityKey: simIdentityKey('b') }));
    expect(mallory.peerEpoch('b')).toBe(2_000);
    expect(await open(b, await hello(mallory, 'b'))).toEqual({ verdict: 'bad-tag', answer: false });
    for (let i = 0; i < 3; i++) expect(await open(b, await data(mallory, 'b', `forged${i}`))).toBe('bad-tag');
    // A hello under another secret teaches no epoch to a guard that knows none.
    const fresh = guard(mac, 'b', 3_000);
    expect(await open(fresh, await hello(mallory, 'b'))).toEqual({ verdict: 'bad-tag', answer: false });
    expect(fresh.peerEpoch('a')).toBe(0);
    // And A's own frames still pass: the forgeries moved nothing.
    expect(await open(b, await data(a, 'b', 'genuine'))).toBe('ok');
  });

  it('refuses a frame recorded before the receiver restarted, though its window is fresh; it would pass if the epoch had not grown', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    const firstHello = await hello(a, 'b');
    expect(await open(b, firstHello)).toEqual({ verdict: 'ok', answer: true });
    expect(await open(a, await hello(b, 'a'))).toEqual({ verdict: 'ok', answer: false });
    const recorded = [await data(a, 'b', 'one'), await data(a, 'b', 'two')];
    for (const r of recorded) expect(await open(b, r)).toBe('ok');

    // B restarts with a higher epoch; the epochs are exchanged again.
    const reborn = guard(mac, 'b', 2_500);
    expect(await open(a, await hello(reborn, 'a'))).toEqual({ verdict: 'ok', answer: true });
    expect(a.peerEpoch('b')).toBe(2_500);
    expect(await open(reborn, await hello(a, 'b'))).toEqual({ verdict: 'ok', answer: false });
    for (const r of recorded) expect(await open(reborn, r)).toBe('bad-tag');
    // The new life's frames pass.
    expect(await open(reborn, await data(a, 'b', 'three'))).toBe('ok');

    // The control: a B that restarts WITHOUT raising its epoch (and learns A's from A's recorded
    // first hello) has an empty window too, and the recorded frames pass it. The epoch is what
    // stopped them above.
    const sameEpoch = guard(mac, 'b', 2_000);
    expect(await open(sameEpoch, firstHello)).toEqual({ verdict: 'ok', answer: true });
    for (const r of recorded) expect(await open(sameEpoch, r)).toBe('ok');
  });

  it("refuses a frame from the sender's previous life once its new hello is taken; the new life reuses sequence numbers", async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    const oldHello = await hello(a, 'b');
    expect(await open(b, oldHello)).toEqual({ verdict: 'ok', answer: true });
    expect(await open(a, await hello(b, 'a'))).toEqual({ verdict: 'ok', answer: false });
    const oldFrame = await data(a, 'b', 'old life');
    expect(await open(b, oldFrame)).toBe('ok');

    const reborn = guard(mac, 'a', 1_500);
    // Its first hello names no epoch of B's: taken (a newer epoch resets the window), answered.
    expect(await open(b, await hello(reborn, 'b'))).toEqual({ verdict: 'ok', answer: true });
    expect(b.peerEpoch('a')).toBe(1_500);
    expect(await open(reborn, await hello(b, 'a'))).toEqual({ verdict: 'ok', answer: false });
    expect(await open(b, oldFrame)).toBe('bad-tag');
    // The new life's first data frame has the old one's seq (2): fresh in the new window.
    const next = await data(reborn, 'b', 'new life');
    expect(seqOf(next)).toBe(seqOf(oldFrame));
    expect(await open(b, next)).toBe('ok');

    // The old life's hello is stale now: refused, and the known epoch stays the new one.
    expect(await open(b, oldHello)).toEqual({ verdict: 'stale-hello', answer: false });
    expect(b.peerEpoch('a')).toBe(1_500);
    expect(await open(b, oldFrame)).toBe('bad-tag');
    expect(await open(b, await data(reborn, 'b', 'still'))).toBe('ok');
  });

  it('takes a hello that names an old epoch of ours, and asks for an answer', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    await handshake(a, b);
    // A's hello now names B's epoch 2,000: B takes it and needs not answer.
    const naming = await hello(a, 'b');
    expect(await open(b, naming)).toEqual({ verdict: 'ok', answer: false });
    // A B restarted (epoch 2,600) gets the same recorded hello: it is A's current epoch, so it
    // is taken, but A does not know B's new epoch: answer.
    const reborn = guard(mac, 'b', 2_600);
    expect(await open(reborn, naming)).toEqual({ verdict: 'ok', answer: true });
    expect(reborn.peerEpoch('a')).toBe(1_000);
  });

  it('refuses a malformed hello body', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    expect(await open(b, await seal(a, 'b', 'link', new Uint8Array(helloBodyBytes - 1)))).toEqual({ verdict: 'malformed', answer: false });
    // Epoch 0 is "unknown", never an epoch (the rest of the body is well formed).
    const zero = encodeHelloBody({ epoch: 0, peerEpoch: 0, publicKey: a.identityKey });
    expect(await open(b, await seal(a, 'b', 'link', zero))).toEqual({ verdict: 'malformed', answer: false });
    // An epoch beyond 2^53 - 1.
    const huge = encodeHelloBody({ epoch: 0, peerEpoch: 0, publicKey: a.identityKey });
    huge.fill(0xff, 0, 8);
    expect(await open(b, await seal(a, 'b', 'link', huge))).toEqual({ verdict: 'malformed', answer: false });
    expect(b.peerEpoch('a')).toBe(0);
  });

  it('holds at most linksMax peers', async () => {
    const b = guard(mac, 'b', 2_000, { linksMax: 2 });
    const peers = ['p1', 'p2', 'p3'].map((id, i) => guard(mac, id, 100 + i));
    const [p1, p2, p3] = peers as [LinkGuard, LinkGuard, LinkGuard];
    expect(await open(b, await hello(p1, 'b'))).toEqual({ verdict: 'ok', answer: true });
    expect(await open(b, await hello(p2, 'b'))).toEqual({ verdict: 'ok', answer: true });
    expect(await open(b, await hello(p3, 'b'))).toEqual({ verdict: 'too-many-links', answer: false });
    await handshake(p3, guard(mac, 'b', 2_000));
    expect(await open(b, await data(p3, 'b', 'x'))).toBe('too-many-links');
    expect(b.linkCount).toBe(2);
    expect(b.admits('p3')).toBe(false);
    expect(b.takeSeq('p3')).toBeNull();
    expect(b.helloDue('p3', 0)).toBe(false);
    expect(b.admits('p1')).toBe(true);
    // The peers already held keep working.
    expect(await open(p1, await hello(b, 'p1'))).toEqual({ verdict: 'ok', answer: false });
    expect(await open(b, await data(p1, 'b', 'y'))).toBe('ok');
    expect(b.linkCount).toBe(2);
  });

  it('gives up the place of a peer no hello authenticated to one that authenticates', async () => {
    const b = guard(mac, 'b', 2_000, { linksMax: 2 });
    // Two ids send one forged frame each: each takes a place (nothing is authenticated yet).
    for (const junk of ['x1', 'x2']) expect(await b.openData(junk, 1, text('junk'), new Uint8Array(32))).toBe('unknown-epoch');
    expect(b.linkCount).toBe(2);
    // A real peer still gets in, in the oldest stranger's place.
    const p1 = guard(mac, 'p1', 100);
    expect(await open(b, await hello(p1, 'b'))).toEqual({ verdict: 'ok', answer: true });
    expect(b.linkCount).toBe(2);
    expect(b.peerEpoch('p1')).toBe(100);
    const p2 = guard(mac, 'p2', 101);
    expect(await open(b, await hello(p2, 'b'))).toEqual({ verdict: 'ok', answer: true });
    // Authenticated peers keep their places: more strangers are refused.
    expect(await b.openData('x3', 1, text('junk'), new Uint8Array(32))).toBe('too-many-links');
    expect(b.helloDue('x4', 0)).toBe(false);
    expect(b.peerEpoch('p1')).toBe(100);
    expect(b.peerEpoch('p2')).toBe(101);
  });

  it('paces hellos: at most one per peer per helloIntervalMs', () => {
    const a = guard(mac, 'a', 1_000, { helloIntervalMs: 100 });
    expect(a.helloDue('b', 5_000)).toBe(true);
    expect(a.helloDue('b', 5_001)).toBe(false);
    expect(a.helloDue('b', 5_099)).toBe(false);
    // Another peer has its own pace.
    expect(a.helloDue('c', 5_050)).toBe(true);
    expect(a.helloDue('b', 5_100)).toBe(true);
    expect(a.helloDue('b', 5_150)).toBe(false);
    expect(a.helloDue('c', 5_150)).toBe(true);
  });
});

describe('LinkGuard backends', () => {
  it('tag alike, and each opens the frames of the other', async () => {
    const syncA = guard('sync', 'a', 1_000);
    const webA = guard('webcrypto', 'a', 1_000);
    const syncB = guard('sync', 'b', 2_000);
    const webB = guard('webcrypto', 'b', 2_000);
    await handshake(syncA, webB);
    await handshake(webA, syncB);
    const fromSync = await data(syncA, 'b', 'same bytes');
    const fromWeb = await data(webA, 'b', 'same bytes');
    expect(Buffer.from(fromWeb.frame).equals(Buffer.from(fromSync.frame))).toBe(true);
    expect(await open(webB, fromSync)).toBe('ok');
    expect(await open(syncB, fromWeb)).toBe('ok');
    expect(await open(webB, fromSync)).toBe('replayed');
  });
});

function seqOf(sent: Sent): number {
  const decoded = decodeEnvelope(sent.frame);
  if (!decoded.ok) throw decoded.error;
  return decoded.value.seq;
}
