/**
 * The members this node knows, itself excluded: state, incarnation, suspicion timer and phi
 * detector of each. Bounded by `membersMax`: a member learned past it is refused (counted by the
 * caller), after dead and left members have been forgotten to make room, oldest first. Dead and
 * left members are kept `deadRetainTicks` so the news keeps spreading and a live member wrongly
 * declared dead can still refute (SWIM §4.2); then they are forgotten.
 */
import { PhiAccrual, type PhiAccrualOptions } from './phi-accrual.ts';
import type { Suspicion } from './suspicion.ts';
import { isLive, type MemberState, type NodeId } from './types.ts';

export interface Member {
  readonly id: NodeId;
  state: MemberState;
  incarnation: number;
  /** When the state last changed (dead and left members are forgotten from it). */
  changedAtTick: number;
  /** Lifeguard §IV-B timer while suspect; null otherwise. */
  suspicion: Suspicion | null;
  /** Arrivals of this member's own messages (phi-accrual.ts). */
  readonly detector: PhiAccrual;
  /** Whether phi was at or above the threshold when last checked (events fire on crossings). */
  phiSuspected: boolean;
}

export class MemberTable {
  private readonly members = new Map<NodeId, Member>();

  constructor(
    private readonly membersMax: number,
    private readonly phiOptions: PhiAccrualOptions,
  ) {}

  get size(): number {
    return this.members.size;
  }

  get(id: NodeId): Member | undefined {
    return this.members.get(id);
  }

  values(): IterableIterator<Member> {
    return this.members.values();
  }

  /** Ids of live members (alive or suspect). */
  liveIds(): Set<NodeId> {
    const out = new Set<NodeId>();
    for (const m of this.members.values()) if (isLive(m.state)) out.add(m.id);
    return out;
  }

  /** How many members are live (alive or suspect). */
  liveCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (isLive(m.state)) n++;
    return n;
  }

  /** Add a member, or null when the table is full even after forgetting the oldest dead or left member. */
  add(id: NodeId, state: MemberState, incarnation: number, nowTick: number): Member | null {
    if (this.members.size >= this.membersMax && !this.forgetOldestGone()) return null;
    const member: Member = {
      id,
      state,
      incarnation,
      changedAtTick: nowTick,
      suspicion: null,
      detector: new PhiAccrual(this.phiOptions),
      phiSuspected: false,
    };
    this.members.set(id, member);
    return member;
  }

  /** Forget dead and left members older than `retainTicks`; returns their ids. */
  reap(nowTick: number, retainTicks: number): NodeId[] {
    const gone: NodeId[] = [];
    for (const m of this.members.values()) {
      if ((m.state === 'dead' || m.state === 'left') && nowTick - m.changedAtTick >= retainTicks) gone.push(m.id);
    }
    for (const id of gone) this.members.delete(id);
    return gone;
  }

  private forgetOldestGone(): boolean {
    let oldest: Member | null = null;
    for (const m of this.members.values()) {
      if ((m.state === 'dead' || m.state === 'left') && (oldest === null || m.changedAtTick < oldest.changedAtTick)) oldest = m;
    }
    if (oldest === null) return false;
    this.members.delete(oldest.id);
    return true;
  }
}
