/**
 * What this proves about exactly-once application (client sessions, dissertation §6.3, under the
 * simulator):
 *   - the exactly-once checker reports a command run twice by the inner machine (on one replica,
 *     or at two indices of the one replicated sequence), replicas that disagree on whether the
 *     inner machine ran at an index, and an acknowledged command that never ran; and stays quiet
 *     on healthy observations, including replicas that restart and replay;
 *   - a deterministic scenario: a client's write is applied by the leader but the answer is lost;
 *     the leader is cut off, another one is elected, and the client retries the SAME (session,
 *     seq) there. The retry is committed again, but the session layer answers it with the cached
 *     result (`duplicate`) and the KV machine runs the write once on every replica, so a write of
 *     another client that came in between is not overwritten. With the session layer bypassed
 *     (sabotage), the same scenario applies the write twice, loses the other write, and the
 *     checker says so;
 *   - whole runs with the session layer bypassed are caught by the checker, and the same seeds
 *     with the real driver are clean.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import type { NodeId } from '../../src/core/raft/types.ts';
import { encodeKvCommand, type KvCommand } from '../../src/machines/kv.ts';
import { decodeSessionOutcome, encodeSessionCommand, type SessionOutcome } from '../../src/machines/sessions.ts';
import { ExactlyOnceChecker } from '../../src/sim/checkers/exactly-once.ts';
import { RaftCheckers } from '../../src/sim/checkers/raft-checkers.ts';
import { clientEndpoint, type ClientMessage, type ClientResponse } from '../../src/sim/client-protocol.ts';
import { Network } from '../../src/sim/network.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';
import { SimNode } from '../../src/sim/sim-node.ts';
import { runSimulation } from '../../src/sim/simulation.ts';

describe('exactly-once checker', () => {
  it('accepts one run per command, replays after restarts, and non-commands', () => {
    const c = new ExactlyOnceChecker();
    for (const node of ['n1', 'n2', 'n1']) {
      // n1 twice: it restarted and replayed the log from the start.
      c.observe(node, 1, null, 1);
      c.observe(node, 2, { session: 1, seq: 1 }, 2);
      c.observe(node, 3, null, 3); // the same command again: a duplicate the session layer absorbed
      c.observe(node, 4, { session: 1, seq: 2 }, 4);
    }
    c.checkAcknowledged([{ client: 0, session: 1, seq: 1, op: 'write', key: 'k', ackUs: 5 }], 4, 10);
    expect(c.violations).toEqual([]);
    expect(c.innerApplies).toBe(6);
    expect(c.ranIndex(1, 2)).toBe(4);
  });

  it('reports a command run twice, replicas that disagree, and an acknowledged command that never ran', () => {
    const c = new ExactlyOnceChecker();
    c.observe('n1', 2, { session: 1, seq: 1 }, 2);
    c.observe('n1', 3, { session: 1, seq: 1 }, 3); // the duplicate reached the inner machine
    c.observe('n2', 3, null, 4); // n2's session layer absorbed it
    c.checkAcknowledged(
      [
        { client: 0, session: 1, seq: 1, op: 'write', key: 'k', ackUs: 5 },
        { client: 1, session: 7, seq: 1, op: 'cas', key: 'k', ackUs: 6 },
      ],
      3,
      10,
    );
    expect(c.violations.map((v) => v.property)).toEqual(['exactly-once', 'exactly-once', 'exactly-once']);
    expect(c.violations.map((v) => v.detail)).toEqual([
      'command (session 1, seq 1) applied twice by the inner machine: at index 2 and again at 3 (seen on n1)',
      'at index 3 the inner machine ran nothing on n2 but (session:seq 1:1) on n1',
      'client 1 was answered for (session 7, seq 1: cas) at 6us, but no replica\'s inner machine ever ran it',
    ]);
  });

  it('counts among the safety violations of a run', () => {
    const c = new RaftCheckers();
    c.onInnerApplied('n1', 2, { session: 1, seq: 1 }, 1);
    c.onInnerApplied('n2', 5, { session: 1, seq: 1 }, 2);
    expect(c.violations().map((v) => v.property)).toEqual(['exactly-once']);
  });
});

/** Three nodes on a perfect network, and one hand-driven client. */
function cluster(sabotage: boolean) {
  const scheduler = new Scheduler();
  const prng = createPrng(42);
  const checkers = new RaftCheckers();
  const ids: NodeId[] = ['n1', 'n2', 'n3'];
  const nodes = new Map<NodeId, SimNode>();
  const calm = { lossRate: 0, duplicateRate: 0, delay: { kind: 'constant', us: 1000 } } as const;
  const peerNet = new Network<Message>(scheduler, prng, { ...calm, queuedPerLinkMax: 1024 }, (_f, to, m) => nodes.get(to)?.deliverPeer(m));
  const responses: ClientResponse[] = [];
  const clientNet = new Network<ClientMessage>(scheduler, prng, { ...calm, queuedPerLinkMax: 1024 }, (_f, to, msg) => {
    if (msg.kind === 'request') nodes.get(to)?.deliverClient(msg.request);
    else responses.push(msg.response);
  });
  let readSeq = 0;
  for (const id of ids) {
    nodes.set(
      id,
      new SimNode({
        id,
        voters: ids,
        scheduler,
        prng,
        peerNet,
        clientNet,
        storageLatency: { kind: 'constant', us: 500 },
        tickUs: 10_000,
        raft: {},
        checkers,
        nextReadId: () => ++readSeq,
        cpuDelayUs: 20,
        postDurableDelayUs: 50,
        inboxMax: 4096,
        pendingRequestsMax: 1024,
        sabotage: new Set(sabotage ? (['bypass-sessions'] as const) : []),
      }),
    );
  }
  for (const n of nodes.values()) n.restart();
  const node = (id: NodeId): SimNode => nodes.get(id) as SimNode;
  const leader = (among: readonly NodeId[] = ids): NodeId | undefined => among.find((id) => node(id).isLeader());
  let requestSeq = 0;
  /** Send a session command from client `client` to `to` (attempt `attempt` of request `requestId`). */
  const send = (client: number, to: NodeId, command: Uint8Array, requestId = ++requestSeq, attempt = 1): number => {
    clientNet.send(clientEndpoint(client), to, { kind: 'request', request: { clientId: client, requestId, attempt, body: { kind: 'command', command } } });
    return requestId;
  };
  const answer = (requestId: number): SessionOutcome | undefined => {
    const r = responses.find((x) => x.requestId === requestId && x.outcome.type === 'done');
    if (r === undefined || r.outcome.type !== 'done') return undefined;
    const decoded = decodeSessionOutcome(r.outcome.result);
    return decoded.ok ? decoded.value : undefined;
  };
  const runFor = (us: number): void => void scheduler.runUntil(scheduler.nowUs + us);
  const register = (client: number, to: NodeId): number => {
    const id = send(client, to, encodeSessionCommand({ type: 'register', nonce: 1000 + client }));
    runFor(100_000);
    const a = answer(id);
    if (a?.status !== 'registered') throw new Error(`client ${client} did not register: ${JSON.stringify(a)}`);
    return a.clientId;
  };
  const request = (session: number, seq: number, command: KvCommand): Uint8Array =>
    encodeSessionCommand({ type: 'request', clientId: session, seq, payload: encodeKvCommand(command) });
  return { scheduler, checkers, ids, node, leader, peerNet, clientNet, send, answer, runFor, register, request };
}

