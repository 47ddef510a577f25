/**
 * What this proves about node identities in a running node (src/runtime/peer-identities.ts in
 * src/runtime/node-host.ts), in Node with real Web Crypto, the in-memory transport and, where
 * said, IndexedDB (fake-indexeddb):
 *
 * - Two nodes with a cluster secret learn each other's public keys from their hellos: each one's
 *   `status().identity` names its own fingerprint and the other's, and each verifies what the
 *   other signs (`verifyFromPeer`), while a tampered signature, tampered data, a signature made
 *   with another node's key, and a peer whose key is unknown all fail, without a throw.
 * - Without a secret no hello is sent: `identity.peers` is empty and nothing verifies.
 * - Where the pair lives: with IndexedDB storage the node has the same key in its next life
 *   (its own database, `peerquorum-identity/<cluster>/<id>`); with memory storage a new one each
 *   life, unless Node code passes one (`NodeHostParts.identity`).
 * - A stored identity that cannot be used stops the start cleanly with STORAGE, naming the
 *   database and the cause, and is not replaced.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { identityFingerprintOf, loadOrCreateIdentity } from '../../src/io/crypto/identity.ts';
import { indexedDbIdentityStore, memoryIdentityStore } from '../../src/io/crypto/identity-store.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { NodeHost, type NodeHostParts } from '../../src/runtime/node-host.ts';
import { identityDatabaseName } from '../../src/runtime/peer-identities.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

const secret = 'the cluster secret, 32 bytes....';
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
let running: NodeHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((h) => h.stop().catch(() => undefined)));
  running = [];
});

function options(id: string, voters: readonly string[], extra: Partial<WorkerStartOptions> = {}): WorkerStartOptions {
  return { cluster: 'ids', id, voters, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, seed: id.charCodeAt(0), ...extra };
}

async function start(o: WorkerStartOptions, parts: NodeHostParts): Promise<NodeHost> {
  const host = await NodeHost.start(o, parts);
  running.push(host);
  return host;
}

async function until(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function pair(withSecret: boolean): Promise<[NodeHost, NodeHost]> {
  const hub = new MemoryHub();
  const voters = ['a', 'b'];
  const extra = withSecret ? { secret } : {};
  const a = await start(options('a', voters, extra), { transport: hub.connect('a'), storage: new MemoryRaftStorage() });
  const b = await start(options('b', voters, extra), { transport: hub.connect('b'), storage: new MemoryRaftStorage() });
  return [a, b];
}

describe('identities between two nodes with a secret', () => {
  it('learn each other’s keys through hellos, show them in status, and verify each other’s signatures', async () => {
    const [a, b] = await pair(true);
    await until('both keys learned', () => a.identities.peerKey('b') !== undefined && b.identities.peerKey('a') !== undefined);
    await until('a leader', () => [a, b].some((h) => h.status().role === 'leader'));

    const sa = a.status().identity;
    const sb = b.status().identity;
    expect(sa.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(sa.fingerprint).not.toBe(sb.fingerprint);
    expect(sa).toEqual({ fingerprint: a.identities.fingerprint, peers: { b: sb.fingerprint } });
    expect(sb).toEqual({ fingerprint: b.identities.fingerprint, peers: { a: sa.fingerprint } });
    expect(b.identities.peerKey('a')).toEqual(a.identities.publicKey);
    expect(identityFingerprintOf(a.identities.publicKey)).toBe(sa.fingerprint);

    const data = text('forward this, signed');
    const byA = await a.identities.sign(data);
    const byB = await b.identities.sign(data);
    expect(await b.identities.verifyFromPeer('a', data, byA)).toBe(true);
    expect(await a.identities.verifyFromPeer('b', data, byB)).toBe(true);

    const tampered = byA.slice();
    tampered[10] = (tampered[10] as number) ^ 0x01;
    expect(await b.identities.verifyFromPeer('a', data, tampered)).toBe(false);
    expect(await b.identities.verifyFromPeer('a', text('forward this, signed!'), byA)).toBe(false);
    // B's own signature, passed off as A's: A's key does not verify it.
    expect(await a.identities.verifyFromPeer('a', data, byB)).toBe(false);
    expect(await b.identities.verifyFromPeer('a', data, byB)).toBe(false);
    // A peer whose key is unknown, and malformed signatures: false, never a throw.
    expect(await b.identities.verifyFromPeer('zz', data, byA)).toBe(false);
    expect(await b.identities.verifyFromPeer('a', data, byA.subarray(0, 63))).toBe(false);
    expect(await b.identities.verifyFromPeer('a', data, new Uint8Array(0))).toBe(false);
  });
});

describe('identities without a secret', () => {
  it('publish nothing: peers stay empty and nothing verifies', async () => {
    const [a, b] = await pair(false);
    await until('a leader', () => [a, b].some((h) => h.status().role === 'leader'));
    expect(a.status().authenticated).toBe(false);
    expect(a.status().identity).toEqual({ fingerprint: a.identities.fingerprint, peers: {} });
    const data = text('x');
    expect(await b.identities.verifyFromPeer('a', data, await a.identities.sign(data))).toBe(false);
  });
});

describe('where the identity lives', () => {
  const solo = (id: string, extra: Partial<WorkerStartOptions> = {}): WorkerStartOptions => options(id, [id], extra);

  it('IndexedDB: the same key in the next life', async () => {
    const first = await start(solo('p1', { storage: 'indexeddb' }), { transport: new MemoryHub().connect('p1') });
    const fingerprint = first.status().identity.fingerprint;
    await first.stop();
    const again = await start(solo('p1', { storage: 'indexeddb' }), { transport: new MemoryHub().connect('p1') });
    expect(again.status().identity.fingerprint).toBe(fingerprint);
    // Its own database, beside the log's.
    const stored = await loadOrCreateIdentity(indexedDbIdentityStore(identityDatabaseName('ids', 'p1')));
    expect(stored.fingerprint).toBe(fingerprint);
  });

  it('memory: a new key each life, unless Node code passes one', async () => {
    const first = await start(solo('m1'), { transport: new MemoryHub().connect('m1') });
    const before = first.status().identity.fingerprint;
    await first.stop();
    const fresh = await start(solo('m1'), { transport: new MemoryHub().connect('m1') });
    expect(fresh.status().identity.fingerprint).not.toBe(before);
    await fresh.stop();

    const identity = await loadOrCreateIdentity(memoryIdentityStore());
    const one = await start(solo('m2'), { transport: new MemoryHub().connect('m2'), identity });
    await one.stop();
    const two = await start(solo('m2'), { transport: new MemoryHub().connect('m2'), identity });
    expect(two.status().identity.fingerprint).toBe(identity.fingerprint);
  });

  it('a stored identity that cannot be used stops the start with STORAGE and stays as it was', async () => {
    const name = identityDatabaseName('ids', 'broken');
    const junk = { privateKey: 'not a key', publicKey: 'not a key' } as unknown as CryptoKeyPair;
    await indexedDbIdentityStore(name).setIfAbsent(junk);
    const failure = await NodeHost.start(solo('broken', { storage: 'indexeddb' }), { transport: new MemoryHub().connect('broken') }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(failure?.code).toBe('STORAGE');
    expect(failure?.message).toContain(name);
    expect(failure?.message).toContain('unusable');
    expect(await indexedDbIdentityStore(name).get()).toEqual(junk);
  });
});
