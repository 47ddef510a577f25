/**
 * The worker's comlink API (src/runtime/worker-api.ts over node-host.ts), in Node, without a
 * worker: three nodes with the key-value machine on the in-memory transport and storage. It
 * proves that every call answers tagged data (`{ ok, value }` or `{ ok: false, error: { code,
 * message } }`, never a throw, DESIGN.md §3), that events flow out on the MessagePort, that
 * proposals and reads of the KV machine work through it, that a leader's hand-over goes to an
 * up-to-date follower, and that the test hooks (block, inject a raw frame, metrics, digest) do
 * what the end-to-end tests rely on. Raft settings whose messages would not fit the codec's
 * frames are refused at startup with CONFIG. Proposals made together (`proposeMany`) answer in
 * order, and a node started with no voters joins the others as a learner and is promoted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { decodeKvResult, encodeKvCommand } from '../../src/machines/kv.ts';
import { createWorkerApi } from '../../src/runtime/worker-api.ts';
import type { Result } from '../../src/core/result.ts';
import type { NodeEvent, NodeStatus, WorkerApi } from '../../src/runtime/worker-protocol.ts';

const ids = ['a', 'b', 'c'];

interface Member {
  readonly api: WorkerApi;
  readonly events: NodeEvent[];
  readonly port: MessagePort;
}

let open: Member[] = [];

afterEach(async () => {
  for (const m of open) {
    await m.api.stop();
    m.port.close();
  }
  open = [];
});

function value<T>(o: Result<T>): T {
  if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`);
  return o.value;
}

async function startCluster(): Promise<{ hub: MemoryHub; members: Member[] }> {
  const hub = new MemoryHub();
  const members: Member[] = [];
  for (const [n, id] of ids.entries()) {
    const api = createWorkerApi({ transport: hub.connect(id), storage: new MemoryRaftStorage() });
    const channel = new MessageChannel();
    const events: NodeEvent[] = [];
    channel.port2.onmessage = (e: MessageEvent<NodeEvent>) => events.push(e.data);
    const status = value(
      await api.start({ cluster: 'test', id, voters: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, seed: n + 1 }, channel.port1),
    );
    expect(status.boot).toEqual({ term: 0, vote: null, commit: 0, lastIndex: 0, snapshotIndex: 0 });
    const m = { api, events, port: channel.port2 };
    members.push(m);
    open.push(m);
  }
  return { hub, members };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function leaderOf(members: readonly Member[]): Member | undefined {
  return members.find((m) => {
    const s = m.api.status();
    return s.ok && s.value.role === 'leader';
  });
}

const write = (key: string, v: string): Uint8Array => encodeKvCommand({ op: 'write', key, value: v });

describe('worker API', () => {
  it('answers tagged errors, never throws', async () => {
    const api = createWorkerApi();
    expect(api.status()).toEqual({ ok: false, error: { code: 'STOPPED', message: 'the node is not running' } });
    expect(await api.propose(new Uint8Array([1]))).toMatchObject({ ok: false, error: { code: 'STOPPED' } });
    const channel = new MessageChannel();
    const bad = await api.start({ cluster: '', id: 'a', voters: ['a'], transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' } }, channel.port1);
    expect(bad).toMatchObject({ ok: false, error: { code: 'CONFIG' } });
    // Raft settings whose appends would not fit the codec's frames are refused at startup.
    const tooBig = await api.start(
      { cluster: 'c', id: 'a', voters: ['a'], transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, raft: { maxEntriesPerAppend: 100_000, maxBytesPerAppend: 64 * 1024 * 1024 } },
      channel.port1,
    );
    expect(tooBig).toMatchObject({ ok: false, error: { code: 'CONFIG', message: expect.stringMatching(/maxEntriesPerAppend 100000 > entriesPerFrameMax 4096; maxBytesPerAppend/) } });
    channel.port2.close();

    const { members } = await startCluster();
    const a = members[0] as Member;
    const again = await a.api.start({ cluster: 'test', id: 'a', voters: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' } }, new MessageChannel().port1);
    expect(again).toMatchObject({ ok: false, error: { code: 'CONFIG' } });
    expect(await a.api.read('local', 42)).toMatchObject({ ok: false, error: { code: 'CONFIG' } });
    expect(a.api.attachChannel('b', {} as RTCDataChannel)).toMatchObject({ ok: false, error: { code: 'CONFIG' } });
  });

  it('replicates KV writes, serves reads, and reports events and equal digests', async () => {
    const { members } = await startCluster();
    await until('a leader', () => leaderOf(members));
    const results = await Promise.all(members.flatMap((m, i) => [0, 1, 2, 3].map((j) => m.api.propose(write(`k${i}-${j}`, `v${i}-${j}`)))));
    for (const r of results) expect(decodeKvResult(value(r))).toEqual({ ok: true, value: { op: 'write' } });
    for (const m of members) expect(value(await m.api.read('linearizable', 'k2-3'))).toBe('v2-3');
    const digests = await until('equal digests', async () => {
      const ds = await Promise.all(members.map(async (m) => value(await m.api.digest())));
      return ds.every((d) => d.applied === ds[0]?.applied && d.digest === ds[0]?.digest) ? ds : undefined;
    });
    expect(digests[0]?.applied).toBeGreaterThanOrEqual(12);
    for (const m of members) {
      expect(m.events.some((e) => e.type === 'leader' && e.leader !== null)).toBe(true);
      expect(m.events.some((e) => e.type === 'commit')).toBe(true);
    }
  });

  it('hands leadership to an up-to-date follower, and only from a leader', async () => {
    const { members } = await startCluster();
    const leader = await until('a leader', () => leaderOf(members));
    value(await leader.api.propose(write('x', '1')));
    const follower = members.find((m) => m !== leader) as Member;
    follower.api.handOver();
    expect(value(follower.api.metrics()).transfersStarted).toBe(0);

    const oldId = value(leader.api.status()).id;
    leader.api.handOver();
    expect(value(leader.api.metrics()).transfersStarted).toBe(1);
    const next = await until('a new leader', () => {
      const l = leaderOf(members);
      return l !== undefined && l !== leader ? l : undefined;
    });
    const s: NodeStatus = value(next.api.status());
    expect(s.id).not.toBe(oldId);
    // And back, naming the transferee.
    expect(value(next.api.transferLeadership(oldId))).toBe(oldId);
    await until('the old leader back', () => (leaderOf(members) === leader ? true : undefined));
  });

  it('drops frames of blocked links and counts malformed frames, and keeps working', async () => {
    const { members } = await startCluster();
    const leader = await until('a leader', () => leaderOf(members));
    const leaderId = value(leader.api.status()).id;
    const others = members.filter((m) => m !== leader);
    const otherIds = others.map((m) => value(m.api.status()).id);

    leader.api.block(otherIds);
    for (const m of others) m.api.block([leaderId]);
    const next = await until('a leader of the majority', () => leaderOf(others));
    value(await next.api.propose(write('majority', 'yes')));
    expect(value(leader.api.metrics()).blockedFramesDropped).toBeGreaterThan(0);
    for (const m of members) m.api.unblock();
    await until('one leader again', () => (members.filter((m) => value(m.api.status()).role === 'leader').length === 1 ? true : undefined));
    expect(value(await leader.api.read('linearizable', 'majority'))).toBe('yes');

    const target = others[0] as Member;
    const targetId = otherIds[0] as string;
    const before = value(target.api.metrics());
    value(leader.api.injectFrame(targetId, new Uint8Array([0xc1])));
    const after = await until('the frame dropped', () => {
      const m = value(target.api.metrics());
      return m.router.framesDropped > before.router.framesDropped ? m : undefined;
    });
    expect((after.router.dropped['BAD_VERSION'] ?? 0) - (before.router.dropped['BAD_VERSION'] ?? 0)).toBe(1);
    // Counted, not posted to the page one event per frame.
    expect(target.events.some((e) => e.type === 'error')).toBe(false);
    value(await target.api.propose(write('after', 'ok')));
    expect(value(await target.api.read('linearizable', 'after'))).toBe('ok');
  });

  it('answers each of several commands proposed together, in order', async () => {
    const { members } = await startCluster();
    await until('a leader', () => leaderOf(members));
    const follower = members.find((m) => m !== leaderOf(members)) as Member;
    const outcomes = await follower.api.proposeMany([write('m1', 'a'), encodeKvCommand({ op: 'cas', key: 'm1', expected: 'a', value: 'b' }), write('m2', 'c')]);
    expect(outcomes.map((o) => decodeKvResult(value(o)))).toEqual([
      { ok: true, value: { op: 'write' } },
      { ok: true, value: { op: 'cas', ok: true, observed: 'a' } },
      { ok: true, value: { op: 'write' } },
    ]);
    expect(await createWorkerApi().proposeMany([write('x', 'y')])).toMatchObject([{ ok: false, error: { code: 'STOPPED' } }]);
  });

  it('a node started with no voters joins through a member as a learner and is promoted', async () => {
    const { hub, members } = await startCluster();
    const leader = await until('a leader', () => leaderOf(members));
    value(await leader.api.propose(write('before', 'yes')));
    const api = createWorkerApi({ transport: hub.connect('d'), storage: new MemoryRaftStorage() });
    const channel = new MessageChannel();
    const joiner: Member = { api, events: [], port: channel.port2 };
    open.push(joiner);
    const status = value(
      await api.start({ cluster: 'test', id: 'd', voters: [], joinVia: ids, transport: { kind: 'broadcast' }, storage: 'memory', machine: { kind: 'kv' }, tickMs: 5, seed: 9 }, channel.port1),
    );
    expect(status.voters).toEqual([]);
    await until('d is a voter on the leader', () => {
      const s = leaderOf(members)?.api.status();
      return s?.ok === true && s.value.voters.includes('d') ? true : undefined;
    });
    await until('d knows it is a voter', () => {
      const s = api.status();
      return s.ok && s.value.voters.includes('d') ? true : undefined;
    });
    expect(value(await api.read('linearizable', 'before'))).toBe('yes');
    value(await api.propose(write('from-d', 'ok')));
    expect(value(await leader.api.read('linearizable', 'from-d'))).toBe('ok');
  });
});