/**
 * Client 0 writes k=a; the leader applies it but the answer is lost; the leader is cut off; client
 * 1 writes k=b through the new leader; client 0 retries its write (same session and seq) there.
 */
function retriedAfterLeaderChange(sabotage: boolean) {
  const c = cluster(sabotage);
  c.runFor(1_000_000);
  const first = c.leader();
  if (first === undefined) throw new Error('no leader after 1 s');
  const s0 = c.register(0, first);
  const s1 = c.register(1, first);
  const writeA = c.request(s0, 1, { op: 'write', key: 'k', value: 'a' });
  // The leader's answer to client 0 is lost on the way.
  const lostAnswer = c.clientNet.blockOneWay([first], [clientEndpoint(0)]);
  const attempt1 = c.send(0, first, writeA);
  c.runFor(100_000);
  const ranAt = c.checkers.exactlyOnce.ranIndex(s0, 1);
  // Cut the leader off; the other two elect a new one.
  const others = c.ids.filter((id) => id !== first);
  const isolation = c.peerNet.isolate(first, others);
  c.runFor(1_500_000);
  const second = c.leader(others);
  if (second === undefined) throw new Error('no new leader');
  const writeB = c.send(1, second, c.request(s1, 1, { op: 'write', key: 'k', value: 'b' }));
  c.runFor(100_000);
  // Client 0 timed out on its first attempt and retries the same command at the new leader.
  c.send(0, second, writeA, attempt1, 2);
  c.runFor(100_000);
  const retryAnswer = c.answer(attempt1);
  c.peerNet.heal(isolation);
  c.clientNet.heal(lostAnswer);
  c.runFor(1_000_000);
  return {
    first,
    second,
    ranAt,
    writeB: c.answer(writeB),
    retryAnswer,
    ranIndexAfter: c.checkers.exactlyOnce.ranIndex(s0, 1),
    values: c.ids.map((id) => c.node(id).digest()),
    duplicates: c.ids.reduce((n, id) => n + c.node(id).stats.duplicateCommands, 0),
    violations: c.checkers.violations(),
    kv: c.ids.map((id) => c.node(id).localRead('k')),
  };
}

describe('a command retried after a leader change', () => {
  it('is applied exactly once: the retry gets the first result, and a write that came between stays', () => {
    const r = retriedAfterLeaderChange(false);
    expect(r.second).not.toBe(r.first);
    expect(r.ranAt).toBeDefined(); // the first attempt was applied (its answer was lost)
    expect(r.writeB?.status).toBe('applied');
    expect(r.retryAnswer?.status).toBe('duplicate');
    expect(r.ranIndexAfter).toBe(r.ranAt);
    expect(r.duplicates).toBeGreaterThanOrEqual(3); // the retry's entry, absorbed on every replica
    expect(r.kv).toEqual(['b', 'b', 'b']);
    expect(new Set(r.values).size).toBe(1);
    expect(r.violations).toEqual([]);
  });

  it('is applied twice with the session layer bypassed, and the exactly-once checker reports it', () => {
    const r = retriedAfterLeaderChange(true);
    expect(r.retryAnswer?.status).toBe('applied');
    expect(r.kv).toEqual(['a', 'a', 'a']); // client 1's acknowledged write was silently overwritten
    expect(r.violations.map((v) => v.property)).toContain('exactly-once');
    expect(r.violations.find((v) => v.property === 'exactly-once')?.detail).toMatch(/applied twice by the inner machine/);
  });
});

describe('a driver that bypasses the session layer is caught end to end', () => {
  it('reports exactly-once violations on whole runs, and the same seeds pass with the real driver', () => {
    const seeds = [1, 2, 3];
    for (const seed of seeds) {
      const broken = runSimulation({ seed, nodes: 5, sabotage: ['bypass-sessions'] });
      expect(broken.safetyViolations.map((v) => v.property)).toContain('exactly-once');
      const healthy = runSimulation({ seed, nodes: 5 });
      expect(healthy.safetyViolations).toEqual([]);
    }
  });
});
