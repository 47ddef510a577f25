/**
 * Shared by the hostile-peer tests of the Raft core (hostile-peers.test.ts,
 * hostile-peers-bounds.test.ts): a small cluster of `RaftNode`s in memory whose Readies are
 * handled at once (written, sent, advanced) and whose messages are stepped into the live nodes,
 * losing those to down or unknown nodes; what a forged message must leave alone (`fingerprint`);
 * and a refusal counter of `status()` by name.
 */
import { expect } from 'vitest';
import { createPrng } from '../../src/core/prng.ts';
import type { RaftConfig } from '../../src/core/raft/config.ts';
import type { Message } from '../../src/core/raft/messages.ts';
import { RaftNode, type RaftStatus } from '../../src/core/raft/raft-node.ts';

export type Options = Omit<Partial<RaftConfig>, 'id' | 'voters' | 'learners' | 'prng'>;

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A cluster in memory: Readies handled at once, messages to down or unknown nodes lost. */
export class Cluster {
  readonly nodes = new Map<string, RaftNode>();
  readonly down = new Set<string>();
  private seed = 1;

  constructor(
    voters: readonly string[],
    private readonly options: Options = {},
    learners: readonly string[] = [],
  ) {
    for (const id of [...voters, ...learners]) this.nodes.set(id, this.make(id, voters, learners));
  }

  /** A node that boots with no configuration, to join (`voters: []`). */
  addJoining(id: string): RaftNode {
    const node = this.make(id, [], []);
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Handle Readies and deliver their messages until nothing moves; returns what was sent. */
  stabilize(): Message[] {
    const sent: Message[] = [];
    for (let round = 0; round < 10_000; round++) {
      let moved = false;
      for (const [id, node] of this.nodes) {
        if (this.down.has(id) || !node.hasReady()) continue;
        moved = true;
        const rd = node.ready();
        node.advance();
        for (const m of rd.messages) {
          sent.push(m);
          this.deliver(m);
        }
      }
      if (!moved) return sent;
    }
    throw new Error('the cluster did not settle');
  }

  deliver(m: Message): void {
    if (!this.down.has(m.to)) this.nodes.get(m.to)?.step(m);
  }

  /** Tick every live node once and stabilize, `n` times; returns what was sent. */
  run(n: number): Message[] {
    const sent: Message[] = [];
    for (let i = 0; i < n; i++) {
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.tick();
      sent.push(...this.stabilize());
    }
    return sent;
  }

  elect(id: string): RaftNode {
    const node = this.node(id);
    node.campaign();
    this.stabilize();
    expect(node.status().role).toBe('leader');
    return node;
  }

  private make(id: string, voters: readonly string[], learners: readonly string[]): RaftNode {
    return new RaftNode({ id, voters, learners, prng: createPrng(this.seed++), ...this.options });
  }
}

/** What a forged message must leave alone. */
export function fingerprint(node: RaftNode): unknown {
  const s: RaftStatus = node.status();
  return { role: s.role, term: s.term, vote: s.vote, leader: s.leader, commit: s.commit, lastIndex: s.lastIndex, lastTerm: s.lastTerm, config: node.config() };
}

export function counter(node: RaftNode, name: string): number {
  return (node.status().counters as unknown as Record<string, number>)[name] ?? Number.NaN;
}
