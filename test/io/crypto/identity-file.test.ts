/**
 * What this proves about a Node node's identity file (src/io/crypto/identity-file.ts), with real
 * files in a temporary directory:
 * - the first load creates `identity.json` (mode 0600) and later loads give the same identity,
 *   whose signatures verify under the published key, its private key not extractable;
 * - eight loads racing on an empty directory all get ONE identity (the file is created with a
 *   hard link, which refuses an existing name: no creator replaces another's key), and no
 *   temporary file is left behind;
 * - a file that is not an identity (not JSON, another version, keys that do not import, halves
 *   of two different pairs) is refused with IdentityError and left as it was.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityFileName, loadOrCreateFileIdentity } from '../../../src/io/crypto/identity-file.ts';
import { IdentityError, verifyIdentitySignature } from '../../../src/io/crypto/identity.ts';

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pq-identity-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(): Promise<unknown> {
  try {
    await loadOrCreateFileIdentity(dir);
  } catch (e) {
    return e;
  }
  return null;
}

describe('identity file', () => {
  it('is created once, private, and gives the same identity in every life', async () => {
    const first = await loadOrCreateFileIdentity(dir);
    const file = join(dir, identityFileName);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateFileIdentity(dir);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.keyPair.privateKey.extractable).toBe(false);
    const data = new TextEncoder().encode('signed in one life, checked with the key of another');
    expect(await verifyIdentitySignature(first.publicKeyRaw, data, await second.sign(data))).toBe(true);
  });

  it('gives racing creators one identity and leaves no temporary file', async () => {
    const loaded = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateFileIdentity(dir)));
    expect(new Set(loaded.map((i) => i.fingerprint)).size).toBe(1);
    expect(await readdir(dir)).toEqual([identityFileName]);
  });

  it('refuses a file that is not an identity, and leaves it as it was', async () => {
    await loadOrCreateFileIdentity(dir);
    const file = join(dir, identityFileName);
    const good = JSON.parse(await readFile(file, 'utf8')) as { publicKey: string; privateKeyPkcs8: string };
    const otherDir = await mkdtemp(join(tmpdir(), 'pq-identity-other-'));
    await loadOrCreateFileIdentity(otherDir);
    const other = JSON.parse(await readFile(join(otherDir, identityFileName), 'utf8')) as { publicKey: string };
    await rm(otherDir, { recursive: true, force: true });
    const bad = [
      'not json',
      JSON.stringify({ ...good, v: 2 }),
      JSON.stringify({ v: 1, publicKey: 'AAAA', privateKeyPkcs8: good.privateKeyPkcs8 }),
      JSON.stringify({ v: 1, publicKey: other.publicKey, privateKeyPkcs8: good.privateKeyPkcs8 }),
    ];
    for (const text of bad) {
      await writeFile(file, text);
      expect(await refusal()).toBeInstanceOf(IdentityError);
      expect(await readFile(file, 'utf8')).toBe(text);
    }
  });
});
