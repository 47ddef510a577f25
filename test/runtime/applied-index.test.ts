/**
 * `status().applied` means "the state machine reflects every entry up to here", not "the core
 * handed these entries out to be applied". It proves: once a follower's `status().applied`
 * reaches the index of the last of N writes, a local (non-linearizable) read on it sees all N.
 *
 * How the gap is made deterministic, without timing: the follower is cut off while the leader
 * and the other follower commit the N writes, so every append it gets after the heal carries a
 * commit index at or past its entries: each Ready then hands out committed entries that are not
 * durable yet, which the Ready loop applies only AFTER their write (ready-loop.ts). The
 * follower's writes are held by the test and released one at a time; `applied` is read while a
 * write is held, which is when the core's own index (`handedOutToApply`) runs ahead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import type { StorageWrite } from '../../src/io/storage/storage.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';
import { Driver, type WriteSink } from '../../src/runtime/driver.ts';
import { FrameRouter } from '../../src/runtime/frame-router.ts';

/** A list of appended strings. */
class ListMachine implements StateMachine {
  items: string[] = [];
  apply(command: Uint8Array): Uint8Array {
    this.items.push(new TextDecoder().decode(command));
    return new Uint8Array(0);
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(snapshot: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(snapshot)) as string[];
  }
}

/** Writes through to storage, or, while `held`, kept until the test releases them one by one. */
class HeldWrites implements WriteSink {
  held = false;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly storage: MemoryRaftStorage) {}

  write(w: StorageWrite, done: () => void, failed: (error: unknown) => void): void {
    const go = (): void => void this.storage.write(w).then(done, failed);
    if (this.held) this.waiting.push(go);
    else go();
  }

  releaseOne(): void {
    this.waiting.shift()?.();
  }

  releaseAll(): void {
    this.held = false;
    for (const go of this.waiting.splice(0)) go();
  }
}

interface Member {
  readonly id: string;
  readonly driver: Driver;
  readonly machine: ListMachine;
  readonly writes: HeldWrites;
}

const ids = ['a', 'b', 'c'];
const writesCount = 80;
let running: Member[] = [];

afterEach(async () => {
  for (const m of running) m.writes.releaseAll();
  await Promise.all(running.map((m) => m.driver.stop()));
  running = [];
});

async function startMember(hub: MemoryHub, id: string, seed: number): Promise<Member> {
  const machine = new ListMachine();
  const storage = new MemoryRaftStorage();
  const writes = new HeldWrites(storage);
  const link = new FrameRouter({ transport: hub.connect(id), cluster: 'test', self: id, guard: null, now: () => performance.now() });
  const driver = new Driver({ raft: { id, voters: ids }, storage, writes, link, machine, tickMs: 5, seed });
  await driver.start();
  const m = { id, driver, machine, writes };
  running.push(m);
  return m;
}

/** Poll `predicate` every 5 ms, each time after `between` (a bound on waiting, not a timing assertion). */
async function until(what: string, predicate: () => boolean, between: () => void = () => undefined): Promise<void> {
  const startMs = Date.now();
  while (!predicate()) {
    if (Date.now() - startMs > 10_000) throw new Error(`timed out waiting for ${what}`);
    between();
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('status().applied', () => {
  it('is reached only once the state machine applied that far: a local read then sees all N writes', async () => {
    const hub = new MemoryHub();
    const members = [await startMember(hub, 'a', 1), await startMember(hub, 'b', 2), await startMember(hub, 'c', 3)];
    let leader: Member | undefined;
    await until('a leader', () => (leader = members.find((m) => m.driver.role() === 'leader')) !== undefined);
    const l = leader as Member;
    const f = members.find((m) => m !== l) as Member;

    hub.isolate(f.id);
    const written = Array.from({ length: writesCount }, (_, i) => `w${i}`);
    await Promise.all(written.map((w) => l.driver.propose(new TextEncoder().encode(w))));
    // Every write is applied on the leader, so its last index is at or past the last write's.
    const lastWriteIndex = l.driver.status().lastIndex;

    f.writes.held = true;
    hub.heal();
    let sawGap = false;
    await until(
      'the follower to report the last write applied',
      () => {
        const s = f.driver.status();
        sawGap ||= s.handedOutToApply > s.applied;
        return s.applied >= lastWriteIndex;
      },
      () => f.writes.releaseOne(),
    );
    // Read at once, in the same turn as the poll that saw `applied` reach the last write.
    const seen = await f.driver.read('local', (sm) => (sm as ListMachine).items.slice());
    expect(seen.filter((x) => x.startsWith('w'))).toEqual(written);
    // The core did run ahead meanwhile: without that, this test would prove nothing.
    expect(sawGap).toBe(true);
  });
});
