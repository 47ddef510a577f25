/**
 * Recovery at open (and the read behind `boot()`): read every segment of the file log, check
 * every record's CRC-32C (file-frames.ts), fold them into the stored state (file-replay.ts),
 * and check the snapshot file the state refers to, byte count and CRC-32C.
 *
 * With `repair` (at open, under the lock, before any write), what a crash can leave is cleaned:
 * a torn tail of the last segment is cut off (ftruncate, then fsync, so that the cut is durable
 * before new records are appended after it: a new write must never follow a torn one, or the
 * torn bytes would sit in the middle at the next recovery and refuse it), a last segment in
 * which no write finished is deleted, and `.tmp` files and snapshot files no record refers to
 * are deleted. Damage a crash cannot explain is a `FileLogCorruptError`, and nothing is changed.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32c } from './crc32c.ts';
import { FileLogCorruptError } from './file-errors.ts';
import { fsyncDir, listDir, removeFiles, segmentName, snapshotName } from './file-dir.ts';
import { scanSegment } from './file-frames.ts';
import { replaySegments, type ReplayedLog, type ScannedSegment } from './file-replay.ts';

export interface LoadedLog extends ReplayedLog {
  /** The segments on disk after recovery, ascending. */
  readonly segments: readonly number[];
  /** The bytes of the last segment that hold finished writes (where appends go on). */
  readonly tailBytes: number;
  readonly snapshotData: Uint8Array | null;
  /** Bytes of torn writes cut off the last segment (0: none). */
  readonly tornBytesCut: number;
}

async function cutTornTail(path: string, committedEnd: number): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.truncate(committedEnd);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readSnapshot(dir: string, log: ReplayedLog): Promise<Uint8Array | null> {
  const ref = log.snapshot;
  if (ref === null) return null;
  const name = snapshotName(ref.meta.index, ref.meta.term);
  let data: Uint8Array;
  try {
    data = new Uint8Array(await fs.readFile(join(dir, name)));
  } catch (e) {
    throw new FileLogCorruptError(`${dir}: the snapshot file ${name} cannot be read`, { cause: e });
  }
  if (data.byteLength !== ref.dataBytes) throw new FileLogCorruptError(`${dir}/${name}: ${data.byteLength} bytes, the log says ${ref.dataBytes}`);
  if (crc32c(data) !== ref.dataCrc) throw new FileLogCorruptError(`${dir}/${name}: checksum mismatch`);
  return data;
}

/** Read, check and (with `repair`) clean the log in `dir`. */
export async function loadLog(dir: string, repair: boolean): Promise<LoadedLog> {
  const listing = await listDir(dir);
  const seqs = listing.segments;
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== (seqs[i - 1] as number) + 1) throw new FileLogCorruptError(`${dir}: segment ${(seqs[i - 1] as number) + 1} is missing (found ${seqs[i - 1]} and ${seqs[i]})`);
  }
  const scanned: ScannedSegment[] = [];
  let tornBytesCut = 0;
  let tailBytes = 0;
  for (const [i, seq] of seqs.entries()) {
    const name = segmentName(seq);
    const isLast = i === seqs.length - 1;
    const bytes = new Uint8Array(await fs.readFile(join(dir, name)));
    const scan = scanSegment(bytes, `${dir}/${name}`, isLast);
    scanned.push({ seq, name, scan });
    if (isLast) {
      tailBytes = scan.committedEnd;
      tornBytesCut = scan.tornBytes;
    }
  }
  const log = replaySegments(scanned, dir);
  const snapshotData = await readSnapshot(dir, log);
  const segments = [...seqs];
  if (repair) {
    const last = scanned[scanned.length - 1];
    if (last !== undefined && last.scan.committedEnd === 0) {
      // No write finished in it: as if it had never been created.
      await removeFiles(dir, [last.name]);
      segments.pop();
      tailBytes = scanned[scanned.length - 2]?.scan.committedEnd ?? 0;
    } else if (last !== undefined && last.scan.tornBytes > 0) {
      await cutTornTail(join(dir, last.name), last.scan.committedEnd);
    }
    const keep = log.snapshot === null ? null : snapshotName(log.snapshot.meta.index, log.snapshot.meta.term);
    await removeFiles(dir, [...listing.temporaries, ...listing.snapshots.filter((n) => n !== keep)]);
  }
  return { ...log, segments, tailBytes, snapshotData, tornBytesCut };
}

/**
 * Create `dir` (and its parents) if missing, making each new name durable in its parent: from
 * `dir` up to the top-most directory created, fsync every parent.
 */
export async function ensureDir(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true });
  if (created === undefined) return;
  let at = dir;
  for (let depth = 0; depth < 64; depth++) {
    const parent = dirname(at);
    await fsyncDir(parent);
    if (at === created || parent === at) return;
    at = parent;
  }
}
