/**
 * The BFT storage in IndexedDB (src/io/storage/indexeddb-bft-storage.ts, over fake-indexeddb)
 * boots, after a reopen, what the memory adapter boots for the same writes: views going up,
 * accepted pre-prepares, prepared certificates, the committed batches a restart re-executes
 * (src/core/bft/ready.ts `CommittedBatch`, with their request bytes and signatures) and stable
 * checkpoints with their state, everything at or below a stable checkpoint dropped (so the
 * committed batches kept are only those above the last one).
 */
import { IDBFactory, IDBKeyRange as FakeKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { PreparedCertificate } from '../../../src/core/bft/types.ts';
import { MemoryBftStorage, type BftBootRecord, type BftStorage } from '../../../src/io/storage/bft-storage.ts';
import { IndexedDbBftStorage } from '../../../src/io/storage/indexeddb-bft-storage.ts';
import type { BftWrite } from '../../../src/runtime/bft-durable.ts';

// The adapter names the global IDBKeyRange, as it would in a browser or a worker.
(globalThis as { IDBKeyRange?: unknown }).IDBKeyRange ??= FakeKeyRange;

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff);
const digest = (seed: number): string => seed.toString(16).padStart(64, '0');

function certificate(view: number, seq: number): PreparedCertificate {
  return {
    prePrepare: { view, seq, digest: digest(seq * 100 + view), signature: bytes(64, seq) },
    requests: [{ client: 'c1', timestamp: seq, op: bytes(20, seq + 1), readOnly: false, signature: bytes(64, seq + 2), digest: digest(seq) }],
    prepares: ['r2', 'r3'].map((replica, i) => ({ replica, signature: bytes(64, seq + 3 + i) })),
  };
}

/** Write `i`: a batch accepted, prepared, committed at seq i + 1; a checkpoint every 10 seqs with GC below it. */
function bftWrite(i: number): BftWrite {
  const view = Math.floor(i / 12);
  const seq = i + 1;
  const checkpoint = seq % 10 === 0;
  const cert = certificate(view, seq);
  return {
    persist: {
      view,
      prePrepared: [{ view, seq, digest: cert.prePrepare.digest }],
      prepared: [cert],
      committed: [{ header: cert.prePrepare, requests: cert.requests }],
      stableCheckpoint: checkpoint ? { seq, stateDigest: digest(seq), proofs: ['r1', 'r2', 'r3'].map((replica) => ({ replica, seq, stateDigest: digest(seq), signature: bytes(64, seq) })) } : null,
      stableClients: checkpoint ? [['c1', seq]] : null,
      discardBelowSeq: checkpoint ? seq : null,
    },
    checkpointState: checkpoint ? bytes(100 + seq, seq) : null,
  };
}

async function apply(s: BftStorage, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await s.write(bftWrite(i));
}

function plain(b: BftBootRecord): unknown {
  const boot = b.durable.boot();
  const bySeq = <T>(xs: readonly T[], seq: (x: T) => number): T[] => [...xs].sort((x, y) => seq(x) - seq(y));
  return { ...boot, prePrepared: bySeq(boot.prePrepared, (p) => p.seq), prepared: bySeq(boot.prepared, (c) => c.prePrepare.seq), state: b.durable.state };
}

describe('IndexedDbBftStorage', () => {
  it('boots what the memory adapter holds for the same writes, committed batches above the checkpoint only', async () => {
    const indexedDB = new IDBFactory();
    const memory = new MemoryBftStorage();
    await apply(memory, 25);
    const want = await memory.boot();
    expect(want.durable.boot().committed?.map((c) => c.header.seq)).toEqual([21, 22, 23, 24, 25]);

    const first = await IndexedDbBftStorage.open({ cluster: 'c', node: 'r0', indexedDB });
    await apply(first, 25);
    await first.close();
    const reopened = await IndexedDbBftStorage.open({ cluster: 'c', node: 'r0', indexedDB });
    expect(plain(await reopened.boot())).toEqual(plain(want));
    await reopened.close();
  });
});
