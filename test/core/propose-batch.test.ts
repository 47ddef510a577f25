/**
 * What this proves: `step({ local: 'propose-batch' })` is a batch of `propose` steps with one
 * answer. On the leader the commands are appended in order at consecutive indices, and the
 * cluster commits exactly the log the same commands proposed one by one commit; a refusal in the
 * middle (the uncommitted limit) stops the batch there and names the refusal, the commands
 * before it appended and none after it; a refused first command is a refusal. A follower
 * forwards the whole batch (in `propose` messages the leader appends in order), or none of it
 * when a command is too large; a node that knows no leader refuses with NOT_LEADER.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, text } from './hostile-cluster.ts';
import type { RaftNode } from '../../src/core/raft/raft-node.ts';

const commands = (n: number, prefix = 'c'): Uint8Array[] => Array.from({ length: n }, (_, i) => text(`${prefix}${i}`));

/** The normal entries every node of `c` applied, decoded, in order (the same on every node). */
function appliedLog(c: Cluster, nodes: readonly RaftNode[]): string[] {
  const logs = nodes.map(() => [] as string[]);
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const [j, node] of nodes.entries()) {
      if (!node.hasReady()) continue;
      moved = true;
      const rd = node.ready();
      for (const e of rd.committedEntries) if (e.kind === 'normal') (logs[j] as string[]).push(new TextDecoder().decode(e.data));
      node.advance();
      for (const m of rd.messages) c.deliver(m);
    }
    if (!moved) break;
  }
  for (const log of logs) expect(log).toEqual(logs[0]);
  return logs[0] as string[];
}

describe('propose-batch', () => {
  it('appends a batch on the leader at consecutive indices and commits what one-by-one proposals commit', () => {
    const batched = new Cluster(['1', '2', '3']);
    const leader = batched.elect('1');
    const first = leader.status().lastIndex + 1;
    const r = leader.step({ local: 'propose-batch', data: commands(50) });
    expect(r).toEqual({ ok: true, value: { kind: 'appended-batch', firstIndex: first, count: 50, term: leader.status().term, refused: null } });
    const batchedLog = appliedLog(batched, [...batched.nodes.values()]);

    const single = new Cluster(['1', '2', '3']);
    const leader2 = single.elect('1');
    for (const d of commands(50)) expect(leader2.step({ local: 'propose', data: d }).ok).toBe(true);
    expect(appliedLog(single, [...single.nodes.values()])).toEqual(batchedLog);
    expect(batchedLog).toEqual(commands(50).map((d) => new TextDecoder().decode(d)));
  });

  it('stops at the first refusal, naming it, with the commands before it appended and none after', () => {
    const c = new Cluster(['1', '2', '3'], { maxUncommittedEntries: 10 });
    const leader = c.elect('1');
    const before = leader.status().lastIndex;
    const r = leader.step({ local: 'propose-batch', data: commands(25) });
    if (!r.ok || r.value.kind !== 'appended-batch') throw new Error(`expected a partial batch, got ${JSON.stringify(r)}`);
    expect(r.value.count).toBe(10);
    expect(r.value.refused?.reason).toBe('uncommitted-limit');
    expect(leader.status().lastIndex).toBe(before + 10);
    // Nothing appended: the refusal itself.
    const none = leader.step({ local: 'propose-batch', data: commands(3, 'd') });
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.error.code).toBe('PROPOSAL_DROPPED');
    expect(leader.status().lastIndex).toBe(before + 10);
  });

  it('is forwarded whole by a follower, refused whole when a command is too large, and refused without a leader', () => {
    const c = new Cluster(['1', '2', '3'], { maxCommandBytes: 100 });
    const leader = c.elect('1');
    const follower = c.node('2');
    const before = leader.status().lastIndex;
    expect(follower.step({ local: 'propose-batch', data: commands(20) })).toEqual({ ok: true, value: { kind: 'forwarded', to: '1' } });
    c.stabilize();
    expect(leader.status().lastIndex).toBe(before + 20);

    const tooLarge = follower.step({ local: 'propose-batch', data: [text('a'), new Uint8Array(101)] });
    expect(tooLarge.ok).toBe(false);
    expect(follower.hasReady()).toBe(false);

    const alone = new Cluster(['1', '2', '3']).node('3');
    const r = alone.step({ local: 'propose-batch', data: commands(2) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('NOT_LEADER');
  });
});
