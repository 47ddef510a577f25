/**
 * Tool calls exactly once through the services' runtime on a 3-node in-memory cluster (the
 * worker API over NodeHost, the services machine, real timers). It proves: a call from any node
 * is run once by the leader and every caller gets the committed outcome; a retry with the same
 * key answers the stored call without running anything; when the leader stops mid-call (the
 * handler ran, no outcome committed) the new leader reruns an IDEMPOTENT tool and marks any other
 * `indeterminate` (never run twice), surfaced to the caller and in the audit log; a leader cut
 * off mid-call is fenced: its late result never becomes the outcome; and the proposal boundary
 * refuses time commands and tool transitions from a page (FORBIDDEN) and from a peer's forwarded
 * proposal (dropped and counted), while the leader's own time commands advance the replicated
 * time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { timeCommand } from '../../src/machines/services/composite.ts';
import type { AuditPage } from '../../src/machines/services/tools-audit.ts';
import type { ToolCall } from '../../src/machines/services/tools.ts';
import { encodeSessionCommand } from '../../src/machines/sessions.ts';
import { encodeRaftBody } from '../../src/io/codec-raft.ts';
import { encodeEnvelope } from '../../src/io/envelope.ts';
import type { Value } from '../../src/machines/services/value.ts';
import { encodeServiceCommand, leaderOf, query, sleep, startServicesCluster, stopAll, stopMember, until, value, waitLeader, type Member } from './services-cluster.ts';

let open: Member[] = [];
afterEach(async () => {
  await stopAll(open);
  open = [];
});

async function cluster(): Promise<Member[]> {
  const { members } = await startServicesCluster();
  open = members;
  await waitLeader(members);
  return members;
}

async function auditEvents(m: Member, key: string): Promise<string[]> {
  const page = await query<AuditPage>(m, 'tools', { q: 'audit', key });
  return page.records.map((r) => r.event);
}

describe('services tools', () => {
  it('runs a call from every node once on the leader; a retry answers the stored call', async () => {
    const members = await cluster();
    const runs: string[] = [];
    for (const m of members) value(m.api.servicesToolRegister('echo', (args: Value, call) => {
      runs.push(`${m.id}:${call.key}`);
      return { echoed: args, by: m.id };
    }, false));
    const leader = await waitLeader(members);
    const calls = await Promise.all(members.map((m, i) => m.api.servicesToolCall('echo', { n: i }, { key: `k${i}` })));
    for (const [i, c] of calls.entries()) {
      const call = value(c);
      expect(call.state).toBe('completed');
      expect(call.result).toEqual({ echoed: { n: i }, by: leader.id });
    }
    expect(runs.sort()).toEqual(['k0', 'k1', 'k2'].map((k) => `${leader.id}:${k}`));
    const retry = value(await members[2]!.api.servicesToolCall('echo', { n: 99 }, { key: 'k0' }));
    expect(retry.result).toEqual({ echoed: { n: 0 }, by: leader.id });
    expect(runs).toHaveLength(3);
    expect(await auditEvents(members[1]!, 'k0')).toEqual(['requested', 'started', 'completed']);
  });

  for (const idempotent of [true, false]) {
    it(`leader stopped mid-call: ${idempotent ? 'an idempotent tool runs again' : 'a non-idempotent tool is marked indeterminate, never run twice'}`, async () => {
      const members = await cluster();
      const runs: string[] = [];
      for (const m of members) {
        value(m.api.servicesToolRegister('charge', (_args, call) => {
          runs.push(m.id);
          // The first run (on the first leader) never answers: its node stops mid-call.
          if (runs.length === 1) return new Promise<Value>(() => undefined);
          return { charged: true, by: m.id, term: call.term };
        }, idempotent));
      }
      const first = await waitLeader(members);
      const caller = members.find((m) => m !== first) as Member;
      const pending = caller.api.servicesToolCall('charge', null, { key: 'pay-1' });
      await until('the first leader runs the tool', () => runs.length === 1);
      await stopMember(first);
      const call = value(await pending);
      const second = await waitLeader(members);
      expect(second).not.toBe(first);
      if (idempotent) {
        expect(call.state).toBe('completed');
        expect(call.result).toMatchObject({ charged: true, by: second.id });
        expect(runs).toEqual([first.id, second.id]);
        expect(call.starts).toBe(2);
      } else {
        expect(call.state).toBe('indeterminate');
        expect(runs).toEqual([first.id]);
      }
      // Every caller (and every replica) sees the same committed trail.
      for (const m of members.filter((x) => !x.stopped)) {
        expect(await auditEvents(m, 'pay-1')).toEqual(idempotent ? ['requested', 'started', 'started', 'completed'] : ['requested', 'started', 'indeterminate']);
      }
      const again = value(await second.api.servicesToolCall('charge', null, { key: 'pay-1' }));
      expect(again.state).toBe(call.state);
      expect(runs).toHaveLength(idempotent ? 2 : 1);
    });
  }

  it("fences a deposed leader: its late result is never the call's outcome", async () => {
    const members = await cluster();
    let release: (v: Value) => void = () => undefined;
    const ran: string[] = [];
    for (const m of members) {
      value(m.api.servicesToolRegister('slow', () => {
        ran.push(m.id);
        return ran.length === 1 ? new Promise<Value>((r) => (release = r)) : 'second';
      }, false));
    }
    const old = await waitLeader(members);
    const others = members.filter((m) => m !== old);
    const caller = others[0] as Member;
    const pending = caller.api.servicesToolCall('slow', null, { key: 'f1' });
    await until('the old leader runs it', () => ran.length === 1);
    // Cut the old leader off; the others elect a new leader, which marks the call indeterminate.
    old.api.block(others.map((m) => m.id));
    for (const m of others) m.api.block([old.id]);
    const call = value(await pending);
    expect(call.state).toBe('indeterminate');
    // The old leader's handler answers now: its `completed` (old term) must not win.
    release('late result');
    await sleep(100);
    for (const m of members) m.api.unblock();
    await until('the old leader follows again', () => leaderOf(members) !== old && old.api.status().ok && (old.api.status() as { value: { role: string } }).value.role === 'follower');
    await sleep(300);
    for (const m of members) {
      const c = await query<ToolCall>(m, 'tools', { q: 'call', key: 'f1' });
      expect(c.state).toBe('indeterminate');
      expect(c.result).toBeNull();
      expect(await auditEvents(m, 'f1')).toEqual(['requested', 'started', 'indeterminate']);
    }
    expect(ran).toEqual([old.id]);
  });

  it('refuses time and tool transitions from a page and in forwarded proposals; the leader keeps time', async () => {
    const members = await cluster();
    const leader = await waitLeader(members);
    const follower = members.find((m) => m !== leader) as Member;
    const t0 = value(follower.api.servicesMetrics()).timeMs;
    await until('replicated time advances', () => value(follower.api.servicesMetrics()).timeMs > t0);
    const far = Date.now() + 10 * 365 * 86_400_000;
    const forged = [timeCommand(far), encodeServiceCommand('tools', { op: 'started', key: 'x', node: follower.id, term: 99 }), encodeServiceCommand('tools', { op: 'completed', key: 'x', node: follower.id, term: 1, result: 1 })];
    for (const bytes of forged) {
      for (const m of members) {
        const r = await m.api.propose(bytes);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.code).toBe('FORBIDDEN');
      }
    }
    // A peer that skips its own boundary (a hostile runtime): its forwarded proposal is dropped at the leader.
    const before = value(leader.api.servicesMetrics()).privilegedRefusedForwarded;
    await injectForwarded(follower, leader, timeCommand(far));
    await until('the leader drops the forwarded time command', () => value(leader.api.servicesMetrics()).privilegedRefusedForwarded > before);
    await sleep(200);
    for (const m of members) expect(value(m.api.servicesMetrics()).timeMs).toBeLessThan(far);
    // An ordinary forwarded command still goes through.
    const ok = await follower.api.propose(encodeServiceCommand('config', { op: 'set', key: 'x', value: 1 }));
    expect(ok.ok).toBe(true);
  });
});

/**
 * Send a raw `propose` message carrying `payload` in a session request from `from` to `to`, as a
 * follower's runtime that skipped the page boundary would (through the node's real router).
 */
async function injectForwarded(from: Member, to: Member, payload: Uint8Array): Promise<void> {
  const data = [encodeSessionCommand({ type: 'request', clientId: 1, seq: 1, payload })];
  const body = encodeRaftBody({ type: 'propose', from: from.id, to: to.id, term: 0, data });
  value(from.api.injectFrame(to.id, encodeEnvelope({ family: 'raft', cluster: 'svc', from: from.id, to: to.id, seq: 0 }, body)));
  await Promise.resolve();
}
