/**
 * The directory of one file log and the `fs` steps that make changes to it durable:
 *
 *   wal-<seq, 16 digits>.seg      segments, appended to, sequence numbers consecutive
 *   snap-<index>-<term>.snap      snapshot bytes, written whole and renamed into place
 *   LOCK                          the pid of the process that has the log open
 *   *.tmp                         a file being written; left by a crash, deleted at open
 *
 * Why segments are named by a sequence number and not by their first index (etcd names its
 * WAL files by both): a new leader's entries may start below the last segment's first index,
 * so first indices do not order segments, and the sequence number is what recovery checks for
 * a missing file.
 *
 * Durability of names: creating, renaming or deleting a file changes the DIRECTORY, and an
 * `fsync` of the file does not make that change durable on Linux (ext4, xfs: the rename may be
 * lost in a power failure though the data is on disk). So every such change is followed by an
 * `fsync` of the directory before anything that depends on it is reported done. That this is
 * done cannot be checked by a test here: a kill -9 keeps the page cache, so only a power loss
 * (or a fault-injecting file system) would show a missing directory fsync.
 */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { FileLogLockedError } from './file-errors.ts';

export const lockName = 'LOCK';

/**
 * Where a Node node keeps each engine's files under its data directory: one directory each,
 * since each storage takes its own lock, and the engines' writes never wait on each other.
 */
export function nodeDataDirs(dataDir: string): { readonly raft: string; readonly gossip: string; readonly bft: string } {
  return { raft: join(dataDir, 'raft'), gossip: join(dataDir, 'gossip'), bft: join(dataDir, 'bft') };
}

export function segmentName(seq: number): string {
  return `wal-${String(seq).padStart(16, '0')}.seg`;
}

export function snapshotName(index: number, term: number): string {
  return `snap-${index}-${term}.snap`;
}

export interface DirListing {
  /** Segment sequence numbers, ascending. */
  readonly segments: number[];
  readonly snapshots: string[];
  readonly temporaries: string[];
}

export async function listDir(dir: string): Promise<DirListing> {
  const names = await fs.readdir(dir);
  const segments: number[] = [];
  const snapshots: string[] = [];
  const temporaries: string[] = [];
  for (const name of names) {
    const seg = /^wal-(\d{16})\.seg$/.exec(name);
    if (seg !== null) segments.push(Number(seg[1]));
    else if (/^snap-\d+-\d+\.snap$/.test(name)) snapshots.push(name);
    else if (name.endsWith('.tmp')) temporaries.push(name);
  }
  segments.sort((a, b) => a - b);
  return { segments, snapshots, temporaries };
}

/** Make the directory's entries (creations, renames, deletions) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Write `data` as `dir/name` so that after a crash the file is either absent (or its old
 * version) or whole: write a temporary file, fsync it, rename it over the name, fsync the
 * directory. A crash before the rename leaves only the `.tmp`, which the next open deletes.
 */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

/** The bytes of `path`, or null when there is no such file. */
export async function readFileIfPresent(path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Temporary files `createFileAtomic` made in this thread (their names' counter). */
let temporaryFilesMade = 0;

/**
 * Create `dir/name` holding `data`, whole, unless it exists: answers false (and writes nothing)
 * when it does. Like `writeFileAtomic`, but the last step is a hard link instead of a rename,
 * because `link` refuses an existing name where `rename` replaces it: of two creators at once,
 * exactly one wins, and neither replaces what the other wrote. `mode` is the file's permissions
 * (0o600 for a private key).
 */
export async function createFileAtomic(dir: string, name: string, data: Uint8Array, mode: number): Promise<boolean> {
  // Unique per creator: pid and thread (workers share the pid) and a counter (one thread may
  // create twice at once); a clock would not do, two creators can start in one millisecond.
  const tmp = join(dir, `${name}.${process.pid}.${threadId}.${++temporaryFilesMade}.tmp`);
  const handle = await fs.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  let created = true;
  try {
    await fs.link(tmp, join(dir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    created = false;
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await fsyncDir(dir);
  return created;
}

/** Delete `names` from `dir` (missing ones are fine), then make the deletions durable. */
export async function removeFiles(dir: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  for (const name of names) await fs.rm(join(dir, name), { force: true });
  await fsyncDir(dir);
}

// ---- the lock --------------------------------------------------------------------------------

/** Directories this process holds open (a second handle in one process is refused too). */
const heldDirs = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but is not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLockPid(path: string): Promise<number | null> {
  try {
    const text = await fs.readFile(path, 'utf8');
    const pid = Number(text.trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Take the directory's lock: create `LOCK` exclusively, holding our pid. A lock left by a
 * process that no longer runs (kill -9 leaves it) is taken over; one held by a live process,
 * or by this process through another handle, is a `FileLogLockedError`. Node has no `flock`,
 * hence a pid file: it can be fooled by a pid reused after a crash (a false refusal, never two
 * writers), and two processes taking over the same stale lock at the same instant could both
 * succeed (the second `unlink` removes the first's fresh lock); starting nodes one at a time
 * per directory avoids that.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  if (heldDirs.has(dir)) throw new FileLogLockedError(`${dir} is already open in this process`);
  const path = join(dir, lockName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      heldDirs.add(dir);
      return async () => {
        heldDirs.delete(dir);
        await fs.rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = await readLockPid(path);
    if (pid !== null && pid !== process.pid && isAlive(pid)) throw new FileLogLockedError(`${dir} is locked by process ${pid}`);
    // Stale (its process is gone, or it is ours from a handle that was dropped without close).
    await fs.rm(path, { force: true });
  }
  throw new FileLogLockedError(`${dir}: could not take the lock (another process took it first)`);
}
