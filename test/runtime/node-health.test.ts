/**
 * What this proves about node health on real nodes (src/runtime/node-health.ts inside NodeHost),
 * three Raft nodes in Node over a memory hub, with a fast sampling interval: every node reaches
 * lifecycle `active` (a `lifecycle` event and `status().health`); after writes the leader reports
 * commit latency p50/p99 over as many samples as it answered, an apply rate and each follower's
 * replication lag; a follower partitioned while the leader writes makes the leader raise
 * `follower-silent` and `replication-lag` alerts about that follower (visible in status), and
 * healing clears both (`alert-cleared`); stopping a node emits `leaving` then `down`; bad rules
 * are refused with CONFIG before the node runs; a node that joins through `joinVia` is `joining`
 * (not in the configuration) from its start and ends `active` once promoted to voter; a storage
 * that fails under a write makes the node `down` (reason `failed`). Nothing here asserts on a duration.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import type { StorageWrite } from '../../src/io/storage/storage.ts';
import { memoryTransport } from '../../src/io/transport/factory.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { encodeKvCommand } from '../../src/machines/kv.ts';
import type { AlertRule } from '../../src/core/health/alert-rules.ts';
import { NodeError } from '../../src/runtime/errors.ts';
import type { HealthEvent } from '../../src/runtime/node-health.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';

const ids = ['a', 'b', 'c'];
let running: NodeHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((h) => h.stop().catch(() => undefined)));
  running = [];
});

const rules: AlertRule[] = [
  { name: 'follower-silent', metric: 'followerSilenceTicks', raiseAbove: 40, clearBelow: 10 },
  { name: 'replication-lag', metric: 'replicationLagEntries', raiseAbove: 20, clearBelow: 5 },
];

function options(id: string, n: number, health: WorkerStartOptions['health'] = { sampleIntervalMs: 20, rules }): WorkerStartOptions {
  return { cluster: 'health', id, voters: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 10, raft: { electionTimeoutTicks: 40 }, seed: n + 1, health };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function cluster(): Promise<{ hosts: NodeHost[]; events: Map<string, HealthEvent[]>; hub: MemoryHub }> {
  const hub = new MemoryHub();
  const events = new Map<string, HealthEvent[]>();
  for (const [n, id] of ids.entries()) {
    const storage = new BreakableStorage();
    failing.set(id, storage);
    const host = await NodeHost.start(options(id, n), { storage, transportFactory: memoryTransport(hub) });
    const seen: HealthEvent[] = [];
    events.set(id, seen);
    host.health.on((e) => seen.push(e));
    running.push(host);
  }
  return { hosts: running, events, hub };
}

/** Memory storage whose writes fail once `broken` (a disk gone: the node must stop). */
class BreakableStorage extends MemoryRaftStorage {
  broken = false;
  override write(w: StorageWrite): Promise<void> {
    return this.broken ? Promise.reject(new NodeError('STORAGE', 'the test broke the storage')) : super.write(w);
  }
}
const failing = new Map<string, BreakableStorage>();

const write = (i: number): Uint8Array => encodeKvCommand({ op: 'write', key: `k${i}`, value: `v${i}` });

