/**
 * The compliance suite every `RaftStorage` adapter passes (libp2p's habit: one suite per
 * interface, written once, run against every implementation, in Node and in the browser).
 *
 * What it proves about an adapter: that `boot()` returns exactly what was durably written (hard
 * state, snapshot with its metadata and configuration, entries with their kinds,
 * configurations and exact bytes), on the same handle and after a reopen; that each part of a
 * `StorageWrite` does what `src/io/storage/storage.ts` says: a new leader's entries replace a
 * stored suffix (longer or shorter), a local snapshot with `compactTo` drops the entries behind
 * it, a leader's snapshot with `clearLog` replaces the log and the entries of the same write
 * continue after it; that an invalid write (a gap, terms or votes going back, a committed entry
 * replaced, a compaction no snapshot covers, malformed data, ...) is rejected with
 * `StorageError` and changes nothing, and the adapter keeps working; that one write of 5,000
 * entries and hundreds of sequential writes come back whole and in order; that a closed storage
 * refuses work; and, where the harness can crash the adapter, that a write not yet durable is
 * lost entirely while the write before it is kept (a write is atomic; a crash cannot tear it).
 *
 * How: each test asks `make()` for a fresh, empty storage and drives it through the
 * `RaftStorage` interface alone. Browser-safe: only Vitest and our sources are imported.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { BootState, ConfState, Entry, HardState, Snapshot } from '../../src/core/raft/types.ts';
import { StorageError, emptyWrite, type RaftStorage, type StorageWrite } from '../../src/io/storage/storage.ts';

/** A fresh, empty storage under test, and how to get at its durable state again. */
export interface StorageHarness {
  readonly storage: RaftStorage;
  /** Close the latest handle gracefully and open a new one on the same durable state. */
  reopen(): Promise<RaftStorage>;
  /**
   * Where the adapter can be crashed: kill the latest handle NOW (writes in flight are lost;
   * their promises may reject or never settle) and open a new one on what was durable.
   */
  readonly crash?: () => Promise<RaftStorage>;
}

const conf = (voters: string[], learners: string[] = []): ConfState => ({ voters, learners });
const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });
const config3 = conf(['n1', 'n2', 'n3']);

/** A normal entry whose bytes tell its index and term apart. */
function entry(index: number, term: number): Entry {
  return { index, term, kind: 'normal', data: Uint8Array.of(index & 0xff, index >> 8, term) };
}

function entries(from: number, terms: readonly number[]): Entry[] {
  return terms.map((term, i) => entry(from + i, term));
}

function snapshot(index: number, term: number, bytes = 64, config: ConfState = config3): Snapshot {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + index) & 0xff;
  return { meta: { index, term, config }, data };
}

function write(parts: Partial<StorageWrite>): StorageWrite {
  return { ...emptyWrite, ...parts };
}

function boot(hardState: HardState, entryList: readonly Entry[], snap: Snapshot | null = null): BootState {
  return { hardState, snapshot: snap, entries: entryList };
}

/** `boot()`, with a missing snapshot read as null (BootState allows either). */
async function booted(storage: RaftStorage): Promise<BootState> {
  const b = await storage.boot();
  return { hardState: b.hardState, snapshot: b.snapshot ?? null, entries: b.entries };
}

