/**
 * A Node node's identity (identity.ts) kept in a file, so that the node has the same key in
 * every life, as its peers expect (they keep the first key each member published: a new key
 * after a restart would look like an impostor to a BFT peer checking its certificates).
 *
 * Why a file of its own, and why the private key is written out: a browser keeps the
 * non-extractable CryptoKey itself in IndexedDB; Node has no such store, so the only way to
 * keep a key across lives is its bytes. The pair is generated extractable ONCE, exported
 * (PKCS#8 private, raw public), written, and then imported back with the private key
 * NOT extractable: in memory the node holds the same kind of key as in a browser, and the
 * checks of identity.ts (a P-256 signing pair whose halves match) run on what was read.
 *
 * The file: JSON `{ "v": 1, "publicKey": base64, "privateKeyPkcs8": base64 }`, mode 0600,
 * created whole or not at all (file-dir.ts `createFileAtomic`: temporary file, fsync, link,
 * fsync the directory). Two processes creating it at once: one wins and both load its pair.
 * A file that exists but is not such a pair is refused (`IdentityError`), never replaced: a
 * silent new identity is exactly what the file exists to prevent.
 */
import { join } from 'node:path';
import { createFileAtomic, readFileIfPresent } from '../storage/file-dir.ts';
import { ensureDir } from '../storage/file-recovery.ts';
import { IdentityError, loadOrCreateIdentity, type NodeIdentity } from './identity.ts';
import { memoryIdentityStore } from './identity-store.ts';

/** The identity file's name in a node's data directory. */
export const identityFileName = 'identity.json';
/** A real file is about 300 bytes: anything far larger is not ours, and is not read whole into a parse. */
const identityFileBytesMax = 16 * 1024;
const keyAlgorithm: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };

interface IdentityFile {
  readonly v: 1;
  readonly publicKey: string;
  readonly privateKeyPkcs8: string;
}

/** The identity in `dir/identity.json`, or a new one written there first. */
export async function loadOrCreateFileIdentity(dir: string): Promise<NodeIdentity> {
  await ensureDir(dir);
  const path = join(dir, identityFileName);
  let bytes = await readFileIfPresent(path);
  if (bytes === null) {
    await createFileAtomic(dir, identityFileName, await newIdentityFile(), 0o600);
    // Read back what is on disk: if another process created it first, its pair is the one.
    bytes = await readFileIfPresent(path);
    if (bytes === null) throw new IdentityError(`${path} vanished right after it was created`);
  }
  const pair = await importIdentityFile(bytes, path);
  // Through a store holding just this pair: identity.ts checks it as it checks any stored pair.
  const store = memoryIdentityStore();
  await store.setIfAbsent(pair);
  return loadOrCreateIdentity(store);
}

async function newIdentityFile(): Promise<Uint8Array> {
  const pair = await crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const privateKey = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const file: IdentityFile = { v: 1, publicKey: Buffer.from(publicKey).toString('base64'), privateKeyPkcs8: Buffer.from(privateKey).toString('base64') };
  return new TextEncoder().encode(`${JSON.stringify(file)}\n`);
}

async function importIdentityFile(bytes: Uint8Array, path: string): Promise<CryptoKeyPair> {
  if (bytes.length > identityFileBytesMax) throw new IdentityError(`${path} is ${bytes.length} bytes, not an identity file`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new IdentityError(`${path} is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const f = value as Partial<IdentityFile> | null;
  if (typeof f !== 'object' || f === null || f.v !== 1 || typeof f.publicKey !== 'string' || typeof f.privateKeyPkcs8 !== 'string') {
    throw new IdentityError(`${path} is not a version 1 identity file`);
  }
  try {
    const publicKey = await crypto.subtle.importKey('raw', Buffer.from(f.publicKey, 'base64'), keyAlgorithm, true, ['verify']);
    const privateKey = await crypto.subtle.importKey('pkcs8', Buffer.from(f.privateKeyPkcs8, 'base64'), keyAlgorithm, false, ['sign']);
    return { publicKey, privateKey };
  } catch (e) {
    throw new IdentityError(`${path} does not hold a P-256 key pair (${e instanceof Error ? e.message : String(e)})`);
  }
}
