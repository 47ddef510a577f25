/**
 * A snapshot from the leader that this node's state machine cannot restore is refused BEFORE
 * any of its Ready is written (audit: "a junk snapshot is persisted before it is restored, so
 * the node stops and can never boot again").
 *
 * How: a cluster of three NodeHosts (the node-host wiring, so the scratch factory comes from the
 * machine adapter as in production) on the memory transport and storage, with a machine that
 * refuses to restore a snapshot holding the marker `poison`. A follower is cut off; the leader
 * applies `poison` and compacts its log past the follower; the follower is let back and is
 * sent the leader's snapshot. It proves that (a) the follower stops with SNAPSHOT_REJECTED, the
 * message naming the machine's error, and (b) its durable state is the one it had before (no
 * snapshot stored), so a new node on that storage boots and holds its old state. And, at the
 * level of the Ready host, that without a machine factory the session envelope is still checked,
 * that a good snapshot is written, and that the node's own machine is left alone by the check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import type { Ready, Snapshot } from '../../src/core/raft/types.ts';
import { createPrng } from '../../src/core/prng.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import type { StorageWrite } from '../../src/io/storage/storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { SessionMachine } from '../../src/machines/sessions.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { emptyDriverMetrics, type DriverEvent } from '../../src/runtime/driver-options.ts';
import { driverReadyHost, type ReadyHostContext } from '../../src/runtime/driver-ready-host.ts';
import { NodeHost, type MachineAdapter } from '../../src/runtime/node-host.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A list of strings that will not restore a snapshot holding `poison`. */
class PickyMachine implements StateMachine {
  items: string[] = [];
  restores = 0;
  apply(command: Uint8Array): Uint8Array {
    this.items.push(new TextDecoder().decode(command));
    return enc(String(this.items.length));
  }
  snapshot(): Uint8Array {
    return enc(JSON.stringify(this.items));
  }
  restore(snapshot: Uint8Array): void {
    this.restores++;
    const items = JSON.parse(new TextDecoder().decode(snapshot)) as string[];
    if (items.includes('poison')) throw new RangeError('this machine cannot take a poisoned snapshot');
    this.items = items;
  }
}

function pickyAdapter(): MachineAdapter & { readonly machine: PickyMachine } {
  return {
    machine: new PickyMachine(),
    createScratch: () => new PickyMachine(),
    query: (m) => (m as PickyMachine).items.slice(),
  };
}

interface Member {
  readonly host: NodeHost;
  readonly machine: PickyMachine;
  readonly storage: MemoryRaftStorage;
  readonly events: DriverEvent[];
}

const ids = ['a', 'b', 'c'];
let running: NodeHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((h) => h.stop().catch(() => undefined)));
  running = [];
});

async function startMember(hub: MemoryHub, id: string, storage: MemoryRaftStorage, seed: number): Promise<Member> {
  const adapter = pickyAdapter();
  const host = await NodeHost.start(
    {
      cluster: 'test',
      id,
      voters: ids,
      transport: { kind: 'broadcast' },
      storage: 'memory',
      machine: { kind: 'kv' },
      raft: { snapshotEveryEntries: 4, snapshotTrailingEntries: 0 },
      tickMs: 5,
      seed,
    },
    { transport: hub.connect(id), storage, machine: adapter },
  );
  running.push(host);
  const events: DriverEvent[] = [];
  host.on((e) => events.push(e));
  return { host, machine: adapter.machine, storage, events };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function roleOf(m: Member): string {
  try {
    return m.host.driver.status().role;
  } catch {
    return 'stopped';
  }
}

describe('a snapshot this node cannot restore', () => {
  it('stops the follower with SNAPSHOT_REJECTED before anything is stored, and it boots again from its old state', async () => {
    const hub = new MemoryHub();
    const members = await Promise.all(ids.map((id, i) => startMember(hub, id, new MemoryRaftStorage(), i + 1)));
    await until('a leader', () => members.some((m) => roleOf(m) === 'leader'));
    const leader = members.find((m) => roleOf(m) === 'leader') as Member;
    const victim = members.find((m) => m !== leader) as Member;
    for (const v of ['x1', 'x2', 'x3']) await leader.host.propose(enc(v));
    await until('the victim to apply', () => victim.machine.items.length === 3);
    const before = victim.storage.durable();

    hub.isolate(victim.host.id);
    await leader.host.propose(enc('poison'));
    for (let i = 0; i < 12; i++) await leader.host.propose(enc(`y${i}`));
    const victimLast = victim.host.driver.status().lastIndex;
    await until('the leader to compact past the victim', () => (leader.storage.durable().snapshot?.meta.index ?? 0) > victimLast);
    hub.heal();

    // (a) It stops, with the code and the machine's own words.
    await until('the victim to stop', () => victim.events.some((e) => e.type === 'error'));
    const error = victim.events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ type: 'error', error: { code: 'SNAPSHOT_REJECTED' } });
    expect(error?.type === 'error' ? error.error.message : '').toMatch(/RangeError: this machine cannot take a poisoned snapshot/);
    // Its machine was never handed the snapshot.
    expect(victim.machine.items).toEqual(['x1', 'x2', 'x3']);

    // (b) Nothing of that Ready was stored: the durable state is the old one, and boots.
    // (It may hold a snapshot of its own, taken before it was cut off; never the leader's.)
    const after = victim.storage.durable();
    expect(after.snapshot?.meta.index ?? 0).toBeLessThanOrEqual(victimLast);
    expect(after.entries.at(-1)?.index ?? after.snapshot?.meta.index).toBe(victimLast);
    expect(after.hardState.commit).toBeLessThanOrEqual(victimLast);
    expect(after.hardState.term).toBe(before.hardState.term);
    const reborn = await startMember(new MemoryHub(), victim.host.id, new MemoryRaftStorage({ initial: after }), 9);
    // Alone, it applies what it knows to be committed (the durable commit may lag what it
    // applied before): a prefix of its old state, never a trace of the leader's snapshot.
    await until('the reborn node to apply its durable commit', () => reborn.host.driver.status().applied >= after.hardState.commit);
    expect(reborn.machine.items.length).toBeGreaterThanOrEqual(2);
    expect(reborn.machine.items).toEqual(['x1', 'x2', 'x3'].slice(0, reborn.machine.items.length));
    expect(reborn.host.driver.status().term).toBe(after.hardState.term);
    // The others carried on.
    await leader.host.propose(enc('after'));
  });
});

