/**
 * A snapshot from the leader that this node's state machine cannot restore is refused BEFORE it
 * changes anything, and the node goes on (audit: "a junk snapshot is persisted before it is
 * restored, so the node stops and can never boot again").
 *
 * How: a cluster of three NodeHosts (the node-host wiring, so the scratch factory comes from the
 * machine adapter as in production) on the memory transport and storage, with a machine that
 * refuses to restore a snapshot holding the marker `poison`. A follower is cut off; the leader
 * applies `poison` and compacts its log past the follower; the follower is let back and is
 * sent the leader's snapshot. It proves that (a) the follower refuses it and counts it
 * (`snapshotsRefused`), keeps running in its term with its machine untouched, (b) nothing of
 * the snapshot is stored, so a new node on that storage boots and holds its old state, and
 * (c) the others carry on. And, for the check itself (`snapshotRefusal`), that without a machine
 * factory the session envelope is still checked, that a good snapshot passes, and that the
 * node's own machine is left alone by the check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/core/raft/types.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { SessionMachine } from '../../src/machines/sessions.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';
import type { DriverEvent } from '../../src/runtime/driver-options.ts';
import { snapshotRefusal } from '../../src/runtime/driver-ready-host.ts';
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
  it('is refused and counted before anything is stored; the follower goes on, and boots again from its old state', async () => {
    const hub = new MemoryHub();
    const members = await Promise.all(ids.map((id, i) => startMember(hub, id, new MemoryRaftStorage(), i + 1)));
    await until('a leader', () => members.some((m) => roleOf(m) === 'leader'));
    const leader = members.find((m) => roleOf(m) === 'leader') as Member;
    const victim = members.find((m) => m !== leader) as Member;
    for (const v of ['x1', 'x2', 'x3']) await leader.host.propose(enc(v));
    await until('the victim to apply', () => victim.machine.items.length === 3);

    hub.isolate(victim.host.id);
    await leader.host.propose(enc('poison'));
    for (let i = 0; i < 12; i++) await leader.host.propose(enc(`y${i}`));
    const victimLast = victim.host.driver.status().lastIndex;
    await until('the leader to compact past the victim', () => (leader.storage.durable().snapshot?.meta.index ?? 0) > victimLast);
    hub.heal();

    // (a) Refused, counted, and the node still runs: no error, its machine never handed it.
    const refused = (): number => victim.host.driver.status().counters.snapshotsRefused;
    await until('the victim to refuse the snapshot', () => refused() > 0);
    expect(victim.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(roleOf(victim)).toBe('follower');
    expect(victim.machine.items).toEqual(['x1', 'x2', 'x3']);
    expect(victim.host.driver.status().lastIndex).toBe(victimLast);

    // (b) Nothing of it was stored: the durable state is the old one, and boots.
    // (It may hold a snapshot of its own, taken before it was cut off; never the leader's.)
    const after = victim.storage.durable();
    expect(after.snapshot?.meta.index ?? 0).toBeLessThanOrEqual(victimLast);
    expect(after.entries.at(-1)?.index ?? after.snapshot?.meta.index).toBe(victimLast);
    await victim.host.stop();
    const reborn = await startMember(new MemoryHub(), victim.host.id, new MemoryRaftStorage({ initial: after }), 9);
    // Alone, it applies what it knows to be committed (the durable commit may lag what it
    // applied before): a prefix of its old state, never a trace of the leader's snapshot.
    await until('the reborn node to apply its durable commit', () => reborn.host.driver.status().applied >= after.hardState.commit);
    expect(reborn.machine.items.length).toBeGreaterThanOrEqual(2);
    expect(reborn.machine.items).toEqual(['x1', 'x2', 'x3'].slice(0, reborn.machine.items.length));

    // (c) The others carried on.
    await leader.host.propose(enc('after'));
  });
});

describe('snapshotRefusal: a leader snapshot restored in a scratch machine', () => {
  const snapshotOf = (data: Uint8Array): Snapshot => ({ meta: { index: 7, term: 2, config: { voters: ['a'], learners: [] } }, data });

  const good = (items: string[]): Uint8Array => {
    const m = new SessionMachine(new PickyMachine());
    for (const [i, item] of items.entries()) m.inner.apply(enc(item), i + 1);
    return m.snapshot();
  };

  it('passes a snapshot the scratch machine restores, and leaves the node its own machine', () => {
    const own = new PickyMachine();
    expect(snapshotRefusal({ createMachine: () => new PickyMachine() }, snapshotOf(good(['a', 'b'])))).toBeNull();
    expect(own.restores).toBe(0);
  });

  it('refuses what the application machine cannot restore, naming the index, term and error', () => {
    const why = snapshotRefusal({ createMachine: () => new PickyMachine() }, snapshotOf(good(['poison'])));
    expect(why).toMatch(/index 7 \(term 2\).*RangeError: this machine cannot take a poisoned snapshot/);
  });

  it('without a machine factory, still refuses a snapshot whose session envelope is junk', () => {
    expect(snapshotRefusal({}, snapshotOf(Uint8Array.of(0xff, 1, 2, 3)))).not.toBeNull();
    // The application's bytes are not looked at without a factory.
    expect(snapshotRefusal({}, snapshotOf(good(['poison'])))).toBeNull();
  });
});
