/**
 * BFT storage in a file (bft-storage.ts's interface), for BFT nodes in Node.js: one `bft.log`
 * in its own directory (its own `LOCK`; e.g. `<node dir>/bft`), through FileBlobLog, so it has
 * the Raft log's crash rules: each write is one record plus a commit, written and fdatasynced
 * before it is reported done (a prepare or a commit promises what it wrote, PBFT §4.2); a torn
 * tail is cut at open; damage in the middle refuses to open (`FileLogCorruptError`).
 *
 * A record is JSON: `{ w: BftWrite }` or `{ t: clientTimestamp }` (or both, for a rewrite), with
 * byte arrays (signatures, operations, the checkpointed state) as `{ "$b": base64 }`. Replay
 * folds the writes through src/runtime/bft-durable.ts, the fold the memory and IndexedDB
 * adapters use, so a node boots from the same thing whichever holds it. Writes between stable
 * checkpoints pile up in the file, so once it has grown past four times its size at the last
 * rewrite (and a floor, 4 MiB), it is rewritten as ONE write that rebuilds the fold (the view,
 * every pre-prepare, certificate and committed batch kept, the stable checkpoint with its state) plus the
 * client timestamp: temporary file, fsync, rename, fsync the directory.
 */
import { resolve } from 'node:path';
import { BftDurable, type BftWrite } from '../../runtime/bft-durable.ts';
import type { BftBootRecord, BftStorage } from './bft-storage.ts';
import { FileBlobLog } from './file-blob-log.ts';
import { acquireLock } from './file-dir.ts';
import { FileLogCorruptError } from './file-errors.ts';
import { ensureDir } from './file-recovery.ts';
import { StorageError } from './storage.ts';

export interface FileBftStorageOptions {
  readonly dir: string;
  /** The file is never rewritten below this size (4 MiB). */
  readonly rewriteBytesMin?: number;
}

const logName = 'bft.log';
const rewriteFactor = 4;
const rewriteBytesMinDefault = 4 * 1024 * 1024;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

interface BftRecord {
  readonly w?: BftWrite;
  readonly t?: number;
}

function encode(record: BftRecord): Uint8Array {
  const json = JSON.stringify(record, (_key, value: unknown) => (value instanceof Uint8Array ? { $b: Buffer.from(value).toString('base64') } : value));
  return textEncoder.encode(json);
}

function decode(blob: Uint8Array, where: string): BftRecord {
  let value: unknown;
  try {
    value = JSON.parse(textDecoder.decode(blob), (_key, v: unknown) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const keys = Object.keys(v);
        const b = (v as { $b?: unknown }).$b;
        if (keys.length === 1 && typeof b === 'string') return new Uint8Array(Buffer.from(b, 'base64'));
      }
      return v;
    });
  } catch (e) {
    throw new FileLogCorruptError(`${where}: a record that is not JSON`, { cause: e });
  }
  const r = value as BftRecord | null;
  const isWrite = (w: unknown): boolean => typeof w === 'object' && w !== null && typeof (w as BftWrite).persist === 'object' && (w as BftWrite).persist !== null;
  if (typeof r !== 'object' || r === null || (r.w !== undefined && !isWrite(r.w)) || (r.t !== undefined && !Number.isSafeInteger(r.t))) {
    throw new FileLogCorruptError(`${where}: a record that is not a BFT write`);
  }
  return r;
}

export class FileBftStorage implements BftStorage {
  static async open(options: FileBftStorageOptions): Promise<FileBftStorage> {
    const dir = resolve(options.dir);
    await ensureDir(dir);
    const release = await acquireLock(dir);
    try {
      const { log, blobs } = await FileBlobLog.open(dir, logName);
      const durable = new BftDurable();
      let clientTimestamp = 0;
      try {
        for (const blob of blobs) {
          const r = decode(blob, `${dir}/${logName}`);
          if (r.w !== undefined) durable.apply(r.w);
          if (r.t !== undefined) clientTimestamp = Math.max(clientTimestamp, r.t);
        }
      } catch (e) {
        await log.close();
        throw e;
      }
      return new FileBftStorage(dir, log, durable, clientTimestamp, release, options.rewriteBytesMin ?? rewriteBytesMinDefault);
    } catch (e) {
      await release();
      throw e instanceof StorageError ? e : new StorageError(`cannot open the BFT log in ${dir}`, { cause: e });
    }
  }

  private chain: Promise<unknown> = Promise.resolve();
  private closed: Promise<void> | null = null;
  private failed: StorageError | null = null;
  /** The file's size after the last rewrite (0: never rewritten). */
  private rewrittenBytes = 0;
  /** Rewrites done, for tests. */
  rewrites = 0;

  private constructor(
    readonly dir: string,
    private readonly log: FileBlobLog,
    private readonly durable: BftDurable,
    private clientTimestamp: number,
    private readonly releaseLock: () => Promise<void>,
    private readonly rewriteBytesMin: number,
  ) {}

  boot(): Promise<BftBootRecord> {
    return this.serialize(async () => ({ durable: this.durable.clone(), clientTimestamp: this.clientTimestamp }));
  }

  write(write: BftWrite): Promise<void> {
    // Encoded now: the caller's objects are the engine's, and the bytes must be what was asked.
    const bytes = encode({ w: write });
    return this.serialize(async () => {
      await this.append(bytes);
      this.durable.apply(write);
      await this.maybeRewrite();
    });
  }

  writeClientTimestamp(timestamp: number): Promise<void> {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) return Promise.reject(new StorageError(`client timestamp ${timestamp} is not a count`));
    return this.serialize(async () => {
      if (timestamp <= this.clientTimestamp) return;
      await this.append(encode({ t: timestamp }));
      this.clientTimestamp = timestamp;
    });
  }

  close(): Promise<void> {
    const finish = async (): Promise<void> => {
      await this.log.close();
      await this.releaseLock();
    };
    this.closed ??= this.chain.then(finish, finish);
    return this.closed;
  }

  private async append(bytes: Uint8Array): Promise<void> {
    try {
      await this.log.append([bytes]);
    } catch (e) {
      this.failed = new StorageError(`write to ${this.dir}/${logName} failed`, { cause: e });
      throw this.failed;
    }
  }

  private async maybeRewrite(): Promise<void> {
    if (this.log.bytes <= Math.max(this.rewriteBytesMin, rewriteFactor * this.rewrittenBytes)) return;
    const boot = this.durable.boot();
    const all: BftRecord = {
      w: { persist: { ...boot, committed: boot.committed ?? [], stableClients: boot.stableClients ?? [], discardBelowSeq: null }, checkpointState: this.durable.state },
      t: this.clientTimestamp,
    };
    try {
      await this.log.rewrite([encode(all)]);
    } catch (e) {
      this.failed = new StorageError(`rewriting ${this.dir}/${logName} failed`, { cause: e });
      throw this.failed;
    }
    this.rewrittenBytes = this.log.bytes;
    this.rewrites++;
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed !== null) return Promise.reject(new StorageError(`the BFT log in ${this.dir} is closed`));
    if (this.failed !== null) return Promise.reject(this.failed);
    const result = this.chain.then(() => {
      if (this.failed !== null) throw this.failed;
      return op();
    });
    this.chain = result.catch(() => undefined);
    return result;
  }
}

/** A `BftStorage` in `options.dir/bft.log` (Node.js only): opened and recovered. */
export function fileBftStorage(options: FileBftStorageOptions): Promise<FileBftStorage> {
  return FileBftStorage.open(options);
}