describe('node health', () => {
  it('reports active, metrics, and raises then clears alerts for a partitioned follower', async () => {
    const { hosts, events } = await cluster();
    // The leader is looked up again before each look at it: a loaded machine may elect another.
    const leaderNow = (): NodeHost | undefined => hosts.find((h) => h.status().role === 'leader');
    let leader = await until('a leader', leaderNow);
    await until('every node active', () => hosts.every((h) => h.status().health?.lifecycle === 'active'));
    for (const h of hosts) expect(events.get(h.id)?.some((e) => e.type === 'lifecycle' && e.state === 'active')).toBe(true);

    for (let i = 0; i < 30; i++) await leader.propose(write(i));
    const m = await until('metrics sampled after the writes', () => {
      const metrics = leaderNow()?.status().health?.metrics;
      return metrics !== undefined && metrics.commitLatencySamples >= 1 && metrics.applyRatePerSec !== null && Object.keys(metrics.replicationLagEntries).length === 2 ? metrics : undefined;
    });
    leader = await until('a leader', leaderNow);
    expect(m.commitLatencyP50Ms).not.toBeNull();
    expect(m.commitLatencyP99Ms as number).toBeGreaterThanOrEqual(m.commitLatencyP50Ms as number);
    expect(Object.keys(m.replicationLagEntries).sort()).toEqual(ids.filter((id) => id !== leader.id));
    expect(m.leaderSilenceTicks).toBeNull();

    // Sampled, possibly while the last write was still waiting.
    expect(m.proposalQueueDepth).toBeGreaterThanOrEqual(0);
    const cut = ids.find((id) => id !== leader.id) as string;
    const follower = hosts.find((h) => h.id === cut) as NodeHost;
    follower.links.block(ids);
    for (const h of hosts) if (h !== follower) h.links.block([cut]);
    for (let i = 0; i < 40; i++) await leader.propose(write(100 + i));
    const raisedAbout = (rule: string): boolean => events.get(leader.id)?.some((e) => e.type === 'alert' && e.alert.rule === rule && e.alert.subject === cut) === true;
    await until('both alerts raised about the cut follower', () => raisedAbout('follower-silent') && raisedAbout('replication-lag'));
    expect(leader.status().health?.alerts.map((a) => `${a.rule} ${a.subject}`).sort()).toEqual([`follower-silent ${cut}`, `replication-lag ${cut}`]);

    for (const h of hosts) h.links.unblock();
    const clearedAbout = (rule: string): boolean => events.get(leader.id)?.some((e) => e.type === 'alert-cleared' && e.alert.rule === rule && e.alert.subject === cut) === true;
    await until('both alerts cleared after the heal', () => clearedAbout('follower-silent') && clearedAbout('replication-lag'));
    expect(leader.status().health?.alerts).toEqual([]);

    await follower.stop();
    const states = events.get(cut)?.flatMap((e) => (e.type === 'lifecycle' ? [e.state] : [])) ?? [];
    expect(states.slice(-2)).toEqual(['leaving', 'down']);
    expect(follower.health.status().lifecycle).toBe('down');
  });

  it('a node that joins is joining until promoted, then active', async () => {
    const { hosts, hub } = await cluster();
    await until('every node active', () => hosts.every((h) => h.status().health?.lifecycle === 'active'));
    const joiner = await NodeHost.start({ ...options('d', 3), voters: [], joinVia: ids }, { storage: new MemoryRaftStorage(), transportFactory: memoryTransport(hub) });
    running.push(joiner);
    expect(joiner.status().health).toMatchObject({ lifecycle: 'joining', reason: 'not-in-config' });
    const seen: HealthEvent[] = [];
    joiner.health.on((e) => seen.push(e));
    await until('the joiner active', () => joiner.status().health?.lifecycle === 'active');
    const transitions = seen.flatMap((e) => (e.type === 'lifecycle' ? [`${e.previous} -> ${e.state}`] : []));
    expect(transitions[0]).toMatch(/^joining -> /);
    expect(transitions[transitions.length - 1]).toMatch(/ -> active$/);
    expect(joiner.status().voters).toContain('d');
  });

  it('a storage failure makes the node down (failed), told by a lifecycle event', async () => {
    const { hosts, events } = await cluster();
    const leader = await until('a leader', () => hosts.find((h) => h.status().role === 'leader'));
    await until('every node active', () => hosts.every((h) => h.status().health?.lifecycle === 'active'));
    const storage = failing.get(leader.id) as { broken: boolean };
    storage.broken = true;
    await expect(leader.propose(write(1))).rejects.toBeInstanceOf(NodeError);
    // status() of a stopped driver answers STOPPED (as before health): the node's own health part still says why.
    await until('the leader down', () => leader.health.status().lifecycle === 'down');
    expect(leader.health.status().reason).toBe('failed');
    expect(events.get(leader.id)?.some((e) => e.type === 'lifecycle' && e.state === 'down' && e.reason === 'failed')).toBe(true);
  });

  it.each<[string, unknown]>([
    ['clearBelow above raiseAbove', { rules: [{ name: 'x', metric: 'applyLagEntries', raiseAbove: 1, clearBelow: 2 }] }],
    ['an unknown metric', { rules: [{ name: 'x', metric: 'cpu', raiseAbove: 1, clearBelow: 0 }] }],
    ['a sampling interval below the floor', { sampleIntervalMs: 1 }],
  ])('refuses %s with CONFIG', async (_what, health) => {
    const hub = new MemoryHub();
    const start = NodeHost.start(options('a', 0, health as WorkerStartOptions['health']), { storage: new MemoryRaftStorage(), transportFactory: memoryTransport(hub) });
    await expect(start).rejects.toBeInstanceOf(NodeError);
    await expect(start).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
