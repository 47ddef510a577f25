/**
 * The BFT host (src/runtime/bft-host.ts) runs real PBFT replicas and a client on virtual time
 * with node:crypto Ed25519 signatures (bft-crypto-node.ts) and the key-value machine: writes and
 * an unordered read complete, every replica holds the same state, a command that makes the
 * machine throw is `rejected` on every replica alike, a replica restarted from what its writes
 * made durable catches up, and the canonical encoding does not depend on field order.
 */
import { describe, expect, it } from 'vitest';
import type { BftMessage } from '../../src/core/bft/messages.ts';
import type { ClientEvent } from '../../src/core/bft/client-types.ts';
import { canonicalBytes } from '../../src/io/crypto/bft-canonical.ts';
import { NodeBftKeyring } from '../../src/io/crypto/bft-crypto-node.ts';
import { BftClientHost } from '../../src/runtime/bft-client-host.ts';
import { BftDurable } from '../../src/runtime/bft-durable.ts';
import { BftHost } from '../../src/runtime/bft-host.ts';
import { decodeKvResult, encodeKvCommand, type KvCommand } from '../../src/machines/kv.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';
import { SimClock } from '../../src/sim/sim-clock.ts';
import { KvBftMachine } from '../../src/sim/bft/kv-bft-machine.ts';

const ids = ['r0', 'r1', 'r2', 'r3'];

function cluster() {
  const scheduler = new Scheduler();
  const keyring = new NodeBftKeyring(7);
  const disks = new Map(ids.map((id) => [id, new BftDurable()]));
  const hosts = new Map<string, BftHost>();
  const machines = new Map<string, KvBftMachine>();
  const events: ClientEvent[] = [];
  const deliver = (m: BftMessage): void => {
    scheduler.after(1000, () => {
      if (m.type === 'reply') client.receive(m);
      else hosts.get(m.to)?.receive(m);
    });
  };
  const boot = (id: string): BftHost => {
    const machine = new KvBftMachine();
    machines.set(id, machine);
    const disk = disks.get(id) as BftDurable;
    const host = new BftHost({
      config: { id, replicas: ids, requestTimeoutTicks: 100, viewChangeTimeoutTicks: 100 },
      durable: disk,
      machine,
      writes: { write: (w, done) => scheduler.after(500, () => (disk.apply(w), done())) },
      crypto: keyring.for(id),
      send: deliver,
      clock: new SimClock(scheduler, 1),
      tickMs: 10,
      fetchState: (seq, _digest, done) => scheduler.after(2000, () => done([...hosts.values()].map((h) => h.stateAt(seq)).find((s) => s !== null) ?? null)),
      fail: (e) => {
        throw e;
      },
    });
    hosts.set(id, host);
    host.start();
    return host;
  };
  for (const id of ids) boot(id);
  const client = new BftClientHost({
    config: { id: 'c1', replicas: ids },
    lastTimestamp: 0,
    writeTimestamp: (_t, done) => done(),
    crypto: keyring.for('c1'),
    send: deliver,
    onEvent: (e) => events.push(e),
    clock: new SimClock(scheduler, 1),
    tickMs: 10,
    fail: (e) => {
      throw e;
    },
  });
  client.start();
  const submit = (c: KvCommand, readOnly = false): number | null => client.submit(encodeKvCommand(c), readOnly);
  const completed = () => events.filter((e): e is Extract<ClientEvent, { kind: 'completed' }> => e.kind === 'completed');
  return { scheduler, hosts, machines, submit, completed, boot };
}

describe('BftHost', () => {
  it('completes writes, a read and a poisoned command alike on every replica', () => {
    const c = cluster();
    for (let i = 0; i < 5; i++) c.submit({ op: 'write', key: `k${i}`, value: `v${i}` });
    c.submit({ op: 'write', key: 'poison', value: 'x' });
    c.submit({ op: 'read', key: 'k3' }, true);
    c.scheduler.runUntil(5_000_000);
    const done = c.completed();
    expect(done).toHaveLength(7);
    expect(done[5]?.outcome).toBe('rejected');
    const read = decodeKvResult(done[6]?.result as Uint8Array);
    expect(read.ok && read.value).toEqual({ op: 'read', value: 'v3' });
    const snapshots = [...c.machines.values()].map((m) => Buffer.from(m.snapshot()).toString('hex'));
    expect(new Set(snapshots).size).toBe(1);
    expect(c.machines.get('r0')?.read('k4')).toBe('v4');
  });

  it('a replica restarted from its durable writes catches up with the others (state transfer past a stable checkpoint)', () => {
    const c = cluster();
    for (let i = 0; i < 20; i++) c.submit({ op: 'write', key: `a${i}`, value: `${i}` });
    c.scheduler.runUntil(3_000_000);
    c.hosts.get('r2')?.stop();
    for (let i = 0; i < 20; i++) c.submit({ op: 'write', key: `b${i}`, value: `${i}` });
    c.scheduler.runUntil(6_000_000);
    c.boot('r2');
    for (let i = 0; i < 20; i++) c.submit({ op: 'write', key: `c${i}`, value: `${i}` });
    c.scheduler.runUntil(20_000_000);
    expect(c.completed()).toHaveLength(60);
    expect(c.machines.get('r2')?.read('c19')).toBe('19');
    expect(c.hosts.get('r2')?.status().lastExecutedSeq).toBe(c.hosts.get('r0')?.status().lastExecutedSeq);
    expect(c.hosts.get('r2')?.metrics.stateTransfers).toBe(1);
  });

  it('canonical bytes do not depend on the order fields were built in', () => {
    expect(canonicalBytes({ a: 1, b: [true, null, 'x', new Uint8Array([1, 2])] })).toEqual(canonicalBytes({ b: [true, null, 'x', new Uint8Array([1, 2])], a: 1 }));
    expect(canonicalBytes({ a: 1 })).not.toEqual(canonicalBytes({ a: '1' }));
    expect(canonicalBytes(-5)).not.toEqual(canonicalBytes(5));
  });
});
