/**
 * Gossip storage in a file (gossip-storage.ts's interface), for gossip nodes in Node.js: one
 * `gossip.log` in its own directory (its own `LOCK`; put it beside the Raft log's, e.g.
 * `<node dir>/gossip`), through FileBlobLog, so it has the Raft log's crash rules: a write is
 * one record plus a commit, written and fdatasynced before it is reported done; a torn tail is
 * cut at open; damage in the middle refuses to open (`FileLogCorruptError`).
 *
 * A record is one `GossipWrite` as JSON (CRDT states are `WireValue`s: strings, numbers,
 * booleans, null and arrays, which JSON carries exactly). Replay keeps the last incarnation
 * and the last record of each CRDT; each is checked as the IndexedDB adapter checks it
 * (`checkStoredCrdt`: a CRDT its type cannot decode is a corrupt store, never handed to the
 * engine). When the file has grown past four times the live state (and 1 MiB), it is rewritten
 * as one record of the live state (temporary file, fsync, rename, fsync the directory).
 */
import type { PersistedCrdt } from '../../core/gossip/crdt-store.ts';
import { FileBlobLog } from './file-blob-log.ts';
import { acquireLock } from './file-dir.ts';
import { FileLogCorruptError } from './file-errors.ts';
import { ensureDir } from './file-recovery.ts';
import { checkStoredCrdt, crdtRecordKey, nextIncarnation, type GossipDurable, type GossipStorage, type GossipWrite } from './gossip-storage.ts';
import { StorageError } from './storage.ts';
import { resolve } from 'node:path';

export interface FileGossipStorageOptions {
  readonly dir: string;
  /** The file is never rewritten below this size (1 MiB). */
  readonly rewriteBytesMin?: number;
}

const logName = 'gossip.log';
/** Rewrite the file once it holds this many times the live bytes, and at least rewriteBytesMin. */
const rewriteFactor = 4;
const rewriteBytesMinDefault = 1024 * 1024;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

interface Stored {
  incarnation: number;
  /** Each CRDT and the size of its encoded record (for the rewrite threshold). */
  readonly crdts: Map<string, { crdt: PersistedCrdt; bytes: number }>;
  liveBytes: number;
}

function parseRecord(blob: Uint8Array, where: string): GossipWrite {
  let value: unknown;
  try {
    value = JSON.parse(textDecoder.decode(blob));
  } catch (e) {
    throw new FileLogCorruptError(`${where}: a record that is not JSON`, { cause: e });
  }
  const w = value as Partial<GossipWrite> | null;
  if (typeof w !== 'object' || w === null || !Array.isArray(w.crdts) || !(w.incarnation === null || Number.isSafeInteger(w.incarnation))) {
    throw new FileLogCorruptError(`${where}: a record that is not a gossip write`);
  }
  return { incarnation: w.incarnation ?? null, crdts: w.crdts.map((c) => checkStoredCrdt(c)) };
}

function fold(stored: Stored, write: GossipWrite): void {
  stored.incarnation = nextIncarnation(stored.incarnation, write);
  for (const c of write.crdts) {
    const key = crdtRecordKey(c);
    const bytes = JSON.stringify(c).length;
    stored.liveBytes += bytes - (stored.crdts.get(key)?.bytes ?? 0);
    stored.crdts.set(key, { crdt: c, bytes });
  }
}

export class FileGossipStorage implements GossipStorage {
  static async open(options: FileGossipStorageOptions): Promise<FileGossipStorage> {
    const dir = resolve(options.dir);
    await ensureDir(dir);
    const release = await acquireLock(dir);
    try {
      const { log, blobs } = await FileBlobLog.open(dir, logName);
      const stored: Stored = { incarnation: 0, crdts: new Map(), liveBytes: 0 };
      let corrupt: FileLogCorruptError | null = null;
      for (const blob of blobs) {
        try {
          fold(stored, parseRecord(blob, `${dir}/${logName}`));
        } catch (e) {
          // A record that passed its CRC but is not a valid write: refused at boot (as the
          // IndexedDB adapter refuses an undecodable CRDT), and no write goes on over it.
          corrupt = e instanceof FileLogCorruptError ? e : new FileLogCorruptError(`${dir}/${logName}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
          break;
        }
      }
      const storage = new FileGossipStorage(dir, log, stored, release, options.rewriteBytesMin ?? rewriteBytesMinDefault);
      storage.failed = corrupt;
      return storage;
    } catch (e) {
      await release();
      throw e instanceof StorageError ? e : new StorageError(`cannot open the gossip log in ${dir}`, { cause: e });
    }
  }

  private chain: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | null = null;
  private failed: StorageError | null = null;
  /** Rewrites done (compactions), for tests. */
  rewrites = 0;

  private constructor(
    readonly dir: string,
    private readonly log: FileBlobLog,
    private readonly stored: Stored,
    private readonly releaseLock: () => Promise<void>,
    private readonly rewriteBytesMin: number,
  ) {}

  boot(): Promise<GossipDurable> {
    return this.serialize(async () => ({
      incarnation: this.stored.incarnation,
      crdts: [...this.stored.crdts.values()].map((c) => structuredClone(c.crdt)),
    }));
  }

  write(write: GossipWrite): Promise<void> {
    return this.serialize(async () => {
      // Checked before anything is written: a write that would lower the incarnation is refused whole.
      nextIncarnation(this.stored.incarnation, write);
      // Copied now: the caller may reuse its arrays while the write is in flight.
      const crdts = write.crdts.map((c): PersistedCrdt => structuredClone({ name: c.name, crdt: c.crdt, state: c.state }));
      const next = { incarnation: write.incarnation, crdts };
      try {
        await this.log.append([textEncoder.encode(JSON.stringify(next))]);
      } catch (e) {
        this.failed = new StorageError(`write to ${this.dir}/${logName} failed`, { cause: e });
        throw this.failed;
      }
      fold(this.stored, next);
      if (this.log.bytes > Math.max(this.rewriteBytesMin, rewriteFactor * this.stored.liveBytes)) await this.rewrite();
    });
  }

  close(): Promise<void> {
    this.closed ??= this.chain.then(
      () => this.finish(),
      () => this.finish(),
    );
    return this.closed;
  }

  private async finish(): Promise<void> {
    await this.log.close();
    await this.releaseLock();
  }

  private async rewrite(): Promise<void> {
    const all: GossipWrite = { incarnation: this.stored.incarnation, crdts: [...this.stored.crdts.values()].map((c) => c.crdt) };
    try {
      await this.log.rewrite([textEncoder.encode(JSON.stringify(all))]);
    } catch (e) {
      this.failed = new StorageError(`rewriting ${this.dir}/${logName} failed`, { cause: e });
      throw this.failed;
    }
    this.rewrites++;
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed !== null) return Promise.reject(new StorageError(`the gossip log in ${this.dir} is closed`));
    if (this.failed !== null) return Promise.reject(this.failed);
    const result = this.chain.then(() => {
      if (this.failed !== null) throw this.failed;
      return op();
    });
    this.chain = result.catch(() => undefined);
    return result;
  }
}

/** A `GossipStorage` in `options.dir/gossip.log` (Node.js only): opened and recovered. */
export function fileGossipStorage(options: FileGossipStorageOptions): Promise<FileGossipStorage> {
  return FileGossipStorage.open(options);
}
