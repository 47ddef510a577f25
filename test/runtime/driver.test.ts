/**
 * The runtime driver, in Node, with real parts end to end: three drivers on the in-memory
 * transport, the msgpackr wire codec, memory storage with its crash model, real timers. It
 * proves that a cluster of drivers elects one leader, that proposals made on any node resolve
 * with their state machine result exactly once and leave every replica equal, that linearizable
 * reads see every acknowledged write, that a stopped leader is replaced and nothing
 * acknowledged is lost, that a node restarted from its storage recovers and catches up, that a
 * malformed frame is dropped and counted while the node keeps working, and that a storage
 * failure stops the node cleanly with an error event, and that a failure oracle's word that the
 * leader is gone (Web Locks between tabs) makes the followers elect a new leader without waiting
 * out their leases, also when it reaches them at different times (a first pre-vote refused is
 * asked again), and that a caller's reads are bounded (`pendingReadsMax`, as proposals are).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import type { RaftStorage, StorageWrite } from '../../src/io/storage/storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';
import { Driver, type DriverEvent } from '../../src/runtime/driver.ts';
import { FrameRouter } from '../../src/runtime/frame-router.ts';

/** A register of appended strings; a command's result is the register's length after it. */
class ListMachine implements StateMachine {
  items: string[] = [];
  apply(command: Uint8Array): Uint8Array {
    this.items.push(new TextDecoder().decode(command));
    return new TextEncoder().encode(String(this.items.length));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(snapshot: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(snapshot)) as string[];
  }
}

const ids = ['a', 'b', 'c'];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Member {
  driver: Driver;
  router: FrameRouter;
  machine: ListMachine;
  storage: MemoryRaftStorage;
  events: DriverEvent[];
}

let running: Driver[] = [];

afterEach(async () => {
  await Promise.all(running.map((d) => d.stop()));
  running = [];
});

/** The peers of a node, through the frame router (no secret: the links of these tests are not authenticated). */
function linkOf(hub: MemoryHub, id: string): FrameRouter {
  return new FrameRouter({ transport: hub.connect(id), cluster: 'test', self: id, guard: null, now: () => performance.now() });
}

async function startMember(hub: MemoryHub, id: string, storage: RaftStorage, seed: number, extra: { snapshotEveryEntries?: number } = {}): Promise<Member> {
  const machine = new ListMachine();
  const router = linkOf(hub, id);
  const driver = new Driver({
    raft: { id, voters: ids, ...extra },
    storage,
    link: router,
    machine,
    tickMs: 5,
    seed,
  });
  const events: DriverEvent[] = [];
  driver.on((e) => events.push(e));
  await driver.start();
  running.push(driver);
  return { driver, router, machine, storage: storage as MemoryRaftStorage, events };
}

