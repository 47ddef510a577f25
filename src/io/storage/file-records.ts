/**
 * The records of the file log (file-storage.ts) and their bytes. A record is one of:
 *
 *   checkpoint  the first record of every segment: its sequence number and the state before it
 *               (hard state, first stored index, snapshot), so that older segments can be
 *               deleted once none of their entries is live (compaction by whole segments)
 *   entry       one log entry; it replaces any stored entry at the same or a higher index
 *               (a new leader's conflicting suffix, Raft §5.3), so a truncation costs no record
 *   hardState   term, vote, commit
 *   snapshot    the metadata of a snapshot whose bytes are in their own file, with their size
 *               and CRC-32C; `clearLog` when a leader's snapshot replaced the log
 *   compact     entries up to this index are dropped (a local snapshot covers them)
 *   commit      the end of one `StorageWrite`: records after the last commit are a write that
 *               did not finish, and recovery drops them (a write is atomic)
 *   blob        opaque bytes, for logs other than Raft's (file-blob-log.ts: gossip state)
 *
 * Numbers are float64 (every safe integer is exact in one) and strings UTF-8 behind a u16 byte
 * count; all big-endian. The codec is ours rather than msgpack because only src/io/codec* may
 * import msgpackr (DESIGN.md §1) and because a fixed layout leaves nothing to interpret.
 * Decoding a record that passed its CRC but does not parse is a `FileLogCorruptError` (another
 * format, or our bug), never a guess.
 */
import type { ConfState, Entry, EntryKind, HardState, SnapshotMeta } from '../../core/raft/types.ts';
import { FileLogCorruptError } from './file-errors.ts';

export const recordType = { checkpoint: 1, entry: 2, hardState: 3, snapshot: 4, compact: 5, commit: 6, blob: 7 } as const;

/** A snapshot as the log refers to it: metadata, and what its file must hold. */
export interface SnapshotRef {
  readonly meta: SnapshotMeta;
  readonly dataBytes: number;
  readonly dataCrc: number;
}

export type FileRecord =
  | { readonly type: 'checkpoint'; readonly segmentSeq: number; readonly hardState: HardState; readonly firstIndex: number; readonly snapshot: SnapshotRef | null }
  | { readonly type: 'entry'; readonly entry: Entry }
  | { readonly type: 'hardState'; readonly hardState: HardState }
  | { readonly type: 'snapshot'; readonly snapshot: SnapshotRef; readonly clearLog: boolean }
  | { readonly type: 'compact'; readonly compactTo: number }
  | { readonly type: 'commit'; readonly writeSeq: number }
  | { readonly type: 'blob'; readonly bytes: Uint8Array };

const kindCodes: Readonly<Record<EntryKind, number>> = { normal: 0, empty: 1, config: 2 };
const kindsByCode: readonly EntryKind[] = ['normal', 'empty', 'config'];
const stringBytesMax = 0xffff;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** A growable buffer that records are encoded into, one batch (one disk write) at a time. */
export class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  constructor(initialBytes = 4096) {
    this.bytes = new Uint8Array(initialBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.bytes.subarray(0, at));
      this.bytes = next;
      this.view = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }

  u8(x: number): void {
    this.bytes[this.reserve(1)] = x;
  }
  u32(x: number): void {
    this.view.setUint32(this.reserve(4), x);
  }
  f64(x: number): void {
    this.view.setFloat64(this.reserve(8), x);
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.reserve(b.length));
  }
  blob(b: Uint8Array): void {
    this.u32(b.length);
    this.raw(b);
  }
  string(s: string): void {
    const b = textEncoder.encode(s);
    if (b.length > stringBytesMax) throw new RangeError(`a string of ${b.length} bytes is over ${stringBytesMax}`);
    this.view.setUint16(this.reserve(2), b.length);
    this.raw(b);
  }

  /** The bytes written so far (a view, valid until the next write). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Reads one record's payload; any overrun or bad value is a FileLogCorruptError naming `where`. */
class ByteReader {
  private at = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(n: number): number {
    if (this.at + n > this.bytes.length) this.fail('runs past its end');
    const at = this.at;
    this.at += n;
    return at;
  }
  fail(why: string): never {
    throw new FileLogCorruptError(`${this.where}: a record whose checksum is right ${why}`);
  }
  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  u32(): number {
    return this.view.getUint32(this.take(4));
  }
  count(): number {
    const x = this.view.getFloat64(this.take(8));
    if (!Number.isSafeInteger(x) || x < 0) this.fail(`holds ${x} where a count belongs`);
    return x;
  }
  blob(): Uint8Array {
    const n = this.u32();
    const at = this.take(n);
    // A copy: the caller keeps it, and the segment's buffer is dropped after the scan.
    return this.bytes.slice(at, at + n);
  }
  string(): string {
    const n = this.view.getUint16(this.take(2));
    const at = this.take(n);
    try {
      return textDecoder.decode(this.bytes.subarray(at, at + n));
    } catch {
      return this.fail('holds a string that is not UTF-8');
    }
  }
  end(): void {
    if (this.at !== this.bytes.length) this.fail(`has ${this.bytes.length - this.at} bytes left over`);
  }
}

