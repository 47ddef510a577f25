/**
 * One append-only file of opaque records, with the Raft log's crash rules (file-frames.ts):
 * each append is its blobs plus a `commit` record, written with one `write` and one
 * `fdatasync` before it is reported done; at open every CRC-32C is checked, a torn tail is cut
 * (and the cut fsynced), damage in the middle is a `FileLogCorruptError`. `rewrite` replaces
 * the whole file atomically (temporary file, fsync, rename, fsync the directory): how a user of
 * the log compacts it, by writing its live state as one record.
 *
 * For state that is small and replaced whole or by key (gossip: the incarnation and each CRDT),
 * where segments and checkpoints would be more machinery than the data; the Raft log has its
 * own (file-storage.ts). The caller serializes calls (one at a time) and holds the directory's
 * lock.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './file-dir.ts';
import { appendFrame, scanSegment } from './file-frames.ts';
import { ByteWriter } from './file-records.ts';

export class FileBlobLog {
  /** Open `dir/name` (created empty if missing), returning the blobs of every finished append. */
  static async open(dir: string, name: string): Promise<{ log: FileBlobLog; blobs: Uint8Array[]; tornBytesCut: number }> {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await writeFileAtomic(dir, name, new Uint8Array(0));
      bytes = new Uint8Array(0);
    }
    const scan = scanSegment(bytes, path, true);
    const handle = await fs.open(path, 'r+');
    if (scan.tornBytes > 0) {
      await handle.truncate(scan.committedEnd);
      await handle.sync();
    }
    const blobs: Uint8Array[] = [];
    let writeSeq = 0;
    for (const { record } of scan.records) {
      if (record.type === 'blob') blobs.push(record.bytes);
      else if (record.type === 'commit') writeSeq = record.writeSeq;
    }
    return { log: new FileBlobLog(dir, name, handle, scan.committedEnd, writeSeq), blobs, tornBytesCut: scan.tornBytes };
  }

  private constructor(
    private readonly dir: string,
    private readonly name: string,
    private handle: fs.FileHandle | null,
    /** Bytes in the file: where the next append goes. */
    public bytes: number,
    private writeSeq: number,
  ) {}

  /** Append `blobs` as one atomic write; durable when the promise resolves. */
  async append(blobs: readonly Uint8Array[]): Promise<void> {
    const handle = this.open();
    const w = new ByteWriter(64 + blobs.reduce((n, b) => n + b.byteLength + 16, 0));
    for (const b of blobs) appendFrame(w, { type: 'blob', bytes: b });
    appendFrame(w, { type: 'commit', writeSeq: this.writeSeq + 1 });
    const out = w.written();
    let written = 0;
    while (written < out.byteLength) written += (await handle.write(out, written, out.byteLength - written, this.bytes + written)).bytesWritten;
    await handle.datasync();
    this.bytes += written;
    this.writeSeq += 1;
  }

  /** Replace the whole file by `blobs` as one write, atomically. */
  async rewrite(blobs: readonly Uint8Array[]): Promise<void> {
    const w = new ByteWriter(64 + blobs.reduce((n, b) => n + b.byteLength + 16, 0));
    for (const b of blobs) appendFrame(w, { type: 'blob', bytes: b });
    appendFrame(w, { type: 'commit', writeSeq: 1 });
    const out = w.written();
    await this.handle?.close();
    this.handle = null;
    await writeFileAtomic(this.dir, this.name, out);
    this.handle = await fs.open(join(this.dir, this.name), 'r+');
    this.bytes = out.byteLength;
    this.writeSeq = 1;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  private open(): fs.FileHandle {
    if (this.handle === null) throw new Error(`${this.name} is not open`);
    return this.handle;
  }
}
