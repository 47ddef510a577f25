/**
 * A candidate leads only once its own term and vote are durable, even when its own vote alone
 * wins (a single voter). A leader's appends leave before its write (`sendableBeforePersist`,
 * dissertation §10.2.1); if a single voter could lead in the same Ready that first writes its
 * term, a crash before that write would let it win the same term again and send other entries
 * at the same indices, and a learner holding the first ones would keep them (they match on index
 * and term) and apply commands the leader never committed. Found by review; this is the
 * regression test: the learner's applied commands are always a prefix of the leader's.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import { sendableBeforePersist, type Message } from '../../src/core/raft/messages.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import type { Entry } from '../../src/core/raft/types.ts';
import { MemoryRaftStorage } from '../../src/io/storage/memory-storage.ts';
import { writeForReady } from '../../src/io/storage/storage.ts';

const config = (id: string) => ({ id, voters: ['a'], learners: ['b'], prng: createPrng(1) });
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const normal = (entries: readonly Entry[]): string[] => entries.filter((e) => e.kind === 'normal').map((e) => `${e.index}:${new TextDecoder().decode(e.data)}`);

describe('a candidate counts its own vote once it is durable', () => {
  it('a single voter is a candidate until its first Ready is advanced, and sends nothing early before', () => {
    const a = new RaftNode(config('a'));
    a.campaign();
    expect(a.status().role).toBe('candidate');
    const rd = a.ready();
    expect(rd.hardState).toMatchObject({ term: 1, vote: 'a' });
    expect(rd.messages.filter(sendableBeforePersist)).toEqual([]);
    a.advance();
    expect(a.status().role).toBe('leader');
  });

  it('a single voter that crashes before its first write cannot make a learner apply what it never committed', async () => {
    const storage = new MemoryRaftStorage();
    const b = new RaftNode(config('b'));
    const appliedB: string[] = [];
    const toB = (messages: readonly Message[]): void => {
      for (const m of messages) if (m.to === 'b') b.step(m);
    };
    const drainB = (a: RaftNode | null): void => {
      while (b.hasReady()) {
        const rd = b.ready();
        if (a !== null) for (const m of rd.messages) a.step(m);
        appliedB.push(...normal(rd.committedEntries));
        b.advance();
      }
    };

    // Life 1 of a: campaign and propose; whatever may leave before the write leaves; crash.
    let a = new RaftNode(config('a'), await storage.boot());
    a.campaign();
    a.propose(text('P'));
    toB(a.ready().messages.filter(sendableBeforePersist));
    drainB(null);
    storage.crash();

    // Life 2 of a: the same term again, another command.
    a = new RaftNode(config('a'), await storage.boot());
    a.campaign();
    const appliedA: string[] = [];
    let proposed = false;
    for (let i = 0; i < 40; i++) {
      if (!proposed && a.status().role === 'leader') proposed = a.propose(text('Q')).ok;
      if (!a.hasReady()) {
        a.tick();
        continue;
      }
      const rd = a.ready();
      toB(rd.messages.filter(sendableBeforePersist));
      await storage.write(writeForReady(rd));
      toB(rd.messages.filter((m) => !sendableBeforePersist(m)));
      appliedA.push(...normal(rd.committedEntries));
      a.advance();
      drainB(a);
    }
    expect(appliedA).toContain('2:Q');
    expect(appliedA.slice(0, appliedB.length)).toEqual(appliedB);
    expect(appliedB).not.toContain('2:P');
  });
});
