/**
 * What this proves: a node started the way pages start it (NodeHost, with the runtime's Raft
 * defaults) compacts its log by itself. The audit found that the runtime never compacted by
 * default (`snapshotEveryEntries` 0), so the log grew in memory and in storage for as long as
 * the cluster lived. Here one voter applies 500 commands more than the snapshot interval
 * (100,000) and then holds a snapshot at the interval or beyond, keeps no more than the trailing
 * entries (10,000) plus what came after in its log, and its stored state is the same: a snapshot
 * and a short log.
 */
import { afterEach, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';
import { NodeHost, runtimeRaftDefaults, type MachineAdapter } from '../../src/runtime/node-host.ts';

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

let host: NodeHost | null = null;
afterEach(async () => {
  await host?.stop().catch(() => undefined);
  host = null;
});

it('compacts by default: a snapshot every 100,000 applied entries, 10,000 kept behind it', async () => {
  const { snapshotEveryEntries: every, snapshotTrailingEntries: trailing } = runtimeRaftDefaults;
  expect({ every, trailing }).toEqual({ every: 100_000, trailing: 10_000 });
  const machine = new CountMachine();
  const adapter: MachineAdapter = { machine, createScratch: () => new CountMachine(), query: (m) => (m as CountMachine).count };
  const storage = new MemoryRaftStorage();
  host = await NodeHost.start(
    { cluster: 'compaction', id: 'a', voters: ['a'], transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, seed: 1 },
    { transport: new MemoryHub().connect('a'), storage, machine: adapter },
  );
  const h = host;
  const command = new Uint8Array(8);
  for (let sent = 0; sent < every + 500; sent += 500) {
    await Promise.all(Array.from({ length: 500 }, () => h.propose(command)));
  }
  expect(machine.count).toBe(every + 500);
  const durable = storage.durable();
  expect(durable.snapshot?.meta.index ?? 0).toBeGreaterThanOrEqual(every);
  // The log keeps the trailing entries behind the snapshot and what came after it, no more.
  const snapshotIndex = durable.snapshot?.meta.index ?? 0;
  expect(durable.entries[0]?.index).toBe(snapshotIndex - trailing + 1);
  expect(durable.entries.at(-1)?.index).toBe(h.driver.status().lastIndex);
}, 180_000);
