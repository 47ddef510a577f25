/**
 * What this proves: the Raft core refuses what a hostile peer sends, changes nothing when it
 * does (term, log, commit index, configuration), and counts every refusal in
 * `status().counters`; and the legitimate path next to each refusal still works. Each block holds
 * the regression tests of one finding of an outside audit with hostile peers, which failed on
 * the engine before the fix (the legitimate paths beside them passed before too, and must still
 * pass). This file holds the findings on whom a node believes; the bounds on what a peer can
 * make it admit, count or append (findings 4 to 6) are hostile-peers-bounds.test.ts:
 *
 *   1. a leader acted on `propose`, `read-index` and `transfer-leader` from non-members (and a
 *      follower forwarded a non-member's `transfer-leader` to its leader, laundering it);
 *   2. a term beyond `termMax` was believed (2^53 - 1 left nodes unable to campaign), a node at
 *      `termMax` campaigned past it, and a voter believed a higher term from a non-member (a
 *      learner and a joining node still follow a leader they do not know yet, and a lagging
 *      voter whose configuration lacks a newly promoted leader still catches up);
 *   3. a follower took a snapshot (its state and voters), appends and heartbeats from a node that
 *      is not the leader it follows in the term, buffered a snapshot up to 256 MiB, and installed
 *      a snapshot its state machine could not restore (now checked whole first: checkSnapshot);
 *   7. every refusal has a named counter, zero on a fresh node;
 *   8. (found by the end-to-end tests) a member whose log was lost was never caught up again.
 *
 * How: small clusters of `RaftNode`s in memory (hostile-cluster.ts); forged messages are stepped
 * directly.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { makeConfState } from '../../src/core/raft/conf-change.ts';
import { raftDefaults } from '../../src/core/raft/config.ts';
import { termMax } from '../../src/core/raft/limits.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { Cluster, counter, fingerprint, text } from './hostile-cluster.ts';

describe('1. a leader acts only on requests from members', () => {
  it('ignores propose, read-index and transfer-leader from a non-member, and counts them', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const before = fingerprint(leader);
    leader.step({ type: 'propose', from: 'x', to: '1', term: 0, data: [text('evil')] });
    leader.step({ type: 'read-index', from: 'x', to: '1', term: 0, requestId: 7, lease: false });
    leader.step({ type: 'transfer-leader', from: 'x', to: '1', term: 0, transferee: '2' });
    const sent = c.stabilize();
    expect(sent.filter((m) => m.to === 'x')).toEqual([]);
    expect(sent.filter((m) => m.type === 'timeout-now')).toEqual([]);
    expect(fingerprint(leader)).toEqual(before);
    expect(counter(leader, 'messagesFromNonMembers')).toBe(3);
  });

  it('a follower does not forward a non-member transfer-leader to its leader', () => {
    const c = new Cluster(['1', '2', '3']);
    c.elect('1');
    const follower = c.node('2');
    follower.step({ type: 'transfer-leader', from: 'x', to: '2', term: 0, transferee: '2' });
    const sent = c.stabilize();
    expect(sent.filter((m) => m.type === 'transfer-leader' || m.type === 'timeout-now')).toEqual([]);
    expect(c.node('1').status().role).toBe('leader');
    expect(counter(follower, 'messagesFromNonMembers')).toBe(1);
  });

  it('still acts on the same requests from a member', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const last = leader.status().lastIndex;
    leader.step({ type: 'propose', from: '2', to: '1', term: 0, data: [text('ok')] });
    leader.step({ type: 'read-index', from: '2', to: '1', term: 0, requestId: 7, lease: false });
    let sent = c.stabilize();
    expect(leader.status().lastIndex).toBe(last + 1);
    expect(sent.filter((m) => m.type === 'read-index-response' && m.to === '2' && m.index >= 0)).toHaveLength(1);
    leader.step({ type: 'transfer-leader', from: '3', to: '1', term: 0, transferee: '2' });
    sent = c.stabilize();
    expect(sent.filter((m) => m.type === 'timeout-now' && m.to === '2')).toHaveLength(1);
    expect(c.node('2').status().role).toBe('leader');
    expect(counter(leader, 'messagesFromNonMembers')).toBe(0);
  });
});

describe('2a. terms have a ceiling, termMax', () => {
  it('is 2^48, well inside the safe integers', () => {
    expect(termMax).toBe(2 ** 48);
    expect(Number.isSafeInteger(termMax + 1)).toBe(true);
  });

  it.each([2 ** 53 - 1, termMax + 1])('ignores and counts a message of term %s, even from a member', (term) => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const follower = c.node('2');
    const beforeFollower = fingerprint(follower);
    const beforeLeader = fingerprint(leader);
    follower.step({ type: 'heartbeat', from: '3', to: '2', term, commit: 0, round: 1 });
    leader.step({ type: 'append-response', from: '3', to: '1', term, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    expect(fingerprint(follower)).toEqual(beforeFollower);
    expect(fingerprint(leader)).toEqual(beforeLeader);
    expect(counter(follower, 'termsRefused')).toBe(1);
    expect(counter(leader, 'termsRefused')).toBe(1);
    // The cluster goes on.
    expect(leader.propose(text('after')).ok).toBe(true);
    c.stabilize();
    expect(follower.status().commit).toBe(leader.status().lastIndex);
  });

  it.each([true, false])('a node at termMax follows a leader there but never campaigns past it (preVote %s)', (preVote) => {
    const c = new Cluster(['1', '2', '3'], { preVote });
    const node = c.node('2');
    node.step({ type: 'heartbeat', from: '1', to: '2', term: termMax, commit: 0, round: 1 });
    expect(node.status()).toMatchObject({ term: termMax, leader: '1' });
    c.down.add('1');
    const sent: Message[] = [];
    for (let i = 0; i < 5 * raftDefaults.electionTimeoutTicks; i++) {
      node.tick();
      sent.push(...c.stabilize());
    }
    expect(sent.filter((m) => m.term > termMax)).toEqual([]);
    expect(node.status().term).toBe(termMax);
    expect(counter(node, 'termsRefused')).toBeGreaterThan(0);
  });
});

describe('2b. a voter does not believe a higher term from a non-member', () => {
  it('ignores and counts leader messages, answers and votes of a higher term from a non-member', () => {
    const c = new Cluster(['1', '2', '3'], { checkQuorum: false });
    const leader = c.elect('1');
    const follower = c.node('2');
    const term = leader.status().term;
    const beforeFollower = fingerprint(follower);
    const beforeLeader = fingerprint(leader);
    follower.step({ type: 'heartbeat', from: 'x', to: '2', term: term + 5, commit: 0, round: 1 });
    follower.step({ type: 'vote', from: 'x', to: '2', term: term + 9, lastIndex: 1000, lastTerm: term + 8, transfer: false });
    leader.step({ type: 'append-response', from: 'x', to: '1', term: term + 3, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    leader.step({ type: 'vote', from: 'x', to: '1', term: term + 9, lastIndex: 1000, lastTerm: term + 8, transfer: true });
    const sent = c.stabilize();
    expect(sent.filter((m) => m.to === 'x')).toEqual([]);
    expect(fingerprint(follower)).toEqual(beforeFollower);
    expect(fingerprint(leader)).toEqual(beforeLeader);
    expect(counter(follower, 'messagesFromNonMembers')).toBe(2);
    expect(counter(leader, 'messagesFromNonMembers')).toBe(2);
  });

  it('a joining node and a learner follow a leader they do not know yet', () => {
    const joining = new RaftNode({ id: 'j', voters: [], prng: createPrng(1) });
    joining.step({ type: 'heartbeat', from: '1', to: 'j', term: 3, commit: 0, round: 1 });
    expect(joining.status()).toMatchObject({ term: 3, leader: '1' });
    const learner = new RaftNode({ id: '4', voters: ['1', '2', '3'], learners: ['4'], prng: createPrng(1) });
    learner.step({ type: 'append', from: '5', to: '4', term: 7, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
    expect(learner.status()).toMatchObject({ term: 7, leader: '5' });
  });

  it('a lagging voter whose configuration lacks the new leader learns the term from members, then follows it', () => {
    const c = new Cluster(['1', '2', '3']);
    const first = c.elect('1');
    c.down.add('3');
    c.addJoining('4');
    expect(first.proposeConfChange({ type: 'add-learner', node: '4' }).ok).toBe(true);
    c.run(3);
    expect(first.proposeConfChange({ type: 'promote', node: '4' }).ok).toBe(true);
    c.run(3);
    expect(first.transferLeadership('4').ok).toBe(true);
    c.run(3);
    const leader = c.node('4');
    expect(leader.status().role).toBe('leader');
    // 3 comes back with the configuration 1 2 3: to it, 4 is a stranger of a higher term.
    c.down.delete('3');
    const lagging = c.node('3');
    c.run(1);
    expect(lagging.status().term).toBeLessThan(leader.status().term);
    c.run(6 * raftDefaults.electionTimeoutTicks);
    expect(lagging.status()).toMatchObject({ role: 'follower', leader: '4', term: leader.status().term, lastIndex: leader.status().lastIndex });
    expect(lagging.config().voters).toEqual(['1', '2', '3', '4']);
    expect(leader.status().role).toBe('leader');
  });
});

describe('3. a follower takes appends, heartbeats and snapshots only from its leader', () => {
  it('ignores and counts them from another member in the same term', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const follower = c.node('2');
    const term = leader.status().term;
    const before = fingerprint(follower);
    const forgedConfig = makeConfState(['3'], []);
    follower.step({ type: 'snapshot', from: '3', to: '2', term, meta: { index: 100, term, config: forgedConfig }, offset: 0, data: Uint8Array.of(1, 2, 3), done: true, commit: 100 });
    const last = follower.status().lastIndex;
    const entry: Entry = { index: last + 1, term, kind: 'normal', data: text('forged') };
    follower.step({ type: 'append', from: '3', to: '2', term, prevIndex: last, prevTerm: term, entries: [entry], commit: last + 1 });
    follower.step({ type: 'heartbeat', from: '3', to: '2', term, commit: 0, round: 1 });
    const sent = c.stabilize();
    expect(sent.filter((m) => m.from === '2' && m.to === '3')).toEqual([]);
    expect(fingerprint(follower)).toEqual(before);
    expect(counter(follower, 'messagesNotFromLeader')).toBe(3);
    // The real leader is still followed.
    expect(leader.propose(text('real')).ok).toBe(true);
    c.stabilize();
    expect(follower.status()).toMatchObject({ leader: '1', commit: leader.status().lastIndex });
  });

  it('ignores a snapshot of a higher term from a non-member', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const follower = c.node('2');
    const term = leader.status().term + 1;
    const before = fingerprint(follower);
    follower.step({ type: 'snapshot', from: 'x', to: '2', term, meta: { index: 100, term, config: makeConfState(['x'], []) }, offset: 0, data: Uint8Array.of(1), done: true, commit: 100 });
    c.stabilize();
    expect(fingerprint(follower)).toEqual(before);
    expect(counter(follower, 'messagesFromNonMembers')).toBe(1);
  });

  it('buffers at most maxSnapshotBytes of an incoming snapshot, 64 MiB by default', () => {
    expect(raftDefaults.maxSnapshotBytes).toBe(64 * 1024 * 1024);
    const node = new RaftNode({ id: '2', voters: ['1', '2', '3'], prng: createPrng(1) });
    node.step({ type: 'heartbeat', from: '1', to: '2', term: 1, commit: 0, round: 1 });
    node.ready();
    node.advance();
    const meta = { index: 10, term: 1, config: makeConfState(['1', '2', '3'], []) };
    const ignored = node.status().counters.messagesIgnored;
    node.step({ type: 'snapshot', from: '1', to: '2', term: 1, meta, offset: 0, data: new Uint8Array(64 * 1024 * 1024 + 1), done: true, commit: 10 });
    expect(node.hasReady()).toBe(false);
    expect(node.status().commit).toBe(0);
    expect(node.status().counters.messagesIgnored).toBe(ignored + 1);
  });

  it('installs a whole snapshot only when checkSnapshot passes it; a refused one changes nothing and is counted', () => {
    const seen: number[] = [];
    const checkSnapshot = (s: { meta: { index: number }; data: Uint8Array }): string | null => {
      seen.push(s.meta.index);
      return s.data[0] === 0xff ? 'junk' : null;
    };
    const node = new RaftNode({ id: '2', voters: ['1', '2', '3'], prng: createPrng(1), checkSnapshot });
    node.step({ type: 'heartbeat', from: '1', to: '2', term: 1, commit: 0, round: 1 });
    node.ready();
    node.advance();
    const meta = (index: number) => ({ index, term: 1, config: makeConfState(['1', '2', '3'], []) });
    // In two chunks: checked once, whole.
    node.step({ type: 'snapshot', from: '1', to: '2', term: 1, meta: meta(10), offset: 0, data: Uint8Array.of(0xff), done: false, commit: 10 });
    node.ready();
    node.advance();
    node.step({ type: 'snapshot', from: '1', to: '2', term: 1, meta: meta(10), offset: 1, data: Uint8Array.of(2), done: true, commit: 10 });
    expect(seen).toEqual([10]);
    expect(node.hasReady()).toBe(false);
    expect(node.status().commit).toBe(0);
    expect(node.status().counters.snapshotsRefused).toBe(1);
    // A good one, from the start again, is installed.
    node.step({ type: 'snapshot', from: '1', to: '2', term: 1, meta: meta(12), offset: 0, data: Uint8Array.of(1), done: true, commit: 12 });
    expect(seen).toEqual([10, 12]);
    const rd = node.ready();
    expect(rd.snapshot?.meta.index).toBe(12);
    expect(node.status().counters.snapshotsRefused).toBe(1);
  });
});

describe('7. counters', () => {
  it('every refusal has a named counter in status(), zero on a fresh node', () => {
    const node = new RaftNode({ id: '1', voters: ['1'], prng: createPrng(1) });
    expect(node.status().counters).toMatchObject({
      messagesFromNonMembers: 0,
      messagesNotFromLeader: 0,
      termsRefused: 0,
      acksRefused: 0,
      joinsRefused: 0,
      proposalsRefused: 0,
      snapshotsRefused: 0,
      followersLostLog: 0,
    });
  });
});

describe('8. a follower that lost its log is caught up again', () => {
  // Found by the end-to-end hostile-peer tests: a member back under its old id with an empty log
  // (a browser evicted its database) was probed at the leader's record of its match forever,
  // rejecting each probe, and never caught up; in a driver the pair exchanged thousands of
  // append and append-response messages a second.
  it('restarts its progress from what it holds when it answers below what it acknowledged', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    for (let i = 0; i < 25; i++) leader.propose(text(`v${i}`));
    c.stabilize();
    expect(c.node('3').status().lastIndex).toBe(leader.status().lastIndex);
    c.nodes.set('3', new RaftNode({ id: '3', voters: ['1', '2', '3'], prng: createPrng(99) }));
    leader.propose(text('after'));
    c.run(3); // threw 'the cluster did not settle' before the fix
    expect(c.node('3').status().lastIndex).toBe(leader.status().lastIndex);
    expect(counter(leader, 'followersLostLog')).toBe(1);
    expect(leader.status().commit).toBe(leader.status().lastIndex);
  });

  it('takes a stale rejection (of an append sent before a later acknowledgement) for what it is', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    for (let i = 0; i < 5; i++) leader.propose(text(`v${i}`));
    c.stabilize();
    const term = leader.status().term;
    leader.step({ type: 'append-response', from: '3', to: '1', term, index: 2, reject: true, hintIndex: 1, hintTerm: term });
    c.stabilize();
    expect(counter(leader, 'followersLostLog')).toBe(0);
  });
});
