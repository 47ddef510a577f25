/**
 * What this proves: while a follower's write is in flight, `readyWhileWriting` hands out the
 * committed entries that are already durable there (written by an earlier Ready), exactly once
 * and in log order, and nothing that is not durable yet; and nothing at all when no write is
 * outstanding. Three in-process nodes, messages delivered by hand, so the moment the commit index
 * reaches the follower (after it began writing the next entry) is chosen by the test.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import { RaftNode } from '../../src/core/raft/raft-node.ts';
import type { Entry } from '../../src/core/raft/types.ts';

const ids = ['a', 'b', 'c'];
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const names = (entries: readonly Entry[]): string[] => entries.filter((e) => e.kind === 'normal').map((e) => new TextDecoder().decode(e.data));

function cluster() {
  const nodes = new Map(ids.map((id, i) => [id, new RaftNode({ id, voters: ids, prng: createPrng(i + 1) })]));
  const node = (id: string): RaftNode => nodes.get(id) as RaftNode;
  const deliver = (messages: readonly Message[]): void => {
    for (const m of messages) node(m.to).step(m);
  };
  /** Handle every Ready of every node (writes durable at once) until none is left. */
  const settle = (): void => {
    for (let round = 0; round < 100; round++) {
      let any = false;
      for (const n of nodes.values()) {
        while (n.hasReady()) {
          any = true;
          const rd = n.ready();
          n.advance();
          deliver(rd.messages);
        }
      }
      if (!any) return;
    }
    throw new Error('the cluster does not settle');
  };
  return { node, deliver, settle };
}

describe('readyWhileWriting', () => {
  it('applies on a follower the committed entries already durable there, while its next write is in flight', () => {
    const { node, deliver, settle } = cluster();
    node('a').campaign();
    settle();
    expect(node('a').status().role).toBe('leader');
    const [a, b, c] = [node('a'), node('b'), node('c')];

    // x2 reaches both followers, who write it (durable) and acknowledge; the acks wait.
    a.propose(text('x2'));
    const rdA = a.ready();
    a.advance();
    deliver(rdA.messages);
    const acks: Message[] = [];
    for (const f of [b, c]) {
      const rd = f.ready();
      f.advance();
      acks.push(...rd.messages);
    }
    // x3 reaches b, which begins writing it (its Ready stays outstanding).
    a.propose(text('x3'));
    const rdA3 = a.ready();
    a.advance();
    deliver(rdA3.messages.filter((m) => m.to === 'b'));
    const writing = b.ready();
    expect(names(writing.entries)).toEqual(['x3']);
    expect(names(writing.committedEntries)).toEqual([]);
    expect(b.readyWhileWriting()).toBeNull();

    // The acks of x2 commit it at the leader, whose next append tells b.
    deliver(acks);
    const rdCommit = a.ready();
    a.advance();
    deliver(rdCommit.messages.filter((m) => m.to === 'b'));
    const early = b.readyWhileWriting();
    expect(early).not.toBeNull();
    expect(names(early?.committedEntries ?? [])).toEqual(['x2']);
    expect(early?.mustPersist).toBe(false);
    expect(early?.messages).toEqual([]);
    // Once only.
    expect(b.readyWhileWriting()).toBeNull();

    // x3 is not durable on b until its write completes: it is never handed out early.
    b.advance();
    expect(b.readyWhileWriting()).toBeNull();
    settle();
    expect(b.status().applied).toBe(a.status().commit);
  });

  it('hands out nothing while the outstanding Ready still has entries to apply after its write', () => {
    const { node, deliver, settle } = cluster();
    node('a').campaign();
    settle();
    const [a, b, c] = [node('a'), node('b'), node('c')];
    // c acknowledges x2 before b has it, so the leader commits x2 and b gets x2 and its commit in
    // one append: b applies x2 only after writing it.
    a.propose(text('x2'));
    const rdA = a.ready();
    a.advance();
    deliver(rdA.messages.filter((m) => m.to === 'c'));
    const rdC = c.ready();
    c.advance();
    deliver(rdC.messages);
    const rdCommit = a.ready();
    a.advance();
    deliver([...rdA.messages, ...rdCommit.messages].filter((m) => m.to === 'b'));
    const rdB = b.ready();
    expect(names(rdB.entries)).toEqual(['x2']);
    expect(rdB.appliedBeforeWrite).toBeLessThan(rdB.committedEntries.length);
    expect(b.readyWhileWriting()).toBeNull();
    b.advance();
    settle();
  });
});
