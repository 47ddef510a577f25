/**
 * The core benchmark: a 3-node cluster in one process, no I/O, a zero-latency network, batching
 * on. Clients keep `concurrency` proposals outstanding at the leader; each round the leader
 * takes new proposals, then every node handles one Ready (persist to memory, send, apply) and
 * the network delivers everything. Throughput counts commands applied by the leader's state
 * machine; latency is from `propose` to that apply.
 *
 * Snapshots are on: every node snapshots its state machine every `--snapshot-every` applied
 * entries (default 10,000) and compacts its in-memory log, so `peakLogEntries`, the most entries
 * any node held in memory at once, must stay near the threshold, not grow with the run.
 *
 * Proposals go in through `step`: by default each round's new ones in one
 * `{ local: 'propose-batch' }` (what a host holding a batch from its page sends: the core then
 * allocates per batch, not per command, beyond the entries); `--proposals single` sends one
 * `{ local: 'propose' }` per command, as the runtime's driver does today.
 *
 * Memory (bench/heap-meter.ts), over the measured loop: `heapAllocatedBytesPerCommand`, the bytes
 * the V8 heap allocated divided by the commands (rebuilt from GC records: what each collection
 * freed plus the growth; everything counts: the three nodes, their messages, the entries, and
 * this benchmark's bookkeeping and in-memory "storage"), and `heapUsedBytesMax`, the most the
 * heap held at once (the process's heap: the three nodes run in it).
 *
 * Options: --commands N (default 1,000,000), --concurrency N (default 4096), --seed N,
 * --snapshot-every N (default 10,000), --proposals batch|single (default batch).
 */
import { createPrng } from '../src/core/prng.ts';
import { RaftNode } from '../src/core/raft/raft-node.ts';
import type { Message } from '../src/core/raft/messages.ts';
import type { Entry } from '../src/core/raft/types.ts';
import { thinSorted, type BenchSamples, type ThroughputPoint } from './bench-samples.ts';
import { startHeapSpan } from './heap-meter.ts';

/** The throughput timeline's interval, and how many latencies the chart keeps. */
const timelineIntervalMs = 20;
const chartLatenciesMax = 2000;

interface CoreBenchOptions {
  commands: number;
  concurrency: number;
  seed: number;
  snapshotEvery: number;
  proposals: 'batch' | 'single';
}

function parseOptions(args: readonly string[]): CoreBenchOptions {
  const o: CoreBenchOptions = { commands: 1_000_000, concurrency: 4096, seed: 1, snapshotEvery: 10_000, proposals: 'batch' };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    if (flag === '--proposals') {
      const mode = args[i + 1];
      if (mode !== 'batch' && mode !== 'single') throw new Error('--proposals takes batch or single');
      o.proposals = mode;
      continue;
    }
    const value = Number(args[i + 1]);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--commands') o.commands = value;
    else if (flag === '--concurrency') o.concurrency = value;
    else if (flag === '--seed') o.seed = value;
    else if (flag === '--snapshot-every') o.snapshotEvery = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

/** The applied state: a counter per node, so that applying does real (if small) work. */
class CounterMachine {
  sum = 0;
  count = 0;
  apply(e: Entry): void {
    if (e.kind !== 'normal') return;
    this.sum += e.data[0] ?? 0;
    this.count++;
  }
  snapshot(): Uint8Array {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.sum);
    view.setFloat64(8, this.count);
    return bytes;
  }
}

/**
 * Memory "storage": what a durable log would hold, kept as the Readies' own arrays, one per
 * write, as a log store writes a Ready's entries in one go (copying them entry by entry cost this
 * benchmark more than the core's appends). A write that starts at or below the last stored index
 * replaces the stored suffix from there (a follower's log overwritten by a new leader).
 */
class BatchLog {
  private batches: (readonly Entry[])[] = [];

  write(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    while (this.batches.length > 0) {
      const last = this.batches[this.batches.length - 1] as readonly Entry[];
      const lastFirst = (last[0] as Entry).index;
      if (first.index > (last[last.length - 1] as Entry).index) break;
      this.batches.pop();
      if (first.index > lastFirst) this.batches.push(last.slice(0, first.index - lastFirst));
    }
    this.batches.push(entries);
  }

  /** Drop the writes wholly at or below `index` (a write that straddles it stays whole). */
  compact(index: number): void {
    let n = 0;
    while (n < this.batches.length && ((this.batches[n] as readonly Entry[]).at(-1) as Entry).index <= index) n++;
    if (n > 0) this.batches = this.batches.slice(n);
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export function runCoreBench(args: readonly string[]): BenchSamples {
  const o = parseOptions(args);
  const ids = ['n1', 'n2', 'n3'];
  const prng = createPrng(o.seed);
  const nodes = new Map<string, RaftNode>();
  const machines = new Map<string, CounterMachine>();
  // Memory "storage": the bench keeps what a durable log would hold, without copying.
  const stored = new Map<string, BatchLog>();
  for (const id of ids) {
    nodes.set(
      id,
      new RaftNode({ id, voters: ids, prng, maxUncommittedEntries: 1 << 20, maxInflightAppends: 256, snapshotEveryEntries: o.snapshotEvery }),
    );
    machines.set(id, new CounterMachine());
    stored.set(id, new BatchLog());
  }
  let inbox: Message[] = [];
  const proposedAt = new Float64Array(o.commands + 16);
  const latencies = new Float64Array(o.commands);
  let latencyCount = 0;
  let leaderId = '';
  let peakLogEntries = 0;

  const processReady = (id: string, node: RaftNode): void => {
    if (!node.hasReady()) return;
    const rd = node.ready();
    const log = stored.get(id) as BatchLog;
    log.write(rd.entries);
    // Indexed loops: a for-of here was not always optimized and then allocated an iterator
    // result per entry, which this benchmark counted as the core's (about 120 bytes a command).
    for (let i = 0; i < rd.messages.length; i++) inbox.push(rd.messages[i] as Message);
    const machine = machines.get(id) as CounterMachine;
    const now = id === leaderId ? performance.now() : 0;
    const committed = rd.committedEntries;
    for (let i = 0; i < committed.length; i++) {
      const e = committed[i] as Entry;
      machine.apply(e);
      if (id === leaderId && e.kind === 'normal') {
        latencies[latencyCount++] = (now - (proposedAt[e.index] as number)) * 1000;
      }
    }
    node.advance();
    const size = node.logSize();
    if (size > peakLogEntries) peakLogEntries = size;
    if (node.shouldSnapshot()) {
      // Snapshot the state machine, then storage drops what the snapshot covers.
      const { compactTo } = node.compact(node.status().applied, machine.snapshot());
      log.compact(compactTo);
    }
  };
  const round = (): void => {
    for (const [id, node] of nodes) processReady(id, node);
    const msgs = inbox;
    inbox = [];
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i] as Message;
      (nodes.get(m.to) as RaftNode).step(m);
    }
  };

