/**
 * Shared by the end-to-end hostile-peer tests (hostile-peers.test.ts, with a secret, and
 * hostile-peers-unauthenticated.test.ts, without): a cluster of three real drivers over the
 * in-memory transport with a tap on each member's wire, the outsider's tools (frames untagged or
 * tagged under a wrong secret with the right epochs, forged appends, heartbeats, frames of empty
 * maps, replays of captured frames) and the checks both files make.
 */
import { expect } from 'vitest';
import type { Message } from '../../src/core/raft/messages.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { decodeRaftBody, encodeRaftBody } from '../../src/io/codec-raft.ts';
import { codecLimitsDefault } from '../../src/io/codec-limits.ts';
import { LinkGuard } from '../../src/io/crypto/link-guard.ts';
import { simIdentityKey } from '../../src/sim/sim-identity.ts';
import { decodeEnvelope, encodeEnvelope, prepareEnvelope } from '../../src/io/envelope.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { MemoryHub, type MemoryTransport } from '../../src/io/transport/memory-transport.ts';
import type { SessionCommand, SessionOutcome } from '../../src/machines/sessions.ts';
import type { StateMachine } from '../../src/machines/state-machine.ts';
import { Driver, type DriverEvent } from '../../src/runtime/driver.ts';
import { FrameRouter } from '../../src/runtime/frame-router.ts';
import { TapTransport } from './tap-transport.ts';

export const cluster = 'hostile';
export const ids = ['a', 'b', 'c'];
export const secret = 'the cluster secret: 32 bytes....';
export const wrongSecret = 'a secret the cluster never had..';
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
export const testTimeoutMs = 30_000;

/** Appended strings; throws on `boom` (deterministically, so on every replica). */
export class ListMachine implements StateMachine {
  items: string[] = [];
  apply(command: Uint8Array): Uint8Array {
    const s = dec(command);
    if (s === 'boom') throw new Error('boom is not allowed');
    this.items.push(s);
    return enc(String(this.items.length));
  }
  snapshot(): Uint8Array {
    return enc(JSON.stringify(this.items));
  }
  restore(snapshot: Uint8Array): void {
    this.items = JSON.parse(dec(snapshot)) as string[];
  }
}

/** A normal entry as one replica applied it. */
export interface Applied {
  readonly term: number;
  /** The entry's bytes as text (forged entries carry plain text, not a session command). */
  readonly data: string;
  readonly status: SessionOutcome['status'] | null;
}

export interface Member {
  readonly id: string;
  readonly driver: Driver;
  readonly router: FrameRouter;
  readonly tap: TapTransport;
  readonly storage: MemoryRaftStorage;
  readonly machine: ListMachine;
  readonly events: DriverEvent[];
  readonly applied: Map<number, Applied>;
  /** Messages the engine was stepped with that came from outside the cluster, and every join. */
  readonly strangeSteps: Message[];
  stopped: boolean;
}

let nextEpoch = Date.now() * 1024;
let nextSeed = 1;
export const clusters: TestCluster[] = [];

/** Stop every cluster a test made (each test file calls it after each test). */
export async function stopClusters(): Promise<void> {
  await Promise.all(clusters.map((c) => c.stopAll()));
  clusters.length = 0;
}

export class TestCluster {
  readonly hub = new MemoryHub();
  readonly members = new Map<string, Member>();
  private readonly outsiders: MemoryTransport[] = [];

  private constructor(readonly secret: string | null) {}

  static async start(secret: string | null): Promise<TestCluster> {
    const c = new TestCluster(secret);
    clusters.push(c);
    for (const id of ids) await c.boot(id, new MemoryRaftStorage());
    return c;
  }

  /** Start member `id` on `storage` (a new life: a new epoch). */
  async boot(id: string, storage: MemoryRaftStorage): Promise<Member> {
    const tap = new TapTransport(this.hub.connect(id));
    const guard = this.secret === null ? null : new LinkGuard({ secret: this.secret, cluster, self: id, epoch: nextEpoch++, mac: 'webcrypto', identityKey: simIdentityKey(id) });
    const router = new FrameRouter({ transport: tap, cluster, self: id, guard, now: () => performance.now() });
    const machine = new ListMachine();
    const applied = new Map<number, Applied>();
    const strangeSteps: Message[] = [];
    const driver = new Driver({
      raft: { id, voters: ids, electionTimeoutTicks: 20 },
      storage,
      link: router,
      machine,
      tickMs: 10,
      proposalTimeoutMs: 60_000,
      seed: nextSeed++,
      observer: {
        onStep: (m) => {
          if (m.type === 'join' || !ids.includes(m.from)) strangeSteps.push(m);
        },
        onApplied: (entry: Entry, _command: SessionCommand | null, outcome: SessionOutcome | null) => {
          if (entry.kind === 'normal') applied.set(entry.index, { term: entry.term, data: dec(entry.data), status: outcome?.status ?? null });
        },
      },
    });
    const events: DriverEvent[] = [];
    driver.on((e) => events.push(e));
    await driver.start();
    const m: Member = { id, driver, router, tap, storage, machine, events, applied, strangeSteps, stopped: false };
    this.members.set(id, m);
    return m;
  }

