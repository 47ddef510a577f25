/**
 * The file log's write rate (src/io/storage/file-storage.ts): `npx tsx bench/file-log.ts
 * [--seconds S] [--dir D]` prints one JSON line.
 *
 * What it measures, in a temporary directory (or `--dir`, to pick the disk), each for S seconds
 * (default 2): writes of G entries (100 bytes each) with G = 1, 16 and 256, one write awaited
 * before the next (as the Raft driver does, one per Ready), giving entries appended per second
 * and groups (one write + one fdatasync each) per second; and writes of 1 entry with 16 in
 * flight, where group commit gathers the writes issued during one fdatasync into the next.
 * Also `npm run bench -- file-log [--seconds S] [--dir D]` (wired into bench/run.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../src/core/raft/types.ts';
import { fileStorage } from '../src/io/storage/file-storage.ts';

interface Figures {
  readonly appendsPerSec: number;
  readonly writesPerSec: number;
  readonly fsyncsPerSec: number;
}

const payload = new Uint8Array(100).fill(0x5a);

async function measure(dir: string, entriesPerWrite: number, inFlight: number, seconds: number): Promise<Figures> {
  const storage = await fileStorage({ dir });
  await storage.write({ hardState: { term: 1, vote: 'n1', commit: 0 }, snapshot: null, clearLog: false, compactTo: 0, entries: [] });
  const groups0 = storage.groupsWritten;
  let next = 1;
  let writes = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const one = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const entries: Entry[] = [];
      for (let i = 0; i < entriesPerWrite; i++) entries.push({ index: next++, term: 1, kind: 'normal', data: payload });
      await storage.write({ hardState: null, snapshot: null, clearLog: false, compactTo: 0, entries });
      writes++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, one));
  const elapsedS = (performance.now() - start) / 1000;
  const groups = storage.groupsWritten - groups0;
  await storage.close();
  const r = (x: number): number => Math.round(x / elapsedS);
  return { appendsPerSec: r(next - 1), writesPerSec: r(writes), fsyncsPerSec: r(groups) };
}

export async function runFileLogBench(args: readonly string[]): Promise<void> {
  const at = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seconds = Number(at('--seconds') ?? 2);
  const base = mkdtempSync(join(at('--dir') ?? tmpdir(), 'pq-file-log-bench-'));
  try {
    const result: Record<string, Figures> = {};
    for (const g of [1, 16, 256]) {
      result[`group${g}`] = await measure(join(base, `g${g}`), g, 1, seconds);
      console.error(`entries per write ${g}: ${JSON.stringify(result[`group${g}`])}`);
    }
    result.inFlight16 = await measure(join(base, 'c16'), 1, 16, seconds);
    console.error(`1 entry per write, 16 in flight: ${JSON.stringify(result.inFlight16)}`);
    console.log(JSON.stringify({ bench: 'file-log', seconds, entryBytes: payload.byteLength, ...result }));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runFileLogBench(process.argv.slice(2));
