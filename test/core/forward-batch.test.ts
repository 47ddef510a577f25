/**
 * What this proves: a follower forwards the commands proposed to it between two Readies in ONE
 * `propose` message to the leader (up to `proposalsPerMessageMax` commands and
 * `maxBytesPerAppend` bytes, the most a leader appends from one message), not one message per
 * command, and the leader appends every one of them, in order.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/raft/messages.ts';
import { Cluster, text } from './hostile-cluster.ts';

const proposeMessages = (messages: readonly Message[]): Extract<Message, { type: 'propose' }>[] =>
  messages.filter((m): m is Extract<Message, { type: 'propose' }> => m.type === 'propose');

describe('a follower forwards proposals in batches', () => {
  it('puts the commands of one Ready in one message, and the leader appends them in order', () => {
    const c = new Cluster(['1', '2', '3']);
    const leader = c.elect('1');
    const follower = c.node('2');
    const last = leader.status().lastIndex;
    for (let i = 0; i < 10; i++) expect(follower.step({ local: 'propose', data: text(`c${i}`) }).ok).toBe(true);
    const forwarded = proposeMessages(c.stabilize());
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.data.map((d) => new TextDecoder().decode(d))).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
    expect(leader.status().lastIndex).toBe(last + 10);
  });

  it('starts a new message past proposalsPerMessageMax commands or maxBytesPerAppend bytes', () => {
    const c = new Cluster(['1', '2', '3'], { proposalsPerMessageMax: 4, maxBytesPerAppend: 1000 });
    c.elect('1');
    const follower = c.node('2');
    for (let i = 0; i < 10; i++) follower.step({ local: 'propose', data: text(`c${i}`) });
    expect(proposeMessages(follower.ready().messages).map((m) => m.data.length)).toEqual([4, 4, 2]);
    follower.advance();
    for (let i = 0; i < 3; i++) follower.step({ local: 'propose', data: new Uint8Array(400) });
    expect(proposeMessages(follower.ready().messages).map((m) => m.data.length)).toEqual([2, 1]);
  });
});
