/**
 * The BFT storage in a file (src/io/storage/file-bft-storage.ts) keeps exactly what the memory
 * adapter keeps for the same writes (both fold through src/runtime/bft-durable.ts): 60 writes
 * with views going up, pre-prepares, prepared certificates with signatures and request bytes,
 * committed batches,
 * stable checkpoints with their state, garbage collection below them, and client timestamps,
 * compared after a reopen (every byte array round-trips); the same with a rewrite every few
 * writes (a floor of 2 KiB), the file then bounded; a last write cut at every byte offset
 * boots the state before it; a byte flipped in an earlier write refuses to open
 * (FileLogCorruptError); a second handle is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PreparedCertificate } from '../../../src/core/bft/types.ts';
import { MemoryBftStorage, type BftBootRecord, type BftStorage } from '../../../src/io/storage/bft-storage.ts';
import { fileBftStorage } from '../../../src/io/storage/file-bft-storage.ts';
import { FileLogCorruptError, FileLogLockedError } from '../../../src/io/storage/file-errors.ts';
import type { BftWrite } from '../../../src/runtime/bft-durable.ts';

const root = mkdtempSync(join(tmpdir(), 'pq-file-bft-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `b-${++dirs}`);

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff);
const digest = (seed: number): string => seed.toString(16).padStart(64, '0');

function certificate(view: number, seq: number): PreparedCertificate {
  return {
    prePrepare: { view, seq, digest: digest(seq * 100 + view), signature: bytes(64, seq) } as unknown as PreparedCertificate['prePrepare'],
    requests: [{ client: 'c1', timestamp: seq, op: bytes(20, seq + 1), readOnly: false, signature: bytes(64, seq + 2), digest: digest(seq) }],
    prepares: ['r2', 'r3'].map((replica, i) => ({ replica, signature: bytes(64, seq + 3 + i) })),
  };
}

/** Write `i` of a replica's life: a new view now and then, a checkpoint every 10 seqs with GC below it. */
function bftWrite(i: number): BftWrite {
  const view = Math.floor(i / 25);
  const seq = i + 1;
  const checkpoint = seq % 10 === 0;
  return {
    persist: {
      view,
      prePrepared: [{ view, seq, digest: digest(seq * 100 + view) }],
      prepared: i % 2 === 0 ? [certificate(view, seq)] : [],
      committed: [{ header: certificate(view, seq).prePrepare, requests: certificate(view, seq).requests }],
      stableCheckpoint: checkpoint ? { seq, stateDigest: digest(seq), proofs: ['r1', 'r2', 'r3'].map((replica) => ({ replica, seq, stateDigest: digest(seq), signature: bytes(64, seq) })) } : null,
      stableClients: checkpoint ? [['c1', seq]] : null,
      discardBelowSeq: checkpoint ? seq : null,
    },
    checkpointState: checkpoint ? bytes(100 + seq, seq) : null,
  };
}

async function apply(s: BftStorage, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    await s.write(bftWrite(i));
    if (i % 7 === 0) await s.writeClientTimestamp(i * 3);
  }
}

/** A boot record as plain data: the fold's boot, its state, and the client timestamp. */
function plain(b: BftBootRecord): unknown {
  return { boot: b.durable.boot(), state: b.durable.state, clientTimestamp: b.clientTimestamp };
}

async function expected(n: number): Promise<unknown> {
  const memory = new MemoryBftStorage();
  await apply(memory, 0, n);
  return plain(await memory.boot());
}

describe('FileBftStorage', () => {
  it('boots what the memory adapter holds for the same writes, after a reopen', async () => {
    const dir = freshDir();
    const file = await fileBftStorage({ dir });
    await apply(file, 0, 60);
    expect(plain(await file.boot())).toEqual(await expected(60));
    await file.close();
    const reopened = await fileBftStorage({ dir });
    expect(plain(await reopened.boot())).toEqual(await expected(60));
    expect(reopened.rewrites).toBe(0);
    await reopened.close();
  });

  it('rewrites the file once it grew past four times its last size, and boots the same', async () => {
    const dir = freshDir();
    const file = await fileBftStorage({ dir, rewriteBytesMin: 2048 });
    await apply(file, 0, 60);
    expect(file.rewrites).toBeGreaterThanOrEqual(2);
    await file.close();
    const reopened = await fileBftStorage({ dir, rewriteBytesMin: 2048 });
    expect(plain(await reopened.boot())).toEqual(await expected(60));
    await reopened.close();
  });

  it('cuts a torn last write at every byte offset and boots the state before it', async () => {
    const dir = freshDir();
    const file = await fileBftStorage({ dir });
    await apply(file, 0, 13);
    await file.close();
    const path = join(dir, 'bft.log');
    const sizeBefore = readFileSync(path).byteLength;
    const again = await fileBftStorage({ dir });
    await again.write(bftWrite(13));
    await again.close();
    const whole = readFileSync(path);
    const before = await expected(13);
    expect(whole.byteLength - sizeBefore).toBeGreaterThan(100);
    for (let cut = sizeBefore; cut < whole.byteLength; cut++) {
      writeFileSync(path, whole.subarray(0, cut));
      const reopened = await fileBftStorage({ dir });
      expect(plain(await reopened.boot())).toEqual(before);
      await reopened.close();
    }
  });

  it('refuses to open with a byte flipped in an earlier write, and a second handle', async () => {
    const dir = freshDir();
    const file = await fileBftStorage({ dir });
    await apply(file, 0, 5);
    await expect(fileBftStorage({ dir })).rejects.toBeInstanceOf(FileLogLockedError);
    await file.close();
    const path = join(dir, 'bft.log');
    const b = readFileSync(path);
    b[20] = (b[20] as number) ^ 0x04;
    writeFileSync(path, b);
    await expect(fileBftStorage({ dir })).rejects.toBeInstanceOf(FileLogCorruptError);
  });
});
