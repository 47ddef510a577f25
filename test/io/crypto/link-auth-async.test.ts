/**
 * What this proves about the Web Crypto link authenticator (src/io/crypto/link-auth-async.ts):
 *
 * - Same results as the synchronous one: a seeded schedule of sealed frames from several peers
 *   (fresh, replayed, reordered, tampered in frame, seq, sender or tag, malformed, and from more
 *   peers than `linksMax`) is opened by both, step by step, and every result, every counter and
 *   the link table agree; both backends seal the same tags for the same seq.
 * - `openInOrder` delivers the frames of a link in arrival order even when their verifications
 *   finish in reverse (a spy on `crypto.subtle.verify` delays earlier frames longer), while
 *   another link's frames are not held behind them; the results it delivers are the sync
 *   authenticator's for the same arrival order (replays included).
 * - Bounds: past `pendingOpensMax` waiting frames, `openInOrder` answers 'overloaded' at once,
 *   counts it, and never calls `deliver` for that frame; the queue drains back to zero.
 * - Concurrency: frames of a new peer verified in parallel create one link, each accepted once;
 *   `seal` takes seqs in call order without awaiting; the caller's buffers may be reused as soon
 *   as a call returns.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAsyncLinkAuthenticator } from '../../../src/io/crypto/link-auth-async.ts';
import { createLinkAuthenticator, type OpenResult } from '../../../src/io/crypto/link-auth.ts';
import { createPrng, hex, randomBytes, utf8 } from './test-bytes.ts';

const secret = utf8('a cluster secret of 32 bytes....');
const cluster = 'c';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createAsyncLinkAuthenticator', () => {
  it('gives the sync authenticator results, counters and tags on a seeded hostile schedule', async () => {
    const prng = createPrng(31);
    const options = { secret, cluster, self: 'me', linksMax: 3, replayWindowMax: 32 };
    const sync = createLinkAuthenticator(options);
    const web = createAsyncLinkAuthenticator(options);
    const peers = ['p1', 'p2', 'p3', 'p4'].map((self) => ({
      self,
      sync: createLinkAuthenticator({ secret, cluster, self }),
      web: createAsyncLinkAuthenticator({ secret, cluster, self }),
      sent: [] as { seq: number; frame: Uint8Array; tag: Uint8Array }[],
    }));
    const results: Record<string, number> = {};
    for (let step = 0; step < 1500; step++) {
      const peer = peers[prng.nextInt(peers.length)]!;
      if (prng.nextInt(2) === 0 || peer.sent.length === 0) {
        const frame = randomBytes(prng, prng.nextInt(300));
        const s = peer.sync.seal('me', frame);
        const w = await peer.web.seal('me', frame);
        if (!s.ok || !w.ok) throw new Error('seal refused');
        expect(w.seq).toBe(s.seq);
        expect(hex(w.tag)).toBe(hex(s.tag));
        peer.sent.push({ seq: s.seq, frame, tag: s.tag });
      }
      // Pick a recent frame (reordered or replayed), then maybe spoil it.
      const pick = peer.sent[Math.max(0, peer.sent.length - 1 - prng.nextInt(Math.min(peer.sent.length, 60)))]!;
      let { seq, frame, tag } = pick;
      let from: unknown = peer.self;
      switch (prng.nextInt(12)) {
        case 0:
          frame = new Uint8Array([...frame, 1]);
          break;
        case 1:
          seq += 1;
          break;
        case 2:
          from = peers[prng.nextInt(peers.length)]!.self;
          break;
        case 3:
          tag = randomBytes(prng, 32);
          break;
        case 4:
          from = ['me', '', 7, 'x\uDFFF'][prng.nextInt(4)];
          break;
        case 5:
          seq = [0, -3, 0.5, NaN][prng.nextInt(4)]!;
          break;
        default:
          break;
      }
      const expected = sync.open(from as string, seq, frame, tag);
      expect(await web.open(from as string, seq, frame, tag), `step ${step}`).toBe(expected);
      results[expected] = (results[expected] ?? 0) + 1;
    }
    expect(web.counters).toEqual(sync.counters);
    expect(web.linkCount).toBe(sync.linkCount);
    for (const result of ['ok', 'malformed', 'bad-tag', 'too-many-links', 'replayed', 'too-old']) {
      expect(results[result], result).toBeGreaterThan(10);
    }
  });

  it('delivers a link in arrival order even when verifications finish in reverse', async () => {
    const b = createAsyncLinkAuthenticator({ secret, cluster, self: 'n2' });
    await warmUp(b); // the link's key is imported before the spy, so only frame checks are delayed
    const realVerify = crypto.subtle.verify.bind(crypto.subtle);
    const burst = 40;
    let calls = 0;
    const finished: number[] = [];
    vi.spyOn(crypto.subtle, 'verify').mockImplementation(async (...args: Parameters<SubtleCrypto['verify']>) => {
      const call = calls++;
      await new Promise((resolve) => setTimeout(resolve, 2 * (burst - call))); // the first frames wait the longest
      const verified = await realVerify(...args);
      finished.push(call);
      return verified;
    });
    const a = createLinkAuthenticator({ secret, cluster, self: 'n1', sendSeqFirst: 10 });
    const reference = createLinkAuthenticator({ secret, cluster, self: 'n2' });
    const prng = createPrng(32);
    const sealed = Array.from({ length: burst - 4 }, (_, i) => {
      const frame = utf8(`frame ${i}`);
      const r = a.seal('n2', frame);
      if (!r.ok) throw new Error('refused');
      return { seq: r.seq, frame, tag: r.tag };
    });
    // Arrival order: mostly in order, some swapped neighbours and four replays.
    const arrivals = [...sealed];
    for (let i = 0; i + 1 < arrivals.length; i += 3) if (prng.nextInt(2) === 0) [arrivals[i], arrivals[i + 1]] = [arrivals[i + 1]!, arrivals[i]!];
    arrivals.push(sealed[3]!, sealed[5]!, sealed[30]!, sealed[0]!);
    const delivered: { seq: number; result: OpenResult }[] = [];
    const done = new Promise<void>((resolve) => {
      for (const frame of arrivals) {
        expect(
          b.openInOrder('n1', frame.seq, frame.frame, frame.tag, (result) => {
            delivered.push({ seq: frame.seq, result });
            if (delivered.length === arrivals.length) resolve();
          }),
        ).toBe('queued');
      }
    });
    expect(b.pendingOpens).toBe(arrivals.length);
    await done;
    expect(finished).not.toEqual([...finished].sort((x, y) => x - y)); // verifications did finish out of order
    expect(finished.indexOf(0)).toBeGreaterThan(arrivals.length / 2);
    expect(delivered.map((d) => d.seq)).toEqual(arrivals.map((f) => f.seq));
    expect(delivered.map((d) => d.result)).toEqual(arrivals.map((f) => reference.open('n1', f.seq, f.frame, f.tag)));
    expect(delivered.filter((d) => d.result === 'replayed')).toHaveLength(4);
    expect(b.pendingOpens).toBe(0);
  });

  it('does not hold one link behind another', async () => {
    const b = createAsyncLinkAuthenticator({ secret, cluster, self: 'n2' });
    await warmUp(b);
    const slow = createLinkAuthenticator({ secret, cluster, self: 'n1', sendSeqFirst: 10 });
    const fast = createLinkAuthenticator({ secret, cluster, self: 'n3', sendSeqFirst: 10 });
    const realVerify = crypto.subtle.verify.bind(crypto.subtle);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    vi.spyOn(crypto.subtle, 'verify').mockImplementation(async (...args: Parameters<SubtleCrypto['verify']>) => {
      if (first) {
        first = false;
        await gate; // n1's frame hangs until released
      }
      return realVerify(...args);
    });
    const order: string[] = [];
    const s = slow.seal('n2', utf8('slow'));
    const f = fast.seal('n2', utf8('fast'));
    if (!s.ok || !f.ok) throw new Error('refused');
    const fastDone = new Promise<void>((resolve) => {
      b.openInOrder('n1', s.seq, utf8('slow'), s.tag, (r) => order.push(`n1 ${r}`));
      b.openInOrder('n3', f.seq, utf8('fast'), f.tag, (r) => {
        order.push(`n3 ${r}`);
        resolve();
      });
    });
    await fastDone;
    expect(order).toEqual(['n3 ok']);
    release();
    await vi.waitFor(() => expect(order).toEqual(['n3 ok', 'n1 ok']));
  });

  it('refuses past pendingOpensMax at once, without calling deliver', async () => {
    const b = createAsyncLinkAuthenticator({ secret, cluster, self: 'n2', pendingOpensMax: 4 });
    const a = createLinkAuthenticator({ secret, cluster, self: 'n1' });
    const delivered: OpenResult[] = [];
    const answers = Array.from({ length: 10 }, (_, i) => {
      const frame = utf8(`f${i}`);
      const r = a.seal('n2', frame);
      if (!r.ok) throw new Error('refused');
      return b.openInOrder('n1', r.seq, frame, r.tag, (result) => delivered.push(result));
    });
    expect(answers).toEqual(['queued', 'queued', 'queued', 'queued', ...Array(6).fill('overloaded')]);
    expect(b.counters.overloaded).toBe(6);
    await vi.waitFor(() => expect(b.pendingOpens).toBe(0));
    expect(delivered).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(b.counters.opened).toBe(4);
  });

  it('makes one link for a new peer verified in parallel, takes seqs in call order, copies buffers', async () => {
    const a = createAsyncLinkAuthenticator({ secret, cluster, self: 'n1' });
    const b = createAsyncLinkAuthenticator({ secret, cluster, self: 'n2' });
    const frame = new Uint8Array(64).fill(1);
    const seals = [a.seal('n2', frame), a.seal('n2', frame), a.seal('n2', frame)];
    frame.fill(2); // the seals above already copied what they need
    const sealed = await Promise.all(seals);
    expect(sealed.map((s) => s.ok && s.seq)).toEqual([1, 2, 3]);
    const original = new Uint8Array(64).fill(1);
    const opens = sealed.map((s) => (s.ok ? b.open('n1', s.seq, original, s.tag) : Promise.resolve('malformed' as const)));
    original.fill(3);
    expect(await Promise.all(opens)).toEqual(['ok', 'ok', 'ok']);
    expect(b.linkCount).toBe(1);
    expect(b.counters.opened).toBe(3);
  });
});

/** Open one frame (seq 1) from n1 and from n3, so that their keys are imported and their links exist. */
async function warmUp(b: ReturnType<typeof createAsyncLinkAuthenticator>): Promise<void> {
  for (const self of ['n1', 'n3']) {
    const r = createLinkAuthenticator({ secret, cluster, self, sendSeqFirst: 1 }).seal(b.self, utf8('warm-up'));
    if (!r.ok) throw new Error('refused');
    expect(await b.open(self, r.seq, utf8('warm-up'), r.tag)).toBe('ok');
  }
}