  member(id: string): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  get running(): Member[] {
    return [...this.members.values()].filter((m) => !m.stopped);
  }

  leader(): Member | undefined {
    return this.running.find((m) => m.driver.role() === 'leader');
  }

  /** One leader that every running member follows in its term. */
  async waitLeader(): Promise<Member> {
    let found: Member | undefined;
    await until('one leader', () => {
      const leaders = this.running.filter((m) => m.driver.role() === 'leader');
      const l = leaders[0];
      if (leaders.length !== 1 || l === undefined) return false;
      found = l;
      return this.running.every((m) => m.driver.status().leader === l.id && m.driver.term() === l.driver.term());
    });
    return found as Member;
  }

  followers(leader: Member): [Member, Member] {
    const f = this.running.filter((m) => m !== leader);
    if (f.length !== 2) throw new Error('two followers expected');
    return f as [Member, Member];
  }

  /** Every running member has applied the same index, at least `min`. */
  async converged(min = 1): Promise<void> {
    await until('the replicas to converge', () => {
      const applied = this.running.map((m) => m.driver.status().applied);
      return applied.every((a) => a >= min && a === applied[0]);
    });
  }

  async stop(id: string): Promise<void> {
    const m = this.member(id);
    m.stopped = true;
    await m.driver.stop();
  }

  /** Stop member `id` (if running) and boot it again from what its storage made durable. */
  async restart(id: string): Promise<Member> {
    const m = this.member(id);
    if (!m.stopped) await this.stop(id);
    return this.boot(id, new MemoryRaftStorage({ initial: m.storage.durable() }));
  }

  /** An outsider attached to the hub under `id` (any id no running node holds). */
  outsider(id: string): MemoryTransport {
    const t = this.hub.connect(id);
    this.outsiders.push(t);
    return t;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.map((m) => this.stop(m.id)));
    await Promise.all(this.outsiders.map((t) => t.close()));
  }
}

export async function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---- the outsider's tools ---------------------------------------------------------------------

/** A Raft frame from `from` to `to`: untagged (seq 0), or tagged by `guard` (which must know `to`'s epoch). */
export function frameOf(from: string, to: string, body: Uint8Array, guard: LinkGuard | null): Uint8Array {
  if (guard === null) return encodeEnvelope({ family: 'raft', cluster, from, to, seq: 0 }, body);
  const seq = guard.takeSeq(to) as number;
  const unsealed = prepareEnvelope({ family: 'raft', cluster, from, to, seq }, body);
  return unsealed.seal(guard.tagData(to, seq, unsealed.authenticated) as Uint8Array);
}

/**
 * A guard of the WRONG secret that speaks as `as` with epoch `asEpoch` and believes `to`'s epoch
 * is `toEpoch`: everything in its tags is right but the key. (It learns the epoch from a hello
 * of its own secret, the only kind it can check.)
 */
export function wrongKeyGuard(as: string, asEpoch: number, to: string, toEpoch: number): LinkGuard {
  const g = new LinkGuard({ secret: wrongSecret, cluster, self: as, epoch: asEpoch, mac: 'sync', identityKey: simIdentityKey(as) });
  const teacher = new LinkGuard({ secret: wrongSecret, cluster, self: to, epoch: toEpoch, mac: 'sync', identityKey: simIdentityKey(to) });
  const seq = teacher.takeSeq(as) as number;
  const body = teacher.helloBody(as);
  const unsealed = prepareEnvelope({ family: 'link', cluster, from: to, to: as, seq }, body);
  const taken = g.openHello(to, seq, unsealed.authenticated, teacher.tagHello(as, seq, unsealed.authenticated) as Uint8Array, body);
  expect(taken).toEqual({ verdict: 'ok', answer: true });
  return g;
}

