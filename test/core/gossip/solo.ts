/**
 * One gossip engine driven by hand, for tests that craft each message: `solo()` makes node `a`
 * a member of a swarm of `peers` by stepping a join and a seed's `sync`, then takes its Readies
 * into `sent` and `events` as a host would.
 */
import { createPrng } from '../../../src/core/prng.ts';
import type { GossipEvent } from '../../../src/core/gossip/events.ts';
import { GossipNode } from '../../../src/core/gossip/gossip-node.ts';
import type { GossipMessage, Piggyback } from '../../../src/core/gossip/messages.ts';
import type { GossipReady } from '../../../src/core/gossip/ready.ts';
import type { PersistedCrdt } from '../../../src/core/gossip/crdt-store.ts';
import { fastTimings, type Options } from './gossip-network.ts';

export class Solo {
  readonly node: GossipNode;
  readonly sent: GossipMessage[] = [];
  readonly events: GossipEvent[] = [];
  readonly readies: GossipReady[] = [];

  constructor(
    peers: readonly string[],
    options: Options = {},
    readonly id = 'a',
    incarnation = 0,
    crdts: readonly PersistedCrdt[] = [],
  ) {
    this.node = new GossipNode({ ...fastTimings, ...options, id, prng: createPrng(42) }, { incarnation, crdts });
    if (peers.length === 0) {
      this.node.step({ local: 'join', seeds: [] });
    } else {
      const seed = peers[0] as string;
      this.node.step({ local: 'join', seeds: [seed] });
      this.node.step({
        type: 'sync',
        from: seed,
        to: id,
        members: peers.map((member) => ({ member, incarnation: 1, state: 'alive' })),
        wantReply: false,
      });
    }
    this.drain();
  }

  /** Take every Ready, recording its messages and events. */
  drain(): GossipReady[] {
    const taken: GossipReady[] = [];
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      taken.push(rd);
      this.readies.push(rd);
      this.sent.push(...rd.messages);
      this.events.push(...rd.events);
      this.node.advance();
    }
    return taken;
  }

  /** Step a message from `from` carrying `updates` (a push, which only carries them). */
  push(from: string, updates: readonly Piggyback[]): void {
    this.node.step({ type: 'push', from, to: this.id, updates });
    this.drain();
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) this.node.tick();
    this.drain();
  }

  member(id: string) {
    return this.node.status().members.find((m) => m.id === id);
  }
}
