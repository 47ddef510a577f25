/**
 * A micro-benchmark run by hand, not by Vitest (no timing assertions anywhere): tags per second
 * of HMAC-SHA256 on 200-byte frames, the pure-TypeScript `HmacKey` against Web Crypto `sign`,
 * and of the link guard (src/io/crypto/link-guard.ts) tagging and checking the same frames with
 * either backend (so the per-frame head and the replay window are included).
 *
 *   npx tsx test/io/crypto/bench-mac.ts [frameBytes]
 */
import { createHmac } from 'node:crypto';
import { LinkGuard } from '../../../src/io/crypto/link-guard.ts';
import { simIdentityKey } from '../../../src/sim/sim-identity.ts';
import { HmacKey } from '../../../src/io/crypto/sha256.ts';
import { createPrng, randomBytes } from './test-bytes.ts';

const frameBytes = Number(process.argv[2] ?? 200);
const prng = createPrng(42);
const keyBytes = randomBytes(prng, 32);
const frame = randomBytes(prng, frameBytes);
const secret = randomBytes(prng, 32);

function report(name: string, count: number, ms: number): void {
  console.log(`${name.padEnd(44)} ${Math.round((count / ms) * 1000).toLocaleString('en-US').padStart(12)} /s   (${count} in ${ms.toFixed(0)} ms)`);
}

function timeSync(name: string, count: number, body: () => void): void {
  for (let i = 0; i < Math.min(count, 20_000); i++) body(); // warm up
  const start = performance.now();
  for (let i = 0; i < count; i++) body();
  report(name, count, performance.now() - start);
}

async function timeAsync(name: string, count: number, body: () => Promise<unknown>, parallel: number): Promise<void> {
  for (let i = 0; i < 2_000; i++) await body();
  const start = performance.now();
  for (let done = 0; done < count; done += parallel) {
    await Promise.all(Array.from({ length: parallel }, body));
  }
  report(name, count, performance.now() - start);
}

console.log(`frame ${frameBytes} bytes, node ${process.version}`);
const key = new HmacKey(keyBytes);
const out = new Uint8Array(32);
timeSync('sync HmacKey.macInto', 1_000_000, () => key.macInto(frame, out));
timeSync('node:crypto createHmac (reference)', 300_000, () => createHmac('sha256', keyBytes).update(frame).digest());

const webKey = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
await timeAsync('Web Crypto sign, one at a time', 100_000, () => crypto.subtle.sign('HMAC', webKey, frame), 1);
await timeAsync('Web Crypto sign, 64 in flight', 200_000, () => crypto.subtle.sign('HMAC', webKey, frame), 64);

/** Two guards that have exchanged hellos (the hello body stands for the envelope it would be in). */
async function pair(mac: 'sync' | 'webcrypto'): Promise<[LinkGuard, LinkGuard]> {
  const a = new LinkGuard({ secret, cluster: 'bench', self: 'a', epoch: 1, mac, identityKey: simIdentityKey('a') });
  const b = new LinkGuard({ secret, cluster: 'bench', self: 'b', epoch: 2, mac, identityKey: simIdentityKey('b') });
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const body = from.helloBody(to.self);
    const seq = from.takeSeq(to.self) as number;
    const verdict = await to.openHello(from.self, seq, body, await from.tagHello(to.self, seq, body), body);
    if (verdict.verdict !== 'ok') throw new Error(`bench hello refused: ${verdict.verdict}`);
  }
  return [a, b];
}

const [a, b] = await pair('sync');
timeSync('link guard (sync) tag + check', 500_000, () => {
  const seq = a.takeSeq('b') as number;
  if (b.openData('a', seq, frame, a.tagData('b', seq, frame) as Uint8Array) !== 'ok') throw new Error('bench frame refused');
});

const [aa, ab] = await pair('webcrypto');
await timeAsync(
  'link guard (Web Crypto) tag + check, one at a time',
  50_000,
  async () => {
    const seq = aa.takeSeq('b') as number;
    if ((await ab.openData('a', seq, frame, await aa.tagData('b', seq, frame))) !== 'ok') throw new Error('bench frame refused');
  },
  1,
);