async function startCluster(extra: { snapshotEveryEntries?: number } = {}): Promise<{ hub: MemoryHub; members: Map<string, Member> }> {
  const hub = new MemoryHub();
  const members = new Map<string, Member>();
  let seed = 1;
  for (const id of ids) members.set(id, await startMember(hub, id, new MemoryRaftStorage(), seed++, extra));
  return { hub, members };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function leaderOf(members: Map<string, Member>): Member | undefined {
  return [...members.values()].find((m) => {
    try {
      return m.driver.status().role === 'leader';
    } catch {
      return false;
    }
  });
}

describe('Driver', () => {
  it('elects one leader and applies proposals from every node exactly once, in one order', async () => {
    const { members } = await startCluster();
    await until('a leader', () => leaderOf(members) !== undefined);
    const all = [...members.values()];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (all[i % 3] as Member).driver.propose(enc(`cmd${i}`))));
    // Every command got a distinct position: results are the register lengths 1..60.
    expect(new Set(results.map(dec)).size).toBe(60);
    await until('replicas to converge', () => all.every((m) => m.machine.items.length === 60));
    const first = all[0]?.machine.items;
    for (const m of all) expect(m.machine.items).toEqual(first);
    expect(new Set(first).size).toBe(60);
    const leaders = all.filter((m) => m.driver.status().role === 'leader');
    expect(leaders).toHaveLength(1);
  });

  it('serves linearizable and lease reads that see every acknowledged write', async () => {
    const { members } = await startCluster();
    await until('a leader', () => leaderOf(members) !== undefined);
    const follower = [...members.values()].find((m) => m.driver.status().role !== 'leader') as Member;
    await follower.driver.propose(enc('x'));
    for (const m of members.values()) {
      expect(await m.driver.read('linearizable', (sm) => (sm as ListMachine).items.slice())).toEqual(['x']);
      expect(await m.driver.read('lease', (sm) => (sm as ListMachine).items.length)).toBe(1);
    }
  });

  it('replaces a stopped leader without losing an acknowledged write', async () => {
    const { members } = await startCluster();
    await until('a leader', () => leaderOf(members) !== undefined);
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      await (leaderOf(members) as Member).driver.propose(enc(`before${i}`));
      acked.push(`before${i}`);
    }
    const old = leaderOf(members) as Member;
    await old.driver.stop();
    members.delete(old.driver.id);
    await until('a new leader', () => leaderOf(members) !== undefined);
    const survivor = [...members.values()][0] as Member;
    await survivor.driver.propose(enc('after'));
    for (const m of members.values()) {
      const items = await m.driver.read('linearizable', (sm) => (sm as ListMachine).items.slice());
      for (const a of [...acked, 'after']) expect(items).toContain(a);
    }
  });

  it('restarts a node from its storage (with snapshots) and catches it up', async () => {
    const { hub, members } = await startCluster({ snapshotEveryEntries: 8 });
    await until('a leader', () => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    const victim = [...members.values()].find((m) => m !== leader) as Member;
    for (let i = 0; i < 20; i++) await leader.driver.propose(enc(`v${i}`));
    await until('the victim to apply', () => victim.machine.items.length === 20);
    await victim.driver.stop();
    // Its storage survives; more commands commit while it is down.
    for (let i = 20; i < 40; i++) await leader.driver.propose(enc(`v${i}`));
    const storage = new MemoryRaftStorage({ initial: victim.storage.durable() });
    const reborn = await startMember(hub, victim.driver.id, storage, 99, { snapshotEveryEntries: 8 });
    const before = reborn.driver.status();
    expect(before.term).toBeGreaterThan(0);
    await until('the restarted node to catch up', () => reborn.machine.items.length === 40);
    expect(reborn.machine.items).toEqual(leader.machine.items);
    expect(leader.driver.metrics.snapshotsTaken).toBeGreaterThan(0);
  });

  it('drops a malformed frame, counts it (no event per frame: a flood of junk must not flood the page), and keeps working', async () => {
    const { hub, members } = await startCluster();
    await until('a leader', () => leaderOf(members) !== undefined);
    const target = members.get('a') as Member;
    const intruder = hub.connect('mallory');
    intruder.send('a', Uint8Array.of(0xc1, 0xff, 0x00, 0x13));
    intruder.send('a', enc('not msgpack at all'));
    await until('the frames to be dropped', () => target.router.metrics.framesDropped >= 2);
    expect(target.events.some((e) => e.type === 'error')).toBe(false);
    expect(dec(await target.driver.propose(enc('still-alive')))).toBe('1');
    await intruder.close();
  });

  it('stops cleanly on a storage failure, rejecting callers, and boots again from what is durable', async () => {
    const hub = new MemoryHub();
    const members = new Map<string, Member>();
    let failing = false;
    class FlakyStorage extends MemoryRaftStorage {
      override async write(w: StorageWrite): Promise<void> {
        if (failing) throw new Error('disk on fire');
        return super.write(w);
      }
    }
    const flaky = new FlakyStorage();
    members.set('a', await startMember(hub, 'a', flaky, 1));
    members.set('b', await startMember(hub, 'b', new MemoryRaftStorage(), 2));
    members.set('c', await startMember(hub, 'c', new MemoryRaftStorage(), 3));
    await until('a leader', () => leaderOf(members) !== undefined);
    await (members.get('b') as Member).driver.propose(enc('ok'));
    failing = true;
    const a = members.get('a') as Member;
    const pending = a.driver.propose(enc('doomed')).catch((e: unknown) => e);
    await until('node a to stop', () => a.events.some((e) => e.type === 'error' && e.error.message.includes('disk on fire')));
    const error = await pending;
    expect(error).toMatchObject({ code: 'STOPPED' });
    expect(() => a.driver.status()).toThrow(/not running/);
    const reborn = await startMember(new MemoryHub(), 'a', new MemoryRaftStorage({ initial: flaky.durable() }), 7);
    expect(reborn.driver.status().term).toBeGreaterThan(0);
  });

  it('elects a new leader at once when a failure oracle says the leader is gone', async () => {
    // Election timeouts of 400 ticks (2 s): without the oracle no follower would even ask for
    // votes within the second this test waits, since each still holds the old leader's lease.
    const hub = new MemoryHub();
    const members = new Map<string, Member>();
    let seed = 11;
    for (const id of ids) {
      const machine = new ListMachine();
      const driver = new Driver({
        raft: { id, voters: ids, electionTimeoutTicks: 400 },
        storage: new MemoryRaftStorage(),
        link: linkOf(hub, id),
        machine,
        tickMs: 5,
        seed: seed++,
      });
      await driver.start();
      running.push(driver);
      members.set(id, { driver, router: linkOf(new MemoryHub(), id), machine, storage: new MemoryRaftStorage(), events: [] });
    }
    for (const m of members.values()) m.driver.leaderGone('nobody');
    await until('a first leader', () => leaderOf(members) !== undefined, 10_000);
    const old = leaderOf(members) as Member;
    const oldTerm = old.driver.status().term;
    hub.isolate(old.driver.id);
    const followers = [...members.values()].filter((m) => m !== old);
    for (const f of followers) f.driver.leaderGone(old.driver.id);
    await until(
      'a new leader, well within one election timeout',
      () => followers.some((f) => f.driver.status().role === 'leader' && f.driver.status().term > oldTerm),
      1000,
    );
  });

  it('asks again for pre-votes when the oracle reached the other follower later (a phi suspicion)', async () => {
    // Each follower's phi detector suspects at its own time. The first-ranked follower's
    // pre-vote reaches a voter still in the old leader's lease and is ignored; once that voter
    // has forgotten the leader too (here without campaigning itself), the first one's next
    // pre-vote wins. Without asking again it would wait out its election timeout (2 s and more).
    const hub = new MemoryHub();
    const members = new Map<string, Member>();
    let seed = 21;
    for (const id of ids) {
      const machine = new ListMachine();
      const driver = new Driver({ raft: { id, voters: ids, electionTimeoutTicks: 400 }, storage: new MemoryRaftStorage(), link: linkOf(hub, id), machine, tickMs: 5, seed: seed++ });
      await driver.start();
      running.push(driver);
      members.set(id, { driver, router: linkOf(new MemoryHub(), id), machine, storage: new MemoryRaftStorage(), events: [] });
    }
    for (const m of members.values()) m.driver.leaderGone('nobody');
    await until('a first leader', () => leaderOf(members) !== undefined, 10_000);
    const old = leaderOf(members) as Member;
    const oldTerm = old.driver.status().term;
    hub.isolate(old.driver.id);
    const [first, second] = [...members.values()].filter((m) => m !== old).sort((x, y) => (x.driver.id < y.driver.id ? -1 : 1)) as [Member, Member];
    // Let the old leader's last heartbeats land first: a suspected leader that speaks is followed again.
    await new Promise((r) => setTimeout(r, 50));
    first.driver.leaderGone(old.driver.id, true, true);
    await new Promise((r) => setTimeout(r, 50));
    expect(first.driver.status().role).toBe('pre-candidate');
    second.driver.leaderGone(old.driver.id, false, true);
    await until('the first follower leads, well within one election timeout', () => first.driver.status().role === 'leader' && first.driver.status().term > oldTerm, 1000);
  });
});

describe('bounds on what callers make a node hold', () => {
  it('fails a read at once with READ_DROPPED when pendingReadsMax reads already wait', async () => {
    // One node of three, alone: no leader, so its reads wait (until their timeout).
    const hub = new MemoryHub();
    const driver = new Driver({ raft: { id: 'a', voters: ids }, storage: new MemoryRaftStorage(), link: linkOf(hub, 'a'), machine: new ListMachine(), tickMs: 5, seed: 1, pendingReadsMax: 2, proposalTimeoutMs: 60_000 });
    running.push(driver);
    await driver.start();
    const waiting = [driver.read('linearizable', () => 0), driver.read('linearizable', () => 0)];
    for (const w of waiting) w.catch(() => undefined);
    await expect(driver.read('linearizable', () => 0)).rejects.toMatchObject({ code: 'READ_DROPPED' });
  });
});
