/**
 * The file log under the real runtime: a node started as pages start it (NodeHost, the one
 * Ready loop) with FileRaftStorage, a single voter so that it commits alone, applies 1,000
 * commands with compaction on (a snapshot every 300 entries, 50 kept behind it; 8 KiB
 * segments), so that snapshots, compaction records and segment deletion all run through the
 * driver's own writes. Stopped, then started again from the same directory with a fresh
 * machine, it restores the snapshot and replays the log after it: the machine counts 1,000
 * again, and only a few segments are left on disk.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { fileStorage } from '../../../src/io/storage/file-storage.ts';
import { MemoryHub } from '../../../src/io/transport/memory-transport.ts';
import type { StateMachine } from '../../../src/machines/state-machine.ts';
import { NodeHost, type MachineAdapter } from '../../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../../src/runtime/worker-protocol.ts';

class CountMachine implements StateMachine {
  count = 0;
  apply(): Uint8Array {
    this.count++;
    return new Uint8Array(0);
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.count));
  }
  restore(snapshot: Uint8Array): void {
    this.count = Number(new TextDecoder().decode(snapshot));
  }
}

const root = mkdtempSync(join(tmpdir(), 'pq-file-node-'));
let host: NodeHost | null = null;
afterEach(async () => {
  await host?.stop().catch(() => undefined);
  host = null;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function start(dir: string, machine: CountMachine): Promise<NodeHost> {
  const adapter: MachineAdapter = { machine, createScratch: () => new CountMachine(), query: (m) => (m as CountMachine).count };
  const options: WorkerStartOptions = {
    cluster: 'file',
    id: 'a',
    voters: ['a'],
    transport: { kind: 'broadcast' },
    storage: 'memory',
    machine: { kind: 'kv' },
    tickMs: 5,
    seed: 1,
    raft: { snapshotEveryEntries: 300, snapshotTrailingEntries: 50 },
  };
  return NodeHost.start(options, { transport: new MemoryHub().connect('a'), storage: await fileStorage({ dir, segmentBytesMax: 8192 }), machine: adapter });
}

it('runs a node on the file log, compacts it, and restarts from it', async () => {
  const dir = join(root, 'a');
  const first = new CountMachine();
  host = await start(dir, first);
  const h = host;
  const command = new Uint8Array(16).fill(7);
  for (let sent = 0; sent < 1000; sent += 100) await Promise.all(Array.from({ length: 100 }, () => h.propose(command)));
  expect(first.count).toBe(1000);
  const before = h.driver.status();
  await h.stop();
  host = null;
  const segments = readdirSync(dir).filter((n) => n.endsWith('.seg'));
  expect(readdirSync(dir).filter((n) => n.endsWith('.snap')).length).toBe(1);

  const second = new CountMachine();
  host = await start(dir, second);
  const again = host;
  // Committed entries come back: the snapshot is restored and the entries after it re-applied.
  for (let i = 0; i < 200 && second.count < 1000; i++) await new Promise((r) => setTimeout(r, 10));
  expect(second.count).toBe(1000);
  expect(again.driver.status().term).toBeGreaterThanOrEqual(before.term);
  // 1,000 entries of ~60 bytes framed are ~8 segments of 8 KiB; compaction left the last few.
  expect(segments.length).toBeLessThanOrEqual(4);
  expect(segments.sort()[0]).not.toBe('wal-0000000000000001.seg');
}, 60_000);