/** Snapshot bytes compared apart: Vitest's deep equality walks a typed array element by element. */
function withoutSnapshotBytes(b: BootState): unknown {
  return { ...b, snapshot: b.snapshot ? { meta: b.snapshot.meta, data: `${b.snapshot.data.byteLength} bytes` } : null };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/** What `storage` boots is exactly `expected`: every field, and every byte of the snapshot. */
async function expectBoot(storage: RaftStorage, expected: BootState): Promise<void> {
  const actual = await booted(storage);
  expect(withoutSnapshotBytes(actual)).toStrictEqual(withoutSnapshotBytes(expected));
  if (actual.snapshot && expected.snapshot) {
    expect(Object.getPrototypeOf(actual.snapshot.data)).toBe(Uint8Array.prototype);
    expect(sameBytes(actual.snapshot.data, expected.snapshot.data)).toBe(true);
  }
}

/**
 * The state most invalid writes are tried against: term 3, voted for n1, commit 6; a snapshot
 * at 4 (term 2) with entries kept from 3; the log 3..8 with terms 2 2 2 3 3 3.
 */
const baseTerms = [1, 1, 2, 2, 2, 3, 3, 3];
async function writeBase(storage: RaftStorage): Promise<void> {
  await storage.write(write({ hardState: hs(3, 'n1', 6), entries: entries(1, baseTerms) }));
  await storage.write(write({ snapshot: snapshot(4, 2), compactTo: 2 }));
}
const baseBoot = boot(hs(3, 'n1', 6), entries(5, [2, 3, 3, 3]), snapshot(4, 2));

const bogus = (x: unknown): never => x as never;

/** Writes that no adapter may accept in the base state, each for one reason. */
const invalidWrites: { readonly name: string; readonly write: StorageWrite }[] = [
  { name: 'entries that leave a gap after the log', write: write({ entries: [entry(10, 3)] }) },
  { name: 'entries that are not contiguous', write: write({ entries: [entry(9, 3), entry(11, 3)] }) },
  { name: 'terms that decrease within a write', write: write({ entries: [entry(9, 3), entry(10, 2)] }) },
  { name: 'an entry term below the one before it', write: write({ entries: [entry(9, 2)] }) },
  { name: 'an entry term above the current term', write: write({ entries: [entry(9, 4)] }) },
  { name: 'an entry inside the snapshot', write: write({ entries: [entry(4, 2)] }) },
  { name: 'an entry behind the snapshot', write: write({ entries: [entry(3, 2)] }) },
  { name: 'a committed entry replaced by another term', write: write({ hardState: hs(4, null, 6), entries: [entry(6, 4)] }) },
  { name: 'a truncation below the commit index', write: write({ entries: [entry(5, 2)] }) },
  { name: 'a term that goes back', write: write({ hardState: hs(2, null, 6) }) },
  { name: 'a second vote in the same term', write: write({ hardState: hs(3, 'n2', 6) }) },
  { name: 'a vote forgotten in the same term', write: write({ hardState: hs(3, null, 6) }) },
  { name: 'a commit index that goes back', write: write({ hardState: hs(3, 'n1', 5) }) },
  { name: 'a commit index beyond the log', write: write({ hardState: hs(3, 'n1', 9) }) },
  { name: 'compactTo beyond the snapshot', write: write({ compactTo: 5 }) },
  { name: 'clearLog without a snapshot', write: write({ clearLog: true }) },
  { name: 'a snapshot no newer than the stored one', write: write({ snapshot: snapshot(4, 2) }) },
  { name: 'a local snapshot whose term differs from the entry', write: write({ snapshot: snapshot(6, 2) }) },
  { name: 'a snapshot beyond the commit index', write: write({ snapshot: snapshot(7, 3) }) },
  { name: 'a local snapshot beyond the log', write: write({ hardState: hs(3, 'n1', 9), snapshot: snapshot(9, 3) }) },
  {
    name: "a leader's snapshot below the commit index",
    write: write({ snapshot: snapshot(5, 2), clearLog: true, entries: [entry(6, 3)] }),
  },
  {
    name: "a snapshot term below the stored snapshot's",
    write: write({ hardState: hs(3, 'n1', 10), snapshot: snapshot(10, 1), clearLog: true }),
  },
  { name: 'a snapshot term above the current term', write: write({ hardState: hs(3, 'n1', 10), snapshot: snapshot(10, 4), clearLog: true }) },
  { name: 'entry data that is not bytes', write: write({ entries: [{ ...entry(9, 3), data: bogus([1, 2]) }] }) },
  { name: 'an unknown entry kind', write: write({ entries: [{ ...entry(9, 3), kind: bogus('weird') }] }) },
  { name: 'a config entry without a configuration', write: write({ entries: [{ ...entry(9, 3), kind: 'config' }] }) },
  { name: 'a configuration that is not one', write: write({ entries: [{ ...entry(9, 3), kind: 'config', config: bogus({ voters: 'n1' }) }] }) },
  { name: 'a fractional index', write: write({ entries: [{ ...entry(9, 3), index: 8.5 }] }) },
  { name: 'a negative compactTo', write: write({ compactTo: -1 }) },
  { name: 'a vote that is not a node id', write: write({ hardState: bogus({ term: 3, vote: 42, commit: 6 }) }) },
  { name: 'snapshot data that is not bytes', write: write({ hardState: hs(3, 'n1', 10), snapshot: { meta: snapshot(10, 3).meta, data: bogus('x') }, clearLog: true }) },
];

export function describeStorageCompliance(name: string, make: () => Promise<StorageHarness>): void {
  /** A fresh harness whose latest handle is closed when the test ends. */
  async function setup(): Promise<StorageHarness> {
    const h = await make();
    let latest = h.storage;
    onTestFinished(() => latest.close());
    const crash = h.crash;
    return {
      storage: h.storage,
      reopen: async () => (latest = await h.reopen()),
      ...(crash === undefined ? {} : { crash: async () => (latest = await crash()) }),
    };
  }

  describe(`RaftStorage compliance: ${name}`, () => {
    it('boots empty', async () => {
      const { storage } = await setup();
      await expectBoot(storage, boot(hs(0, null, 0), []));
    });

    it('round-trips the hard state, on the same handle and after a reopen', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 0) }));
      await expectBoot(h.storage, boot(hs(1, 'n1', 0), []));
      await h.storage.write(write({ hardState: hs(2, null, 0) }));
      await h.storage.write(write({ hardState: hs(2, 'n3', 0) }));
      expect((await h.storage.boot()).hardState).toStrictEqual(hs(2, 'n3', 0));
      const reopened = await h.reopen();
      await expectBoot(reopened, boot(hs(2, 'n3', 0), []));
    });

    it('appends entries across writes and boots them', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 0), entries: entries(1, [1, 1]) }));
      await h.storage.write(write({ entries: entries(3, [1]) }));
      await h.storage.write(write({ hardState: hs(1, 'n1', 3), entries: entries(4, [1, 1]) }));
      const expected = boot(hs(1, 'n1', 3), entries(1, [1, 1, 1, 1, 1]));
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it("overwrites a suffix with a new leader's entries, shorter or longer than it", async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 2), entries: entries(1, [1, 1, 1, 1, 1]) }));
      // Shorter: entries 4 and 5 go, 3 is replaced.
      await h.storage.write(write({ hardState: hs(2, 'n2', 2), entries: entries(3, [2]) }));
      await expectBoot(h.storage, boot(hs(2, 'n2', 2), entries(1, [1, 1, 2])));
      // Longer: from 2 on (2 is committed and keeps its term), past the old end.
      await h.storage.write(write({ hardState: hs(3, null, 2), entries: entries(2, [1, 3, 3, 3, 3, 3]) }));
      const expected = boot(hs(3, null, 2), entries(1, [1, 1, 3, 3, 3, 3, 3]));
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('rewrites committed entries with the same terms (an idempotent append)', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 3), entries: entries(1, [1, 1, 1]) }));
      await h.storage.write(write({ entries: entries(1, [1, 1, 1, 1]) }));
      await expectBoot(h.storage, boot(hs(1, 'n1', 3), entries(1, [1, 1, 1, 1])));
    });

    it('compacts behind a local snapshot: boot returns the snapshot and the tail only', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(2, 'n1', 8), entries: entries(1, [1, 1, 1, 2, 2, 2, 2, 2, 2, 2]) }));
      // Keep two entries behind the snapshot (snapshotTrailingEntries): boot still starts after it.
      await h.storage.write(write({ snapshot: snapshot(6, 2), compactTo: 4 }));
      const expected = boot(hs(2, 'n1', 8), entries(7, [2, 2, 2, 2]), snapshot(6, 2));
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('compacts up to the snapshot and to the whole log, then appends after it', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 5), entries: entries(1, [1, 1, 1, 1, 1]) }));
      await h.storage.write(write({ snapshot: snapshot(3, 1, 0), compactTo: 3 }));
      await expectBoot(h.storage, boot(hs(1, 'n1', 5), entries(4, [1, 1]), snapshot(3, 1, 0)));
      await h.storage.write(write({ snapshot: snapshot(5, 1), compactTo: 5 }));
      await expectBoot(h.storage, boot(hs(1, 'n1', 5), [], snapshot(5, 1)));
      await h.storage.write(write({ hardState: hs(2, 'n2', 5), entries: entries(6, [2, 2]) }));
      const expected = boot(hs(2, 'n2', 5), entries(6, [2, 2]), snapshot(5, 1));
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it("installs a leader's snapshot that replaces the log, with entries after it in the same write", async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 2), entries: entries(1, [1, 1, 1, 1, 1]) }));
      const snap = snapshot(20, 2, 600 * 1024, conf(['n1', 'n2', 'n4'], ['n5']));
      await h.storage.write(write({ hardState: hs(3, null, 20), snapshot: snap, clearLog: true, entries: entries(21, [3, 3]) }));
      const expected = boot(hs(3, null, 20), entries(21, [3, 3]), snap);
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('replaces a large snapshot by a smaller one', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 10), snapshot: snapshot(10, 1, 700 * 1024), clearLog: true }));
      await h.storage.write(write({ hardState: hs(1, 'n1', 12), entries: entries(11, [1, 1]) }));
      await h.storage.write(write({ snapshot: snapshot(12, 1, 10), compactTo: 12 }));
      await expectBoot(await h.reopen(), boot(hs(1, 'n1', 12), [], snapshot(12, 1, 10)));
    });

    it('boots after a reopen exactly what was durable: every field, every byte', async () => {
      const h = await setup();
      const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const log: Entry[] = [
        { index: 6, term: 2, kind: 'empty', data: new Uint8Array(0) },
        { index: 7, term: 2, kind: 'normal', data: allBytes },
        { index: 8, term: 2, kind: 'config', data: Uint8Array.of(9), config: conf(['a', 'b', 'c'], ['d']) },
        { index: 9, term: 3, kind: 'config', data: new Uint8Array(0), config: conf(['a', 'b', 'c', 'd'], []) },
        { index: 10, term: 3, kind: 'normal', data: new Uint8Array(4096).fill(0xff) },
      ];
      const snap: Snapshot = { meta: { index: 5, term: 2, config: conf(['a', 'b', 'c'], ['e']) }, data: allBytes.slice().reverse() };
      await h.storage.write(write({ hardState: hs(3, 'c', 5), snapshot: snap, clearLog: true, entries: log }));
      await h.storage.write(write({ hardState: hs(3, 'c', 9) }));
      const expected = boot(hs(3, 'c', 9), log, snap);
      await expectBoot(h.storage, expected);
      const reopened = await h.reopen();
      await expectBoot(reopened, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('stores the bytes as written, not a buffer the caller changes later', async () => {
      const h = await setup();
      const frame = Uint8Array.from({ length: 64 }, (_, i) => i);
      const data = frame.subarray(8, 16);
      await h.storage.write(write({ hardState: hs(1, 'n1', 0), entries: [{ index: 1, term: 1, kind: 'normal', data }] }));
      frame.fill(0);
      const b = await booted(await h.reopen());
      expect(b.entries[0]?.data).toStrictEqual(Uint8Array.of(8, 9, 10, 11, 12, 13, 14, 15));
    });

    it('checks a write against the stored state on a fresh handle, before any boot', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 1), entries: entries(1, [1, 1, 1]) }));
      const reopened = await h.reopen();
      await expect(reopened.write(write({ entries: [entry(5, 1)] }))).rejects.toBeInstanceOf(StorageError);
      await reopened.write(write({ entries: [entry(4, 1)] }));
      await expectBoot(reopened, boot(hs(1, 'n1', 1), entries(1, [1, 1, 1, 1])));
    });

    describe('rejects an invalid write with StorageError and changes nothing', () => {
      it.each(invalidWrites)('$name', async ({ write: bad }) => {
        const h = await setup();
        await writeBase(h.storage);
        await expectBoot(h.storage, baseBoot);
        await expect(h.storage.write(bad)).rejects.toBeInstanceOf(StorageError);
        await expectBoot(h.storage, baseBoot);
        await expectBoot(await h.reopen(), baseBoot);
      });
    });

    it('keeps working after rejecting a write', async () => {
      const h = await setup();
      await writeBase(h.storage);
      await expect(h.storage.write(write({ entries: [entry(10, 3)] }))).rejects.toBeInstanceOf(StorageError);
      await h.storage.write(write({ hardState: hs(3, 'n1', 9), entries: [entry(9, 3)] }));
      const expected = boot(hs(3, 'n1', 9), entries(5, [2, 3, 3, 3, 3]), snapshot(4, 2));
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('writes 5,000 entries in one write', async () => {
      const h = await setup();
      const count = 5_000;
      const big = Array.from({ length: count }, (_, i): Entry => {
        const data = new Uint8Array(32);
        new DataView(data.buffer).setUint32(0, i * 2654435761);
        return { index: i + 1, term: 1, kind: 'normal', data };
      });
      await h.storage.write(write({ hardState: hs(1, 'n1', count), entries: big }));
      const expected = boot(hs(1, 'n1', count), big);
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('keeps 200 sequential writes, in order', async () => {
      const h = await setup();
      const count = 200;
      for (let i = 1; i <= count; i++) {
        const term = Math.ceil(i / 50);
        await h.storage.write(write({ hardState: hs(term, `n${term}`, i - 1), entries: [entry(i, term)] }));
      }
      const expected = boot(
        hs(4, 'n4', count - 1),
        Array.from({ length: count }, (_, i) => entry(i + 1, Math.ceil((i + 1) / 50))),
      );
      await expectBoot(h.storage, expected);
      await expectBoot(await h.reopen(), expected);
    });

    it('refuses work once closed', async () => {
      const h = await setup();
      await h.storage.write(write({ hardState: hs(1, 'n1', 0) }));
      await h.storage.close();
      await expect(h.storage.write(write({ hardState: hs(2, null, 0) }))).rejects.toBeInstanceOf(StorageError);
      await expect(h.storage.boot()).rejects.toBeInstanceOf(StorageError);
      await h.storage.close(); // twice is fine
    });

    describe('crashes (where the harness can crash the adapter)', () => {
      it('loses a write not yet durable entirely and keeps the one before it', async (ctx) => {
        const h = await setup();
        if (h.crash === undefined) return ctx.skip();
        await h.storage.write(write({ hardState: hs(1, 'n1', 1), entries: entries(1, [1, 1]) }));
        const lost = h.storage.write(write({ hardState: hs(2, 'n2', 2), entries: entries(3, [2, 2, 2]) }));
        lost.catch(() => undefined);
        const restarted = await h.crash();
        const expected = boot(hs(1, 'n1', 1), entries(1, [1, 1]));
        await expectBoot(restarted, expected);
        // The restarted node goes on from what is durable: index 3 is free for another term.
        await restarted.write(write({ hardState: hs(3, 'n3', 1), entries: [entry(3, 3)] }));
        await expectBoot(await h.reopen(), boot(hs(3, 'n3', 1), entries(1, [1, 1, 3])));
      });

      it("keeps the old log whole when a leader's snapshot is lost in a crash", async (ctx) => {
        const h = await setup();
        if (h.crash === undefined) return ctx.skip();
        await writeBase(h.storage);
        const lost = h.storage.write(
          write({ hardState: hs(4, null, 30), snapshot: snapshot(30, 4, 300 * 1024), clearLog: true, entries: entries(31, [4]) }),
        );
        lost.catch(() => undefined);
        await expectBoot(await h.crash(), baseBoot);
      });
    });
  });
}
