/**
 * What this proves about the identity keys that hellos publish (src/io/crypto/hello-body.ts and
 * the link guard, src/io/crypto/link-guard.ts), with no transport:
 *
 * - The body is 81 bytes, the two epochs then the 65-byte key, and parses back to what was
 *   encoded; the parser refuses any other length (the old 16-byte body among them), a key not
 *   starting with 0x04 (a compressed point, zeros), an epoch of 0 or beyond 2^53 - 1 and a peer
 *   epoch beyond it, and hands back a copy of the key, not a view of the frame.
 * - A guard learns a peer's key from its hello (both MACs), and only from a hello whose tag
 *   holds: one bit of the key flipped on the wire is `bad-tag`, and no key is learned.
 * - The first key is kept for the life of the guard: a later hello with another key is refused
 *   as `identity-changed`, in the same epoch and in a newer one, and neither its epoch nor its
 *   key is adopted; the genuine peer's hellos still pass. A peer that restarts with the same key
 *   is taken as before. The frame router counts the refusal (`hello-identity-changed`).
 * - Keys are held for at most `linksMax` peers, and `peerKeys()` hands out copies.
 */
import { describe, expect, it } from 'vitest';
import { encodeHelloBody, helloBodyBytes, parseHelloBody } from '../../src/io/crypto/hello-body.ts';
import { LinkGuard, type GuardVerdict, type LinkGuardOptions } from '../../src/io/crypto/link-guard.ts';
import { decodeEnvelope, prepareEnvelope } from '../../src/io/envelope.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { FrameRouter } from '../../src/runtime/frame-router.ts';
import { simIdentityKey } from '../../src/sim/sim-identity.ts';
import { TapTransport } from '../runtime/tap-transport.ts';

const cluster = 'c';
const secret = 'a cluster secret of 32 bytes....';

function guard(mac: LinkGuardOptions['mac'], self: string, epoch: number, identityKey = simIdentityKey(self), linksMax?: number): LinkGuard {
  return new LinkGuard({ secret, cluster, self, epoch, mac, identityKey, ...(linksMax === undefined ? {} : { linksMax }) });
}

/** A hello from `g` to `to`, sealed as the router seals it (optionally with one body byte flipped). */
async function hello(g: LinkGuard, to: string, flipAt?: number): Promise<Uint8Array> {
  const seq = g.takeSeq(to);
  if (seq === null) throw new Error('no link');
  const body = g.helloBody(to);
  const unsealed = prepareEnvelope({ family: 'link', cluster, from: g.self, to, seq }, body);
  const frame = unsealed.seal(await g.tagHello(to, seq, unsealed.authenticated));
  if (flipAt !== undefined) {
    // The body ends just before the auth length byte and the 32-byte tag.
    const at = frame.byteLength - 33 - helloBodyBytes + flipAt;
    frame[at] = (frame[at] as number) ^ 0x01;
  }
  return frame;
}

