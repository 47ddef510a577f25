/**
 * kill -9 while writing (TESTING.md "Edge nodes"): nothing the file log reported durable is
 * lost, a torn tail is cut at the next open, and the log stays consistent.
 *
 * How: a child process (file-crash-child.ts, run by node with tsx) opens the log and writes
 * generated Raft writes (appends, new terms overwriting uncommitted suffixes, local snapshots
 * with compaction, leaders' snapshots replacing the log; segments of 16 KiB, so rolls and
 * segment deletions happen under the kill), printing each write before issuing it and `A` only
 * once it is durable. The parent sends SIGKILL after a seeded random delay, waits for the exit,
 * opens the directory itself and requires the booted state to be EXACTLY the state after some
 * number j of the child's writes, with j between the count acknowledged and the count issued
 * (writes are atomic and durable in order, so nothing else is allowed: no acknowledged write
 * lost, no write half there, no gap). Indices contiguous and terms monotonic are then implied,
 * and checked outright too. Twenty kills, alternating one write in flight and eight (group
 * commit), each restarting from what the previous kill left; one run in four writes entries
 * 200 times larger into a second directory, so that kills land inside `write` system calls and
 * leave torn tails for the next open to cut (how many did is printed, not asserted: a kill's
 * timing is the scheduler's; in the runs here none did, the kernel finished every write a kill
 * met, so torn tails are proven by file-recovery.test.ts, which cuts them by hand).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BootState } from '../../../src/core/raft/types.ts';
import { fileStorage } from '../../../src/io/storage/file-storage.ts';
import { applyDesc, bootedEntries, emptyModel, entryData, modelOfBoot, prng, snapshotOf, type Model, type WriteDesc } from './file-crash-model.ts';

const childPath = fileURLToPath(new URL('./file-crash-child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pq-file-crash-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Run {
  readonly issued: WriteDesc[];
  readonly acked: number;
  readonly stderr: string;
}

/** Start the child, kill it `delayMs` after it is ready, and return what it reported. */
function runAndKill(dir: string, seed: number, inFlight: number, delayMs: number, scale: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const segmentBytes = scale === 1 ? 16_384 : 4 * 1024 * 1024;
    const args = ['--import', 'tsx', childPath, dir, String(seed), String(inFlight), String(segmentBytes), String(scale)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const issued: WriteDesc[] = [];
    let acked = 0;
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'READY') timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        else if (line === 'A') acked++;
        else if (line.startsWith('W ')) issued.push(JSON.parse(line.slice(2)) as WriteDesc);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      // A partial last line is a write whose report the kill cut: it was not acknowledged.
      if (signal !== 'SIGKILL') reject(new Error(`the child exited by itself (code ${code}): ${stderr}`));
      else resolve({ issued, acked, stderr });
    });
  });
}

function sameModel(b: BootState, m: Model, scale: number): boolean {
  const snap = b.snapshot ?? null;
  const got = modelOfBoot(b);
  if (JSON.stringify(got.hardState) !== JSON.stringify(m.hardState)) return false;
  if (JSON.stringify(got.snapshot) !== JSON.stringify(m.snapshot)) return false;
  if (JSON.stringify(b.entries.map((e) => [e.index, e.term])) !== JSON.stringify(bootedEntries(m))) return false;
  if (snap !== null && !Buffer.from(snap.data).equals(Buffer.from(snapshotOf(snap.meta.index, snap.meta.term, snap.data.byteLength).data))) return false;
  return b.entries.every((e) => Buffer.from(e.data).equals(Buffer.from(entryData(e.index, e.term, scale))));
}

describe('file log under kill -9', () => {
  it('keeps every acknowledged write through 20 kills at random points', async () => {
    const smallDir = join(root, 'log');
    const bigDir = join(root, 'big');
    const rand = prng(20_260_101);
    const models = { small: emptyModel, big: emptyModel };
    const seen = { acked: 0, issued: 0, landedUnacked: 0, tornCuts: 0 };
    for (let kill = 0; kill < 20; kill++) {
      const inFlight = kill % 2 === 0 ? 1 : 8;
      // Every fourth run writes entries 200 times larger (up to 1.2 MB per write) to its own
      // directory: a kill then often lands inside a write system call, which leaves a torn tail.
      const scale = kill % 4 === 3 ? 200 : 1;
      const dir = scale === 1 ? smallDir : bigDir;
      const model = scale === 1 ? models.small : models.big;
      const run = await runAndKill(dir, 1000 + kill, inFlight, Math.floor(rand() * 400), scale);
      const storage = await fileStorage({ dir });
      const booted = await storage.boot();
      if (storage.tornBytesCut > 0) seen.tornCuts++;
      await storage.close();
      // The states after 0..issued writes; the booted one must be among those from `acked` on.
      let state = model;
      let match = -1;
      for (let j = 0; j <= run.issued.length; j++) {
        if (j > 0) state = applyDesc(state, run.issued[j - 1] as WriteDesc);
        if (j >= run.acked && sameModel(booted, state, scale)) {
          match = j;
          break;
        }
      }
      expect(match, `kill ${kill}: booted state is not the state after ${run.acked}..${run.issued.length} writes`).toBeGreaterThanOrEqual(run.acked);
      // Consistent on its own too: contiguous indices, terms never decreasing, within the term.
      booted.entries.forEach((e, i) => {
        if (i > 0) expect(e.index).toBe((booted.entries[i - 1]?.index as number) + 1);
        if (i > 0) expect(e.term).toBeGreaterThanOrEqual(booted.entries[i - 1]?.term as number);
        expect(e.term).toBeLessThanOrEqual(booted.hardState.term);
      });
      seen.acked += run.acked;
      seen.issued += run.issued.length;
      if (match > run.acked) seen.landedUnacked++;
      models[scale === 1 ? 'small' : 'big'] = modelOfBoot(booted);
    }
    // The kills landed while writes were going on: most runs acknowledged writes.
    expect(seen.acked).toBeGreaterThan(20);
    console.log(`file-crash: ${JSON.stringify(seen)}`);
  }, 90_000);
});
