/**
 * Votes, the ground Election Safety stands on (Raft paper §5.2, Figure 2):
 *
 *   - one vote per term: a node never grants its vote in a term to two different candidates
 *     (checked on the vote answers it SENDS: a grant that leaves promises the vote is durable,
 *     so a crash and restart must not let it grant another);
 *   - a leader of term T holds a majority of votes OF TERM T, counted over the voters of its
 *     configuration (its own vote included): checked when it takes office, from the granted
 *     vote answers it actually RECEIVED (stepped into its engine) in its current life.
 *
 * Two leaders in one term (election-safety.ts) is what a broken vote leads to when the run is
 * unlucky enough; these catch the broken vote itself, whenever the election it decided happens.
 */
import { majoritySize } from '../../core/quorum/majority.ts';
import type { Message } from '../../core/raft/messages.ts';
import type { NodeId } from '../../core/raft/types.ts';
import { pushViolation, type Violation } from './violation.ts';

/** Terms remembered per node; older ones are forgotten (no election reaches that far back). */
const termsPerNodeMax = 64;

export class VoteChecker {
  readonly violations: Violation[] = [];
  /** node -> term -> the candidate it granted its vote to. */
  private readonly granted = new Map<NodeId, Map<number, NodeId>>();
  /** node -> term -> voters whose granted vote of that term it received. */
  private readonly received = new Map<NodeId, Map<number, Set<NodeId>>>();
  leadersChecked = 0;

  /** `node` sent `m` (its Ready's messages, as they leave). */
  observeSent(node: NodeId, m: Message, timeUs: number): void {
    if (m.type !== 'vote-response' || m.reject) return;
    const byTerm = mapFor(this.granted, node);
    const earlier = byTerm.get(m.term);
    if (earlier === undefined) {
      remember(byTerm, m.term, m.to);
    } else if (earlier !== m.to) {
      pushViolation(this.violations, { property: 'election-safety', timeUs, detail: `${node} granted its vote of term ${m.term} to ${earlier} and then to ${m.to}` });
    }
  }

  /** `node` stepped `m` into its engine. */
  observeStepped(node: NodeId, m: Message): void {
    if (m.type !== 'vote-response' || m.reject) return;
    const byTerm = mapFor(this.received, node);
    let voters = byTerm.get(m.term);
    if (voters === undefined) {
      voters = new Set();
      remember(byTerm, m.term, voters);
    }
    voters.add(m.from);
  }

  /** `node` restarted: votes received in its earlier life do not count toward this one. */
  onBoot(node: NodeId): void {
    this.received.delete(node);
  }

  /** `node` became leader of `term` with `voters` its configuration's voters. */
  observeLeader(node: NodeId, term: number, voters: readonly NodeId[], timeUs: number): void {
    if (voters.length === 0) return; // no configuration known (tests of other checkers)
    this.leadersChecked++;
    const got = this.received.get(node)?.get(term) ?? new Set<NodeId>();
    const counted = voters.filter((v) => v === node || got.has(v));
    if (counted.length >= majoritySize(voters.length)) return;
    pushViolation(this.violations, {
      property: 'election-safety',
      timeUs,
      detail: `${node} leads term ${term} with votes of term ${term} from only [${counted.join(', ')}] of voters [${voters.join(', ')}]`,
    });
  }
}

function mapFor<V>(map: Map<NodeId, Map<number, V>>, node: NodeId): Map<number, V> {
  let m = map.get(node);
  if (m === undefined) {
    m = new Map();
    map.set(node, m);
  }
  return m;
}

function remember<V>(byTerm: Map<number, V>, term: number, value: V): void {
  byTerm.set(term, value);
  if (byTerm.size > termsPerNodeMax) {
    let oldest = term;
    for (const t of byTerm.keys()) oldest = Math.min(oldest, t);
    byTerm.delete(oldest);
  }
}