/** The boot epoch `m` announced in its latest hello on the wire (a hello's body is not secret). */
export function announcedEpoch(m: Member): number {
  for (let i = m.tap.sent.length - 1; i >= 0; i--) {
    const d = decodeEnvelope((m.tap.sent[i] as { frame: Uint8Array }).frame);
    if (!d.ok || d.value.family !== 'link') continue;
    const v = new DataView(d.value.body.buffer, d.value.body.byteOffset, 8);
    return v.getUint32(0) * 2 ** 32 + v.getUint32(4);
  }
  throw new Error(`${m.id} sent no hello`);
}

/** The frames `m` sent to `to` whose Raft message passes `pick`, as sent (for replays), with their messages. */
export function captured(m: Member, to: string, pick: (msg: Message) => boolean): { readonly frame: Uint8Array; readonly message: Message }[] {
  return m.tap.sent.flatMap((s) => {
    if (s.to !== to) return [];
    const d = decodeEnvelope(s.frame);
    if (!d.ok || d.value.family !== 'raft') return [];
    const msg = decodeRaftBody(d.value.body, { from: d.value.from, to: d.value.to });
    return msg.ok && pick(msg.value) ? [{ frame: s.frame, message: msg.value }] : [];
  });
}

/**
 * A heartbeat body written by hand (the codec refuses to encode a term above termMax): every
 * integer as a msgpack uint64, which a valid term also passes through (the no-secret runs show it).
 */
export function heartbeatBody(from: string, to: string, term: number, commit: number): Uint8Array {
  const out: number[] = [0x86];
  const str = (s: string): void => {
    const b = enc(s);
    out.push(0xa0 | b.length, ...b);
  };
  const u64 = (n: number): void => {
    const hi = Math.floor(n / 2 ** 32);
    const lo = n >>> 0;
    out.push(0xcf, hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
  };
  str('type');
  str('heartbeat');
  str('from');
  str(from);
  str('to');
  str(to);
  str('term');
  u64(term);
  str('commit');
  u64(commit);
  str('round');
  u64(1);
  return Uint8Array.from(out);
}

/** An append that puts `text` right after `to`'s last entry, in `term`, and commits it. */
export function forgedAppend(from: string, to: Member, text: string): Uint8Array {
  const s = to.driver.status();
  const entry: Entry = { index: s.lastIndex + 1, term: s.term, kind: 'normal', data: enc(text) };
  return encodeRaftBody({ type: 'append', from, to: to.id, term: s.term, prevIndex: s.lastIndex, prevTerm: s.lastTerm, entries: [entry], commit: s.lastIndex + 1 });
}

/** A frame of `frameBytesMax` bytes whose body is one msgpack array of empty maps (0x80). */
export function emptyMapsFrame(from: string, to: string, guard: LinkGuard | null): Uint8Array {
  const overhead = 19 + cluster.length + from.length + to.length + (guard === null ? 0 : 32);
  const bodyBytes = codecLimitsDefault.frameBytesMax - overhead;
  const body = new Uint8Array(bodyBytes).fill(0x80);
  body[0] = 0xdd;
  new DataView(body.buffer).setUint32(1, bodyBytes - 5);
  const frame = frameOf(from, to, body, guard);
  expect(frame.byteLength).toBe(codecLimitsDefault.frameBytesMax);
  return frame;
}

// ---- what must hold ---------------------------------------------------------------------------

export function dropped(m: Member, cause: string): number {
  return m.router.metrics.dropped[cause] ?? 0;
}

/** The router's refusals by cause since `before` (a copy of `dropped` taken earlier). */
export function droppedSince(m: Member, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cause, n] of Object.entries(m.router.metrics.dropped)) if (n - (before[cause] ?? 0) > 0) out[cause] = n - (before[cause] ?? 0);
  return out;
}

export function counter(m: Member, name: keyof ReturnType<Driver['status']>['counters']): number {
  return m.driver.status().counters[name];
}

/** No node stopped (an error event, or a status that throws), and every replica applied the same entries. */
export function expectHealthyAndAgreed(c: TestCluster): void {
  for (const m of c.running) {
    expect(m.events.filter((e) => e.type === 'error'), `errors of ${m.id}`).toEqual([]);
    expect(() => m.driver.status()).not.toThrow();
  }
  const [first, ...rest] = c.running;
  for (const m of rest) {
    for (const [index, entry] of m.applied) {
      const there = first?.applied.get(index);
      if (there !== undefined) expect(entry, `entry ${index} on ${m.id} and ${first?.id}`).toEqual(there);
    }
  }
}

export function forgedAnywhere(c: TestCluster, text: string): string[] {
  return c.running.flatMap((m) => [...m.applied.values()].filter((e) => e.data.startsWith(text)).map(() => m.id));
}

// ---- the findings -----------------------------------------------------------------------------
