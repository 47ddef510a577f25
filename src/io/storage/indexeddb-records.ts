/**
 * The records of the IndexedDB adapter (indexeddb-storage.ts): the layout, what each record
 * holds, and the checks that turn what a boot read back into a log, or into `StorageError`.
 *
 *   ['meta']             { format, hardState, snapshot: { index, term, config, bytes, chunks,
 *                          crc32 } | null, firstIndex, lastIndex }
 *   ['log', start]       { start, count, bytes, crc32 }   entries start..start+count-1 packed
 *                        in one buffer (indexeddb-segment-codec.ts); one segment per write
 *                        (indexeddb-log-segments.ts)
 *   ['snapshot', chunk]  Uint8Array                                     256 KiB chunks, 0..n-1
 */
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../../core/raft/types.ts';
import { assembleLog } from './indexeddb-log-segments.ts';
import { decodeSegment, encodeSegment } from './indexeddb-segment-codec.ts';
import { StorageError } from './storage.ts';
import { checkEntry, checkHardState, checkSnapshotMeta, checkStoredState, type StoredLogView } from './write-rules.ts';

/** The database layout, exported for tests and tools (DevTools, a migration). */
export const idbLayout = {
  version: 1,
  /**
   * The meta record's `format`; another one is refused, not misread. 2: the log in segments
   * (indexeddb-log-segments.ts); 1 (one record per entry) was never released.
   */
  format: 2,
  storeName: 'raft',
  metaKey: (): IDBValidKey => ['meta'],
  /** The log segment that starts at `start`. */
  logKey: (start: number): IDBValidKey => ['log', start],
  snapshotChunkKey: (chunk: number): IDBValidKey => ['snapshot', chunk],
  snapshotChunkBytes: 256 * 1024,
} as const;


export interface SnapshotRecord extends SnapshotMeta {
  readonly bytes: number;
  readonly chunks: number;
  readonly crc32: number;
}

