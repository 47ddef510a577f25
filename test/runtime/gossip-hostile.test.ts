/**
 * What this proves: frames of family `gossip` pass the same gate as Raft's (the frame router:
 * envelope, sender, the link's tag under the cluster secret, the gossip codec) before the gossip
 * engine sees them, and every refusal is counted by cause, never thrown:
 *
 * - with a secret: an outsider's untagged gossip join is `unauthenticated`; a node started with
 *   a wrong secret is refused at its hellos and frames (`hello-bad-tag` / `bad-tag`), never
 *   becomes a member anywhere and sees no member alive itself;
 * - a frame whose envelope names a member but that came over another peer's link is
 *   `wrong-sender`; a gossip body that is not a gossip message is refused by the codec's code;
 * - a node that does not run gossip refuses gossip frames as UNSUPPORTED_FAMILY, and a
 *   gossip-only node refuses Raft frames alike (no engine here speaks the family).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeGossipBody } from '../../src/io/codec-gossip.ts';
import { encodeRaftBody } from '../../src/io/codec-raft.ts';
import { encodeEnvelope } from '../../src/io/envelope.ts';
import type { MemoryTransport } from '../../src/io/transport/memory-transport.ts';
import { GossipTestCluster, until } from './gossip-test-cluster.ts';

const secret = 'the cluster secret: 32 bytes....';
const wrongSecret = 'a secret the cluster never had..';
const cluster = 'gossip-test';
let clusters: GossipTestCluster[] = [];
let outsiders: MemoryTransport[] = [];

afterEach(async () => {
  await Promise.all(clusters.map((c) => c.stopAll()));
  await Promise.all(outsiders.map((t) => t.close()));
  clusters = [];
  outsiders = [];
});

async function start(ids: readonly string[], options: Parameters<typeof GossipTestCluster.start>[1]): Promise<GossipTestCluster> {
  const c = await GossipTestCluster.start(ids, options);
  clusters.push(c);
  return c;
}

function outsider(c: GossipTestCluster, id: string): MemoryTransport {
  const t = c.hub.connect(id);
  outsiders.push(t);
  return t;
}

const joinBody = (from: string, to: string): Uint8Array => encodeGossipBody({ type: 'join', from, to, incarnation: 1 });
const dropped = (c: GossipTestCluster, id: string, cause: string): number => c.node(id).host.metrics().router.dropped[cause] ?? 0;

describe('gossip frames from outside the cluster', () => {
  it('with a secret: an untagged join is refused and counted, and changes no view', async () => {
    const c = await start(['g1', 'g2'], { protocols: ['gossip'], secret });
    await until('convergence', () => c.converged());
    const t = outsider(c, 'intruder');
    for (let i = 0; i < 5; i++) t.send('g1', encodeEnvelope({ family: 'gossip', cluster, from: 'intruder', to: 'g1', seq: 0 }, joinBody('intruder', 'g1')));
    await until('the refusals to be counted', () => dropped(c, 'g1', 'unauthenticated') >= 5);
    // Nothing from the intruder reached the engine: it is a member of nobody's view, ever.
    await new Promise((r) => setTimeout(r, 100));
    expect(c.view('g1', 'intruder')).toBeUndefined();
    expect(c.view('g2', 'intruder')).toBeUndefined();
  });

  it('a node with a wrong secret is refused at every frame and joins nobody', async () => {
    const c = await start(['g1', 'g2', 'g3'], { protocols: ['gossip'], secret });
    await until('convergence', () => c.converged());
    const bad = await c.boot('bad', { secret: wrongSecret });
    await until('the wrong secret to be refused', () => ['g1', 'g2', 'g3'].some((id) => dropped(c, id, 'hello-bad-tag') + dropped(c, id, 'bad-tag') > 0));
    await new Promise((r) => setTimeout(r, 300));
    for (const id of ['g1', 'g2', 'g3']) expect(c.view(id, 'bad')).toBeUndefined();
    expect(bad.host.members().filter((m) => !m.self && m.state === 'alive')).toEqual([]);
    expect(bad.host.members()[0]?.state).toBe('joining');
  });

  it('without a secret: a frame under another member name is wrong-sender; a bad body is the codec code', async () => {
    const c = await start(['g1', 'g2'], { protocols: ['gossip'] });
    await until('convergence', () => c.converged());
    const t = outsider(c, 'intruder');
    t.send('g1', encodeEnvelope({ family: 'gossip', cluster, from: 'g2', to: 'g1', seq: 0 }, encodeGossipBody({ type: 'leave', from: 'g2', to: 'g1', incarnation: 99 })));
    t.send('g1', encodeEnvelope({ family: 'gossip', cluster, from: 'intruder', to: 'g1', seq: 0 }, encodeRaftBody({ type: 'heartbeat', from: 'intruder', to: 'g1', term: 1, commit: 0, round: 1 })));
    t.send('g1', encodeEnvelope({ family: 'gossip', cluster, from: 'intruder', to: 'g1', seq: 0 }, Uint8Array.of(0xc1)));
    await until('three refusals', () => dropped(c, 'g1', 'wrong-sender') === 1 && dropped(c, 'g1', 'UNKNOWN_TYPE') === 1 && dropped(c, 'g1', 'MALFORMED') === 1);
    // The forged leave never reached the engine: g2 is still alive for g1.
    expect(c.view('g1', 'g2')?.state).toBe('alive');
    expect(c.view('g1', 'intruder')).toBeUndefined();
  });

  it('a family no engine of the node speaks is UNSUPPORTED_FAMILY, both ways', async () => {
    const raftOnly = await start(['r1'], { protocols: ['raft'] });
    const t1 = outsider(raftOnly, 'intruder');
    t1.send('r1', encodeEnvelope({ family: 'gossip', cluster, from: 'intruder', to: 'r1', seq: 0 }, joinBody('intruder', 'r1')));
    await until('the gossip frame refused by a Raft-only node', () => dropped(raftOnly, 'r1', 'UNSUPPORTED_FAMILY') === 1);
    expect(raftOnly.node('r1').host.status().gossip).toBeNull();

    const gossipOnly = await start(['g1'], { protocols: ['gossip'] });
    const t2 = outsider(gossipOnly, 'intruder');
    t2.send('g1', encodeEnvelope({ family: 'raft', cluster, from: 'intruder', to: 'g1', seq: 0 }, encodeRaftBody({ type: 'heartbeat', from: 'intruder', to: 'g1', term: 1, commit: 0, round: 1 })));
    await until('the Raft frame refused by a gossip-only node', () => dropped(gossipOnly, 'g1', 'UNSUPPORTED_FAMILY') === 1);
  });
});
