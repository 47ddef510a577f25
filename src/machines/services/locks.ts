/**
 * Fenced locks and leases (issue 14 item 4), and app-role leader election on top.
 *
 * A lock is held by one owner until it releases it or its lease runs out (replicated time,
 * ./part.ts). Each acquisition answers a FENCING TOKEN, strictly increasing across every
 * acquisition of every lock (one counter for the machine, so a lock that was freed and forgotten
 * and taken again still gets a larger token). A holder attaches the token to what it does under
 * the lock, and a resource that remembers the largest token it saw refuses a paused holder whose
 * lease expired meanwhile (Kleppmann's fencing tokens; Chubby's sequencers, Burrows OSDI'06 §2.4).
 *
 * A role (`campaign`) is the same mechanism named for leader election of an application role:
 * one owner holds it, its token is its TERM, and it keeps it by campaigning again before the
 * lease ends (what the broadcast-channel package's LeaderElection gives a set of tabs, here
 * across browsers and with a term).
 *
 * Commands: lock {name, owner, ttlMs}, release {name, owner, token}, renew {name, owner, token, ttlMs},
 * campaign {role, owner, ttlMs}, resign {role, owner, term}.
 * Queries: lock {name}, role {role}, locks {owner?, limit?}.
 */
import { assert } from '../../core/assert.ts';
import { Fields, MalformedCommandError, opOf } from './fields.ts';
import type { ApplyContext } from './part.ts';
import { refuse, ValuePart, type Refusal } from './value-part.ts';
import type { Value } from './value.ts';

export const lockNameCharsMax = 256;
export const lockOwnerCharsMax = 128;
const intMax = Number.MAX_SAFE_INTEGER;

export interface LocksOptions {
  /** Locks and roles held at once, each. */
  readonly locksMax: number;
  readonly lockTtlMsMax: number;
}

export const locksDefaults: LocksOptions = { locksMax: 10_000, lockTtlMsMax: 86_400_000 };

export interface Hold {
  readonly name: string;
  readonly owner: string;
  /** The fencing token (for a role: its term). */
  readonly token: number;
  readonly expiresAtMs: number;
  readonly acquiredIndex: number;
}

export type LocksCommand =
  | { readonly op: 'lock' | 'campaign'; readonly name: string; readonly owner: string; readonly ttlMs: number }
  | { readonly op: 'release' | 'resign'; readonly name: string; readonly owner: string; readonly token: number }
  | { readonly op: 'renew'; readonly name: string; readonly owner: string; readonly token: number; readonly ttlMs: number };

export type LocksRefusalCode = 'LOCKED' | 'NOT_HOLDER' | 'LOCKS_FULL';

export type LocksResult =
  | { readonly status: 'acquired' | 'renewed'; readonly hold: Hold }
  | { readonly status: 'released' }
  | (Refusal<LocksRefusalCode> & { readonly holder: Hold | null });

type Space = 'lock' | 'role';

export class LocksPart extends ValuePart<LocksCommand, LocksResult> {
  private readonly options: LocksOptions;
  private locks = new Map<string, Hold>();
  private roles = new Map<string, Hold>();
  private tokenNext = 1;

  constructor(options: Partial<LocksOptions> = {}) {
    super();
    this.options = { ...locksDefaults, ...options };
    assert(Number.isSafeInteger(this.options.locksMax) && this.options.locksMax > 0, 'locksMax > 0');
    assert(Number.isSafeInteger(this.options.lockTtlMsMax) && this.options.lockTtlMsMax > 0, 'lockTtlMsMax > 0');
  }

  protected parse(value: Value): LocksCommand {
    const { op, fields: f } = opOf(value, ['lock', 'release', 'renew', 'campaign', 'resign'] as const, 'a locks command');
    const role = op === 'campaign' || op === 'resign';
    const name = f.string(role ? 'role' : 'name', lockNameCharsMax);
    const owner = f.string('owner', lockOwnerCharsMax);
    let c: LocksCommand;
    if (op === 'lock' || op === 'campaign') c = { op, name, owner, ttlMs: f.int('ttlMs', 1, this.options.lockTtlMsMax) };
    else if (op === 'renew') c = { op, name, owner, token: f.int('token', 1, intMax), ttlMs: f.int('ttlMs', 1, this.options.lockTtlMsMax) };
    else c = { op, name, owner, token: f.int(role ? 'term' : 'token', 1, intMax) };
    f.done();
    return c;
  }