export interface MetaRecord {
  readonly format: number;
  readonly hardState: HardState;
  readonly snapshot: SnapshotRecord | null;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

/** A log segment: `count` entries from `start`, packed by indexeddb-segment-codec.ts. */
export interface SegmentRecord {
  readonly start: number;
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly crc32: number;
}

export const emptyMeta: MetaRecord = {
  format: idbLayout.format,
  hardState: { term: 0, vote: null, commit: 0 },
  snapshot: null,
  firstIndex: 1,
  lastIndex: 0,
};

const crcTable = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as zlib computes it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (crcTable[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The record of a segment: `entries` (one run, in index order) packed into one buffer. */
export function toSegmentRecord(entries: readonly Entry[]): SegmentRecord {
  const bytes = encodeSegment(entries);
  return { start: (entries[0] as Entry).index, count: entries.length, bytes, crc32: crc32(bytes) };
}

export function toSnapshotRecord(s: Snapshot): SnapshotRecord {
  const bytes = s.data.byteLength;
  return { ...s.meta, bytes, chunks: Math.ceil(bytes / idbLayout.snapshotChunkBytes), crc32: crc32(s.data) };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** Everything a boot read: the meta record, every stored entry, and the snapshot. */
export interface StoredData {
  /** The starts of the stored log segments, ascending. */
  readonly starts: readonly number[];
  readonly meta: MetaRecord;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

/** What the adapter keeps in memory between writes to check them: the meta record and terms. */
export interface Mirror {
  meta: MetaRecord;
  /** terms[i] is the term of the stored entry at meta.firstIndex + i. */
  readonly terms: number[];
  /** The starts of the stored log segments, ascending. */
  starts: readonly number[];
}

export function viewOf(m: Mirror): StoredLogView {
  const first = m.meta.firstIndex;
  return {
    hardState: m.meta.hardState,
    snapshot: m.meta.snapshot,
    firstIndex: first,
    lastIndex: m.meta.lastIndex,
    termAt: (index) => m.terms[index - first] as number,
  };
}

// ---- decoding what was read ------------------------------------------------------------------

/** The meta record, checked (shape, format, hard state, snapshot sizes, log bounds). */
export function decodeMeta(value: unknown, what: string): MetaRecord {
  if (!isRecord(value)) throw new StorageError(`${what}: the meta record is not an object`);
  if (value.format !== idbLayout.format) throw new StorageError(`${what}: unknown format ${String(value.format)} (written by a newer version?)`);
  checkHardState(value.hardState, what);
  const snap = value.snapshot;
  if (snap !== null) {
    checkSnapshotMeta(snap, what);
    const { bytes, chunks, crc32: crc } = snap as unknown as Record<string, unknown>;
    if (!isCount(bytes) || !isCount(crc) || chunks !== Math.ceil(bytes / idbLayout.snapshotChunkBytes)) {
      throw new StorageError(`${what}: snapshot record sizes are wrong`);
    }
  }
  const { firstIndex, lastIndex } = value;
  if (!isCount(firstIndex) || !isCount(lastIndex) || firstIndex < 1 || firstIndex > lastIndex + 1) {
    throw new StorageError(`${what}: log bounds ${String(firstIndex)}..${String(lastIndex)} are wrong`);
  }
  return value as unknown as MetaRecord;
}

/** A segment record: a non-empty run of entries from `start`, checksummed, each entry checked. */
function decodeSegmentRecord(start: number, value: unknown, what: string): { start: number; entries: Entry[] } {
  if (!isRecord(value)) throw new StorageError(`${what}: log segment ${start} is not an object`);
  const { count, bytes, crc32: crc } = value;
  if (value.start !== start || !isCount(count) || count === 0 || !(bytes instanceof Uint8Array) || !isCount(crc)) {
    throw new StorageError(`${what}: log segment ${start} is malformed`);
  }
  if (crc32(bytes) !== crc) throw new StorageError(`${what}: log segment ${start} fails its checksum`);
  const entries = decodeSegment(start, count, bytes, what);
  for (const e of entries) checkEntry(e, what);
  return { start, entries };
}

function decodeSnapshot(record: SnapshotRecord | null, chunks: readonly [number, unknown][], what: string): Snapshot | null {
  if (record === null) {
    if (chunks.length > 0) throw new StorageError(`${what}: snapshot chunks without a snapshot`);
    return null;
  }
  if (chunks.length !== record.chunks) throw new StorageError(`${what}: snapshot has ${chunks.length} chunks, expected ${record.chunks}`);
  const data = new Uint8Array(record.bytes);
  let offset = 0;
  for (const [i, [n, chunk]] of chunks.entries()) {
    if (n !== i || !(chunk instanceof Uint8Array)) throw new StorageError(`${what}: snapshot chunk ${n} is wrong`);
    if (offset + chunk.byteLength > data.byteLength) throw new StorageError(`${what}: snapshot chunks exceed ${record.bytes} bytes`);
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== record.bytes) throw new StorageError(`${what}: snapshot chunks hold ${offset} bytes, expected ${record.bytes}`);
  if (crc32(data) !== record.crc32) throw new StorageError(`${what}: snapshot fails its checksum`);
  const { index, term, config } = record;
  return { meta: { index, term, config }, data };
}

/** Sort the records of the store by key (they arrive in key order) and check them all. */
export function decodeStore(rows: readonly [IDBValidKey, unknown][], what: string): StoredData {
  let metaValue: unknown;
  const log: [number, unknown][] = [];
  const chunks: [number, unknown][] = [];
  for (const [key, value] of rows) {
    const [kind, n] = Array.isArray(key) ? key : [];
    const length = Array.isArray(key) ? key.length : 0;
    if (kind === 'meta' && length === 1) metaValue = value;
    else if (kind === 'log' && length === 2 && isCount(n)) log.push([n, value]);
    else if (kind === 'snapshot' && length === 2 && isCount(n)) chunks.push([n, value]);
    else throw new StorageError(`${what}: unexpected key ${JSON.stringify(key)}`);
  }
  if (metaValue === undefined) {
    if (log.length > 0 || chunks.length > 0) throw new StorageError(`${what}: records without a meta record`);
    return { meta: emptyMeta, entries: [], snapshot: null, starts: [] };
  }
  const meta = decodeMeta(metaValue, what);
  const segments = log.map(([start, value]) => decodeSegmentRecord(start, value, what));
  const entries = assembleLog(segments, meta.firstIndex, meta.lastIndex, what);
  // The bounds must be a `StoredLogView`'s even with no entry stored: the log reaches the snapshot.
  const snapIndex = meta.snapshot?.index ?? 0;
  if (meta.firstIndex > snapIndex + 1 || meta.lastIndex < snapIndex) {
    throw new StorageError(`${what}: the log ${meta.firstIndex}..${meta.lastIndex} does not reach the snapshot at ${snapIndex}`);
  }
  const snapshot = decodeSnapshot(meta.snapshot, chunks, what);
  checkStoredState(meta.hardState, snapshot?.meta ?? null, entries, what);
  return { meta, entries, snapshot, starts: segments.map((seg) => seg.start) };
}