describe('the Ready host checks a leader snapshot in a scratch machine', () => {
  /** A Ready that carries nothing but the snapshot under test. */
  const ready = (snapshot: Snapshot): Ready => ({
    softState: null,
    hardState: null,
    snapshot,
    entries: [],
    committedEntries: [],
    messages: [],
    readStates: [],
    droppedReads: [],
    mustPersist: true,
    messagesBeforeWrite: [],
    messagesAfterWrite: [],
    appliedBeforeWrite: 0,
  });
  const snapshotOf = (data: Uint8Array): Snapshot => ({ meta: { index: 7, term: 2, config: { voters: ['a'], learners: [] } }, data });

  function host(createMachine?: () => StateMachine): { persist: (rd: Ready) => { failed: unknown; written: StorageWrite[] }; own: PickyMachine } {
    const own = new PickyMachine();
    const written: StorageWrite[] = [];
    const d: ReadyHostContext = {
      metrics: emptyDriverMetrics(),
      observer: {},
      writes: { write: (w) => written.push(w) },
      clock: systemClock,
      machine: new SessionMachine(own),
      scratch: createMachine === undefined ? {} : { createMachine },
      reads: () => null,
      proposals: () => null,
      send: () => undefined,
      reportState: () => undefined,
      fail: () => undefined,
    };
    const h = driverReadyHost(new RaftNode({ id: 'a', voters: ['a'], prng: createPrng(1) }), d);
    return {
      own,
      persist: (rd) => {
        let failed: unknown = null;
        h.persist(rd, () => undefined, (e) => (failed = e));
        return { failed, written };
      },
    };
  }

  const good = (items: string[]): Uint8Array => {
    const m = new SessionMachine(new PickyMachine());
    for (const [i, item] of items.entries()) m.inner.apply(enc(item), i + 1);
    return m.snapshot();
  };

  it('writes a snapshot the scratch machine restores, and leaves the node its own machine', () => {
    const h = host(() => new PickyMachine());
    const r = h.persist(ready(snapshotOf(good(['a', 'b']))));
    expect(r.failed).toBeNull();
    expect(r.written).toHaveLength(1);
    expect(h.own.restores).toBe(0);
  });

  it('refuses, writing nothing, what the application machine cannot restore', () => {
    const r = host(() => new PickyMachine()).persist(ready(snapshotOf(good(['poison']))));
    expect(r.failed).toMatchObject({ code: 'SNAPSHOT_REJECTED' });
    expect(String((r.failed as Error).message)).toMatch(/index 7 \(term 2\).*RangeError/);
    expect(r.written).toEqual([]);
  });

  it('without a machine factory, still refuses a snapshot whose session envelope is junk', () => {
    const h = host();
    const junk = h.persist(ready(snapshotOf(Uint8Array.of(0xff, 1, 2, 3))));
    expect(junk.failed).toMatchObject({ code: 'SNAPSHOT_REJECTED' });
    expect(junk.written).toEqual([]);
    // The application's bytes are not looked at without a factory.
    expect(h.persist(ready(snapshotOf(good(['poison'])))).failed).toBeNull();
  });
});
