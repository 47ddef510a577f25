/**
 * What this proves about LeaderDuties' takeover (src/services/leader-duties.ts): a new leader
 * runs its takeover once a time command of its term has applied, and when that first time
 * proposal FAILS (a timeout: it may never commit) it proposes another after `timeIntervalMs`
 * while it still leads in that term, so the takeover runs anyway; a node that lost the lead
 * meanwhile proposes nothing more for that term. Before the retry a failed first proposal left
 * the takeover undone for the whole term (the services simulator with snapshots). A fake port
 * with a hand-driven clock; the real services machine answers the takeover query.
 */
import { describe, expect, it } from 'vitest';
import { err, ok, type Result } from '../../src/core/result.ts';
import { createServicesMachine } from '../../src/machines/services/services-machine.ts';
import { LeaderDuties } from '../../src/services/leader-duties.ts';
import type { ServicesPort } from '../../src/services/services-port.ts';
import { NodeError } from '../../src/runtime/errors.ts';

interface Harness {
  readonly duties: LeaderDuties;
  /** Callbacks of the proposals made, in order. */
  readonly proposals: ((r: Result<Uint8Array>) => void)[];
  /** Runs the timers due by `ms` from now. */
  advance(ms: number): void;
  leading: boolean;
}

function harness(): Harness {
  let nowMs = 0;
  let timers: { atMs: number; fn: () => void }[] = [];
  const proposals: ((r: Result<Uint8Array>) => void)[] = [];
  const { machine } = createServicesMachine();
  const h: Harness = {
    duties: undefined as unknown as LeaderDuties,
    proposals,
    leading: true,
    advance(ms: number): void {
      nowMs += ms;
      const due = timers.filter((t) => t.atMs <= nowMs);
      timers = timers.filter((t) => t.atMs > nowMs);
      for (const t of due) t.fn();
    },
  };
  const port: ServicesPort = {
    self: 'n1',
    clock: {
      now: () => nowMs,
      after(ms, fn) {
        const t = { atMs: nowMs + ms, fn };
        timers.push(t);
        return () => {
          timers = timers.filter((x) => x !== t);
        };
      },
    },
    wallMs: () => 1_000_000 + nowMs,
    isLeader: () => h.leading,
    term: () => 2,
    propose: (_bytes, done) => proposals.push(done),
    machine,
  };
  (h as { duties: LeaderDuties }).duties = new LeaderDuties(port, { timeIntervalMs: 200, agentHeartbeatMs: 250, waitersMax: 16, watchesMax: 4, handlersMax: 4 }, new Map());
  return h;
}

const timeout: Result<Uint8Array> = err(new NodeError('TIMEOUT', 'the proposal was not applied in time; it may still be'));

describe('a new leader whose first time proposal fails', () => {
  it('proposes again and runs the takeover once one applies', () => {
    const h = harness();
    h.duties.roleChanged();
    expect(h.proposals).toHaveLength(1);
    (h.proposals[0] as (r: Result<Uint8Array>) => void)(timeout);
    expect(h.duties.metrics.takeovers).toBe(0);
    h.advance(200);
    // The periodic time command and the retry, which carries the takeover.
    expect(h.proposals).toHaveLength(3);
    for (const done of h.proposals.slice(1)) done(ok(new Uint8Array(0)));
    expect(h.duties.metrics.takeovers).toBe(1);
  });

  it('proposes nothing more for the term once it no longer leads', () => {
    const h = harness();
    h.duties.roleChanged();
    (h.proposals[0] as (r: Result<Uint8Array>) => void)(timeout);
    h.leading = false;
    h.duties.roleChanged();
    h.advance(1000);
    expect(h.proposals).toHaveLength(1);
    expect(h.duties.metrics.takeovers).toBe(0);
  });
});