async function open(g: LinkGuard, frame: Uint8Array): Promise<{ verdict: GuardVerdict; answer: boolean }> {
  const decoded = decodeEnvelope(frame, undefined, { cluster, self: g.self });
  if (!decoded.ok) throw decoded.error;
  const e = decoded.value;
  if (e.auth === null || e.family !== 'link') throw new Error('not a hello');
  return g.openHello(e.from, e.seq, e.authenticated, e.auth, e.body);
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** A valid-looking key other than `id`'s stand-in. */
function otherKey(id: string): Uint8Array {
  return simIdentityKey(`${id} (someone else)`);
}

describe('hello body', () => {
  const key = simIdentityKey('a');

  it('is the two epochs and the key, 81 bytes, and parses back', () => {
    const body = encodeHelloBody({ epoch: 1_000, peerEpoch: 2 ** 53 - 1, publicKey: key });
    expect(body.byteLength).toBe(81);
    expect(helloBodyBytes).toBe(81);
    expect(Array.from(body.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0x03, 0xe8]);
    expect(body.subarray(16)).toEqual(key);
    expect(parseHelloBody(body)).toEqual({ epoch: 1_000, peerEpoch: 2 ** 53 - 1, publicKey: key });
  });

  it('refuses every other length, the old 16-byte body among them', () => {
    const body = encodeHelloBody({ epoch: 1, peerEpoch: 0, publicKey: key });
    for (const length of [0, 16, 80, 82, 97]) {
      const other = new Uint8Array(length);
      other.set(body.subarray(0, Math.min(length, body.byteLength)));
      expect(parseHelloBody(other), `${length} bytes`).toBeNull();
    }
  });

  it('refuses a key that is not an uncompressed point', () => {
    for (const prefix of [0x00, 0x02, 0x03, 0x05, 0xff]) {
      const body = encodeHelloBody({ epoch: 1, peerEpoch: 0, publicKey: key });
      body[16] = prefix;
      expect(parseHelloBody(body), `prefix ${prefix}`).toBeNull();
    }
  });

  it('refuses epoch 0 and epochs beyond 2^53 - 1', () => {
    expect(parseHelloBody(encodeHelloBody({ epoch: 0, peerEpoch: 5, publicKey: key }))).toBeNull();
    const high = encodeHelloBody({ epoch: 1, peerEpoch: 1, publicKey: key });
    high[1] = 0x20; // the epoch's high half is now 2^21: beyond a safe integer
    expect(parseHelloBody(high)).toBeNull();
    const peerHigh = encodeHelloBody({ epoch: 1, peerEpoch: 1, publicKey: key });
    peerHigh.fill(0xff, 8, 16);
    expect(parseHelloBody(peerHigh)).toBeNull();
    // 2^53 - 1 itself is an epoch.
    expect(parseHelloBody(encodeHelloBody({ epoch: 2 ** 53 - 1, peerEpoch: 0, publicKey: key }))?.epoch).toBe(2 ** 53 - 1);
  });

  it('hands back a copy of the key', () => {
    const body = encodeHelloBody({ epoch: 1, peerEpoch: 0, publicKey: key });
    const parsed = parseHelloBody(body);
    body[40] = (body[40] as number) ^ 0xff;
    expect(parsed?.publicKey).toEqual(key);
  });

  it('a guard will not publish a key that is not a point', () => {
    expect(() => guard('sync', 'a', 1, new Uint8Array(65))).toThrow(/identity key/);
    expect(() => guard('sync', 'a', 1, key.subarray(0, 64))).toThrow(/identity key/);
  });
});

describe.each(['sync', 'webcrypto'] as const)('identity keys in hellos (%s MAC)', (mac) => {
  it('learns a key from an authenticated hello only', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    expect(b.peerKey('a')).toBeUndefined();
    // One bit of the key flipped on the wire: the tag fails, nothing is learned.
    expect(await open(b, await hello(a, 'b', 40))).toEqual({ verdict: 'bad-tag', answer: false });
    expect(b.peerKey('a')).toBeUndefined();
    expect(await open(b, await hello(a, 'b'))).toEqual({ verdict: 'ok', answer: true });
    expect(b.peerKey('a')).toEqual(simIdentityKey('a'));
    expect(await open(a, await hello(b, 'a'))).toEqual({ verdict: 'ok', answer: false });
    expect([...a.peerKeys()]).toEqual([['b', simIdentityKey('b')]]);
  });

  it('keeps the first key: another is refused as identity-changed, in the same epoch or a newer one', async () => {
    const a = guard(mac, 'a', 1_000);
    const b = guard(mac, 'b', 2_000);
    expect((await open(b, await hello(a, 'b'))).verdict).toBe('ok');

    // Someone with the secret speaks as A, same epoch, another key.
    const sameEpoch = guard(mac, 'a', 1_000, otherKey('a'));
    expect(await open(b, await hello(sameEpoch, 'b'))).toEqual({ verdict: 'identity-changed', answer: false });
    // A newer epoch does not buy a new key either (keys are persistent), nor is the epoch adopted.
    const newer = guard(mac, 'a', 5_000, otherKey('a'));
    expect(await open(b, await hello(newer, 'b'))).toEqual({ verdict: 'identity-changed', answer: false });
    expect(b.peerEpoch('a')).toBe(1_000);
    expect(b.peerKey('a')).toEqual(simIdentityKey('a'));

    // The genuine A still passes, and so does A restarted with its key (a new epoch).
    expect((await open(b, await hello(a, 'b'))).verdict).toBe('ok');
    const restarted = guard(mac, 'a', 3_000);
    expect((await open(b, await hello(restarted, 'b'))).verdict).toBe('ok');
    expect(b.peerEpoch('a')).toBe(3_000);
    expect(b.peerKey('a')).toEqual(simIdentityKey('a'));
  });

  it('holds keys for at most linksMax peers, and hands out copies', async () => {
    const b = guard(mac, 'b', 2_000, undefined, 2);
    for (const [i, id] of ['p1', 'p2', 'p3'].entries()) await open(b, await hello(guard(mac, id, 100 + i), 'b'));
    const keys = b.peerKeys();
    expect([...keys.keys()]).toEqual(['p1', 'p2']);
    (keys.get('p1') as Uint8Array).fill(0);
    (b.peerKey('p2') as Uint8Array).fill(0);
    expect(b.peerKey('p1')).toEqual(simIdentityKey('p1'));
    expect(b.peerKeys().get('p2')).toEqual(simIdentityKey('p2'));
  });
});

describe('the frame router', () => {
  it('counts a hello with a changed key as hello-identity-changed and keeps the first key', async () => {
    const hub = new MemoryHub();
    const tap = new TapTransport(hub.connect('b'));
    const a = new FrameRouter({ transport: hub.connect('a'), cluster, self: 'a', guard: guard('sync', 'a', 1_000), now: () => 0 });
    const b = new FrameRouter({ transport: tap, cluster, self: 'b', guard: guard('sync', 'b', 2_000), now: () => 0 });
    // A's first frame to B is held back and a hello goes instead; B answers with its own.
    a.sendBody('raft', 'b', new Uint8Array(1));
    await until(() => a.peerKey('b') !== undefined && b.peerKey('a') !== undefined);
    expect(a.peerKeys().get('b')).toEqual(simIdentityKey('b'));
    expect(b.peerKey('a')).toEqual(simIdentityKey('a'));

    // Someone with the secret sends B a hello as A, with another key, on A's link.
    tap.inject('a', await hello(guard('sync', 'a', 9_000, otherKey('a')), 'b'));
    expect(b.metrics.dropped['hello-identity-changed']).toBe(1);
    expect(b.peerKey('a')).toEqual(simIdentityKey('a'));
    await Promise.all([a.close(), b.close()]);
  });

  it('learns no key without a secret', async () => {
    const hub = new MemoryHub();
    const a = new FrameRouter({ transport: hub.connect('a'), cluster, self: 'a', guard: null, now: () => 0 });
    expect(a.authenticated).toBe(false);
    expect(a.peerKeys().size).toBe(0);
    expect(a.peerKey('b')).toBeUndefined();
    await a.close();
  });
});
