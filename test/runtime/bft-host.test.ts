/**
 * The BFT host (src/runtime/bft-host.ts) runs real PBFT replicas and a client on virtual time
 * with node:crypto Ed25519 signatures (bft-crypto-node.ts) and the key-value machine: writes and
 * an unordered read complete, every replica holds the same state, a command that makes the
 * machine throw is `rejected` on every replica alike, a replica restarted from what its writes
 * made durable catches up, and the canonical encoding does not depend on field order.
 *
 * ALL four restarted from their disks: first when the client's last request is at a stable
 * checkpoint (the state and the reply cache come back from the checkpointed execution state),
 * then when three more writes committed above it (each replica re-executes them from its own
 * committed log, ready.ts `CommittedBatch`): every write is there on every replica, the
 * client's retransmission of its last request is answered by every replica with the reply it got,
 * and new writes complete.
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
  /** Every message sent, in order (the tests read requests and replies from it). */
  const sent: BftMessage[] = [];
  const deliver = (m: BftMessage): void => {
    sent.push(m);
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
  return { scheduler, hosts, machines, submit, completed, boot, sent, deliver };
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

  it('all four restart: writes at and above the stable checkpoint are there, a retransmitted last request gets its reply, new writes complete', () => {
    const c = cluster();
    const restartAll = (): void => {
      for (const id of ids) c.hosts.get(id)?.stop();
      for (const id of ids) c.boot(id);
    };
    /** The client's last request sent again to every replica: the replies it draws. */
    const retransmitLast = (): BftMessage[] => {
      const last = c.sent.filter((m) => m.type === 'request' && m.from === 'c1').at(-1);
      if (last?.type !== 'request') throw new Error('no request sent');
      const mark = c.sent.length;
      for (const id of ids) c.deliver({ ...last, to: id });
      c.scheduler.runUntil(c.scheduler.nowUs + 500_000);
      return c.sent.slice(mark).filter((m) => m.type === 'reply' && m.to === 'c1' && m.timestamp === last.request.timestamp);
    };
    const replyTo = (timestamp: number): string => {
      const r = c.sent.find((m) => m.type === 'reply' && m.timestamp === timestamp);
      return r?.type === 'reply' ? Buffer.from(r.result).toString('hex') : 'none';
    };
    // 16 writes, one batch each (one request outstanding per client): seq 16 is a checkpoint.
    for (let i = 0; i < 16; i++) c.submit({ op: 'write', key: `a${i}`, value: `${i}` });
    c.scheduler.runUntil(3_000_000);
    expect(c.completed()).toHaveLength(16);
    for (const id of ids) expect(c.hosts.get(id)?.status().stableSeq).toBe(16);
    restartAll();
    c.scheduler.runUntil(c.scheduler.nowUs + 200_000);
    for (const id of ids) expect(c.machines.get(id)?.read('a15')).toBe('15');
    const atCheckpoint = retransmitLast();
    expect(new Set(atCheckpoint.map((m) => m.from))).toEqual(new Set(ids));
    for (const m of atCheckpoint) if (m.type === 'reply') expect(Buffer.from(m.result).toString('hex')).toBe(replyTo(m.timestamp));

    for (let i = 0; i < 3; i++) c.submit({ op: 'write', key: `b${i}`, value: `${i}` });
    c.scheduler.runUntil(c.scheduler.nowUs + 3_000_000);
    expect(c.completed()).toHaveLength(19);
    restartAll();
    c.scheduler.runUntil(c.scheduler.nowUs + 200_000);
    for (const id of ids) {
      expect(c.hosts.get(id)?.status().lastExecutedSeq).toBe(19);
      expect(c.hosts.get(id)?.status().counters.batchesReplayed).toBe(3);
      for (let i = 0; i < 16; i++) expect(c.machines.get(id)?.read(`a${i}`)).toBe(`${i}`);
      for (let i = 0; i < 3; i++) expect(c.machines.get(id)?.read(`b${i}`)).toBe(`${i}`);
    }
    const above = retransmitLast();
    expect(new Set(above.map((m) => m.from))).toEqual(new Set(ids));
    for (const m of above) if (m.type === 'reply') expect(Buffer.from(m.result).toString('hex')).toBe(replyTo(m.timestamp));

    c.submit({ op: 'write', key: 'after', value: 'x' });
    c.scheduler.runUntil(c.scheduler.nowUs + 5_000_000);
    expect(c.completed()).toHaveLength(20);
    const snapshots = [...c.machines.values()].map((m) => Buffer.from(m.snapshot()).toString('hex'));
    expect(new Set(snapshots).size).toBe(1);
    expect(c.machines.get('r3')?.read('after')).toBe('x');
  });

  it('canonical bytes do not depend on the order fields were built in', () => {
    expect(canonicalBytes({ a: 1, b: [true, null, 'x', new Uint8Array([1, 2])] })).toEqual(canonicalBytes({ b: [true, null, 'x', new Uint8Array([1, 2])], a: 1 }));
    expect(canonicalBytes({ a: 1 })).not.toEqual(canonicalBytes({ a: '1' }));
    expect(canonicalBytes(-5)).not.toEqual(canonicalBytes(5));
  });
});
