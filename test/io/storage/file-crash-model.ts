/**
 * Shared by the file log's crash test (file-crash.test.ts) and the child process it kills
 * (file-crash-child.ts): writes described as small JSON (so the child can report each one on
 * stdout), a model of the stored state built with the same rules every adapter uses
 * (write-rules.ts), and a seeded generator of valid Raft-like writes over that model: appends
 * in the current term, new terms that overwrite an uncommitted suffix, local snapshots with
 * compaction, and leaders' snapshots that replace the log.
 */
import type { BootState, Entry, HardState, Snapshot } from '../../../src/core/raft/types.ts';
import type { StorageWrite } from '../../../src/io/storage/storage.ts';
import { applyPlanToLog, planWrite } from '../../../src/io/storage/write-rules.ts';

export interface WriteDesc {
  readonly hs: [number, string | null, number] | null;
  /** [index, term] of each entry; data comes from `entryData`. */
  readonly entries: [number, number][];
  /** [index, term, bytes] */
  readonly snap: [number, number, number] | null;
  readonly compactTo: number;
  readonly clearLog: boolean;
}

const config = { voters: ['n1', 'n2', 'n3'], learners: [] };

/** Bytes of an entry that its index and term determine, of varying length (0..299 times `scale`). */
export function entryData(index: number, term: number, scale = 1): Uint8Array {
  const n = ((index * 7 + term * 13) % 300) * scale;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (index + term * 31 + i) & 0xff;
  return data;
}

export function snapshotOf(index: number, term: number, bytes: number): Snapshot {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 3 + term + i * 5) & 0xff;
  return { meta: { index, term, config }, data };
}

export function toWrite(d: WriteDesc, scale = 1): StorageWrite {
  return {
    hardState: d.hs === null ? null : { term: d.hs[0], vote: d.hs[1], commit: d.hs[2] },
    snapshot: d.snap === null ? null : snapshotOf(d.snap[0], d.snap[1], d.snap[2]),
    clearLog: d.clearLog,
    compactTo: d.compactTo,
    entries: d.entries.map(([index, term]): Entry => ({ index, term, kind: 'normal', data: entryData(index, term, scale) })),
  };
}

/** A stored state: the hard state, the snapshot, and the log from `first` (terms only). */
export interface Model {
  readonly hardState: HardState;
  readonly snapshot: [number, number, number] | null;
  readonly first: number;
  readonly terms: readonly number[];
}

export const emptyModel: Model = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, first: 1, terms: [] };

export function modelOfBoot(b: BootState): Model {
  const s = b.snapshot ?? null;
  return {
    hardState: b.hardState,
    snapshot: s === null ? null : [s.meta.index, s.meta.term, s.data.byteLength],
    first: b.entries[0]?.index ?? (s?.meta.index ?? 0) + 1,
    terms: b.entries.map((e) => e.term),
  };
}

/** `m` after `d`, by the rules every adapter applies (throws StorageError for an invalid write). */
export function applyDesc(m: Model, d: WriteDesc): Model {
  const lastIndex = m.first + m.terms.length - 1;
  const plan = planWrite(
    {
      hardState: m.hardState,
      snapshot: m.snapshot === null ? null : { index: m.snapshot[0], term: m.snapshot[1], config },
      firstIndex: m.first,
      lastIndex,
      termAt: (i) => m.terms[i - m.first] as number,
    },
    toWrite(d),
  );
  const terms = [...m.terms];
  const first = applyPlanToLog(terms, m.first, plan, plan.entries.map((e) => e.term));
  return { hardState: plan.hardState, snapshot: d.snap ?? m.snapshot, first, terms };
}

/** What `boot()` should return for `m`, as [index, term] pairs after the snapshot. */
export function bootedEntries(m: Model): [number, number][] {
  const snapIndex = m.snapshot?.[0] ?? 0;
  return m.terms.map((t, i): [number, number] => [m.first + i, t]).filter(([i]) => i > snapIndex);
}

/** mulberry32: a small seeded generator, enough to vary the writes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid next write over `m`. */
export function nextWrite(m: Model, rand: () => number): WriteDesc {
  const hs = m.hardState;
  const last = m.first + m.terms.length - 1;
  const lastTerm = m.terms[m.terms.length - 1] ?? m.snapshot?.[1] ?? 0;
  const snapIndex = m.snapshot?.[0] ?? 0;
  const none: WriteDesc = { hs: null, entries: [], snap: null, compactTo: 0, clearLog: false };
  const r = rand();
  if (hs.term === 0 || r < 0.1) {
    // A new term, and a new leader's entries over the uncommitted suffix.
    const term = hs.term + 1;
    const from = hs.commit + 1 + Math.floor(rand() * (last - hs.commit + 1));
    const count = 1 + Math.floor(rand() * 5);
    return { ...none, hs: [term, `n${1 + Math.floor(rand() * 3)}`, hs.commit], entries: Array.from({ length: count }, (_, i): [number, number] => [from + i, term]) };
  }
  if (r < 0.18 && hs.commit > snapIndex && hs.commit >= m.first) {
    // A local snapshot at the commit index, keeping a few entries behind it.
    const term = m.terms[hs.commit - m.first] as number;
    const compactTo = Math.max(snapIndex, hs.commit - Math.floor(rand() * 4));
    return { ...none, snap: [hs.commit, term, Math.floor(rand() * 2000)], compactTo };
  }
  if (r < 0.21) {
    // A leader's snapshot that replaces the log, with entries after it.
    const index = Math.max(last, hs.commit) + 1 + Math.floor(rand() * 10);
    const term = Math.max(hs.term, lastTerm);
    return { ...none, hs: [term, hs.vote, index], snap: [index, term, Math.floor(rand() * 3000)], clearLog: true, entries: [[index + 1, term]] };
  }
  // Appends in the current term; the commit index moves up within the log.
  const count = 1 + Math.floor(rand() * 20);
  const entries = Array.from({ length: count }, (_, i): [number, number] => [last + 1 + i, hs.term]);
  const commit = Math.max(hs.commit, Math.min(last, hs.commit + Math.floor(rand() * 30)));
  return { ...none, hs: [hs.term, hs.vote, commit], entries };
}
