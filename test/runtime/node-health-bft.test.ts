/**
 * What this proves about node health on BFT nodes (src/runtime/node-health.ts over the BFT
 * part), four replicas on a memory hub with a secret, as bft-node.test.ts runs them: each
 * reports lifecycle `active` once started, a proposing replica reports commit latency over its
 * proposals and an apply rate from the sequence numbers it executed, Raft-only metrics stay null
 * (no leader, no followers), and a stopped replica is `down`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKvCommand } from '../../src/machines/kv.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { NodeHost } from '../../src/runtime/node-host.ts';
import type { WorkerStartOptions } from '../../src/runtime/worker-protocol.ts';
import { until } from './gossip-test-cluster.ts';

const ids = ['b0', 'b1', 'b2', 'b3'];
const secret = 'the bft health test secret, 32 b';
let hosts: NodeHost[] = [];

function options(id: string): WorkerStartOptions {
  return { cluster: 'bft-health', id, voters: [], protocols: ['bft'], gossipSeeds: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, secret, health: { sampleIntervalMs: 20 } };
}

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  hosts = [];
});

describe('node health with BFT', () => {
  it('replicas are active, a proposer measures its commits, a stopped replica is down', async () => {
    const hub = new MemoryHub();
    hosts = await Promise.all(ids.map((id) => NodeHost.start(options(id), { transport: hub.connect(id) })));
    const proposer = hosts[1] as NodeHost;
    for (let i = 0; i < 10; i++) await proposer.propose(encodeKvCommand({ op: 'write', key: `k${i}`, value: 'v' }));
    await until('every replica active', () => hosts.every((h) => h.status().health?.lifecycle === 'active'));
    await until('the proposer measured its commits and an apply rate', () => {
      const m = proposer.status().health?.metrics;
      return m !== undefined && m.commitLatencySamples === 10 && m.applyRatePerSec !== null;
    });
    const m = proposer.status().health?.metrics;
    expect(m?.commitLatencyP99Ms).not.toBeNull();
    expect(m?.leaderSilenceTicks).toBeNull();
    expect(m?.replicationLagEntries).toEqual({});

    const stopped = hosts[3] as NodeHost;
    await stopped.stop();
    expect(stopped.health.status()).toMatchObject({ lifecycle: 'down', reason: 'stopped' });
  });
});
