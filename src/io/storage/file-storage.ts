/**
 * Raft storage in files, for nodes in Node.js (DESIGN.md §7b "Edge"): a write-ahead log of
 * append-only segments in one directory per node (file-dir.ts lists the files).
 *
 * One `StorageWrite` becomes one run of records (file-records.ts) ending in a `commit` record,
 * each framed with a CRC-32C (file-frames.ts). Writes issued while the previous group is being
 * written gather into the next group: ONE `write` and ONE `fdatasync` per group (group commit),
 * and no write's promise resolves before the `fdatasync` of its bytes returned. The Raft driver
 * issues one write per Ready and waits for it, so a Ready's records (entries, hard state,
 * snapshot reference) always share one write and one fdatasync.
 *
 * Why the hard state rides in the log rather than in a file of its own replaced by rename: a
 * write is atomic (storage.ts) and a Ready's entries and hard state are one write. In two files
 * a crash between them leaves entries of a term the stored hard state has not reached, or a
 * commit index beyond the stored log: a state `checkStoredState` rightly refuses. In the log,
 * the commit record makes them one, and it costs one fdatasync instead of three (file, rename,
 * directory). Each segment starts with a checkpoint of the hard state (file-records.ts), so
 * dropping old segments never drops the latest hard state.
 *
 * Truncation (a new leader's conflicting suffix, Raft §5.3) is an entry record: replay lets an
 * entry replace everything from its index on (file-replay.ts). Rewriting the tail segment
 * instead would rewrite up to a whole segment per leader change and need a rename to stay
 * crash-safe; a record costs nothing extra and is atomic with the rest of its write.
 *
 * Snapshots live in files of their own (`snap-<index>-<term>.snap`), written whole (temporary
 * file, fsync, rename, fsync the directory) BEFORE the log record that refers to them; the old
 * snapshot file is deleted once the new record is durable. Compaction drops whole segments:
 * once a write is durable, every segment older than the one holding the first live entry is
 * deleted (the next segment's checkpoint carries the state on).
 *
 * Recovery at open (file-recovery.ts): every CRC checked, a torn tail cut, damage in the middle
 * refused with `FileLogCorruptError`. A `LOCK` file keeps a second process out.
 *
 * A failed `write` or `fdatasync` poisons the handle: every later call rejects, and the node
 * restarts from what recovery finds. Retrying an fdatasync after it failed can report success
 * for pages the kernel already dropped (the 2018 "fsyncgate" finding, PostgreSQL), so we never do.
 */
import { promises as fs, type promises } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BootState, Entry, HardState } from '../../core/raft/types.ts';
import { crc32c } from './crc32c.ts';
import { acquireLock, fsyncDir, removeFiles, segmentName, snapshotName, writeFileAtomic } from './file-dir.ts';
import { appendFrame } from './file-frames.ts';
import { ByteWriter, type FileRecord, type SnapshotRef } from './file-records.ts';
import { ensureDir, loadLog } from './file-recovery.ts';
import { StorageError, type RaftStorage, type StorageWrite } from './storage.ts';
import { applyPlanToLog, planWrite, type StoredLogView, type WritePlan } from './write-rules.ts';

export interface FileStorageOptions {
  /** The node's directory (created if missing). One node per directory. */
  readonly dir: string;
  /** A segment is closed and a new one started once it holds this many bytes (64 MiB). */
  readonly segmentBytesMax?: number;
}

export const segmentBytesMaxDefault = 64 * 1024 * 1024;
/** Bounds on one group (one write + one fdatasync): what a burst of writes can make us buffer at once. */
const groupWritesMax = 1024;
const groupBytesMax = 16 * 1024 * 1024;

/** What writes are checked against: the stored log as it will be once every write issued is durable. */
interface Head {
  hardState: HardState;
  snapshot: SnapshotRef | null;
  first: number;
  /** terms[i] and segmentOf[i] belong to index first + i. */
  terms: number[];
  segmentOf: number[];
  writeSeq: number;
  tailSeq: number;
  tailBytes: number;
}

