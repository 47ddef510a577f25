/**
 * Incarnations are never reused across restarts (src/core/gossip/ready.ts, step 3): a node
 * restarted from its disk must announce only incarnations above every one its earlier lives
 * announced. Members order everything they hear about a node by its incarnation alone (SWIM
 * §4.2): a second life that reused an incarnation would see its refutations ignored as stale by
 * whoever heard the first.
 *
 * What counts as an announcement: every message in which a node speaks for itself at an
 * incarnation (`claimsIncarnationOf` in messages.ts): a join, a leave, its own entry of a sync,
 * an update about itself. Seen as the message leaves the node.
 */
import type { GossipMessage } from '../../../core/gossip/messages.ts';
import type { GossipSimNode } from '../gossip-sim-node.ts';
import { at, Violations } from './violations.ts';

interface Lives {
  life: number;
  /** The highest incarnation announced by earlier lives (-1: none). */
  earlierMax: number;
  /** The highest incarnation announced by the current life (-1: none). */
  currentMax: number;
}

export class IncarnationChecker {
  readonly reuses = new Violations();
  private readonly nodes = new Map<string, Lives>();

  constructor(private readonly nowUs: () => number) {}

  onStart(node: GossipSimNode): void {
    const l = this.nodes.get(node.id);
    if (l === undefined) {
      this.nodes.set(node.id, { life: node.life, earlierMax: -1, currentMax: -1 });
      return;
    }
    l.earlierMax = Math.max(l.earlierMax, l.currentMax);
    l.currentMax = -1;
    l.life = node.life;
  }

  onSend(node: GossipSimNode, m: GossipMessage): void {
    const l = this.nodes.get(node.id);
    if (l === undefined) return;
    for (const incarnation of claimedBy(m)) {
      if (incarnation <= l.earlierMax) {
        this.reuses.add(`${node.id} (life ${l.life}) announced incarnation ${incarnation} in a ${m.type} at ${at(this.nowUs())}; an earlier life announced up to ${l.earlierMax}`);
      }
      if (incarnation > l.currentMax) l.currentMax = incarnation;
    }
  }
}

/** The incarnations at which `m`'s sender speaks for itself. */
export function claimedBy(m: GossipMessage): number[] {
  switch (m.type) {
    case 'join':
    case 'leave':
      return [m.incarnation];
    case 'sync':
      return m.members.filter((e) => e.member === m.from).map((e) => e.incarnation);
    case 'ping':
    case 'ack':
    case 'ping-req':
    case 'push':
      return m.updates.filter((u) => u.member === m.from).map((u) => u.incarnation);
    default:
      return [];
  }
}
