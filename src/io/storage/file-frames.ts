/**
 * The frame around every record of the file log, and the scan of a segment that recovery runs.
 *
 *   offset 0  u32  CRC-32C of bytes 4 .. end of payload (length, type and payload)
 *          4  u32  payload length in bytes
 *          8  u8   record type (file-records.ts)
 *          9  ...  payload
 *
 * The checksum covers the length, so a flipped length bit is caught rather than read as a
 * shorter record; it comes first so that a frame is checked before any of it is believed.
 *
 * What a scan concludes (DESIGN.md §7b, TESTING.md "Edge nodes"):
 * - A frame that is short, overlong or fails its checksum, with nothing valid after it, in the
 *   LAST segment, is a torn tail: the end of a write the process did not finish (kill -9 in the
 *   middle of `write`, or a power loss before `fdatasync` returned). That write was never
 *   reported durable, so dropping it loses nothing anyone was promised.
 * - Valid records after the last `commit` record of the last segment are a torn tail too: the
 *   rest of that write never reached the disk.
 * - A bad frame followed by any valid frame, or a bad frame or an unfinished write in a segment
 *   that is NOT the last, is corruption of data that was reported durable: `FileLogCorruptError`.
 *   Skipping it would boot a node that forgot what it promised. (A power loss that wrote the
 *   pages of one unsynced write out of order could also leave a valid frame after a bad one;
 *   we refuse then too, erring towards an operator's look over a silent loss.)
 */
import { crc32c } from './crc32c.ts';
import { FileLogCorruptError } from './file-errors.ts';
import { decodeRecord, encodeRecordPayload, recordType, type ByteWriter, type FileRecord } from './file-records.ts';

export const frameHeaderBytes = 9;
/** The largest payload a frame may claim; a longer claim is damage, not a record. */
export const recordBytesMax = 64 * 1024 * 1024;
const typeMax = recordType.blob;

/** Append `record`, framed, to `w`. */
export function appendFrame(w: ByteWriter, record: FileRecord): void {
  const at = w.reserve(frameHeaderBytes);
  encodeRecordPayload(w, record);
  const payloadBytes = w.length - at - frameHeaderBytes;
  if (payloadBytes > recordBytesMax) throw new RangeError(`a record of ${payloadBytes} bytes is over ${recordBytesMax}`);
  w.view.setUint32(at + 4, payloadBytes);
  w.view.setUint8(at + 8, typeCode(record));
  w.view.setUint32(at, crc32c(w.bytes, at + 4, w.length));
}

function typeCode(record: FileRecord): number {
  return recordType[record.type];
}

/** The end offset of a valid frame at `at`, or -1. */
function validFrameEnd(bytes: Uint8Array, view: DataView, at: number): number {
  if (at + frameHeaderBytes > bytes.length) return -1;
  const payloadBytes = view.getUint32(at + 4);
  const type = view.getUint8(at + 8);
  if (payloadBytes > recordBytesMax || type < 1 || type > typeMax) return -1;
  const end = at + frameHeaderBytes + payloadBytes;
  if (end > bytes.length) return -1;
  return crc32c(bytes, at + 4, end) === view.getUint32(at) ? end : -1;
}

/** The offset of the first valid frame at or after `from`, or -1 (a byte-by-byte search). */
function findValidFrame(bytes: Uint8Array, view: DataView, from: number): number {
  for (let at = from; at + frameHeaderBytes <= bytes.length; at++) if (validFrameEnd(bytes, view, at) >= 0) return at;
  return -1;
}

export interface ScannedRecord {
  readonly record: FileRecord;
  /** The offset just past this record's frame. */
  readonly end: number;
}

export interface SegmentScan {
  /** The records of every finished write, in order (records of an unfinished write are left out). */
  readonly records: readonly ScannedRecord[];
  /** The offset just past the last `commit` record: where the file must be cut (0: no write finished). */
  readonly committedEnd: number;
  /** Bytes after `committedEnd` (a torn tail of the last segment; 0 elsewhere). */
  readonly tornBytes: number;
}

/**
 * Scan the bytes of one segment. `isLast`: the newest segment, the only one that may end in a
 * torn write. Throws `FileLogCorruptError` for damage a torn write cannot explain.
 */
export function scanSegment(bytes: Uint8Array, name: string, isLast: boolean): SegmentScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: ScannedRecord[] = [];
  let committed = 0;
  let committedEnd = 0;
  let at = 0;
  while (at < bytes.length) {
    const end = validFrameEnd(bytes, view, at);
    if (end < 0) {
      if (!isLast) throw new FileLogCorruptError(`${name}: a bad record at offset ${at} in a segment that is not the last: the log is corrupt`);
      const next = findValidFrame(bytes, view, at + 1);
      if (next >= 0) throw new FileLogCorruptError(`${name}: a bad record at offset ${at} is followed by a valid one at ${next}: the log is corrupt in the middle, not torn at its end`);
      break;
    }
    const record = decodeRecord(view.getUint8(at + 8), bytes.subarray(at + frameHeaderBytes, end), `${name} at offset ${at}`);
    records.push({ record, end });
    if (record.type === 'commit') {
      committed = records.length;
      committedEnd = end;
    }
    at = end;
  }
  if (!isLast && committedEnd !== bytes.length) throw new FileLogCorruptError(`${name}: ends in an unfinished write at offset ${committedEnd} but is not the last segment`);
  records.length = committed;
  return { records, committedEnd, tornBytes: bytes.length - committedEnd };
}