/** One `StorageWrite`, encoded and placed, waiting for its group. */
interface Job {
  readonly bytes: Uint8Array;
  readonly segmentSeq: number;
  /** The job starts a new segment (its bytes begin with the checkpoint). */
  readonly rolls: boolean;
  readonly snapshot: { readonly name: string; readonly data: Uint8Array } | null;
  /** Once durable: segments below this hold no live entry. */
  readonly deleteBelow: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

function viewOf(h: Head): StoredLogView {
  return {
    hardState: h.hardState,
    snapshot: h.snapshot?.meta ?? null,
    firstIndex: h.first,
    lastIndex: h.first + h.terms.length - 1,
    termAt: (index) => h.terms[index - h.first] as number,
  };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function asStorageError(e: unknown, what: string): StorageError {
  return e instanceof StorageError ? e : new StorageError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export class FileRaftStorage implements RaftStorage {
  /** Open (creating if needed) and recover the log in `options.dir`. */
  static async open(options: FileStorageOptions): Promise<FileRaftStorage> {
    const dir = resolve(options.dir);
    const segmentBytesMax = options.segmentBytesMax ?? segmentBytesMaxDefault;
    if (!Number.isSafeInteger(segmentBytesMax) || segmentBytesMax < 1024) throw new StorageError(`segmentBytesMax ${segmentBytesMax} is not a byte count of at least 1024`);
    try {
      await ensureDir(dir);
    } catch (e) {
      throw asStorageError(e, `cannot create ${dir}`);
    }
    const release = await acquireLock(dir).catch((e: unknown) => {
      throw asStorageError(e, `cannot lock ${dir}`);
    });
    try {
      const log = await loadLog(dir, true);
      const tailSeq = log.segments[log.segments.length - 1] ?? 0;
      const head: Head = {
        hardState: log.hardState,
        snapshot: log.snapshot,
        first: log.firstIndex,
        terms: log.entries.map((e) => e.term),
        segmentOf: [...log.segmentOf],
        writeSeq: log.writeSeq,
        tailSeq,
        tailBytes: log.tailBytes,
      };
      const tail = tailSeq === 0 ? null : await fs.open(join(dir, segmentName(tailSeq)), 'r+');
      return new FileRaftStorage(dir, segmentBytesMax, head, [...log.segments], tail, release, log.tornBytesCut);
    } catch (e) {
      await release();
      throw asStorageError(e, `cannot open the log in ${dir}`);
    }
  }

  /** The last operation issued; the next group or boot starts after it. */
  private chain: Promise<void> = Promise.resolve();
  /** The group new writes join, until it starts (or is full: the next one starts after it). */
  private gathering: Job[] | null = null;
  private gatheringBytes = 0;
  private closed: Promise<void> | null = null;
  private failed: StorageError | null = null;
  /** Set by `crashForTest`: no further I/O, no promise settles. */
  private dead = false;
  private durableSnapshotName: string | null;
  /** Bytes in the open segment file: where the next group is written. */
  private tailFileBytes: number;
  /** Groups written (each one write and one fdatasync), for tests and benchmarks. */
  groupsWritten = 0;

  private constructor(
    readonly dir: string,
    private readonly segmentBytesMax: number,
    private readonly head: Head,
    /** Segments on disk, ascending. */
    private readonly segments: number[],
    private tail: promises.FileHandle | null,
    private readonly releaseLock: () => Promise<void>,
    /** Bytes of a torn write that recovery cut off at open. */
    readonly tornBytesCut: number,
  ) {
    this.tailFileBytes = head.tailBytes;
    const s = head.snapshot;
    this.durableSnapshotName = s === null ? null : snapshotName(s.meta.index, s.meta.term);
  }

  /** The durable state, read back from the files, once every write issued before is durable. */
  boot(): Promise<BootState> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    this.gathering = null;
    const result = this.chain.then(async () => {
      if (this.failed !== null) throw this.failed;
      const log = await loadLog(this.dir, false);
      const snapIndex = log.snapshot?.meta.index ?? 0;
      return {
        hardState: { ...log.hardState },
        snapshot: log.snapshot === null ? null : { meta: log.snapshot.meta, data: log.snapshotData as Uint8Array },
        entries: log.entries.filter((e: Entry) => e.index > snapIndex),
      };
    });
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result.catch((e: unknown) => {
      throw asStorageError(e, `boot from ${this.dir} failed`);
    });
  }

  write(write: StorageWrite): Promise<void> {
    const refused = this.refusal();
    if (refused !== null) return Promise.reject(refused);
    let plan: WritePlan;
    try {
      plan = planWrite(viewOf(this.head), write);
    } catch (e) {
      return Promise.reject(asStorageError(e, 'write rejected'));
    }
    return new Promise<void>((resolveJob, rejectJob) => {
      let job: Job;
      try {
        job = this.place(write, plan, resolveJob, rejectJob);
      } catch (e) {
        rejectJob(asStorageError(e, 'write rejected'));
        return;
      }
      if (this.gathering === null || this.gathering.length >= groupWritesMax || this.gatheringBytes + job.bytes.byteLength > groupBytesMax) {
        const group: Job[] = [];
        this.gathering = group;
        this.gatheringBytes = 0;
        this.chain = this.chain.then(() => {
          if (this.gathering === group) this.gathering = null;
          return this.writeGroup(group);
        });
      }
      this.gathering.push(job);
      this.gatheringBytes += job.bytes.byteLength;
    });
  }

  /** Waits for every write issued, then releases the files and the lock. */
  close(): Promise<void> {
    this.closed ??= this.chain.then(async () => {
      if (this.dead) return;
      await this.tail?.close();
      this.tail = null;
      await this.releaseLock();
    });
    return this.closed;
  }

  /**
   * For tests: die as a killed process would, NOW. Writes not yet handed to the kernel are lost
   * and their promises never settle; a group already being written finishes its system calls
   * (a kill cannot take back a `write` the kernel took) but acknowledges nothing. Then the files
   * and the lock are released (the lock a dead process leaves is stale anyway), so the directory
   * can be opened again.
   */
  async crashForTest(): Promise<void> {
    this.dead = true;
    this.gathering = null;
    this.closed ??= Promise.resolve();
    await this.chain;
    await this.tail?.close();
    this.tail = null;
    await this.releaseLock();
  }

  private refusal(): StorageError | null {
    if (this.closed !== null) return new StorageError(`the file log in ${this.dir} is closed`);
    return this.failed;
  }

  /** Encode `write` (planned against the head), choose its segment, and move the head on. */
  private place(write: StorageWrite, plan: WritePlan, resolveJob: () => void, rejectJob: (e: unknown) => void): Job {
    const h = this.head;
    const records: FileRecord[] = [];
    const rolls = h.tailSeq === 0 || h.tailBytes >= this.segmentBytesMax;
    if (rolls) records.push({ type: 'checkpoint', segmentSeq: h.tailSeq + 1, hardState: h.hardState, firstIndex: h.first, snapshot: h.snapshot });
    let snapshot: Job['snapshot'] = null;
    if (plan.snapshot !== null) {
      const { meta, data } = plan.snapshot;
      const ref: SnapshotRef = { meta, dataBytes: data.byteLength, dataCrc: crc32c(data) };
      records.push({ type: 'snapshot', snapshot: ref, clearLog: plan.clearLog });
      snapshot = { name: snapshotName(meta.index, meta.term), data };
    }
    if (write.compactTo > 0) records.push({ type: 'compact', compactTo: write.compactTo });
    for (const entry of plan.entries) records.push({ type: 'entry', entry });
    if (!sameHardState(plan.hardState, h.hardState)) records.push({ type: 'hardState', hardState: plan.hardState });
    records.push({ type: 'commit', writeSeq: h.writeSeq + 1 });

    const w = new ByteWriter(256 + plan.entries.reduce((n, e) => n + e.data.byteLength + 64, 0));
    for (const r of records) appendFrame(w, r);
    const bytes = w.written();

    // Encoded (which may throw, for a record over recordBytesMax): only now does the head move.
    if (snapshot !== null) h.snapshot = (records.find((r) => r.type === 'snapshot') as { snapshot: SnapshotRef }).snapshot;
    if (rolls) {
      h.tailSeq += 1;
      h.tailBytes = 0;
    }
    const segmentOf = plan.entries.map(() => h.tailSeq);
    applyPlanToLog(h.segmentOf, h.first, plan, segmentOf);
    h.first = applyPlanToLog(h.terms, h.first, plan, plan.entries.map((e) => e.term));
    h.hardState = plan.hardState;
    h.writeSeq += 1;
    h.tailBytes += bytes.byteLength;
    const deleteBelow = h.segmentOf[0] ?? h.tailSeq;
    return { bytes, segmentSeq: h.tailSeq, rolls, snapshot, deleteBelow, resolve: resolveJob, reject: rejectJob };
  }

  /**
   * Write one group: snapshot files first (each whole and renamed into place), then the log
   * bytes, one `write` and one `fdatasync` per segment touched (one, but for a roll), then
   * acknowledge, then delete what the group made dead. Never rejects: a failure rejects the
   * group's jobs and poisons the handle.
   */
  private async writeGroup(group: readonly Job[]): Promise<void> {
    if (this.dead || group.length === 0) return;
    try {
      if (this.failed !== null) throw this.failed;
      for (const job of group) if (job.snapshot !== null) await writeFileAtomic(this.dir, job.snapshot.name, job.snapshot.data);
      let from = 0;
      while (from < group.length) {
        if (this.dead) return;
        const seq = (group[from] as Job).segmentSeq;
        let to = from;
        while (to < group.length && (group[to] as Job).segmentSeq === seq) to++;
        await this.append(group.slice(from, to));
        from = to;
      }
    } catch (e) {
      this.failed ??= asStorageError(e, `write to the file log in ${this.dir} failed; nothing after the last durable write can be trusted`);
      if (this.dead) return;
      for (const job of group) job.reject(this.failed);
      return;
    }
    if (this.dead) return;
    this.groupsWritten++;
    for (const job of group) job.resolve();
    await this.dropDead(group[group.length - 1] as Job, group);
  }

  /** Append jobs of one segment with one write and one fdatasync (creating the segment if they start it). */
  private async append(jobs: readonly Job[]): Promise<void> {
    const first = jobs[0] as Job;
    if (first.rolls) {
      const previous = this.tail;
      this.tail = null;
      await previous?.close();
      this.tail = await fs.open(join(this.dir, segmentName(first.segmentSeq)), 'wx');
    }
    const tail = this.tail;
    if (tail === null) throw new StorageError(`no open segment for segment ${first.segmentSeq}`);
    const total = jobs.reduce((n, j) => n + j.bytes.byteLength, 0);
    const bytes = jobs.length === 1 ? first.bytes : new Uint8Array(total);
    if (jobs.length > 1) {
      let at = 0;
      for (const j of jobs) {
        bytes.set(j.bytes, at);
        at += j.bytes.byteLength;
      }
    }
    // The file is opened without O_APPEND and written at its end: after a cut torn tail, the
    // next byte goes exactly where the cut was.
    if (first.rolls) this.tailFileBytes = 0;
    let written = 0;
    while (written < bytes.byteLength) {
      const r = await tail.write(bytes, written, bytes.byteLength - written, this.tailFileBytes + written);
      written += r.bytesWritten;
    }
    this.tailFileBytes += written;
    await tail.datasync();
    if (first.rolls) {
      // The new file's name must be durable too, or a power loss could lose the whole segment.
      await fsyncDir(this.dir);
      this.segments.push(first.segmentSeq);
    }
  }

  /** After `last` (the group's last job) is durable: delete segments and snapshot files it made dead. */
  private async dropDead(last: Job, group: readonly Job[]): Promise<void> {
    const names: string[] = [];
    while (this.segments.length > 1 && (this.segments[0] as number) < last.deleteBelow) names.push(segmentName(this.segments.shift() as number));
    for (const job of group) {
      if (job.snapshot === null) continue;
      if (this.durableSnapshotName !== null && this.durableSnapshotName !== job.snapshot.name) names.push(this.durableSnapshotName);
      this.durableSnapshotName = job.snapshot.name;
    }
    try {
      // Oldest first: a crash part way leaves a run of consecutive segments, which recovery accepts.
      await removeFiles(this.dir, names);
    } catch (e) {
      this.failed ??= asStorageError(e, `compaction in ${this.dir} failed`);
    }
  }
}

/** A `RaftStorage` in files under `options.dir` (Node.js only): opened and recovered. */
export function fileStorage(options: FileStorageOptions): Promise<FileRaftStorage> {
  return FileRaftStorage.open(options);
}