  protected run(c: LocksCommand, ctx: ApplyContext): LocksResult {
    const space: Space = c.op === 'campaign' || c.op === 'resign' ? 'role' : 'lock';
    const map = space === 'role' ? this.roles : this.locks;
    const held = this.live(map.get(c.name), ctx);
    if (c.op === 'lock' || c.op === 'campaign') {
      if (held !== null && held.owner !== c.owner) return { ...refuse('LOCKED', `${c.name} is held by ${held.owner}`), holder: held };
      if (held === null && !map.has(c.name) && map.size >= this.options.locksMax) return { ...refuse('LOCKS_FULL', `${map.size} held`), holder: null };
      // The holder asking again keeps its token (the same hold, extended); anyone else gets a new one.
      const token = held?.token ?? this.tokenNext++;
      const hold: Hold = { name: c.name, owner: c.owner, token, expiresAtMs: ctx.timeMs + c.ttlMs, acquiredIndex: held?.acquiredIndex ?? ctx.index };
      return this.put(space, map, hold, held === null ? 'acquired' : 'renewed', ctx);
    }
    return this.release(c as Exclude<LocksCommand, { op: 'lock' | 'campaign' }>, space, map, held, ctx);
  }

  /** release, resign, renew: only by the owner with its token (or term). */
  private release(c: Exclude<LocksCommand, { op: 'lock' | 'campaign' }>, space: Space, map: Map<string, Hold>, held: Hold | null, ctx: ApplyContext): LocksResult {
    if (held === null || held.owner !== c.owner || held.token !== c.token) {
      return { ...refuse('NOT_HOLDER', `${c.owner} with ${c.token} does not hold ${c.name}`), holder: held };
    }
    if (c.op === 'renew') return this.put(space, map, { ...held, expiresAtMs: ctx.timeMs + c.ttlMs }, 'renewed', ctx);
    map.delete(c.name);
    this.reportHold(space, c.name, 0, ctx);
    return { status: 'released' };
  }

  /** A hold whose lease ran out is no hold, even before the time command that removes it. */
  private live(hold: Hold | undefined, ctx: ApplyContext): Hold | null {
    return hold !== undefined && hold.expiresAtMs > ctx.timeMs ? hold : null;
  }

  private put(space: Space, map: Map<string, Hold>, hold: Hold, status: 'acquired' | 'renewed', ctx: ApplyContext): LocksResult {
    map.set(hold.name, hold);
    this.reportHold(space, hold.name, hold.token, ctx);
    return { status, hold };
  }

  private reportHold(space: Space, name: string, token: number, ctx: ApplyContext): void {
    ctx.report(space === 'role' ? { kind: 'role', role: name, term: token } : { kind: 'lock', name, token });
  }

  advanceTime(ctx: ApplyContext): void {
    for (const [space, map] of [['lock', this.locks], ['role', this.roles]] as const) {
      const due = [...map.values()].filter((h) => h.expiresAtMs <= ctx.timeMs);
      for (const h of due) {
        map.delete(h.name);
        this.reportHold(space, h.name, 0, ctx);
      }
    }
  }

  holder(name: string): Hold | null {
    return this.locks.get(name) ?? null;
  }

  roleHolder(role: string): Hold | null {
    return this.roles.get(role) ?? null;
  }

  query(query: unknown): unknown {
    const { op, fields: f } = opOf(query as Value, ['lock', 'role', 'locks'] as const, 'a locks query', 'q');
    let answer: unknown;
    if (op === 'lock') answer = this.holder(f.string('name', lockNameCharsMax));
    else if (op === 'role') answer = this.roleHolder(f.string('role', lockNameCharsMax));
    else {
      const owner = f.optionalString('owner', lockOwnerCharsMax);
      const limit = f.optionalInt('limit', 1, 10_000) ?? 1000;
      answer = [...this.locks.values()].filter((h) => owner === undefined || h.owner === owner).slice(0, limit);
    }
    f.done();
    return answer;
  }

  protected save(): Value {
    return { tokenNext: this.tokenNext, locks: [...this.locks.values()] as unknown as Value[], roles: [...this.roles.values()] as unknown as Value[] };
  }

  protected load(state: Value): void {
    const f = new Fields(state, 'locks snapshot');
    const tokenNext = f.int('tokenNext', 1, intMax);
    const locks = holdsFromValue(f.value('locks'), tokenNext);
    const roles = holdsFromValue(f.value('roles'), tokenNext);
    f.done();
    this.tokenNext = tokenNext;
    this.locks = locks;
    this.roles = roles;
  }
}

function holdsFromValue(v: Value, tokenNext: number): Map<string, Hold> {
  if (!Array.isArray(v)) throw new MalformedCommandError('holds must be a list');
  const map = new Map<string, Hold>();
  for (const raw of v as readonly Value[]) {
    const f = new Fields(raw, 'a hold');
    const hold: Hold = {
      name: f.string('name', lockNameCharsMax),
      owner: f.string('owner', lockOwnerCharsMax),
      token: f.int('token', 1, tokenNext - 1),
      expiresAtMs: f.int('expiresAtMs', 0, intMax),
      acquiredIndex: f.int('acquiredIndex', 0, intMax),
    };
    f.done();
    map.set(hold.name, hold);
  }
  return map;
}
