/**
 * What this proves: the Raft core bounds what a hostile peer can make it admit, count toward a
 * commit or append, changes nothing when it refuses (term, log, commit index, configuration, the
 * leader's progress as its commit shows it), and counts every refusal in `status().counters`;
 * and the legitimate path next to each refusal still works. Each block holds the regression
 * tests of one finding of an outside audit with hostile peers, which failed on the engine before
 * the fix (findings 1 to 3, on whom a node believes, are hostile-peers.test.ts):
 *
 *   4. outsiders became voters without bound: `votersMax`, `learnersMax`, and a join rate limit;
 *   5. a leader counted an acknowledgement of entries it never sent (or of a snapshot not in
 *      flight) toward a commit;
 *   6. a `propose` message of any size was appended whole, up to 65,536 uncommitted entries.
 *
 * How: small clusters of `RaftNode`s in memory (hostile-cluster.ts); forged messages are stepped
 * directly.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { applyConfChange, makeConfState } from '../../src/core/raft/conf-change.ts';
import { raftDefaults, resolveRaftConfig, type RaftConfig } from '../../src/core/raft/config.ts';
import { ConfigError } from '../../src/core/raft/errors.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { Cluster, counter, fingerprint, text } from './hostile-cluster.ts';

describe('4. admission: voters and learners have a ceiling, joins a rate', () => {
  it('defaults: 7 voters, 16 learners, 2 joins per election timeout', () => {
    expect(raftDefaults).toMatchObject({ votersMax: 7, learnersMax: 16, joinsPerElectionTimeoutMax: 2 });
  });

  it('refuses configs whose limits contradict each other or the bootstrap configuration', () => {
    const base: RaftConfig = { id: '1', voters: ['1', '2', '3'], prng: createPrng(1) };
    expect(() => resolveRaftConfig({ ...base, votersMax: 2 })).toThrow(ConfigError);
    expect(() => resolveRaftConfig({ ...base, votersMax: 4, minVoters: 5 })).toThrow(/votersMax/);
    expect(() => resolveRaftConfig({ ...base, learners: ['4', '5'], learnersMax: 1 })).toThrow(/learnersMax/);
    expect(() => resolveRaftConfig({ ...base, votersMax: 0 })).toThrow(ConfigError);
    expect(() => resolveRaftConfig({ ...base, learnersMax: -1 })).toThrow(ConfigError);
    expect(() => resolveRaftConfig({ ...base, joinsPerElectionTimeoutMax: 1.5 })).toThrow(ConfigError);
    expect(() => resolveRaftConfig({ ...base, proposalsPerMessageMax: 0 })).toThrow(ConfigError);
    expect(() => resolveRaftConfig({ ...base, votersMax: 3, learnersMax: 0, joinsPerElectionTimeoutMax: 0 })).not.toThrow();
  });

  it('applyConfChange refuses a promotion at votersMax and a learner beyond learnersMax', () => {
    const conf = makeConfState(['1', '2', '3'], ['4']);
    expect(applyConfChange(conf, { type: 'promote', node: '4' }, { votersMax: 3, learnersMax: 16 })).toEqual({ invalid: 'the configuration has votersMax (3) voters' });
    expect(applyConfChange(conf, { type: 'add-learner', node: '5' }, { votersMax: 7, learnersMax: 1 })).toEqual({ invalid: 'the configuration has learnersMax (1) learners' });
    expect('conf' in applyConfChange(conf, { type: 'promote', node: '4' }, { votersMax: 4, learnersMax: 1 })).toBe(true);
    expect('conf' in applyConfChange(conf, { type: 'add-learner', node: '5' }, { votersMax: 3, learnersMax: 2 })).toBe(true);
  });

  it('a leader refuses promote at votersMax and add-learner at learnersMax, and the autopilot stops promoting', () => {
    const c = new Cluster(['1', '2', '3'], { votersMax: 3, learnersMax: 1, promoteLearnerAfterTicks: 2 }, ['4']);
    const leader = c.elect('1');
    c.run(3 * raftDefaults.electionTimeoutTicks);
    expect(leader.config()).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
    const promote = leader.proposeConfChange({ type: 'promote', node: '4' });
    expect(!promote.ok && promote.error.message).toMatch(/votersMax/);
    const add = leader.proposeConfChange({ type: 'add-learner', node: '5' });
    expect(!add.ok && add.error.message).toMatch(/learnersMax/);
    // Below the ceiling the same changes pass.
    expect(leader.proposeConfChange({ type: 'remove', node: '3' }).ok).toBe(true);
    c.run(2 * raftDefaults.electionTimeoutTicks);
    expect(leader.config()).toEqual({ voters: ['1', '2', '4'], learners: [] });
  });

  it('a leader acts on at most joinsPerElectionTimeoutMax joins per election timeout, counting the rest', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    for (const id of ['j1', 'j2', 'j3']) {
      // j3's request comes through a follower: the limit is the leader's, whoever forwards.
      const via = id === 'j3' ? '2' : '1';
      c.node(via).step({ type: 'join', from: id, to: via, term: 0, node: id });
      c.stabilize();
    }
    expect(leader.config().learners).toEqual(['j1', 'j2']);
    expect(counter(leader, 'joinsRefused')).toBe(1);
    c.run(raftDefaults.electionTimeoutTicks);
    leader.step({ type: 'join', from: 'j3', to: '1', term: 0, node: 'j3' });
    c.stabilize();
    expect(leader.config().learners).toEqual(['j1', 'j2', 'j3']);
  });

  it('a join beyond learnersMax is refused and counted', () => {
    const c = new Cluster(['1', '2', '3'], { learnersMax: 1 });
    const leader = c.elect('1');
    leader.step({ type: 'join', from: 'j1', to: '1', term: 0, node: 'j1' });
    c.stabilize();
    leader.step({ type: 'join', from: 'j2', to: '1', term: 0, node: 'j2' });
    c.stabilize();
    expect(leader.config().learners).toEqual(['j1']);
    expect(counter(leader, 'joinsRefused')).toBe(1);
  });
});

describe('5. a leader counts only acknowledgements of what it sent', () => {
  /** A leader whose followers are down, with `a` sent to them and `b` held back by flow control. */
  function leaderWithUnsentEntry(): { c: Cluster; leader: RaftNode; a: number; b: number } {
    const c = new Cluster(['1', '2', '3'], { maxInflightAppends: 1 });
    const leader = c.elect('1');
    c.down.add('2');
    c.down.add('3');
    const a = leader.propose(text('a'));
    c.stabilize();
    const b = leader.propose(text('b'));
    const sent = c.stabilize();
    if (!a.ok || !b.ok || !('index' in a.value) || !('index' in b.value)) throw new Error('not appended');
    // Flow control: `b` never left.
    expect(sent.filter((m) => m.type === 'append' && m.entries.some((e) => e.index === (b.value as { index: number }).index))).toEqual([]);
    return { c, leader, a: a.value.index, b: b.value.index };
  }

  it('ignores and counts an append-response acknowledging an index it never sent', () => {
    const { leader, b } = leaderWithUnsentEntry();
    const term = leader.status().term;
    const before = fingerprint(leader);
    for (const index of [b, b + 50]) {
      leader.step({ type: 'append-response', from: '2', to: '1', term, index, reject: false, hintIndex: 0, hintTerm: 0 });
    }
    leader.step({ type: 'append-response', from: '2', to: '1', term, index: b + 7, reject: true, hintIndex: b + 7, hintTerm: term });
    expect(fingerprint(leader)).toEqual(before);
    expect(counter(leader, 'acksRefused')).toBe(3);
  });

  it('ignores and counts a snapshot-response done for a snapshot not in flight', () => {
    const { leader, b } = leaderWithUnsentEntry();
    const term = leader.status().term;
    const before = fingerprint(leader);
    leader.step({ type: 'snapshot-response', from: '2', to: '1', term, index: b, received: 1, done: true });
    expect(fingerprint(leader)).toEqual(before);
    expect(counter(leader, 'acksRefused')).toBe(1);
  });

  it('ignores and counts acknowledgements from a non-member', () => {
    const { leader, b } = leaderWithUnsentEntry();
    const term = leader.status().term;
    const before = fingerprint(leader);
    leader.step({ type: 'append-response', from: 'x', to: '1', term, index: b, reject: false, hintIndex: 0, hintTerm: 0 });
    leader.step({ type: 'snapshot-response', from: 'x', to: '1', term, index: b, received: 1, done: true });
    leader.step({ type: 'heartbeat-response', from: 'x', to: '1', term, round: 1 });
    expect(fingerprint(leader)).toEqual(before);
    expect(counter(leader, 'messagesFromNonMembers')).toBe(3);
  });

  it('commits once a real follower acknowledges', () => {
    const { c, leader, b } = leaderWithUnsentEntry();
    c.down.delete('2');
    c.run(3);
    expect(leader.status().commit).toBe(b);
    expect(counter(leader, 'acksRefused')).toBe(0);
  });

  it('a follower acknowledges no more than an append carried, even when it committed more', () => {
    const node = new RaftNode({ id: '2', voters: ['1', '2', '3'], prng: createPrng(1) });
    const entries: Entry[] = [1, 2, 3, 4, 5].map((index) => ({ index, term: 1, kind: 'normal', data: new Uint8Array(0) }));
    node.step({ type: 'append', from: '1', to: '2', term: 1, prevIndex: 0, prevTerm: 0, entries, commit: 5 });
    node.ready();
    node.advance();
    // A delayed duplicate of an earlier append, wholly below the commit index.
    node.step({ type: 'append', from: '1', to: '2', term: 1, prevIndex: 1, prevTerm: 1, entries: entries.slice(1, 3), commit: 3 });
    const answers = node.ready().messages;
    expect(answers.map((m) => m.type === 'append-response' && m.index)).toEqual([3]);
  });
});

describe('6. a forwarded propose message is bounded', () => {
  it('appends at most proposalsPerMessageMax commands of one message, counting the rest', () => {
    expect(raftDefaults).toMatchObject({ proposalsPerMessageMax: 256, maxUncommittedEntries: 8192 });
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const last = leader.status().lastIndex;
    const data = Array.from({ length: 300 }, (_, i) => text(`c${i}`));
    leader.step({ type: 'propose', from: '2', to: '1', term: 0, data });
    c.stabilize();
    expect(leader.status().lastIndex).toBe(last + 256);
    expect(counter(leader, 'proposalsRefused')).toBe(44);
  });
});