function putHardState(w: ByteWriter, hs: HardState): void {
  w.f64(hs.term);
  w.f64(hs.commit);
  if (hs.vote === null) w.u8(0);
  else {
    w.u8(1);
    w.string(hs.vote);
  }
}

function getHardState(r: ByteReader): HardState {
  const term = r.count();
  const commit = r.count();
  const vote = r.u8() === 1 ? r.string() : null;
  return { term, vote, commit };
}

function putConf(w: ByteWriter, c: ConfState): void {
  w.u32(c.voters.length);
  for (const v of c.voters) w.string(v);
  w.u32(c.learners.length);
  for (const l of c.learners) w.string(l);
}

function getConf(r: ByteReader): ConfState {
  const ids = (): string[] => {
    const n = r.u32();
    const out: string[] = [];
    // Each id takes at least 2 bytes, so `n` cannot ask for more than the record holds.
    for (let i = 0; i < n; i++) out.push(r.string());
    return out;
  };
  const voters = ids();
  return { voters, learners: ids() };
}

function putSnapshotRef(w: ByteWriter, s: SnapshotRef): void {
  w.f64(s.meta.index);
  w.f64(s.meta.term);
  putConf(w, s.meta.config);
  w.f64(s.dataBytes);
  w.u32(s.dataCrc);
}

function getSnapshotRef(r: ByteReader): SnapshotRef {
  const index = r.count();
  const term = r.count();
  const config = getConf(r);
  return { meta: { index, term, config }, dataBytes: r.count(), dataCrc: r.u32() };
}

/** Write the payload of `record` (not its frame: file-frames.ts adds that). */
export function encodeRecordPayload(w: ByteWriter, record: FileRecord): void {
  switch (record.type) {
    case 'checkpoint':
      w.f64(record.segmentSeq);
      putHardState(w, record.hardState);
      w.f64(record.firstIndex);
      if (record.snapshot === null) w.u8(0);
      else {
        w.u8(1);
        putSnapshotRef(w, record.snapshot);
      }
      return;
    case 'entry': {
      const e = record.entry;
      w.f64(e.index);
      w.f64(e.term);
      w.u8(kindCodes[e.kind]);
      if (e.kind === 'config') putConf(w, e.config as ConfState);
      w.blob(e.data);
      return;
    }
    case 'hardState':
      putHardState(w, record.hardState);
      return;
    case 'snapshot':
      w.u8(record.clearLog ? 1 : 0);
      putSnapshotRef(w, record.snapshot);
      return;
    case 'compact':
      w.f64(record.compactTo);
      return;
    case 'commit':
      w.f64(record.writeSeq);
      return;
    case 'blob':
      w.raw(record.bytes);
      return;
    default: {
      const never: never = record;
      throw new Error(`unknown record ${String(never)}`);
    }
  }
}

function decodeEntry(r: ByteReader): Entry {
  const index = r.count();
  const term = r.count();
  const kind = kindsByCode[r.u8()];
  if (kind === undefined) r.fail('holds an unknown entry kind');
  const config = kind === 'config' ? getConf(r) : undefined;
  const data = r.blob();
  return config === undefined ? { index, term, kind, data } : { index, term, kind, data, config };
}

/** The record of type `type` in `payload`; `where` names the segment and offset in errors. */
export function decodeRecord(type: number, payload: Uint8Array, where: string): FileRecord {
  const r = new ByteReader(payload, where);
  let record: FileRecord;
  switch (type) {
    case recordType.checkpoint: {
      const segmentSeq = r.count();
      const hardState = getHardState(r);
      const firstIndex = r.count();
      record = { type: 'checkpoint', segmentSeq, hardState, firstIndex, snapshot: r.u8() === 1 ? getSnapshotRef(r) : null };
      break;
    }
    case recordType.entry:
      record = { type: 'entry', entry: decodeEntry(r) };
      break;
    case recordType.hardState:
      record = { type: 'hardState', hardState: getHardState(r) };
      break;
    case recordType.snapshot: {
      const clearLog = r.u8() === 1;
      record = { type: 'snapshot', clearLog, snapshot: getSnapshotRef(r) };
      break;
    }
    case recordType.compact:
      record = { type: 'compact', compactTo: r.count() };
      break;
    case recordType.commit:
      record = { type: 'commit', writeSeq: r.count() };
      break;
    case recordType.blob:
      return { type: 'blob', bytes: payload.slice() };
    default:
      return r.fail(`has the unknown type ${type}`);
  }
  r.end();
  return record;
}