  // Elect a leader.
  for (let t = 0; t < 100 && leaderId === ''; t++) {
    for (const node of nodes.values()) node.tick();
    for (let i = 0; i < 4; i++) round();
    for (const [id, node] of nodes) if (node.status().role === 'leader') leaderId = id;
  }
  if (leaderId === '') throw new Error('no leader elected');
  const leader = nodes.get(leaderId) as RaftNode;
  const leaderMachine = machines.get(leaderId) as CounterMachine;

  const payload = new Uint8Array(16);
  let proposed = 0;
  const timeline: ThroughputPoint[] = [];
  const stopHeap = startHeapSpan();
  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  let markMs = start;
  let markCount = 0;
  while (leaderMachine.count < o.commands) {
    const outstanding = proposed - leaderMachine.count;
    const now = performance.now();
    if (now - markMs >= timelineIntervalMs) {
      timeline.push({ series: 'peerquorum core', tSec: (now - start) / 1000, perSec: ((leaderMachine.count - markCount) * 1000) / (now - markMs) });
      markMs = now;
      markCount = leaderMachine.count;
    }
    const n = Math.min(o.concurrency - outstanding, o.commands - proposed);
    if (n > 0 && o.proposals === 'batch') {
      const batch: Uint8Array[] = new Array<Uint8Array>(n).fill(payload);
      const res = leader.step({ local: 'propose-batch', data: batch });
      if (!res.ok || res.value.kind !== 'appended-batch' || res.value.count !== n) throw new Error('leader refused a proposal');
      proposedAt.fill(now, res.value.firstIndex, res.value.firstIndex + n);
      proposed += n;
    }
    for (let i = 0; i < n && o.proposals === 'single'; i++) {
      const res = leader.step({ local: 'propose', data: payload });
      if (!res.ok || res.value.kind !== 'appended') throw new Error('leader refused a proposal');
      proposedAt[res.value.index] = now;
      proposed++;
    }
    round();
  }
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuAtStart);
  const heap = stopHeap();
  for (let i = 0; i < 5; i++) round();
  const counts = ids.map((id) => (machines.get(id) as CounterMachine).count);
  if (counts.some((c) => c !== o.commands)) throw new Error(`replicas disagree: ${counts.join(', ')}`);

  const sorted = latencies.subarray(0, latencyCount).sort();
  const result = {
    bench: 'core',
    nodes: ids.length,
    proposals: o.proposals,
    commandsPerSec: Math.round(o.commands / (elapsedMs / 1000)),
    // Per second of this process's CPU (user + system, every thread: GC helpers too). On a
    // machine others load, wall time counts the time we waited for a core; this does not.
    commandsPerCpuSec: Math.round(o.commands / ((cpu.user + cpu.system) / 1e6)),
    p50Us: Math.round(percentile(sorted, 0.5)),
    p99Us: Math.round(percentile(sorted, 0.99)),
    peakLogEntries,
    heapAllocatedBytesPerCommand: Math.round(heap.allocatedBytes / o.commands),
    heapUsedBytesMax: heap.peakUsedBytes,
    // What the process held before the loop (its modules: run.ts loads every benchmark's), so
    // that the peak reads against it.
    heapUsedBytesAtStart: heap.usedAtStartBytes,
    gcMs: Math.round(heap.gcMs),
  };
  console.log(
    `core: ${o.commands} commands, concurrency ${o.concurrency}, snapshot every ${o.snapshotEvery}, ` +
      `${elapsedMs.toFixed(0)} ms, every replica applied all; heap: ${(heap.allocatedBytes / 2 ** 20).toFixed(0)} MiB allocated, ` +
      `${(heap.peakUsedBytes / 2 ** 20).toFixed(1)} MiB at most in use, ${heap.gcCount} collections taking ${heap.gcMs.toFixed(0)} ms`,
  );
  console.log(JSON.stringify(result));
  const latencyUs = thinSorted(sorted, chartLatenciesMax);
  return {
    title: `core: 3 nodes in one process, ${o.commands} commands, ${o.concurrency} in flight`,
    throughput: timeline,
    throughputUnit: 'commands/s',
    latency: latencyUs.map((us) => ({ series: 'peerquorum core', ms: us / 1000 })),
    latencyLabel: 'propose to applied on the leader',
  };
}
